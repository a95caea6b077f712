/**
 * Catch-up sync: one pass converges a migrated target to the source's current state,
 * following the rows the collector inserted, changed in place and deleted since the copy.
 *
 * A pass reads the source from one snapshot it opens and closes itself (no read
 * transaction is held between passes; the file is opened read-only and never written),
 * compares each table with the target by row key, and applies everything in ONE target
 * transaction together with the rewritten chunk checksums and the quarantine: a pass
 * killed at any moment leaves the target as the previous pass left it, and the next pass
 * finds the same differences again. Conversion, quarantine and orphan rules are the copy's.
 *
 * Cost: a pass re-reads every table of the source (two scans where rows differ) and
 * hashes the target, so it costs what the file holds, not what changed (docs/runbook.md).
 */
import { describeConnection } from "../postgres/connection";
import { resetSequences } from "../schema/postLoad";
import { ensureCheckpointSchema } from "../data/copy/checkpointStore";
import { silentLogger, type MigrationInput, type MigrationLogger } from "../data/options";
import type { Conversion } from "../data/plan/conversion";
import { inCopyOrder } from "../data/plan/tableMapping";
import { actAsOwner, closeRun, connectTarget, openRun, sourceChangedSinceLastRun, timed, type RunContext } from "../data/run/context";
import { readSource } from "../data/run/readSource";
import { planTables, type TablePlan } from "../data/run/tablePlans";
import { applyDeletes, applyUpserts, type SyncTableResult } from "./syncApply";
import { diffTable, type TableDiff } from "./syncDiff";

export interface SyncReport {
    readonly tool: "gecko-pg";
    readonly kind: "sync";
    readonly ok: boolean;
    readonly startedAt: string;
    readonly finishedAt: string;
    readonly source: { readonly path: string; readonly fingerprint: string };
    readonly target: string;
    readonly tables: readonly SyncTableResult[];
    /** The file was as the last successful run or pass left it (same fingerprint): nothing was read or written. */
    readonly sourceUnchanged: boolean;
    /** Rows inserted, updated, deleted, set aside and released in this pass. */
    readonly changes: number;
    /** Seconds from the snapshot this pass read to its commit: how far the target lags at best. */
    readonly lagSeconds: number;
    readonly warnings: readonly string[];
    readonly timings: Readonly<Record<string, number>>;
}

export interface SyncPassOptions {
    /** Compare every table even when the file is as the last successful run left it. */
    readonly full?: boolean;
    /** Test hook: runs inside the pass's transaction, just before COMMIT (kill the process to test a crash). */
    readonly beforeCommit?: () => void | Promise<void>;
}

/** One sync pass. Needs a target a `migrate` created (its chunk plan is where the checksums are kept). */
export async function syncPass(
    options: MigrationInput,
    logger: MigrationLogger = silentLogger,
    pass: SyncPassOptions = {},
): Promise<SyncReport> {
    const ctx = await openRun("validate", options, logger, {});
    try {
        const { mapping, conversion, warnings } = await readSource(ctx);
        await connectTarget(ctx);
        await requireMigrated(ctx);
        await ensureCheckpointSchema(ctx.pg, ctx.opts.ownerRole);
        await actAsOwner(ctx);
        // The file as the last successful run or pass left it (size and mtime of the db and its WAL): nothing to read.
        const since = await sourceChangedSinceLastRun(ctx);
        if (!pass.full && !since.changed && since.lastRunOk) return syncReport(ctx, [], warnings, true);
        const plans = (await planTables(ctx, inCopyOrder(mapping.tables), conversion)).filter((p) => p.mapping.source && !p.mapping.extra);
        const diffs = await timed(ctx, "diff", () => diffAll(ctx, plans, conversion));
        const tables = await timed(ctx, "apply", () => applyAll(ctx, diffs, conversion, pass));
        const report = syncReport(ctx, tables, warnings);
        await ctx.pg.query("INSERT INTO gecko_migration.runs (ok, report) VALUES ($1, $2)", [report.ok, JSON.stringify(report)]);
        logger.info(`sync: ${report.changes} changes, lag ${report.lagSeconds.toFixed(1)} s`);
        return report;
    } finally {
        await closeRun(ctx);
    }
}

async function requireMigrated(ctx: RunContext): Promise<void> {
    const exists = await ctx.pg.query<{ ok: boolean }>("SELECT to_regclass('gecko_migration.chunks') IS NOT NULL AS ok");
    const done = exists.rows[0].ok ? await ctx.pg.query("SELECT 1 FROM gecko_migration.chunks WHERE status = 'done' LIMIT 1") : undefined;
    if (!done?.rowCount) {
        throw new Error(`sync: ${describeConnection(ctx.opts.target)} holds no migration yet (no copied chunks); run migrate first`);
    }
}

async function diffAll(ctx: RunContext, plans: readonly TablePlan[], conversion: Conversion): Promise<TableDiff[]> {
    const diffs: TableDiff[] = [];
    for (const plan of plans) diffs.push(await diffTable(ctx.snapshot.db, ctx.pg, plan, conversion));
    return diffs;
}

/** Everything in one transaction: deletes children first, then each table's rows in copy order, then the sequences. */
async function applyAll(
    ctx: RunContext,
    diffs: readonly TableDiff[],
    conversion: Conversion,
    pass: SyncPassOptions,
): Promise<SyncTableResult[]> {
    const buckets = new Map(diffs.map((d) => [d.plan.mapping.target.name, d.plan.encoder.buckets]));
    const a = { pg: ctx.pg, conversion, orphanPolicy: ctx.opts.orphanPolicy, bucketsOf: (t: string) => buckets.get(t) ?? 1 };
    await ctx.pg.query("BEGIN");
    try {
        const deleted = new Map<string, number>();
        for (const d of [...diffs].reverse()) deleted.set(d.plan.mapping.target.name, (await applyDeletes(a, d)).deleted);
        const results: SyncTableResult[] = [];
        for (const d of diffs) results.push({ ...(await applyUpserts(a, d)), deleted: deleted.get(d.plan.mapping.target.name) ?? 0 });
        await resetSequences(
            ctx.pg,
            diffs.map((d) => d.plan.mapping.target),
        );
        await pass.beforeCommit?.();
        await ctx.pg.query("COMMIT");
        return results;
    } catch (err) {
        await ctx.pg.query("ROLLBACK").catch(() => undefined);
        throw err;
    }
}

function syncReport(ctx: RunContext, tables: readonly SyncTableResult[], warnings: readonly string[], unchanged = false): SyncReport {
    const changes = tables.reduce((n, t) => n + t.inserted + t.updated + t.deleted + t.quarantined + t.released, 0);
    const finished = new Date();
    return {
        tool: "gecko-pg",
        kind: "sync",
        ok: true,
        sourceUnchanged: unchanged,
        startedAt: ctx.startedAt.toISOString(),
        finishedAt: finished.toISOString(),
        source: { path: ctx.snapshot.path, fingerprint: ctx.snapshot.fingerprint },
        target: describeConnection(ctx.opts.target),
        tables: tables.map(({ table, inserted, updated, deleted, quarantined, released }) => ({
            table,
            inserted,
            updated,
            deleted,
            quarantined,
            released,
        })),
        changes,
        lagSeconds: (finished.getTime() - ctx.startedAt.getTime()) / 1000,
        warnings,
        timings: ctx.timings,
    };
}

/** The pass as text: per table what changed, then the totals. */
export function renderSyncReport(r: SyncReport): string {
    const changed = r.tables.filter((t) => t.inserted + t.updated + t.deleted + t.quarantined + t.released > 0);
    const lines = [
        `gecko-pg sync ${r.ok ? "OK" : "FAILED"}  (${r.startedAt} -> ${r.finishedAt})`,
        `source  ${r.source.path}`,
        `target  ${r.target}`,
    ];
    for (const t of changed) {
        lines.push(
            `  ${t.table}: +${t.inserted} inserted, ${t.updated} updated, -${t.deleted} deleted, ${t.quarantined} set aside, ${t.released} released`,
        );
    }
    if (r.sourceUnchanged) lines.push("  the source file is as the last run left it (size and modification time of the file and its WAL)");
    else if (!changed.length) lines.push("  nothing changed since the last pass");
    for (const w of r.warnings) lines.push(`warning: ${w}`);
    lines.push(`${r.changes} changes; lag ${r.lagSeconds.toFixed(2)} s`);
    return lines.join("\n");
}
