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
import { quoteIdent } from "../source/introspect";
import { BucketSums } from "../validate/checksum";
import { completeChunk, insertQuarantine, type ChunkOutcome, type QuarantineRecord } from "./checkpointStore";
import { copyEscape } from "../convert/copyText";
import { describeKey, RowEncoder, type EncodedRow, type RawValue } from "./rowEncoder";

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
    readonly mapping: TableMapping;
    readonly encoder: RowEncoder;
    readonly chunks: readonly (Chunk & { readonly done: boolean })[];
    /** Called after each chunk with rows done so far in this run. */
    readonly onChunk?: (rowsDone: number) => void;
    /** Test hook: called after a chunk's COPY, before its commit. */
    readonly beforeCommit?: (chunk: Chunk) => void | Promise<void>;
}

const FLUSH_BYTES = 1 << 20;
const PAGE_ROWS = 2000;

export async function copyTable(input: CopyTableInput): Promise<TableCopyResult> {
    const { mapping, encoder } = input;
    const table = mapping.target.name;
    const started = Date.now();
    const totals = { chunksCopied: 0, chunksSkipped: 0, rowsRead: 0, rowsCopied: 0, rowsQuarantined: 0, rowsFilled: 0 };
    const srcCols = encoder.sourceColumns();
    const page = input.sqlite
        .prepare(`SELECT rowid, ${srcCols.map(quoteIdent).join(", ")} FROM ${quoteIdent(mapping.source!.name)} WHERE rowid BETWEEN ? AND ? ORDER BY rowid LIMIT ${PAGE_ROWS}`)
        .raw(true);
    // A chunk is read page by page, each page with one synchronous call: better-sqlite3 allows one
    // open statement per connection and lanes interleave, and memory stays at a page per lane.
    function* chunkRows(chunk: Chunk): Generator<RawValue[]> {
        for (let from = chunk.rowidLo; ; ) {
            const rows = page.all(from, chunk.rowidHi) as RawValue[][];
            yield* rows;
            if (rows.length < PAGE_ROWS) return;
            from = (rows[rows.length - 1][0] as bigint) + 1n;
        }
    }
    const copySql = `COPY ${quoteIdent(table)} (${mapping.columns.map((c) => quoteIdent(c.target.name)).join(", ")}) FROM STDIN`;
    totals.chunksSkipped = input.chunks.filter((c) => c.done).length;
    const queue = input.chunks.filter((c) => !c.done);
    let next = 0;
    let failure: Error | undefined;
    const lane = async (pg: ClientBase) => {
        while (!failure && next < queue.length) {
            const chunk = queue[next++];
            try {
                const outcome = await copyChunk(input, pg, chunk, () => chunkRows(chunk), copySql);
                totals.chunksCopied++;
                totals.rowsRead += outcome.rowsRead;
                totals.rowsCopied += outcome.rowsCopied;
                totals.rowsQuarantined += outcome.rowsQuarantined;
                totals.rowsFilled += outcome.rowsFilled;
                input.onChunk?.(totals.rowsRead);
            } catch (cause) {
                failure ??= new Error(`copy ${table} chunk ${chunk.chunkNo} (rowid ${chunk.rowidLo}..${chunk.rowidHi}): ${(cause as Error).message}`, { cause });
            }
        }
    };
    await Promise.all(input.lanes.map(lane));
    if (failure) throw failure;
    return { ...totals, seconds: (Date.now() - started) / 1000 };
}

async function copyChunk(input: CopyTableInput, pg: ClientBase, chunk: Chunk, rows: () => Iterable<RawValue[]>, copySql: string): Promise<ChunkOutcome> {
    const t0 = Date.now();
    await pg.query("BEGIN");
    try {
        let outcome = await streamChunk(input, pg, rows, copySql).catch(async (err: unknown) => {
            if (!isRowLevelError(err)) throw err;
            // A row the converters accepted still broke a constraint (e.g. two source keys that
            // are equal once converted): redo the chunk row by row to quarantine exactly those.
            await pg.query("ROLLBACK");
            await pg.query("BEGIN");
            return insertRowByRow(input, pg, rows);
        });
        outcome = { ...outcome, seconds: (Date.now() - t0) / 1000 };
        await insertQuarantine(pg, chunk.table, chunk.chunkNo, outcome.quarantine);
        await input.beforeCommit?.(chunk);
        if (!(await completeChunk(pg, chunk, outcome))) throw new Error("chunk was completed by another run meanwhile");
        await pg.query("COMMIT");
        return outcome;
    } catch (err) {
        await pg.query("ROLLBACK").catch(() => undefined);
        throw err;
    }
}

type StreamOutcome = ChunkOutcome & { readonly quarantine: QuarantineRecord[] };

/** What one chunk's rows came to: counts, source checksums and quarantined rows. */
class ChunkTally {
    readonly sums = new BucketSums();
    readonly quarantine: QuarantineRecord[] = [];
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
        this.sums.add(r.bucket, r.hash);
    }

    outcome(): StreamOutcome {
        return { rowsRead: this.read, rowsCopied: this.copied, rowsQuarantined: this.quarantine.length, rowsFilled: this.filled, bucketSums: this.sums, seconds: 0, quarantine: this.quarantine };
    }
}

async function streamChunk(input: CopyTableInput, pg: ClientBase, rows: () => Iterable<RawValue[]>, copySql: string): Promise<StreamOutcome> {
    const tally = new ChunkTally(input.encoder);
    function* lines(): Generator<string> {
        let buf = "";
        for (const raw of rows()) {
            const r = tally.encode(raw);
            if (!r) continue;
            tally.copiedRow(r);
            buf += copyLine(r);
            if (buf.length >= FLUSH_BYTES) {
                yield buf;
                buf = "";
            }
        }
        if (buf) yield buf;
    }
    await pipeline(Readable.from(lines()), pg.query(copyFrom(copySql)));
    return tally.outcome();
}

function copyLine(r: EncodedRow): string {
    let line = "";
    for (let i = 0; i < r.values.length; i++) line += (i ? "\t" : "") + copyEscape(r.values[i]);
    return line + "\n";
}

/** Errors caused by one row's content (as opposed to a lost connection or a bug). */
function isRowLevelError(err: unknown): boolean {
    const code = (err as { code?: string }).code ?? "";
    return code.startsWith("23") || code.startsWith("22");
}

async function insertRowByRow(input: CopyTableInput, pg: ClientBase, rows: () => Iterable<RawValue[]>): Promise<StreamOutcome> {
    const { encoder, mapping } = input;
    const table = mapping.target.name;
    const tally = new ChunkTally(encoder);
    const cols = mapping.columns.map((c) => quoteIdent(c.target.name)).join(", ");
    const params = mapping.columns.map((_, i) => `$${i + 1}`).join(", ");
    const insert = `INSERT INTO ${quoteIdent(table)} (${cols}) VALUES (${params})`;
    for (const raw of rows()) {
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
