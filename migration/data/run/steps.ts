/** The run's data steps between the schema and the report: copy, finish the load, validate. */
import type { Client } from "pg";
import { copyTable } from "../copy/copyTable";
import { handleOrphans, type OrphanOutcome } from "../copy/orphans";
import type { PageSource } from "../copy/pageEncoder";
import { retryQuarantined, retrySetAsideValues } from "../copy/retryQuarantine";
import type { Conversion } from "../plan/conversion";
import { ProgressMeter } from "../report/progress";
import type { TableReport } from "../report/report";
import { validateTable } from "../validate/tableChecks";
import { pauseAutovacuum } from "../../schema/target";
import { throwIfInterrupted } from "../../postgres/transient";
import { actAsOwner, named, timed, type RunContext } from "./context";
import { baseTableReport } from "./buildReport";
import type { TablePlan } from "./tablePlans";
import { finishTarget } from "./target";

/** Copies each table with a source in copy order, then retries what earlier runs set aside. */
export async function copyTables(
    run: RunContext,
    plans: readonly TablePlan[],
    pageSources: PageSource[],
    serverStart: Date,
): Promise<TableReport[]> {
    const reports: TableReport[] = [];
    for (const plan of plans)
        reports.push(plan.mapping.source ? await copyOneTable(run, plan, pageSources, serverStart) : baseTableReport(plan));
    return reports;
}

async function copyOneTable(run: RunContext, plan: TablePlan, pageSources: PageSource[], serverStart: Date): Promise<TableReport> {
    const { mapping: m, encoder, chunks } = plan;
    const meter = new ProgressMeter(m.target.name, m.source?.rowCount ?? 0, run.logger);
    const res = await timed(run, "copy", () =>
        copyTable({
            sqlite: run.snapshot.db,
            lanes: [run.pg, ...run.lanes],
            pageSources,
            mapping: m,
            encoder,
            chunks,
            onChunk: (n) => {
                meter.update(n);
                run.progressed?.();
            },
            beforeCommit: run.hooks.beforeChunkCommit,
            signal: run.hooks.signal,
        }),
    );
    meter.finish(res.rowsRead);
    const retry = await timed(run, "copy", () =>
        named(`copy ${m.target.name} (set-aside rows)`, () => retryQuarantined(run.pg, run.snapshot.db, m, encoder, serverStart)),
    );
    if (retry.retried)
        run.logger.info(`${m.target.name}: retried ${retry.retried} set-aside rows, recovered ${retry.recovered} (now in the target)`);
    const values = await timed(run, "copy", () =>
        named(`copy ${m.target.name} (set-aside values)`, () => retrySetAsideValues(run.pg, run.snapshot.db, m, encoder, serverStart)),
    );
    if (values.retried)
        run.logger.info(`${m.target.name}: retried ${values.retried} set-aside values, recovered ${values.recovered} (now in their rows)`);
    const base = baseTableReport(plan);
    return {
        ...base,
        chunks: { ...base.chunks, copiedThisRun: res.chunksCopied },
        rowsRecoveredThisRun: retry.recovered,
        ...(values.retried ? { valuesRetriedThisRun: values.retried, valuesRecoveredThisRun: values.recovered } : {}),
        rowsCopiedThisRun: res.rowsCopied,
        rowsQuarantinedThisRun: res.rowsQuarantined,
        rowsFilledThisRun: res.rowsFilled,
        conversionWarnings: Object.fromEntries(encoder.warnings),
        conversionWarningExamples: Object.fromEntries(encoder.warningExamples),
        copySeconds: res.seconds,
    };
}

/** After the copy: orphans by the policy, then indexes, foreign keys and sequences, then autovacuum back on. */
export async function finishLoad(
    run: RunContext,
    plans: readonly TablePlan[],
    conversion: Conversion,
    loaded: readonly string[],
): Promise<OrphanOutcome[]> {
    const ordered = plans.map((p) => p.mapping);
    const buckets = new Map(plans.map((p) => [p.mapping.target.name, p.encoder.buckets]));
    const orphans = await timed(run, "orphans", () =>
        handleOrphans(run.pg, ordered, run.opts.orphanPolicy, conversion.canonicalSql, buckets),
    );
    await run.pg.query("RESET ROLE");
    await timed(run, "postLoad", () => named("post-load", () => finishTarget(run.pg, run.roles, run.logger, run.lanes)));
    await actAsOwner(run, [run.pg, ...run.lanes]);
    await pauseAutovacuum(run.pg, loaded, "resume");
    return orphans;
}

/** Every table validated, on every lane's connection at once, largest first: the server hashes them in parallel. */
export async function validateTables(
    run: RunContext,
    plans: readonly TablePlan[],
    reports: readonly TableReport[],
    conversion: Conversion,
    sourceChanged: boolean,
): Promise<TableReport[]> {
    const validated: TableReport[] = new Array(reports.length);
    const queue = reports.map((_, i) => i).sort((a, b) => reports[b].sourceRows - reports[a].sourceRows);
    const validator = async (client: Client) => {
        for (let i = queue.shift(); i !== undefined; i = queue.shift()) {
            const plan = plans.find((p) => p.mapping.target.name === reports[i].table)!;
            throwIfInterrupted(run.hooks.signal, `validate ${reports[i].table}`);
            run.logger.info(`validate ${reports[i].table}`);
            const validation = await named(`validate ${reports[i].table}`, () =>
                validateTable({
                    sqlite: run.snapshot.db,
                    pg: client,
                    mapping: plan.mapping,
                    encoder: plan.encoder,
                    chunks: plan.chunks,
                    canonical: conversion.canonicalSql,
                    rescanSource: run.phase === "validate" || plan.columnsChanged || (sourceChanged && plan.chunks.some((c) => c.done)),
                    sampleRows: run.opts.sampleRows,
                }),
            );
            validated[i] = { ...reports[i], validation };
        }
    };
    await timed(run, "validate", () => Promise.all([run.pg, ...run.lanes].map(validator)));
    return validated;
}
