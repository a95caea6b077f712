/** The run's report: per-table facts, the quarantine summary, and the whole report saved in gecko_migration.runs. */
import type { Client } from "pg";
import { describeConnection } from "../../postgres/connection";
import { TARGET_TABLES } from "../../schema/tables";
import type { ClockCheckFinding } from "../source/clockCheck";
import type { SourceSchema } from "../source/introspect";
import type { OrphanOutcome } from "../copy/orphans";
import type { MappingResult } from "../plan/tableMapping";
import type { MigrationReport, QuarantineSummary, RepairSummary, SchemaCheckSummary, SetAsideSummary, TableReport } from "../report/report";
import type { RunContext } from "./context";
import { DEFAULT_AMBIGUOUS_TIME, DEFAULT_REPAIRS, type MigrationOptions } from "../options";
import { asRoleInTransaction, withSession } from "../../postgres/session";
import { runFailures } from "./failures";
import { groundTruthFailures, groundTruthWarnings, type GroundTruthFinding } from "../validate/groundTruth";
import type { TablePlan } from "./tablePlans";

/** What a table's report says before any copy: its mapping and chunk plan. */
export function baseTableReport(plan: TablePlan): TableReport {
    const { mapping: m, chunks } = plan;
    return {
        table: m.target.name,
        sourceRows: m.source?.rowCount ?? 0,
        inSource: Boolean(m.source),
        extra: m.extra,
        chunks: { total: chunks.length, copiedThisRun: 0, alreadyDone: chunks.filter((c) => c.done).length },
        rowsCopiedThisRun: 0,
        rowsQuarantinedThisRun: 0,
        rowsRecoveredThisRun: 0,
        rowsFilledThisRun: 0,
        copySeconds: 0,
        missingColumns: m.missingColumns,
        fills: Object.fromEntries(m.columns.flatMap((c) => (c.source.kind === "fill" ? [[c.target.name, c.source.value]] : []))),
        generatedColumns: m.generatedColumns,
        renamedColumns: m.renamedColumns,
        skippedColumns: m.skippedColumns,
        extraColumns: extraColumns(plan),
    };
}

/** Source columns a collector table got beyond the planned schema (none for an extra table: all of it is extra). */
function extraColumns({ mapping: m }: TablePlan): string[] {
    if (m.extra) return [];
    const known = new Set(m.columns.filter((c) => c.source.kind === "column").map((c) => c.target.name));
    const planned = TARGET_TABLES.find((t) => t.name === m.target.name)?.columns ?? [];
    return m.target.columns.filter((c) => known.has(c.name) && !planned.some((x) => x.name === c.name)).map((c) => c.name);
}

export async function quarantineSummary(pg: Client): Promise<QuarantineSummary> {
    const by = await pg.query<{ table_name: string; stage: string; n: string }>(
        "SELECT table_name, stage, count(*) AS n FROM gecko_quarantine.rows GROUP BY 1, 2 ORDER BY 1, 2",
    );
    const byTable: Record<string, Record<string, number>> = {};
    let total = 0;
    for (const r of by.rows) {
        (byTable[r.table_name] ??= {})[r.stage] = Number(r.n);
        total += Number(r.n);
    }
    const ex = await pg.query<{
        table_name: string;
        stage: string;
        k: string;
        column_name: string | null;
        raw_value: string | null;
        reason: string;
        row_data: Record<string, unknown>;
    }>(
        "SELECT table_name, stage, row_key::text AS k, column_name, raw_value, reason, row_data FROM gecko_quarantine.rows ORDER BY id LIMIT 10",
    );
    const examples = [];
    for (const r of ex.rows) {
        const example = { table: r.table_name, key: r.k, column: r.column_name, rawValue: r.raw_value, reason: r.reason };
        // An orphan is itself a descendant; a row set aside for its own values says what it took with it.
        examples.push(
            r.stage === "orphan" ? example : { ...example, descendants: await orphanedDescendants(pg, r.table_name, [r.row_data]) },
        );
    }
    return { total, location: "gecko_quarantine.rows", byTable, examples };
}

/**
 * How many rows are quarantined as orphans below `parents` (rows of `table` as their raw
 * source values): their children, and those children's children, by the schema's foreign keys.
 */
async function orphanedDescendants(pg: Client, table: string, parents: readonly Record<string, unknown>[]): Promise<number> {
    let total = 0;
    for (const child of TARGET_TABLES)
        for (const fk of child.foreignKeys.filter((f) => f.references.table === table && f.columns.length === 1)) {
            const keys = [...new Set(parents.map((p) => p[fk.references.columns[0]]).filter((v) => v !== null && v !== undefined))];
            if (!keys.length) continue;
            const rows = await pg.query<{ row_data: Record<string, unknown> }>(
                "SELECT row_data FROM gecko_quarantine.rows WHERE table_name = $1 AND stage = 'orphan' AND row_data->>$2 = ANY($3::text[])",
                [child.name, fk.columns[0], keys.map(String)],
            );
            if (!rows.rows.length) continue;
            total +=
                rows.rows.length +
                (await orphanedDescendants(
                    pg,
                    child.name,
                    rows.rows.map((r) => r.row_data),
                ));
        }
    return total;
}

export async function setAsideSummary(pg: Client): Promise<SetAsideSummary> {
    const by = await pg.query<{ k: string; n: string }>(
        "SELECT table_name || '.' || column_name AS k, count(*) AS n FROM gecko_quarantine.set_aside_values GROUP BY 1 ORDER BY 1",
    );
    const ex = await pg.query<{ table_name: string; k: string; column_name: string; raw_value: string | null; reason: string }>(
        "SELECT table_name, row_key::text AS k, column_name, raw_value, reason FROM gecko_quarantine.set_aside_values ORDER BY id LIMIT 10",
    );
    return {
        total: by.rows.reduce((n, r) => n + Number(r.n), 0),
        location: "gecko_quarantine.set_aside_values",
        byColumn: Object.fromEntries(by.rows.map((r) => [r.k, Number(r.n)])),
        examples: ex.rows.map((r) => ({ table: r.table_name, key: r.k, column: r.column_name, rawValue: r.raw_value, reason: r.reason })),
    };
}

export async function repairSummary(pg: Client): Promise<RepairSummary> {
    const by = await pg.query<{ k: string; n: string }>(
        "SELECT table_name || '.' || column_name || ': ' || kind AS k, count(*) AS n FROM gecko_quarantine.repairs GROUP BY 1 ORDER BY 1",
    );
    const ex = await pg.query<{
        table_name: string;
        k: string;
        column_name: string;
        raw_value: string | null;
        stored_value: string | null;
    }>("SELECT table_name, row_key::text AS k, column_name, raw_value, stored_value FROM gecko_quarantine.repairs ORDER BY id LIMIT 5");
    return {
        total: by.rows.reduce((n, r) => n + Number(r.n), 0),
        location: "gecko_quarantine.repairs",
        byColumn: Object.fromEntries(by.rows.map((r) => [r.k, Number(r.n)])),
        examples: ex.rows.map((r) => ({
            table: r.table_name,
            key: r.k,
            column: r.column_name,
            rawValue: r.raw_value,
            storedValue: r.stored_value,
        })),
    };
}

/** What the run found, gathered for the report. */
export interface RunFindings {
    readonly source: SourceSchema;
    readonly mapping: MappingResult;
    readonly warnings: readonly string[];
    readonly clockChecks: readonly ClockCheckFinding[];
    readonly tables: readonly TableReport[];
    readonly orphans: readonly OrphanOutcome[];
    readonly quarantine: QuarantineSummary;
    readonly setAsideValues?: SetAsideSummary;
    readonly repairs?: RepairSummary;
    readonly schema: SchemaCheckSummary;
    readonly groundTruths: readonly GroundTruthFinding[];
}

export function buildReport(run: RunContext, f: RunFindings): MigrationReport {
    const { opts } = run;
    const failures = [
        ...runFailures({
            tables: f.tables,
            schema: f.schema,
            quarantine: f.quarantine,
            setAsideValues: f.setAsideValues,
            allowQuarantine: opts.allowQuarantine,
        }),
        ...groundTruthFailures(f.groundTruths),
    ];
    run.timings.total = (Date.now() - run.startedAt.getTime()) / 1000;
    return {
        tool: "gecko-pg",
        reportVersion: 1,
        ok: failures.length === 0,
        status: failures.length === 0 ? "ok" : "failed",
        failures,
        warnings: [...f.warnings, ...groundTruthWarnings(f.groundTruths)],
        startedAt: run.startedAt.toISOString(),
        finishedAt: new Date().toISOString(),
        source: {
            path: run.snapshot.path,
            fingerprint: run.snapshot.fingerprint,
            journalMode: f.source.journalMode,
            sqliteVersion: f.source.sqliteVersion,
        },
        target: describeConnection(opts.target),
        options: reportOptions(run),
        missingTables: f.mapping.missingTables,
        skippedTables: f.mapping.skippedTables,
        tables: f.tables,
        orphans: f.orphans,
        quarantine: f.quarantine,
        ...(f.setAsideValues ? { setAsideValues: f.setAsideValues } : {}),
        ...(f.repairs ? { repairs: f.repairs } : {}),
        schema: f.schema,
        clockChecks: f.clockChecks,
        groundTruths: f.groundTruths,
        timings: run.timings,
    };
}

/**
 * The report of a run that stopped before its end (a fault, a signal): what it was asked to do,
 * and why it stopped. What it copied is in the checkpoints; a rerun reports the whole.
 */
export function stoppedReport(run: RunContext, status: "failed" | "interrupted", stoppedBy: string): MigrationReport {
    run.timings.total = (Date.now() - run.startedAt.getTime()) / 1000;
    return {
        tool: "gecko-pg",
        reportVersion: 1,
        ok: false,
        status,
        stoppedBy,
        kind: "stopped",
        failures: [stoppedBy],
        warnings: [],
        startedAt: run.startedAt.toISOString(),
        finishedAt: new Date().toISOString(),
        source: { path: run.snapshot.path, fingerprint: run.snapshot.fingerprint, journalMode: "", sqliteVersion: "" },
        target: describeConnection(run.opts.target),
        options: reportOptions(run),
        missingTables: [],
        skippedTables: [],
        tables: [],
        orphans: [],
        quarantine: { total: 0, location: "gecko_quarantine.rows", byTable: {}, examples: [] },
        schema: { ok: false, problems: [] },
        clockChecks: [],
        timings: run.timings,
    };
}

function reportOptions(run: RunContext): MigrationReport["options"] {
    const { opts } = run;
    return {
        phase: run.phase,
        ownerRole: opts.ownerRole,
        appRole: opts.appRole,
        sourceTimeZone: opts.sourceTimeZone,
        clockOverrides: opts.clockOverrides ?? {},
        orphanPolicy: opts.orphanPolicy,
        chunkRows: opts.chunkRows,
        copyLanes: opts.copyLanes,
        convertWorkers: run.workers?.size ?? 0,
        allowQuarantine: opts.allowQuarantine,
        sampleRows: opts.sampleRows,
        repairs: opts.repairs ?? DEFAULT_REPAIRS,
        ambiguousTime: opts.ambiguousTime ?? DEFAULT_AMBIGUOUS_TIME,
        retrySeconds: opts.retrySeconds,
    };
}

export async function saveReport(pg: Pick<Client, "query">, report: MigrationReport): Promise<void> {
    await pg.query("INSERT INTO gecko_migration.runs (ok, report) VALUES ($1, $2)", [report.ok, JSON.stringify(report)]);
}

/** A stopped run's report, on a session of its own (the run's may be the one lost), as the owner role. */
export async function saveStoppedReport(opts: MigrationOptions, report: MigrationReport): Promise<void> {
    await withSession("report", opts.target, async (c) => {
        const stored = await c.query<{ ok: boolean }>("SELECT to_regclass('gecko_migration.runs') IS NOT NULL AS ok");
        if (stored.rows[0].ok) await asRoleInTransaction(c, opts.ownerRole, () => saveReport(c, report));
    });
}
