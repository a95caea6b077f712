/**
 * What one run holds open while its steps work: the convert workers, the source
 * snapshot, the main target connection and the copy lanes' connections. Opened by
 * `openRun`, always released by `closeRun`.
 */
import { Client } from "pg";
import { clientConfig, describeConnection } from "../../postgres/connection";
import { withSession } from "../../postgres/session";
import { ident } from "../../postgres/sql";
import { describeFault, Interrupted, watchConnection } from "../../postgres/transient";
import { ConvertWorkers } from "../copy/convertWorkers";
import { DEFAULT_OPTIONS, type MigrationInput, type MigrationLogger, type MigrationOptions } from "../options";
import { openSharedSnapshot, openSourceSnapshot, type SourceSnapshot } from "../source/snapshot";
import type { Chunk } from "../plan/chunkPlan";

export type Phase = "migrate" | "validate";

export interface RunHooks {
    /** Test hook: called before each chunk commits (throw to simulate a crash). */
    readonly beforeChunkCommit?: (chunk: Chunk) => void | Promise<void>;
    /** Stops the run at the next safe point, the open chunk rolled back (`RunStopped`, interrupted): the CLI's SIGINT/SIGTERM. */
    readonly signal?: AbortSignal;
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
    /** Called when a chunk committed: a fault after it is a new one (its own retry window). */
    readonly progressed?: () => void;
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
    const pg = targetClient(opts, "gecko-pg migrate");
    const roles = { ownerRole: opts.ownerRole, appRole: opts.appRole, timeZone: opts.databaseTimeZone };
    return { phase, opts, logger, hooks, startedAt, timings: {}, workers, snapshot, pg, lanes: [], roles };
}

export async function closeRun(run: RunContext): Promise<void> {
    await run.workers?.close();
    run.snapshot.close();
    await closeTarget(run);
}

/** Ends the run's target connections (a lost one ends at once). */
export async function closeTarget(run: RunContext): Promise<void> {
    for (const c of [run.pg, ...run.lanes]) await c.end().catch(() => undefined);
}

/**
 * The same run on new, not yet connected target connections (after a lost one): the old
 * ones are ended; `connectTarget` and `openLanes` set the new ones up as the first were.
 */
export async function withFreshTarget(run: RunContext): Promise<RunContext> {
    await closeTarget(run);
    return { ...run, pg: targetClient(run.opts, "gecko-pg migrate"), lanes: [] };
}

/**
 * A target connection whose `error` event (the server ended the session while it was idle)
 * cannot crash the process: the next query on it fails instead, and that failure is retried.
 */
function targetClient(opts: MigrationOptions, applicationName: string): Client {
    const client = new Client(clientConfig(opts.target, { application_name: applicationName }));
    watchConnection(client);
    return client;
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
 * Runs `fn`, its error's message prefixed with `what` (the phase, e.g. `validate trades`) so the
 * one line a failed run prints says where it stopped; errors that already say so pass as they are.
 */
export async function named<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
        return await fn();
    } catch (cause) {
        if (cause instanceof Interrupted || cause instanceof PhaseError) throw cause;
        throw new PhaseError(what, cause as Error);
    }
}

/** A step's failure, its message starting with the phase (`post-load: ...`). */
export class PhaseError extends Error {
    override readonly name = "PhaseError";
    constructor(
        readonly phase: string,
        cause: Error,
    ) {
        super(`${phase}: ${describeFault(cause)}`, { cause });
    }
}

/**
 * Connects the main session and takes the run's lock. Returns the server's clock at the
 * start: rows quarantined before it were set aside by an earlier run.
 */
export async function connectTarget(run: RunContext): Promise<Date> {
    const { pg } = run;
    await named(`connect to ${describeConnection(run.opts.target)}`, () => pg.connect());
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
        const lane = targetClient(run.opts, `gecko-pg migrate lane ${i}`);
        run.lanes.push(lane);
        await named(`connect lane ${i} to ${describeConnection(run.opts.target)}`, () => lane.connect());
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
        // A run that stopped before its end (kind 'stopped') proves nothing about the chunks copied before it.
        "SELECT report->'source'->>'fingerprint' AS f, ok FROM gecko_migration.runs WHERE report->>'kind' IS DISTINCT FROM 'stopped' ORDER BY id DESC LIMIT 1",
    );
    const previous = r.rows[0]?.f ?? undefined;
    return { changed: previous !== run.snapshot.fingerprint, lastRunOk: r.rows[0]?.ok ?? false, ...(previous ? { previous } : {}) };
}

/**
 * Once a stop is asked for, statements still running after `graceMs` (an index build, a
 * validation hash, a COPY waiting on the server) are cancelled, so the run stops within 2 s:
 * their transactions roll back. Returns the function that stops watching.
 */
export function cancelWhenInterrupted(current: () => RunContext, graceMs = 1000): () => void {
    const signal = current().hooks.signal;
    if (!signal) return () => undefined;
    let timer: NodeJS.Timeout | undefined;
    const onAbort = () => {
        timer = setTimeout(() => void cancelStatements(current()).catch(() => undefined), graceMs);
    };
    signal.addEventListener("abort", onAbort, { once: true });
    return () => {
        clearTimeout(timer);
        signal.removeEventListener("abort", onAbort);
    };
}

/** pg_cancel_backend for each of the run's sessions, from a session of its own. */
async function cancelStatements(run: RunContext): Promise<void> {
    const pids = [run.pg, ...run.lanes].map((c) => (c as unknown as { processID: number | null }).processID).filter((p) => p !== null);
    if (!pids.length) return;
    await withSession("cancel", run.opts.target, (c) => c.query("SELECT pg_cancel_backend(pid) FROM unnest($1::int[]) AS pid", [pids]));
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
