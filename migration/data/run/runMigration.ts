/**
 * The migration stage as one pipeline of named steps:
 * snapshot -> introspect -> map -> plan -> preflight + schema (tables) -> copy -> orphans
 * -> schema (post-load: indexes, foreign keys, sequences) -> validate -> report.
 *
 * Throws only for failures of the run itself (cannot connect, another run
 * holds the lock, a target of another shape than the plan's, orphan policy
 * `fail`); data problems end up in the report, whose `ok` says whether the
 * run succeeded. Transient faults (a lost connection, a restarting server, a
 * deadlock) are retried on fresh connections for up to `retrySeconds`,
 * resuming from the committed chunks. A run that stops (a fault, or
 * `hooks.signal`) throws `RunStopped`, its report with status `failed` or
 * `interrupted`; a bad or damaged source file throws `SourceError`.
 */
import { checkTargetSchema, pauseAutovacuum } from "../../schema/target";
import { ensureCheckpointSchema, refuseAfterCutover } from "../copy/checkpointStore";
import { silentLogger, type MigrationInput, type MigrationLogger } from "../options";
import { inCopyOrder } from "../plan/tableMapping";
import { renderReport, type MigrationReport } from "../report/report";
import { readSource } from "./readSource";
import {
    buildReport,
    quarantineSummary,
    repairSummary,
    saveReport,
    saveStoppedReport,
    stoppedReport,
    baseTableReport,
    setAsideSummary,
} from "./buildReport";
import {
    actAsOwner,
    cancelWhenInterrupted,
    closeRun,
    connectTarget,
    named,
    openLanes,
    openRun,
    PhaseError,
    sourceChangedSinceLastRun,
    timed,
    withFreshTarget,
    type Phase,
    type RunContext,
    type RunHooks,
} from "./context";
import { Interrupted, throwIfInterrupted, withRetry } from "../../postgres/transient";
import { damagedSource, SourceError } from "../source/sourceFile";
import { copyTables, finishLoad, validateTables } from "./steps";
import { checkGroundTruths } from "../validate/groundTruth";
import { pageSourcesFor, planTables, type TablePlan } from "./tablePlans";
import { prepareTarget } from "./target";

export type { Phase, RunHooks };

/** The whole stage: schema, copy and validation. */
export async function runMigration(
    options: MigrationInput,
    logger: MigrationLogger = silentLogger,
    hooks: RunHooks = {},
): Promise<MigrationReport> {
    return run("migrate", options, logger, hooks);
}

/** Validation only, re-reading the source for the checksums. */
export async function runValidation(
    options: MigrationInput,
    logger: MigrationLogger = silentLogger,
    hooks: Pick<RunHooks, "signal"> = {},
): Promise<MigrationReport> {
    return run("validate", options, logger, hooks);
}

async function run(phase: Phase, options: MigrationInput, logger: MigrationLogger, hooks: RunHooks): Promise<MigrationReport> {
    let ctx = await openRun(phase, options, logger, hooks);
    const held = { lock: false };
    const stopCancelling = cancelWhenInterrupted(() => ctx);
    try {
        const found = await readSource(ctx);
        // Decided by the first attempt: chunks a retried attempt finds done were copied by this run.
        const sourceMovedOnce = firstAnswer(sourceMoved);
        // A lost connection or a lost race: fresh connections, and the pipeline again from the top.
        // Committed chunks are skipped, so this resumes where the fault struck.
        return await withRetry(
            async (attempt, progressed) => {
                if (attempt > 1) ctx = await withFreshTarget(ctx);
                ctx = { ...ctx, progressed };
                return await runOnTarget(ctx, found, held, sourceMovedOnce);
            },
            { retrySeconds: ctx.opts.retrySeconds, onRetry: (m) => logger.warn(m), signal: hooks.signal },
        );
    } catch (err) {
        if (err instanceof SourceError) throw err;
        // A page of the file found damaged mid-run is bad input, named as such, not a fault to retry.
        throw damagedSource(ctx.snapshot.db, err) ?? (await stopRun(ctx, err as Error, held.lock));
    } finally {
        stopCancelling();
        await closeRun(ctx);
    }
}

type SourceFound = Awaited<ReturnType<typeof readSource>>;

/** `fn`'s first answer, given again to every later call; a call that failed is made again. */
function firstAnswer<A extends unknown[], T>(fn: (...args: A) => Promise<T>): (...args: A) => Promise<T> {
    let answer: Promise<T> | undefined;
    return (...args) =>
        (answer ??= fn(...args).catch((err: unknown) => {
            answer = undefined;
            throw err;
        }));
}
type SourceMoved = Promise<{ readonly moved: boolean; readonly warning?: string }>;

/** One attempt at the target: from connecting to the saved report. */
async function runOnTarget(
    ctx: RunContext,
    found: SourceFound,
    held: { lock: boolean },
    sourceMovedOnce: typeof sourceMoved,
): Promise<MigrationReport> {
    const { logger } = ctx;
    const { source, mapping, conversion, clockChecks } = found;
    const warnings = [...found.warnings];
    const migrating = ctx.phase === "migrate";
    const serverStart = await connectTarget(ctx);
    held.lock = true;
    const ordered = inCopyOrder(mapping.tables);
    if (migrating) {
        const prepared = await timed(ctx, "schema", () =>
            named("schema", () => prepareTarget(ctx.pg, ctx.snapshot.db, ordered, ctx.roles, logger)),
        );
        // What the target holds beside the plan, left alone: the operator should know it is there.
        warnings.push(...prepared.preflightNotes.map((n) => `preflight: ${n}`));
    }
    await ensureCheckpointSchema(ctx.pg, ctx.opts.ownerRole);
    if (migrating) await refuseAfterCutover(ctx.pg, "migrate");
    await actAsOwner(ctx);
    const plans = await planTables(ctx, ordered, conversion);
    // What a sync pass saw no longer describes the target once a copy writes to it.
    if (migrating && plans.some((p) => p.chunks.some((c) => !c.done))) await ctx.pg.query("DELETE FROM gecko_migration.sync_state");
    const moved = await sourceMovedOnce(ctx, plans);
    if (moved.warning) warnings.push(moved.warning);
    const pageSources = pageSourcesFor(ctx, plans, conversion);
    await openLanes(ctx);
    const loaded = ordered.filter((m) => m.source).map((m) => m.target.name);
    if (migrating) await pauseAutovacuum(ctx.pg, loaded, "pause");
    const copied = migrating ? await copyTables(ctx, plans, pageSources, serverStart) : plans.map(baseTableReport);
    const orphans = migrating ? await finishLoad(ctx, plans, conversion, loaded) : [];
    const tables = await validateTables(ctx, plans, copied, conversion, moved.moved);
    throwIfInterrupted(ctx.hooks.signal, "validate");
    const groundTruths = await timed(ctx, "groundTruth", () =>
        named("validate ground truths", () => checkGroundTruths(ctx.pg, ctx.snapshot.db, plans, conversion)),
    );
    const schema = await timed(ctx, "validate", () =>
        named("validate schema", () =>
            checkTargetSchema(
                ctx.pg,
                ctx.roles,
                ordered.map((m) => m.target),
            ),
        ),
    );
    return named("report", async () => {
        const quarantine = await quarantineSummary(ctx.pg);
        const setAsideValues = await setAsideSummary(ctx.pg);
        const repairs = await repairSummary(ctx.pg);
        const report = buildReport(ctx, {
            source,
            mapping,
            warnings,
            clockChecks,
            tables,
            orphans,
            quarantine,
            setAsideValues,
            repairs,
            schema,
            groundTruths,
        });
        await saveReport(ctx.pg, report);
        return report;
    });
}

/**
 * A run that did not finish: its error, or `Interrupted` when a stop was asked for, as a
 * `RunStopped` with the report saying so. The report is saved in the target when the run had
 * got that far (it held the lock) and a connection can be had; the caller writes its file.
 */
async function stopRun(ctx: RunContext, err: Error, heldLock: boolean): Promise<RunStopped> {
    // A statement cancelled for the stop (or cut short by it) fails with its own error: the stop is what happened.
    const reason = ctx.hooks.signal?.aborted && !(err instanceof Interrupted) ? new Interrupted(phaseOf(err)) : err;
    const interrupted = reason instanceof Interrupted;
    const report = stoppedReport(ctx, interrupted ? "interrupted" : "failed", reason.message);
    if (heldLock) await saveWithin(ctx, report, interrupted ? 1000 : 10_000);
    return new RunStopped(reason, report);
}

/** Saves a stopped run's report in the target unless that fails or takes longer than `ms` (a stop must not wait on it). */
async function saveWithin(ctx: RunContext, report: MigrationReport, ms: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${ms / 1000} s`)), ms)));
    try {
        await Promise.race([saveStoppedReport(ctx.opts, report), late]);
    } catch (err) {
        ctx.logger.warn(`the report could not be saved in the target: ${(err as Error).message}`);
    } finally {
        clearTimeout(timer);
    }
}

/** Where an error struck, for `interrupted during ...`. */
function phaseOf(err: Error): string {
    if (err instanceof PhaseError) return err.phase;
    return /^copy (\S+ chunk \d+)/.exec(err.message)?.[1] ?? "the run";
}

/** A run that stopped before its end; `report` (status failed or interrupted) says where. */
export class RunStopped extends Error {
    override readonly name = "RunStopped";
    readonly interrupted: boolean;
    constructor(
        cause: Error,
        readonly report: MigrationReport,
    ) {
        super(cause.message, { cause });
        this.interrupted = cause instanceof Interrupted;
    }
}

/**
 * Whether chunks copied by earlier runs may no longer match the source (it changed since the
 * last run): then validation re-reads the source for those tables, so rows the collector
 * changed or deleted in place show up as differences instead of passing on old checksums.
 */
async function sourceMoved(ctx: RunContext, plans: readonly TablePlan[]): SourceMoved {
    const copiedBefore = plans.filter((p) => p.chunks.some((c) => c.done)).map((p) => p.mapping.target.name);
    if (ctx.phase !== "migrate" || copiedBefore.length === 0) return { moved: false };
    const { changed, previous } = await sourceChangedSinceLastRun(ctx);
    if (!changed) return { moved: false };
    const warning =
        `the source changed since ${previous ? `the last run (fingerprint ${previous} -> ${ctx.snapshot.fingerprint})` : "chunks were copied by a run that did not finish"}: ` +
        `a rerun copies only new rows, so ${copiedBefore.join(", ")} were checked against the file as it is now; ` +
        "rows changed or deleted in place are listed as differences; `gecko-pg sync` brings them in line";
    return { moved: true, warning };
}

export { renderReport };
