/**
 * Full-coverage checksums over one canonical form, computable on both sides:
 * in JS over converted source values, in SQL over stored target values.
 *
 * - field text: the value's canonical text (see migration/convert) as a COPY
 *   text-format field carries it: backslash, tab, newline and carriage return
 *   escaped, NULL as `\N` (so NULL and the text 'NULL' differ, and separators
 *   inside values cannot fake a boundary);
 * - row text: the fields in target column order joined by a tab: the row's
 *   COPY line without its newline, so the copy hashes the bytes it sends;
 * - row hash: PostgreSQL's hashtextextended(row text, 0), a signed bigint
 *   (textHash.ts computes the same in JS, without allocating);
 * - bucket: the low 31 bits of hashtextextended(key text, 0) modulo the
 *   table's bucket count, where key text is the row key's fields built the
 *   same way.
 * A bucket's checksum is (row count, sum of row hashes): order-independent,
 * so neither side has to sort.
 * Pure: no I/O.
 */
import { copyEscape, mayNeedCopyEscape } from "../convert/copyText";
import type { ColumnType } from "../../schema/types";
import { hashTextExtended, type Hash64 } from "./textHash";

/** Names the checksum definition; checkpoints made under another one cannot be resumed. */
export const CHECKSUM_ALGORITHM = "copytext-hashtextextended-v3";

/**
 * The row (or key) text of these fields: their COPY text line, without the newline.
 * `plain[i]`: field i's text cannot hold a character COPY escapes (mayNeedCopyEscape
 * of its column's type is false), so the escape scan is skipped; the copy's hot path.
 */
export function canonicalRowText(fields: readonly (string | null)[], plain?: readonly boolean[]): string {
    let text = "";
    for (let i = 0; i < fields.length; i++) {
        const v = fields[i];
        text += (i ? "\t" : "") + (v === null ? "\\N" : plain?.[i] ? v : copyEscape(v));
    }
    return text;
}

/** The row hash into `out` (halves of the signed 64-bit value). */
export function rowHash(rowText: string, out: Hash64): Hash64 {
    return hashTextExtended(rowText, out);
}

/** The row hash as one signed 64-bit value. */
export function hashValue(h: Hash64): bigint {
    return (BigInt(h.hi) << 32n) + BigInt(h.lo);
}

const keyHash: Hash64 = { hi: 0, lo: 0 };

export function bucketOf(keyText: string, buckets: number): number {
    return (hashTextExtended(keyText, keyHash).lo & 0x7fffffff) % buckets;
}

/** Buckets for a table: about 20k rows each, at least 1, at most 4096. */
export function bucketCountFor(rowCount: number): number {
    return Math.min(4096, Math.max(1, Math.ceil(rowCount / 20_000)));
}

export interface BucketSum {
    count: number;
    sum: bigint;
}

/**
 * Bucket sums not yet folded into bigints, as parallel arrays of plain numbers: a page's
 * checksums, cheap to post between threads. `hi` sums the rows' signed high hash halves,
 * `lo` the unsigned low ones.
 */
export interface PartialSums {
    readonly buckets: number[];
    readonly rows: number[];
    readonly hi: number[];
    readonly lo: number[];
}

/** Per-row additions kept as plain numbers (exact below 2^53), folded into the bigint sum in bulk. */
interface Pending {
    rows: number;
    hi: number;
    lo: number;
}

const FOLD_ROWS = 1 << 20;

/** Accumulates bucket checksums; serialisable to JSON as `{ bucket: [count, "sum"] }`. */
export class BucketSums {
    private readonly totals = new Map<number, BucketSum>();
    private readonly pending = new Map<number, Pending>();

    /** Bucket -> (count, sum), with every row added so far. */
    get sums(): ReadonlyMap<number, BucketSum> {
        for (const b of this.pending.keys()) this.fold(b);
        return this.totals;
    }

    add(bucket: number, hash: bigint, count = 1): void {
        const s = this.totals.get(bucket);
        if (s) {
            s.count += count;
            s.sum += hash;
        } else this.totals.set(bucket, { count, sum: hash });
    }

    /** One row with hash `h`: no bigint arithmetic per row, which the copy does millions of times. */
    addRow(bucket: number, h: Hash64): void {
        this.addPartial(bucket, 1, h.hi, h.lo);
    }

    /** `rows` rows whose hash halves sum to `hi` (signed) and `lo` (unsigned); each below 2^52. */
    addPartial(bucket: number, rows: number, hi: number, lo: number): void {
        const p = this.pending.get(bucket);
        if (!p) {
            this.pending.set(bucket, { rows, hi, lo });
            return;
        }
        p.rows += rows;
        p.hi += hi;
        p.lo += lo;
        // 2^20 rows of 32-bit halves stay below 2^52: exact in a double.
        if (p.rows >= FOLD_ROWS) this.fold(bucket);
    }

    addPartials(p: PartialSums): void {
        for (let i = 0; i < p.buckets.length; i++) this.addPartial(p.buckets[i], p.rows[i], p.hi[i], p.lo[i]);
    }

    /** What was added row by row, as number sums; only for fewer rows than a fold (a page). */
    partials(): PartialSums {
        if (this.totals.size) throw new Error("BucketSums.partials: sums already folded into bigints");
        const out: PartialSums = { buckets: [], rows: [], hi: [], lo: [] };
        for (const [b, p] of this.pending) {
            out.buckets.push(b);
            out.rows.push(p.rows);
            out.hi.push(p.hi);
            out.lo.push(p.lo);
        }
        return out;
    }

    private fold(bucket: number): void {
        const p = this.pending.get(bucket);
        if (!p) return;
        this.pending.delete(bucket);
        this.add(bucket, BigInt(p.hi) * 4294967296n + BigInt(p.lo), p.rows);
    }

    merge(other: BucketSums, sign: 1 | -1 = 1): void {
        for (const [b, s] of other.sums) this.add(b, sign === 1 ? s.sum : -s.sum, sign * s.count);
    }

    toJSON(): Record<string, [number, string]> {
        const out: Record<string, [number, string]> = {};
        for (const [b, s] of [...this.sums].sort((x, y) => x[0] - y[0])) out[b] = [s.count, s.sum.toString()];
        return out;
    }

    static fromJSON(json: Record<string, [number, string]> | null | undefined): BucketSums {
        const out = new BucketSums();
        for (const [b, [count, sum]] of Object.entries(json ?? {})) out.add(Number(b), BigInt(sum), count);
        return out;
    }

    /** Buckets whose count or sum differ (empty buckets equal absent ones). */
    static differingBuckets(a: BucketSums, b: BucketSums): number[] {
        const keys = new Set([...a.sums.keys(), ...b.sums.keys()]);
        const differ: number[] = [];
        for (const k of keys) {
            const x = a.sums.get(k) ?? { count: 0, sum: 0n };
            const y = b.sums.get(k) ?? { count: 0, sum: 0n };
            if (x.count !== y.count || x.sum !== y.sum) differ.push(k);
        }
        return differ.sort((p, q) => p - q);
    }
}

/**
 * SQL of a field text from the canonical-text expression of a column of `type`, as
 * copyEscape writes it: NULL as `\N`; backslash, tab, newline and carriage return
 * escaped for text and json, the only types whose canonical text can hold them.
 * Needs standard_conforming_strings (on by default).
 */
export function fieldTextSql(canonicalExpr: string, type: ColumnType): string {
    const escaped = mayNeedCopyEscape(type)
        ? `replace(replace(replace(replace(${canonicalExpr}, '\\', '\\\\'), E'\\t', '\\t'), E'\\n', '\\n'), E'\\r', '\\r')`
        : canonicalExpr;
    return `coalesce(${escaped}, '\\N')`;
}

/** SQL of the row text from field texts (fieldTextSql). */
export function rowTextSql(fieldTexts: readonly string[]): string {
    return fieldTexts.join(` || E'\\t' || `);
}

export function rowHashSql(rowText: string): string {
    return `hashtextextended(${rowText}, 0)`;
}

export function bucketSql(keyText: string, buckets: number): string {
    return `((hashtextextended(${keyText}, 0) & 2147483647) % ${buckets})::int`;
}
