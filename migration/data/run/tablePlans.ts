/**
 * Per table, what the copy and the validation work from: the persisted chunk plan
 * (a rerun resumes it), the row encoder, and whether the columns changed since the
 * checksums were recorded. Also the page sources the copy lanes read from.
 */
import { loadOrSavePlan } from "../copy/checkpointStore";
import { localPageSource, type PageSource } from "../copy/pageEncoder";
import { RowEncoder } from "../copy/rowEncoder";
import { bucketCountFor } from "../checksum/checksum";
import { planChunks, type Chunk } from "../plan/chunkPlan";
import type { Conversion } from "../plan/conversion";
import type { TableMapping } from "../plan/tableMapping";
import type { SourceTable } from "../source/introspect";
import type { RunContext } from "./context";

export interface TablePlan {
    readonly mapping: TableMapping;
    readonly encoder: RowEncoder;
    readonly chunks: readonly (Chunk & { done: boolean })[];
    /** The table's columns differ from those its recorded checksums were made with: validation re-reads the source. */
    readonly columnsChanged: boolean;
}

/** One plan per table, in copy order; registers each source table with the convert workers. */
export async function planTables(run: RunContext, ordered: readonly TableMapping[], conversion: Conversion): Promise<TablePlan[]> {
    const plans: TablePlan[] = [];
    for (const mapping of ordered) {
        const persisted = mapping.source ? await persistedPlan(run, mapping, mapping.source) : undefined;
        const buckets = persisted?.buckets ?? bucketCountFor(0);
        const encoder = new RowEncoder(
            mapping,
            (c) => conversion.converterFor(mapping.target.name, c),
            buckets,
            conversion.rowRulesFor(mapping.target.name),
        );
        plans.push({ mapping, encoder, chunks: persisted?.chunks ?? [], columnsChanged: persisted?.columnsChanged ?? false });
        if (run.workers && mapping.source) await run.workers.addTable(mapping, buckets, conversion.decidedTimesOf(mapping.target.name));
    }
    return plans;
}

/** The chunk plan stored in the target, or this run's, saved. */
async function persistedPlan(run: RunContext, m: TableMapping, source: SourceTable) {
    const facts = {
        buckets: bucketCountFor(source.rowCount),
        rowCount: source.rowCount,
        minRowid: source.minRowid,
        maxRowid: source.maxRowid,
        columns: m.columns.map((c) => c.target.name),
    };
    const planned = planChunks({ table: m.target.name, ...facts, chunkRows: run.opts.chunkRows });
    return loadOrSavePlan(run.pg, m.target.name, planned.chunks, facts);
}

/** Each lane converts in its own worker, or in this thread with encoders of its own (they count warnings per lane). */
export function pageSourcesFor(run: RunContext, plans: readonly TablePlan[], conversion: Conversion): PageSource[] {
    return Array.from({ length: run.opts.copyLanes }, (_, i) => {
        if (run.workers) return run.workers.pageSource(i);
        const encoders = plans.map((p) => {
            const table = p.mapping.target.name;
            return [
                table,
                new RowEncoder(p.mapping, (c) => conversion.converterFor(table, c), p.encoder.buckets, conversion.rowRulesFor(table)),
            ] as const;
        });
        return localPageSource(run.snapshot.db, new Map(encoders));
    });
}
