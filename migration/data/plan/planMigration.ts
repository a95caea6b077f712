/**
 * `plan`: what a migration of this source would do, without writing anything:
 * the tables and rows found, the drift against the collector's schema, the
 * chunks, the ohlcv partitions and the clock check; with a target, the
 * preflight's conflicts (read-only; migration/schema/preflight.ts).
 */
import { Client } from "pg";
import { clientConfig, describeConnection, type ConnectionSpec } from "../../postgres/connection";
import type { PreflightFindings } from "../../schema/preflight";
import { preflightTarget } from "../../schema/target";
import type { TargetTable } from "../../schema/types";
import { conversionFor } from "./conversion";
import { DEFAULT_OPTIONS, type MigrationOptions } from "../options";
import { planChunks } from "./chunkPlan";
import { inCopyOrder, mapSourceToTarget, requireCollectorTables } from "./tableMapping";
import { planMonthlyPartitions } from "../../schema/partitions";
import { TARGET_TABLES } from "../../schema/tables";
import type { ClockCheckFinding } from "../source/clockCheck";
import { introspectSource } from "../source/introspect";
import { openSourceSnapshot } from "../source/snapshot";
import { damagedSource } from "../source/sourceFile";

export interface TablePlanSummary {
    readonly table: string;
    readonly rows: number;
    readonly chunks: number;
    readonly inSource: boolean;
    readonly extra: boolean;
    readonly missingColumns: readonly string[];
    readonly renamedColumns: readonly string[];
    readonly skippedColumns: readonly string[];
    readonly extraColumns: readonly string[];
}

export interface MigrationPlanSummary {
    readonly source: { readonly path: string; readonly fingerprint: string; readonly journalMode: string; readonly sqliteVersion: string };
    /** Copy order (parents first). */
    readonly tables: readonly TablePlanSummary[];
    readonly missingTables: readonly string[];
    readonly skippedTables: readonly { readonly name: string; readonly reason: string }[];
    readonly ohlcvPartitions: readonly string[];
    readonly clockChecks: readonly ClockCheckFinding[];
    readonly warnings: readonly string[];
    /** What exists in the target against the plan; absent from a plan of the source alone. */
    readonly preflight?: PlanPreflight;
}

/** The preflight as `plan` shows it: the target's conflicts and notes, or why it was not looked at. */
export type PlanPreflight =
    { readonly checked: false; readonly reason: string } | ({ readonly checked: true; readonly target: string } & PreflightFindings);

export type PlanInput = Pick<MigrationOptions, "sqlitePath"> &
    Partial<Pick<MigrationOptions, "chunkRows" | "sourceTimeZone" | "clockOverrides" | "allowMissingTables" | "includeExtraTables">>;

export function planMigration(input: PlanInput): MigrationPlanSummary {
    return planSource(input).summary;
}

/**
 * The plan, and the preflight against `target` (a read-only transaction) when one is
 * configured: the same conflicts `migrate` would stop at, before it creates anything.
 */
export async function planMigrationWithPreflight(
    input: PlanInput,
    target: { readonly connection: ConnectionSpec; readonly ownerRole: string } | undefined,
): Promise<MigrationPlanSummary> {
    const { summary, planned } = planSource(input);
    if (!target)
        return {
            ...summary,
            preflight: { checked: false, reason: "no target configured (GECKO_TARGET_URL, DATABASE_URL, --target or --host)" },
        };
    const where = describeConnection(target.connection);
    const client = new Client(clientConfig(target.connection, { application_name: "gecko-pg plan", connectionTimeoutMillis: 10_000 }));
    try {
        await client.connect();
        await client.query("BEGIN READ ONLY");
        const findings = await preflightTarget(client, planned, target.ownerRole);
        return { ...summary, preflight: { checked: true, target: where, ...findings } };
    } catch (cause) {
        throw new Error(`plan: preflight against ${where}: ${(cause as Error).message}`, { cause });
    } finally {
        await client.end().catch(() => undefined);
    }
}

/** The summary, and the tables a run would create (the collector's with this source's extras). */
function planSource(input: PlanInput): { summary: MigrationPlanSummary; planned: TargetTable[] } {
    const chunkRows = input.chunkRows ?? DEFAULT_OPTIONS.chunkRows;
    const snapshot = openSourceSnapshot(input.sqlitePath);
    try {
        const source = introspectSource(snapshot.db);
        const mapping = mapSourceToTarget(source, TARGET_TABLES, input);
        requireCollectorTables(input.sqlitePath, source, mapping, input.allowMissingTables);
        const warnings: string[] = [];
        const clockChecks = conversionFor({
            sourceTimeZone: input.sourceTimeZone ?? DEFAULT_OPTIONS.sourceTimeZone,
            clockOverrides: input.clockOverrides,
        }).checkClocks(snapshot.db, warnings);
        const ordered = inCopyOrder(mapping.tables);
        const known = new Map(TARGET_TABLES.map((t) => [t.name, new Set(t.columns.map((c) => c.name))]));
        const tables = ordered.map((m) => ({
            table: m.target.name,
            rows: m.source?.rowCount ?? 0,
            chunks: m.source
                ? planChunks({
                      table: m.target.name,
                      rowCount: m.source.rowCount,
                      minRowid: m.source.minRowid,
                      maxRowid: m.source.maxRowid,
                      chunkRows,
                  }).chunks.length
                : 0,
            inSource: Boolean(m.source),
            extra: m.extra,
            missingColumns: m.missingColumns,
            renamedColumns: m.renamedColumns.map((r) => `${r.from} -> ${r.to}`),
            skippedColumns: m.skippedColumns.map((c) => `${c.name} (${c.declaredType || "no type"})`),
            extraColumns: m.extra ? [] : m.target.columns.filter((c) => !known.get(m.target.name)?.has(c.name)).map((c) => c.name),
        }));
        const ohlcv = source.tables.get("ohlcv_data");
        let ohlcvPartitions: string[] = [];
        if (ohlcv?.columns.some((c) => c.name === "timestamp")) {
            const r = snapshot.db
                .prepare(`SELECT min("timestamp") AS lo, max("timestamp") AS hi FROM ohlcv_data WHERE typeof("timestamp") = 'integer'`)
                .get() as { lo: bigint | null; hi: bigint | null };
            if (r.lo !== null && r.hi !== null) ohlcvPartitions = planMonthlyPartitions(Number(r.lo), Number(r.hi)).map((p) => p.name);
        }
        const summary = {
            source: {
                path: snapshot.path,
                fingerprint: snapshot.fingerprint,
                journalMode: source.journalMode,
                sqliteVersion: source.sqliteVersion,
            },
            tables,
            missingTables: mapping.missingTables,
            skippedTables: mapping.skippedTables,
            ohlcvPartitions,
            clockChecks,
            warnings,
        };
        return { summary, planned: ordered.map((m) => m.target) };
    } catch (err) {
        throw damagedSource(snapshot.db, err) ?? err;
    } finally {
        snapshot.close();
    }
}

export function renderPlan(p: MigrationPlanSummary): string {
    const lines = [`plan for ${p.source.path} [journal ${p.source.journalMode}, SQLite ${p.source.sqliteVersion}]`, ""];
    const w = Math.max(...p.tables.map((t) => t.table.length), 5);
    lines.push(`${"table".padEnd(w)}  ${"rows".padStart(10)}  ${"chunks".padStart(6)}  notes`);
    for (const t of p.tables) {
        const notes = [
            t.inSource ? "" : "absent in source: created empty",
            t.extra ? "extra table: copied" : "",
            t.missingColumns.length ? `missing: ${t.missingColumns.join(", ")}` : "",
            t.renamedColumns.length ? `renamed: ${t.renamedColumns.join(", ")}` : "",
            t.extraColumns.length ? `extra columns copied: ${t.extraColumns.join(", ")}` : "",
            t.skippedColumns.length ? `not copied: ${t.skippedColumns.join(", ")}` : "",
        ].filter(Boolean);
        lines.push(`${t.table.padEnd(w)}  ${String(t.rows).padStart(10)}  ${String(t.chunks).padStart(6)}  ${notes.join("; ")}`);
    }
    for (const s of p.skippedTables) lines.push(`${s.name.padEnd(w)}  not copied: ${s.reason}`);
    if (p.ohlcvPartitions.length)
        lines.push(
            "",
            `ohlcv_data partitions for the data: ${p.ohlcvPartitions[0]} .. ${p.ohlcvPartitions[p.ohlcvPartitions.length - 1]} (${p.ohlcvPartitions.length}) + default`,
        );
    lines.push("", "clock check:");
    for (const c of p.clockChecks) lines.push(`  ${c.column}: ${c.status} - ${c.message}`);
    if (p.warnings.length) lines.push("", "warnings:", ...p.warnings.map((x) => `  - ${x}`));
    if (p.preflight) lines.push("", ...renderPreflight(p.preflight));
    return lines.join("\n");
}

function renderPreflight(p: PlanPreflight): string[] {
    if (!p.checked) return [`preflight: skipped, ${p.reason}`];
    const lines = [
        p.conflicts.length
            ? `preflight against ${p.target}: ${p.conflicts.length} conflict(s); migrate would stop before creating anything (exit 3):`
            : `preflight against ${p.target}: no conflict with what migrate would create`,
        ...p.conflicts.map((c) => `  - ${c}`),
    ];
    if (p.notes.length) lines.push("preflight notes (left as they are):", ...p.notes.map((n) => `  - ${n}`));
    return lines;
}
