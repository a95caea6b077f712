/**
 * What one run holds open while its steps work: the convert workers, the source
 * snapshot, the main target connection and the copy lanes' connections. Opened by
 * `openRun`, always released by `closeRun`.
 */
import { Client } from "pg";
import { clientConfig } from "../../postgres/connection";
import { ident } from "../../postgres/sql";
import { ConvertWorkers } from "../copy/convertWorkers";
import { DEFAULT_OPTIONS, type MigrationInput, type MigrationLogger, type MigrationOptions } from "../options";
import { openSharedSnapshot, openSourceSnapshot, type SourceSnapshot } from "../source/snapshot";
import type { Chunk } from "../plan/chunkPlan";

export type Phase = "migrate" | "validate";

export interface RunHooks {
    /** Test hook: called before each chunk commits (throw to simulate a crash). */
    readonly beforeChunkCommit?: (chunk: Chunk) => void | Promise<void>;
}

export interface RunContext {
    readonly phase: Phase;
    readonly opts: MigrationOptions;
    readonly logger: MigrationLogger;
    readonly hooks: RunHooks;
    readonly startedAt: Date;
    readonly timings: Record<string, number>;
    /** Undefined: rows are converted in this thread. */
    readonly workers: ConvertWorkers | undefined;
    readonly snapshot: SourceSnapshot;
    /** The main connection: schema, checkpoints, orphans, the report. */
    readonly pg: Client;
    /** The other copy lanes' connections (copyLanes - 1), opened by `openLanes`. */
    readonly lanes: Client[];
    readonly roles: { readonly ownerRole: string; readonly appRole: string; readonly timeZone: string };
}

/** Starts the workers and opens the snapshot; the target is connected by `connectTarget`. */
export async function openRun(
    phase: Phase,
    options: MigrationInput,
    logger: MigrationLogger,
    hooks: RunHooks,
    openSnapshot: (path: string) => SourceSnapshot = openSourceSnapshot,
): Promise<RunContext> {
    const startedAt = new Date();
    const opts: MigrationOptions = { ...DEFAULT_OPTIONS, ...options };
    const workers = phase === "migrate" ? await startConvertWorkers(opts, logger) : undefined;
    let snapshot: SourceSnapshot;
    try {
        snapshot = workers ? await openSharedSnapshot(opts.sqlitePath, workers) : openSnapshot(opts.sqlitePath);
    } catch (err) {
        await workers?.close();
        throw err;
    }
    const pg = new Client(clientConfig(opts.target, { application_name: "gecko-pg migrate" }));
    const roles = { ownerRole: opts.ownerRole, appRole: opts.appRole, timeZone: opts.databaseTimeZone };
    return { phase, opts, logger, hooks, startedAt, timings: {}, workers, snapshot, pg, lanes: [], roles };
}

export async function closeRun(run: RunContext): Promise<void> {
    await run.workers?.close();
    run.snapshot.close();
    for (const c of [run.pg, ...run.lanes]) await c.end().catch(() => undefined);
}

/** Runs `fn`, adding its seconds to the run's timing `name`. */
export async function timed<T>(run: RunContext, name: string, fn: () => Promise<T> | T): Promise<T> {
    const t0 = Date.now();
    try {
        return await fn();
    } finally {
        run.timings[name] = (run.timings[name] ?? 0) + (Date.now() - t0) / 1000;
    }
}

/**
 * Connects the main session and takes the run's lock. Returns the server's clock at the
 * start: rows quarantined before it were set aside by an earlier run.
 */
export async function connectTarget(run: RunContext): Promise<Date> {
    const { pg } = run;
    await pg.connect();
    await lockRun(pg);
    await pg.query("SET TimeZone = 'UTC'");
    const serverStart = (await pg.query<{ t: Date }>("SELECT clock_timestamp() AS t")).rows[0].t;
    // Safe: every chunk's checkpoint commits with its rows, so a lost commit is just redone.
    await pg.query("SET synchronous_commit = off");
    return serverStart;
}

/** Extra connections for the copy lanes, set up like the main one (as the owner role). */
export async function openLanes(run: RunContext): Promise<void> {
    for (let i = 1; i < run.opts.copyLanes; i++) {
        const lane = new Client(clientConfig(run.opts.target, { application_name: `gecko-pg migrate lane ${i}` }));
        run.lanes.push(lane);
        await lane.connect();
        await lane.query(`SET TimeZone = 'UTC'; SET synchronous_commit = off; SET ROLE ${ident(run.opts.ownerRole)}`);
    }
}

/** Rows, quarantine and checkpoints are written as the owner role. */
export async function actAsOwner(run: RunContext, clients: readonly Client[] = [run.pg]): Promise<void> {
    for (const c of clients) await c.query(`SET ROLE ${ident(run.opts.ownerRole)}`);
}

/**
 * Whether the source may differ from what earlier runs copied: its fingerprint differs from the
 * last run's report, or no run finished since chunks were copied (a crash). Rows changed or
 * deleted in place in chunks already done are then only found by re-reading the source.
 */
export async function sourceChangedSinceLastRun(run: RunContext): Promise<{ changed: boolean; previous?: string; lastRunOk: boolean }> {
    const r = await run.pg.query<{ f: string | null; ok: boolean }>(
        "SELECT report->'source'->>'fingerprint' AS f, ok FROM gecko_migration.runs ORDER BY id DESC LIMIT 1",
    );
    const previous = r.rows[0]?.f ?? undefined;
    return { changed: previous !== run.snapshot.fingerprint, lastRunOk: r.rows[0]?.ok ?? false, ...(previous ? { previous } : {}) };
}

/** Fails fast when another run is copying into the same database. */
async function lockRun(pg: Client): Promise<void> {
    const r = await pg.query<{ ok: boolean }>("SELECT pg_try_advisory_lock(hashtext('gecko-pg migration')) AS ok");
    if (!r.rows[0].ok) throw new Error("another gecko-pg migration is running against this database (advisory lock held)");
}

/** The convert workers asked for, or undefined to convert in this thread. */
async function startConvertWorkers(opts: MigrationOptions, logger: MigrationLogger): Promise<ConvertWorkers | undefined> {
    const count = opts.convertWorkers ?? 0;
    if (count <= 0) return undefined;
    try {
        return await ConvertWorkers.start(count, {
            sqlitePath: opts.sqlitePath,
            conversion: {
                sourceTimeZone: opts.sourceTimeZone,
                clockOverrides: opts.clockOverrides,
                repairs: opts.repairs,
                ambiguousTime: opts.ambiguousTime,
            },
        });
    } catch (err) {
        // Only speed is lost: the same conversion runs in this thread.
        logger.warn(`convert workers could not start (${(err as Error).message}); converting in the main thread`);
        return undefined;
    }
}
