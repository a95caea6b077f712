/**
 * Copies one table, chunk by chunk: read a rowid range from the snapshot,
 * convert, stream it through `COPY ... FROM STDIN`, and commit the rows, the
 * chunk's quarantined rows and its checkpoint in one transaction. A crash at
 * any point rolls back to the last committed chunk; a rerun skips done chunks.
 */
import type Database from "better-sqlite3";
import type { ClientBase } from "pg";
import { from as copyFrom } from "pg-copy-streams";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { Chunk } from "../plan/chunkPlan";
import type { TableMapping } from "../plan/tableMapping";
import { ident } from "../../postgres/sql";
import { queryFault, describeFault, Interrupted, throwIfInterrupted } from "../../postgres/transient";
import { BucketSums, rowHash } from "../checksum/checksum";
import {
    completeChunk,
    insertQuarantine,
    insertRepairs,
    insertSetAside,
    type ChunkOutcome,
    type QuarantineRecord,
} from "./checkpointStore";
import { nextPageStart, pageReader, type EncodedPage, type PageSource } from "./pageEncoder";
import { addExample, describeKey, RowEncoder, type EncodedRow, type RawValue, type RepairRecord, type SetAsideValue } from "./rowEncoder";

export interface TableCopyResult {
    readonly chunksCopied: number;
    readonly chunksSkipped: number;
    readonly rowsRead: number;
    readonly rowsCopied: number;
    readonly rowsQuarantined: number;
    readonly rowsFilled: number;
    readonly seconds: number;
}

export interface CopyTableInput {
    readonly sqlite: Database.Database;
    /**
     * One connection per lane. Lanes copy different chunks at once, so while one
     * waits for PostgreSQL to ingest and commit, another converts: client and
     * server work overlap. Each lane must be set up like the others (role, TimeZone).
     */
    readonly lanes: readonly ClientBase[];
    /** Per lane, where its converted pages come from (a convert worker, or this thread). */
    readonly pageSources: readonly PageSource[];
    readonly mapping: TableMapping;
    /** The table's encoder in this thread: the row-by-row fallback uses it, and it collects every lane's warnings. */
    readonly encoder: RowEncoder;
    readonly chunks: readonly (Chunk & { readonly done: boolean })[];
    /** Called after each chunk with rows done so far in this run. */
    readonly onChunk?: (rowsDone: number) => void;
    /** Test hook: called after a chunk's COPY, before its commit. */
    readonly beforeCommit?: (chunk: Chunk) => void | Promise<void>;
    /** Stops the copy between pages: the open chunks roll back, and the copy throws `Interrupted`. */
    readonly signal?: AbortSignal;
}

export async function copyTable(input: CopyTableInput): Promise<TableCopyResult> {
    const { mapping, encoder } = input;
    const table = mapping.target.name;
    if (input.pageSources.length < input.lanes.length)
        throw new Error(`copy ${table}: ${input.lanes.length} lanes but ${input.pageSources.length} page sources`);
    const started = Date.now();
    const totals = { chunksCopied: 0, chunksSkipped: 0, rowsRead: 0, rowsCopied: 0, rowsQuarantined: 0, rowsFilled: 0 };
    // For the row-by-row fallback, on the same snapshot as the page sources.
    const readPage = pageReader(input.sqlite, mapping, encoder.sourceColumns());
    function* chunkRows(chunk: Chunk): Generator<RawValue[]> {
        for (let from: bigint | null = chunk.rowidLo; from !== null;) {
            const rows = readPage(from, chunk.rowidHi);
            yield* rows;
            from = nextPageStart(rows, chunk.rowidHi);
        }
    }
    const copySql = `COPY ${ident(table)} (${mapping.columns.map((c) => ident(c.target.name)).join(", ")}) FROM STDIN`;
    totals.chunksSkipped = input.chunks.filter((c) => c.done).length;
    const queue = input.chunks.filter((c) => !c.done);
    let next = 0;
    let failure: Error | undefined;
    const lane = async (pg: ClientBase, i: number) => {
        while (!failure && next < queue.length) {
            const chunk = queue[next++];
            const where = `${table} chunk ${chunk.chunkNo}`;
            try {
                throwIfInterrupted(input.signal, where);
                const outcome = await copyChunk(input, pg, input.pageSources[i], chunk, () => chunkRows(chunk), copySql);
                totals.chunksCopied++;
                totals.rowsRead += outcome.rowsRead;
                totals.rowsCopied += outcome.rowsCopied;
                totals.rowsQuarantined += outcome.rowsQuarantined;
                totals.rowsFilled += outcome.rowsFilled;
                input.onChunk?.(totals.rowsRead);
            } catch (err) {
                const cause = queryFault(err, pg);
                // A stop asked for ends the chunk however it failed (e.g. its COPY cancelled).
                failure ??= input.signal?.aborted
                    ? new Interrupted(where)
                    : new Error(
                          `copy ${table} chunk ${chunk.chunkNo} (rowid ${chunk.rowidLo}..${chunk.rowidHi}): ${describeFault(cause)}`,
                          {
                              cause,
                          },
                      );
            }
        }
    };
    await Promise.all(input.lanes.map((pg, i) => lane(pg, i)));
    if (failure) throw failure;
    return { ...totals, seconds: (Date.now() - started) / 1000 };
}

async function copyChunk(
    input: CopyTableInput,
    pg: ClientBase,
    pages: PageSource,
    chunk: Chunk,
    rows: () => Iterable<RawValue[]>,
    copySql: string,
): Promise<ChunkOutcome> {
    const t0 = Date.now();
    await pg.query("BEGIN");
    try {
        let outcome = await streamChunk(input, pg, pages, chunk, copySql).catch(async (err: unknown) => {
            if (!isRowLevelError(err)) throw err;
            // A row the converters accepted still broke a constraint (e.g. two source keys that
            // are equal once converted): redo the chunk row by row to quarantine exactly those.
            await pg.query("ROLLBACK");
            await pg.query("BEGIN");
            return insertRowByRow(input, pg, rows);
        });
        outcome = { ...outcome, seconds: (Date.now() - t0) / 1000 };
        await insertQuarantine(pg, chunk.table, chunk.chunkNo, outcome.quarantine);
        await insertRepairs(pg, chunk.table, chunk.chunkNo, outcome.repairs);
        await insertSetAside(pg, chunk.table, chunk.chunkNo, outcome.setAside);
        await input.beforeCommit?.(chunk);
        if (!(await completeChunk(pg, chunk, outcome))) throw new Error("chunk was completed by another run meanwhile");
        await pg.query("COMMIT");
        return outcome;
    } catch (err) {
        await pg.query("ROLLBACK").catch(() => undefined);
        throw err;
    }
}

type StreamOutcome = ChunkOutcome & {
    readonly quarantine: QuarantineRecord[];
    readonly repairs: RepairRecord[];
    readonly setAside: SetAsideValue[];
};

/** What one chunk's rows came to: counts, source checksums and quarantined rows. */
class ChunkTally {
    readonly sums = new BucketSums();
    readonly quarantine: QuarantineRecord[] = [];
    readonly repairs: RepairRecord[] = [];
    readonly setAside: SetAsideValue[] = [];
    private readonly pageWarnings: Pick<EncodedPage, "warnings" | "warningExamples">[] = [];
    private read = 0;
    private copied = 0;
    private filled = 0;

    constructor(private readonly encoder: RowEncoder) {}

    /** Converts a row; one the converters reject is quarantined here and undefined returned. */
    encode(raw: readonly RawValue[]): EncodedRow | undefined {
        this.read++;
        const r = this.encoder.encode(raw);
        if (r.ok) return r;
        this.quarantine.push({ stage: "convert", row: r });
        return undefined;
    }

    /** The row is in the target: count it into the source checksums. */
    copiedRow(r: EncodedRow): void {
        this.copied++;
        if (r.filled.length) this.filled++;
        if (r.repairs) this.repairs.push(...r.repairs);
        if (r.setAside) this.setAside.push(...r.setAside);
        this.sums.addRow(r.bucket, rowHash(r.line, { hi: 0, lo: 0 }));
    }

    /** A page converted by a page source, sent to COPY. Its warnings are kept apart until the chunk is in. */
    addPage(page: EncodedPage): void {
        this.read += page.rowsRead;
        this.copied += page.rowsCopied;
        this.filled += page.rowsFilled;
        this.sums.addPartials(page.sums);
        for (const q of page.quarantine) this.quarantine.push(q);
        for (const r of page.repairs) this.repairs.push(r);
        for (const v of page.setAside) this.setAside.push(v);
        this.pageWarnings.push(page);
    }

    /** The chunk's COPY succeeded: its pages' warnings count (a chunk redone row by row counts its own). */
    keepWarnings(): void {
        for (const page of this.pageWarnings) {
            for (const [k, n] of Object.entries(page.warnings)) this.encoder.warnings.set(k, (this.encoder.warnings.get(k) ?? 0) + n);
            for (const [k, keys] of Object.entries(page.warningExamples))
                for (const key of keys) addExample(this.encoder.warningExamples, k, key);
        }
    }

    outcome(): StreamOutcome {
        return {
            rowsRead: this.read,
            rowsCopied: this.copied,
            rowsQuarantined: this.quarantine.length,
            rowsFilled: this.filled,
            bucketSums: this.sums,
            seconds: 0,
            quarantine: this.quarantine,
            repairs: this.repairs,
            setAside: this.setAside,
        };
    }
}

async function streamChunk(
    input: CopyTableInput,
    pg: ClientBase,
    source: PageSource,
    chunk: Chunk,
    copySql: string,
): Promise<StreamOutcome> {
    const tally = new ChunkTally(input.encoder);
    const table = input.mapping.target.name;
    async function* buffers(): AsyncGenerator<Buffer> {
        let pending: Promise<EncodedPage> | undefined = source(table, chunk.rowidLo, chunk.rowidHi);
        try {
            while (pending) {
                const page: EncodedPage = await pending;
                // A safe point: throwing here aborts the COPY (CopyFail) and the chunk rolls back.
                throwIfInterrupted(input.signal, `${table} chunk ${chunk.chunkNo}`);
                // Ask for the next page before sending this one: conversion overlaps the send.
                pending = page.nextRowid === null ? undefined : source(table, page.nextRowid, chunk.rowidHi);
                // A failed chunk is redone row by row with a tally of its own: this one is then dropped.
                tally.addPage(page);
                if (page.copyText.byteLength) yield page.copyText as Buffer;
            }
        } finally {
            // On an early exit, a page still being converted must not become an unhandled rejection.
            pending?.catch(() => undefined);
        }
    }
    await pipeline(Readable.from(buffers(), { objectMode: false }), pg.query(copyFrom(copySql)));
    tally.keepWarnings();
    return tally.outcome();
}

/** One row's INSERT, its parameters the encoder's values in mapping order (the row-by-row paths). */
export function rowInsertSql(mapping: TableMapping): string {
    const cols = mapping.columns.map((c) => ident(c.target.name)).join(", ");
    const params = mapping.columns.map((_, i) => `$${i + 1}`).join(", ");
    return `INSERT INTO ${ident(mapping.target.name)} (${cols}) VALUES (${params})`;
}

/** Errors caused by one row's content (as opposed to a lost connection or a bug). */
export function isRowLevelError(err: unknown): boolean {
    const code = (err as { code?: string }).code ?? "";
    return code.startsWith("23") || code.startsWith("22");
}

async function insertRowByRow(input: CopyTableInput, pg: ClientBase, rows: () => Iterable<RawValue[]>): Promise<StreamOutcome> {
    const { encoder, mapping } = input;
    const table = mapping.target.name;
    const tally = new ChunkTally(encoder);
    const insert = rowInsertSql(mapping);
    for (const raw of rows()) {
        throwIfInterrupted(input.signal, `${table} row by row`);
        const r = tally.encode(raw);
        if (!r) continue;
        await pg.query("SAVEPOINT row_insert");
        try {
            await pg.query(insert, r.values as (string | null)[]);
            await pg.query("RELEASE SAVEPOINT row_insert");
            tally.copiedRow(r);
        } catch (err) {
            await pg.query("ROLLBACK TO SAVEPOINT row_insert");
            const e = err as { code?: string; message: string; column?: string; constraint?: string };
            const key = encoder.rawKey(raw);
            tally.quarantine.push({
                stage: "constraint",
                row: {
                    ok: false,
                    rowid: BigInt(raw[0] as bigint),
                    key,
                    column: e.column ?? e.constraint ?? "",
                    rawValue: null,
                    rawType: "",
                    reason: `${describeKey(table, key)}: ${e.message}${e.constraint ? ` (constraint ${e.constraint})` : ""}`,
                    row: encoder.rawRow(raw),
                },
            });
        }
    }
    return tally.outcome();
}
