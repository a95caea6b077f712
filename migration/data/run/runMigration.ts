/**
 * The migration stage as one pipeline of named steps:
 * snapshot -> introspect -> map -> plan -> preflight + schema (tables) -> copy -> orphans
 * -> schema (post-load: indexes, foreign keys, sequences) -> validate -> report.
 *
 * Throws only for failures of the run itself (cannot connect, another run
 * holds the lock, a target of another shape than the plan's, orphan policy
 * `fail`); data problems end up in the report, whose `ok` says whether the
 * run succeeded.
 */
import { checkTargetSchema, pauseAutovacuum } from "../../schema/target";
import { ensureCheckpointSchema, refuseAfterCutover } from "../copy/checkpointStore";
import { silentLogger, type MigrationInput, type MigrationLogger } from "../options";
import { inCopyOrder } from "../plan/tableMapping";
import { renderReport, type MigrationReport } from "../report/report";
import { readSource } from "./readSource";
import { buildReport, quarantineSummary, repairSummary, saveReport, baseTableReport, setAsideSummary } from "./buildReport";
import {
    actAsOwner,
    closeRun,
    connectTarget,
    openLanes,
    openRun,
    sourceChangedSinceLastRun,
    timed,
    type Phase,
    type RunContext,
    type RunHooks,
} from "./context";
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
export async function runValidation(options: MigrationInput, logger: MigrationLogger = silentLogger): Promise<MigrationReport> {
    return run("validate", options, logger, {});
}

async function run(phase: Phase, options: MigrationInput, logger: MigrationLogger, hooks: RunHooks): Promise<MigrationReport> {
    const ctx = await openRun(phase, options, logger, hooks);
    const migrating = phase === "migrate";
    try {
        const { source, mapping, conversion, warnings, clockChecks } = await readSource(ctx);
        const serverStart = await connectTarget(ctx);
        const ordered = inCopyOrder(mapping.tables);
        if (migrating) await timed(ctx, "schema", () => prepareTarget(ctx.pg, ctx.snapshot.db, ordered, ctx.roles, logger));
        await ensureCheckpointSchema(ctx.pg, ctx.opts.ownerRole);
        if (migrating) await refuseAfterCutover(ctx.pg, "migrate");
        await actAsOwner(ctx);
        const plans = await planTables(ctx, ordered, conversion);
        // What a sync pass saw no longer describes the target once a copy writes to it.
        if (migrating && plans.some((p) => p.chunks.some((c) => !c.done))) await ctx.pg.query("DELETE FROM gecko_migration.sync_state");
        const moved = await sourceMoved(ctx, plans, warnings);
        const pageSources = pageSourcesFor(ctx, plans, conversion);
        await openLanes(ctx);
        const loaded = ordered.filter((m) => m.source).map((m) => m.target.name);
        if (migrating) await pauseAutovacuum(ctx.pg, loaded, "pause");
        const copied = migrating ? await copyTables(ctx, plans, pageSources, serverStart) : plans.map(baseTableReport);
        const orphans = migrating ? await finishLoad(ctx, plans, conversion, loaded) : [];
        const tables = await validateTables(ctx, plans, copied, conversion, moved);
        const groundTruths = await timed(ctx, "groundTruth", () => checkGroundTruths(ctx.pg, ctx.snapshot.db, plans, conversion));
        const schema = await timed(ctx, "validate", () =>
            checkTargetSchema(
                ctx.pg,
                ctx.roles,
                ordered.map((m) => m.target),
            ),
        );
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
    } finally {
        await closeRun(ctx);
    }
}

/**
 * Whether chunks copied by earlier runs may no longer match the source (it changed since the
 * last run): then validation re-reads the source for those tables, so rows the collector
 * changed or deleted in place show up as differences instead of passing on old checksums.
 */
async function sourceMoved(ctx: RunContext, plans: readonly TablePlan[], warnings: string[]): Promise<boolean> {
    const copiedBefore = plans.filter((p) => p.chunks.some((c) => c.done)).map((p) => p.mapping.target.name);
    if (ctx.phase !== "migrate" || copiedBefore.length === 0) return false;
    const { changed, previous } = await sourceChangedSinceLastRun(ctx);
    if (!changed) return false;
    warnings.push(
        `the source changed since ${previous ? `the last run (fingerprint ${previous} -> ${ctx.snapshot.fingerprint})` : "chunks were copied by a run that did not finish"}: ` +
            `a rerun copies only new rows, so ${copiedBefore.join(", ")} were checked against the file as it is now; ` +
            "rows changed or deleted in place are listed as differences; `gecko-pg sync` brings them in line",
    );
    return true;
}

export { renderReport };
