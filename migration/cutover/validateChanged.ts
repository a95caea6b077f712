/**
 * Validation of what changed since the last full validation: the tables sync passes changed
 * since then are checked against the checksums the passes recorded (counts, checksums by
 * bucket, a sample compared field by field), without re-reading the whole source.
 */
import type { ClientBase } from "pg";
import type { MigrationInput, MigrationLogger } from "../data/options";
import { inCopyOrder } from "../data/plan/tableMapping";
import { actAsOwner, closeRun, connectTarget, openRun } from "../data/run/context";
import { readSource } from "../data/run/readSource";
import { planTables } from "../data/run/tablePlans";
import { validateTable } from "../data/validate/tableChecks";

export async function validateChangedTables(
    input: MigrationInput,
    logger: MigrationLogger,
): Promise<{ tables: string[]; failures: string[] }> {
    const ctx = await openRun("validate", input, logger, {});
    try {
        const { mapping, conversion } = await readSource(ctx);
        await connectTarget(ctx);
        await actAsOwner(ctx);
        const changed = await tablesChangedSinceValidation(ctx.pg);
        const plans = (await planTables(ctx, inCopyOrder(mapping.tables), conversion)).filter(
            (p) => p.mapping.source && changed.has(p.mapping.target.name),
        );
        const failures: string[] = [];
        for (const plan of plans) {
            const v = await validateTable({
                sqlite: ctx.snapshot.db,
                pg: ctx.pg,
                mapping: plan.mapping,
                encoder: plan.encoder,
                chunks: plan.chunks,
                canonical: conversion.canonicalSql,
                rescanSource: plan.columnsChanged,
                sampleRows: ctx.opts.sampleRows,
            });
            if (!v.countsMatch) failures.push(`${v.table}: ${v.sourceRows} source rows, ${v.targetRows} in the target`);
            if (v.mismatchedBuckets.length) failures.push(`${v.table}: checksums differ in ${v.mismatchedBuckets.length} buckets`);
            if (v.sampleMismatches.length) failures.push(`${v.table}: ${v.sampleMismatches.length} sampled rows differ`);
        }
        return { tables: plans.map((p) => p.mapping.target.name), failures };
    } finally {
        await closeRun(ctx);
    }
}

/** Tables a sync pass changed since the last migrate or validate run. */
async function tablesChangedSinceValidation(pg: ClientBase): Promise<Set<string>> {
    const r = await pg.query<{ t: string }>(
        `SELECT DISTINCT t.value->>'table' AS t
           FROM gecko_migration.runs r, jsonb_array_elements(r.report->'tables') t
          WHERE r.report->>'kind' = 'sync'
            AND r.id > coalesce((SELECT max(id) FROM gecko_migration.runs WHERE report->>'kind' IS NULL), 0)
            AND ((t.value->>'inserted')::int + (t.value->>'updated')::int + (t.value->>'deleted')::int
                 + (t.value->>'quarantined')::int + (t.value->>'released')::int) > 0`,
    );
    return new Set(r.rows.map((x) => x.t));
}
