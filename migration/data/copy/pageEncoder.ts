/**
 * One page of a chunk: read up to PAGE_ROWS source rows in rowid order,
 * convert them, and produce the COPY text plus what the page adds to the
 * chunk's tally (counts, checksums, quarantine, conversion warnings).
 *
 * The same function runs in the main thread and in the convert workers
 * (encodeWorker.ts); a page is plain data either way, so it can cross a
 * thread boundary.
 */
import type Database from "better-sqlite3";
import type { TableMapping } from "../plan/tableMapping";
import { sqliteIdent } from "../../postgres/sql";
import { BucketSums, type PartialSums } from "../checksum/checksum";
import type { QuarantineRecord } from "./checkpointStore";
import type { RawValue, RepairRecord, RowEncoder, SetAsideValue } from "./rowEncoder";
import { hashBytesExtended, type Hash64 } from "../checksum/textHash";
import { invalidTextMarker } from "../source/utf8";

/**
 * Rows per page: one synchronous SQLite read, and the unit of memory per lane. Small
 * pages keep both lanes' server backends fed: converting a page blocks the event loop,
 * and meanwhile a backend has only what is already in its socket. Measured at 500k rows
 * (main thread, 2 lanes): 250-500 rows copied in 6.2-7.6 s, 2000 rows in 9.9-11.1 s.
 */
export const PAGE_ROWS = 500;

export interface EncodedPage {
    /** COPY text (FORMAT text) of the page's accepted rows, UTF-8. */
    readonly copyText: Uint8Array;
    readonly rowsRead: number;
    readonly rowsCopied: number;
    readonly rowsFilled: number;
    /** The page's bucket checksums as number sums (cheap to post between threads). */
    readonly sums: PartialSums;
    readonly quarantine: QuarantineRecord[];
    /** Values of the copied rows recovered by a repair (their raw text kept). */
    readonly repairs: RepairRecord[];
    /** Values of the copied rows set aside (NULL in the row; see SetAsideValue). */
    readonly setAside: SetAsideValue[];
    /** Accepted-with-a-warning conversions of this page, `column: warning` -> count. */
    readonly warnings: Record<string, number>;
    /** The first keys of each warning on this page. */
    readonly warningExamples: Record<string, string[]>;
    /** Rowid to continue from, or null when the chunk has no more rows. */
    readonly nextRowid: bigint | null;
}

/** Encodes one page of a table for one lane (in this thread or a convert worker). */
export type PageSource = (table: string, fromRowid: bigint, toRowid: bigint) => Promise<EncodedPage>;

/** Reads a page of raw rows (rowid first) from a snapshot connection. */
export type PageReader = (fromRowid: bigint, toRowid: bigint) => RawValue[][];

export function pageReader(db: Database.Database, mapping: TableMapping, sourceColumns: readonly string[]): PageReader {
    const markInvalidText = invalidTextMarker(db, mapping.source!.name, sourceColumns);
    const stmt = db
        .prepare(
            `SELECT rowid, ${sourceColumns.map(sqliteIdent).join(", ")} FROM ${sqliteIdent(mapping.source!.name)} WHERE rowid BETWEEN ? AND ? ORDER BY rowid LIMIT ${PAGE_ROWS}`,
        )
        .raw(true);
    return (from, to) => {
        const rows = stmt.all(from, to) as RawValue[][];
        for (const row of rows) markInvalidText(row);
        return rows;
    };
}

/** Every raw row of the mapping's source table (rowid first), in rowid order, streamed from the snapshot. */
export function* allSourceRows(db: Database.Database, mapping: TableMapping, sourceColumns: readonly string[]): Generator<RawValue[]> {
    if (!mapping.source) return;
    const markInvalidText = invalidTextMarker(db, mapping.source.name, sourceColumns);
    const stmt = db
        .prepare(`SELECT rowid, ${sourceColumns.map(sqliteIdent).join(", ")} FROM ${sqliteIdent(mapping.source.name)} ORDER BY rowid`)
        .raw(true);
    for (const row of stmt.iterate() as IterableIterator<RawValue[]>) yield markInvalidText(row);
}

/** Where the next page of a rowid range starts after `rows`, or null when the range is done. */
export function nextPageStart(rows: readonly RawValue[][], toRowid: bigint): bigint | null {
    if (rows.length < PAGE_ROWS) return null;
    const last = rows[rows.length - 1][0] as bigint;
    return last >= toRowid ? null : last + 1n;
}

/**
 * Encodes the page of rows from `fromRowid` up to `toRowid`. `encoder.warnings`
 * is drained into the page, so the encoder should serve one lane.
 */
export function encodePage(read: PageReader, encoder: RowEncoder, fromRowid: bigint, toRowid: bigint): EncodedPage {
    const raws = read(fromRowid, toRowid);
    const sums = new BucketSums();
    const quarantine: QuarantineRecord[] = [];
    const repairs: RepairRecord[] = [];
    const setAside: SetAsideValue[] = [];
    const text = new CopyTextWriter();
    let copied = 0;
    let filled = 0;
    for (const raw of raws) {
        const r = encoder.encode(raw);
        if (!r.ok) {
            quarantine.push({ stage: "convert", row: r });
            continue;
        }
        copied++;
        if (r.filled.length) filled++;
        if (r.repairs) repairs.push(...r.repairs);
        if (r.setAside) setAside.push(...r.setAside);
        // The row hash is over the COPY line's bytes (the checksum's row text), where they were just encoded.
        const start = text.addLine(r.line);
        sums.addRow(r.bucket, hashBytesExtended(scratch, start, text.end - 1, hash));
    }
    const warnings = Object.fromEntries(encoder.warnings);
    const warningExamples = Object.fromEntries(encoder.warningExamples);
    encoder.warnings.clear();
    encoder.warningExamples.clear();
    return {
        copyText: text.bytes(),
        rowsRead: raws.length,
        rowsCopied: copied,
        rowsFilled: filled,
        sums: sums.partials(),
        quarantine,
        repairs,
        setAside,
        warnings,
        warningExamples,
        nextRowid: nextPageStart(raws, toRowid),
    };
}

const utf8 = new TextEncoder();
const hash: Hash64 = { hi: 0, lo: 0 };
let scratch = new Uint8Array(1 << 20);

/**
 * A page's COPY text as UTF-8, line by line into one reused buffer. Concatenating the
 * page into one string and encoding that cost about 4x more (the rope is flattened, then
 * encoded), measured.
 */
class CopyTextWriter {
    private length = 0;

    /** Appends `line` and a newline; returns where the line's bytes start. */
    addLine(line: string): number {
        if (scratch.length - this.length < line.length * 3 + 1) {
            const grown = new Uint8Array(Math.max(scratch.length * 2, this.length + line.length * 3 + 1));
            grown.set(scratch.subarray(0, this.length));
            scratch = grown;
        }
        const start = this.length;
        this.length += utf8.encodeInto(line, scratch.subarray(start)).written;
        scratch[this.length++] = 10;
        return start;
    }

    /** Bytes written so far. */
    get end(): number {
        return this.length;
    }

    /** A copy in its own ArrayBuffer (never Node's shared pool), so a worker can transfer it. */
    bytes(): Uint8Array {
        return scratch.slice(0, this.length);
    }
}

/** A lane's page source in this thread: reads the given snapshot and converts with its own encoders. */
export function localPageSource(db: Database.Database, encoders: ReadonlyMap<string, RowEncoder>): PageSource {
    const readers = new Map<string, PageReader>();
    return async (table, fromRowid, toRowid) => {
        const encoder = encoders.get(table);
        if (!encoder) throw new Error(`no encoder for table ${table}`);
        let read = readers.get(table);
        if (!read) readers.set(table, (read = pageReader(db, encoder.mapping, encoder.sourceColumns())));
        return encodePage(read, encoder, fromRowid, toRowid);
    };
}
