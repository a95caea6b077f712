/**
 * Catch-up sync: one pass converges a migrated target to the source's current state,
 * following the rows the collector inserted, changed in place and deleted since the copy.
 *
 * A pass reads the source from one snapshot it opens and closes itself (no read
 * transaction is held between passes; the file is opened read-only and never written).
 * It finds what changed from the file's pages (pageScan: only the rowid ranges of table
 * leaves whose content changed since the last pass are compared; deletes are placed by
 * the gaps around them, by the pages the last pass kept in this process, or by comparing
 * keys, and checked against the row counts), or, on the first pass and whenever the pages cannot say (a schema change, an
 * overflow page, most of the file rewritten, `--full`), by comparing every table by row key.
 * Everything is applied in ONE target transaction together with the checksums, the
 * quarantine and what the pass saw of the file: a pass killed at any moment leaves the target
 * as the previous pass left it, and the next pass finds the same differences again.
 * Conversion, quarantine and orphan rules are the copy's.
 */
import { describeConnection } from "../postgres/connection";
import { resetSequences } from "../schema/postLoad";
import { ensureCheckpointSchema, refuseAfterCutover } from "../data/copy/checkpointStore";
import { silentLogger, type MigrationInput, type MigrationLogger } from "../data/options";
import type { Conversion } from "../data/plan/conversion";
import { inCopyOrder } from "../data/plan/tableMapping";
import { actAsOwner, closeRun, connectTarget, openRun, sourceChangedSinceLastRun, timed, type RunContext } from "../data/run/context";
import { readSource } from "../data/run/readSource";
import { planTables, type TablePlan } from "../data/run/tablePlans";
import { openCapturedSnapshot } from "../data/source/snapshot";
import { DEFAULT_KEEP_BYTES, fitsInMemory, keepImage, previousSnapshot, takeKeptImage, type PreviousSnapshot } from "./keptPages";
import { scanPages, type PageImage, type PageScan } from "./pageScan";
import { applyDeletes, applyUpserts, type SyncTableResult } from "./syncApply";
import { diffTable, type TableDiff } from "./syncDiff";
import { diffRanges, unchangedTable } from "./syncRanges";
import { loadSyncState, saveSyncState, type SyncState } from "./syncState";
import { NO_WAL, readWal, type WalFrames } from "./walFile";
import { damagedSource } from "../data/source/sourceFile";
import { queryFault, withRetry } from "../postgres/transient";
import { DEFAULT_OPTIONS } from "../data/options";

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
    /** How changes were found: from the changed pages, or by comparing every row (and why). */
    readonly mode: "pages" | "full" | "none";
    readonly fullReason?: string;
    /** Pages whose content differs from what the last pass saw. */
    readonly changedPages: number;
    /** Tables whose deletes the pages did not place: all their keys were compared. */
    readonly censusTables: readonly string[];
    readonly warnings: readonly string[];
    readonly timings: Readonly<Record<string, number>>;
}

export interface SyncPassOptions {
    /** Compare every table even when the file is as the last successful run left it. */
    readonly full?: boolean;
    /**
     * Most memory (bytes) a pass may use to keep the file's pages for the next pass in this process
     * (about the file's size): the next pass then compares bytes instead of hashing, and finds
     * deletes without comparing every key (default: a quarter of the machine's memory; 0: never).
     */
    readonly keepPagesBytes?: number;
    /** Test hook: runs inside the pass's transaction, just before COMMIT (kill the process to test a crash). */
    readonly beforeCommit?: () => void | Promise<void>;
}

/**
 * A sync pass, made again on fresh connections after a transient fault (a lost connection, a
 * restarting server, a deadlock) for up to `retrySeconds` (the input's, default 60): a pass is
 * one transaction, so a failed one left nothing behind. Each retry is one warning line.
 */
export function syncPassRetrying(
    options: MigrationInput,
    logger: MigrationLogger = silentLogger,
    pass: SyncPassOptions = {},
    signal?: AbortSignal,
): Promise<SyncReport> {
    return withRetry(() => syncPass(options, logger, pass), {
        retrySeconds: options.retrySeconds ?? DEFAULT_OPTIONS.retrySeconds,
        onRetry: (m) => logger.warn(`sync: ${m}`),
        ...(signal ? { signal } : {}),
    });
}

/** One sync pass. Needs a target a `migrate` created (its chunk plan is where the checksums are kept). */
export async function syncPass(
    options: MigrationInput,
    logger: MigrationLogger = silentLogger,
    pass: SyncPassOptions = {},
): Promise<SyncReport> {
    let wal: WalFrames = NO_WAL;
    const ctx = await openRun("validate", options, logger, {}, (path) => {
        // The WAL's frames exactly as the snapshot sees them: the pages the pass hashes.
        const opened = openCapturedSnapshot(path, () => readWal(path));
        wal = opened.captured;
        return opened.snapshot;
    });
    try {
        await connectTarget(ctx);
        // A pass's commit is what a cutover switches on: durable before it returns (the copy's lanes run without).
        await ctx.pg.query("SET synchronous_commit = on");
        await requireMigrated(ctx);
        await ensureCheckpointSchema(ctx.pg, ctx.opts.ownerRole);
        await refuseAfterCutover(ctx.pg, "sync");
        await actAsOwner(ctx);
        // The file as the last successful run or pass left it (size and mtime of the db and its WAL): nothing to read.
        const since = await sourceChangedSinceLastRun(ctx);
        if (!pass.full && !since.changed && since.lastRunOk) return syncReport(ctx, [], [], { mode: "none", changedPages: 0 });
        const scanned = await scanSource(ctx, wal, pass);
        // Not a page differs from what the last pass saw (a checkpoint moved the fingerprint): nothing to read or compare.
        if (!pass.full && samePages(scanned)) return await recordUnchanged(ctx, scanned);
        const { mapping, conversion, warnings } = await readSource(ctx, { checkClocks: false });
        const plans = (await planTables(ctx, inCopyOrder(mapping.tables), conversion)).filter((p) => p.mapping.source && !p.mapping.extra);
        const found = await timed(ctx, "diff", () => findChanges(ctx, plans, conversion, scanned, pass));
        const tables = await timed(ctx, "apply", () => applyAll(ctx, found.diffs, conversion, pass, found.state));
        keepImage(keptKey(ctx), found.state.hashes, found.image);
        const report = syncReport(ctx, tables, warnings, found);
        await ctx.pg.query("INSERT INTO gecko_migration.runs (ok, report) VALUES ($1, $2)", [report.ok, JSON.stringify(report)]);
        logger.info(`sync: ${report.changes} changes (${report.mode}), lag ${report.lagSeconds.toFixed(1)} s`);
        return report;
    } catch (err) {
        // A session the server ended fails its next query with only "not queryable": say what ended it.
        throw damagedSource(ctx.snapshot.db, err) ?? queryFault(err, ctx.pg);
    } finally {
        await closeRun(ctx);
    }
}

interface FoundChanges {
    readonly diffs: TableDiff[];
    readonly state: SyncState;
    readonly mode: "pages" | "full";
    readonly fullReason?: string;
    readonly changedPages: number;
    /** This pass's pages, to keep for the next pass once it committed. */
    readonly image?: PageImage;
}

const keptKey = (ctx: RunContext) => `${ctx.snapshot.path}\n${describeConnection(ctx.opts.target)}`;

interface ScannedSource {
    readonly previous?: SyncState;
    readonly scan: PageScan;
    /** The kept pages the scan brought up to date, and their page count before. */
    readonly image?: PageImage;
    readonly pageCountBefore: number;
    /** The pages may be kept for the next pass. */
    readonly keep: boolean;
    /** Every source table's root page in this snapshot, by table name. */
    readonly rootsByName: ReadonlyMap<string, number>;
}

/** The file's pages compared with what the last pass saw (its kept pages, else its hashes). */
async function scanSource(ctx: RunContext, wal: WalFrames, pass: SyncPassOptions): Promise<ScannedSource> {
    const previous = await loadSyncState(ctx.pg);
    const keepBytes = pass.keepPagesBytes ?? DEFAULT_KEEP_BYTES;
    const image = keepBytes > 0 ? takeKeptImage(keptKey(ctx), previous?.hashes) : undefined;
    const pageCountBefore = image?.pageCount ?? 0;
    const keep = fitsInMemory(ctx.snapshot.path, keepBytes);
    const rows = ctx.snapshot.db.prepare("SELECT name, rootpage FROM sqlite_master WHERE type = 'table'").all() as {
        name: string;
        rootpage: bigint;
    }[];
    const rootsByName = new Map(rows.map((r) => [r.name, Number(r.rootpage)]));
    const scan = await timed(ctx, "pageScan", () =>
        scanPages(ctx.snapshot.path, wal, new Set(rootsByName.values()), previous && { hashes: previous.hashes, image }, keep),
    );
    return { ...(previous ? { previous } : {}), scan, ...(image ? { image } : {}), pageCountBefore, keep, rootsByName };
}

/** Every page as the last pass saw it, in the same layout and schema. */
const samePages = ({ previous, scan }: ScannedSource) =>
    previous !== undefined &&
    scan.changedPages === 0 &&
    previous.pageSize === scan.pageSize &&
    previous.schemaCookie === scan.schemaCookie &&
    previous.hashes.length === scan.hashes.length;

/** A pass that found the file's content unchanged: its fingerprint recorded (the next pass then answers at once), nothing else. */
async function recordUnchanged(ctx: RunContext, scanned: ScannedSource): Promise<SyncReport> {
    const state = { ...scanned.previous!, hashes: scanned.scan.hashes, fingerprint: ctx.snapshot.fingerprint };
    const report = syncReport(ctx, [], [], { mode: "pages", changedPages: 0 });
    await ctx.pg.query("BEGIN");
    try {
        await saveSyncState(ctx.pg, state);
        await ctx.pg.query("INSERT INTO gecko_migration.runs (ok, report) VALUES ($1, $2)", [true, JSON.stringify(report)]);
        await ctx.pg.query("COMMIT");
    } catch (err) {
        await ctx.pg.query("ROLLBACK").catch(() => undefined);
        throw err;
    }
    keepImage(keptKey(ctx), state.hashes, scanned.keep ? scanned.scan.image : undefined);
    return report;
}

/** The pages say which rows to compare; without a usable last pass, every row is compared. */
async function findChanges(
    ctx: RunContext,
    plans: readonly TablePlan[],
    conversion: Conversion,
    scanned: ScannedSource,
    pass: SyncPassOptions,
) {
    const roots = tableRoots(scanned.rootsByName, plans);
    const { previous, scan, image, pageCountBefore, keep } = scanned;
    // Counted by the introspection, on this pass's snapshot.
    const counts = new Map(plans.map((p) => [p.mapping.target.name, p.mapping.source!.rowCount]));
    const state: SyncState = {
        pageSize: scan.pageSize,
        schemaCookie: scan.schemaCookie,
        hashes: scan.hashes,
        rowCounts: Object.fromEntries(counts),
        fingerprint: ctx.snapshot.fingerprint,
    };
    const fullReason = pass.full ? "asked for (--full)" : whyFull(previous, scan);
    const before = image && !fullReason ? previousSnapshot(scan, pageCountBefore) : undefined;
    const diffs = await diffAll(ctx, plans, conversion, { scan, roots, counts, before, fullReason, previous });
    return {
        diffs,
        state,
        mode: fullReason ? "full" : "pages",
        fullReason,
        changedPages: scan.changedPages,
        ...(scan.image && keep ? { image: scan.image } : {}),
    } satisfies FoundChanges;
}

interface DiffInputs {
    readonly scan: PageScan;
    readonly roots: ReadonlyMap<string, number>;
    readonly counts: ReadonlyMap<string, number>;
    readonly before?: PreviousSnapshot;
    readonly fullReason?: string;
    readonly previous?: SyncState;
}

/** Each table compared: in full, or only its changed ranges (and nothing when neither its pages nor its count moved). */
async function diffAll(ctx: RunContext, plans: readonly TablePlan[], conversion: Conversion, d: DiffInputs): Promise<TableDiff[]> {
    const db = ctx.snapshot.db;
    const { scan, roots, counts, before, fullReason, previous } = d;
    const diffs: TableDiff[] = [];
    for (const plan of plans) {
        const table = plan.mapping.target.name;
        if (fullReason) {
            diffs.push(await diffTable(db, ctx.pg, plan, conversion));
            continue;
        }
        const ranges = scan.changedRanges.get(roots.get(table)!) ?? [];
        const countBefore = previous!.rowCounts[table] ?? -1;
        // Untouched tables still take part: a row set aside as an orphan may get its parent back.
        if (ranges.length === 0 && countBefore === counts.get(table)) diffs.push(unchangedTable(plan));
        else
            diffs.push(
                await timed(ctx, `diff:${table}`, () =>
                    diffRanges({
                        db,
                        pg: ctx.pg,
                        plan,
                        conversion,
                        ranges,
                        countBefore,
                        countNow: counts.get(table)!,
                        ...(before ? { before: { snapshot: before, root: roots.get(table)! } } : {}),
                    }),
                ),
            );
    }
    return diffs;
}

/** Why the changed pages cannot be trusted to name every change; undefined when they can. */
function whyFull(previous: SyncState | undefined, scan: PageScan): string | undefined {
    if (!previous) return "no earlier pass recorded what it saw of the file";
    if (previous.pageSize !== scan.pageSize) return `the page size changed (${previous.pageSize} -> ${scan.pageSize})`;
    if (previous.schemaCookie !== scan.schemaCookie) return "the source's schema changed";
    if (scan.unplaced.length)
        return `${scan.unplaced.length} changed pages belong to no table leaf (overflow or pointer-map pages), e.g. page ${scan.unplaced[0]}`;
    if (scan.changedPages > scan.pageCount / 4)
        return `${scan.changedPages} of ${scan.pageCount} pages changed (a VACUUM or a bulk rewrite)`;
    return undefined;
}

/** Each planned table's root page in the snapshot. */
function tableRoots(byName: ReadonlyMap<string, number>, plans: readonly TablePlan[]): Map<string, number> {
    return new Map(plans.map((p) => [p.mapping.target.name, byName.get(p.mapping.source!.name) ?? 0]));
}

async function requireMigrated(ctx: RunContext): Promise<void> {
    const exists = await ctx.pg.query<{ ok: boolean }>("SELECT to_regclass('gecko_migration.chunks') IS NOT NULL AS ok");
    const done = exists.rows[0].ok ? await ctx.pg.query("SELECT 1 FROM gecko_migration.chunks WHERE status = 'done' LIMIT 1") : undefined;
    if (!done?.rowCount) {
        throw new Error(`sync: ${describeConnection(ctx.opts.target)} holds no migration yet (no copied chunks); run migrate first`);
    }
}

/** Everything in one transaction: deletes children first, then each table's rows in copy order, then the sequences. */
async function applyAll(
    ctx: RunContext,
    diffs: readonly TableDiff[],
    conversion: Conversion,
    pass: SyncPassOptions,
    state: SyncState,
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
        await saveSyncState(ctx.pg, state);
        await pass.beforeCommit?.();
        await ctx.pg.query("COMMIT");
        return results;
    } catch (err) {
        await ctx.pg.query("ROLLBACK").catch(() => undefined);
        throw err;
    }
}

function syncReport(
    ctx: RunContext,
    tables: readonly SyncTableResult[],
    warnings: readonly string[],
    found: Pick<SyncReport, "mode" | "fullReason" | "changedPages"> & { readonly diffs?: readonly TableDiff[] },
): SyncReport {
    const unchanged = found.mode === "none";
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
        tables: tables.map(({ table, inserted, updated, deleted, quarantined, released, valuesSetAside }) => ({
            table,
            inserted,
            updated,
            deleted,
            quarantined,
            released,
            ...(valuesSetAside ? { valuesSetAside } : {}),
        })),
        changes,
        mode: found.mode,
        ...(found.fullReason ? { fullReason: found.fullReason } : {}),
        changedPages: found.changedPages,
        censusTables: (found.diffs ?? []).filter((d) => d.scope?.census).map((d) => d.plan.mapping.target.name),
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
            `  ${t.table}: +${t.inserted} inserted, ${t.updated} updated, -${t.deleted} deleted, ${t.quarantined} set aside, ${t.released} released` +
                (t.valuesSetAside ? `; ${t.valuesSetAside} values set aside (NULL in their rows)` : ""),
        );
    }
    if (r.mode === "full") lines.push(`  compared every row: ${r.fullReason}`);
    else if (r.mode === "pages") lines.push(`  compared the rows on ${r.changedPages} changed pages`);
    if (r.sourceUnchanged) lines.push("  the source file is as the last run left it (size and modification time of the file and its WAL)");
    else if (!changed.length) lines.push("  nothing changed since the last pass");
    for (const w of r.warnings) lines.push(`warning: ${w}`);
    lines.push(`${r.changes} changes; lag ${r.lagSeconds.toFixed(2)} s`);
    return lines.join("\n");
}
