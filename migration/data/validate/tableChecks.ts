/**
 * Per-table validation: row counts (source = target + quarantined),
 * full-coverage bucket checksums with a drill-down that names the rows and
 * the chunk they came from, and a random sample compared field by field.
 */
import type Database from "better-sqlite3";
import type { ClientBase } from "pg";
import { allSourceRows } from "../copy/pageEncoder";
import type { RowEncoder, RawValue } from "../copy/rowEncoder";
import type { Chunk } from "../plan/chunkPlan";
import type { TableMapping } from "../plan/tableMapping";
import { invalidTextMarker } from "../source/utf8";
import { columnTypeSql } from "../../schema/ddl";
import type { TargetColumn } from "../../schema/types";
import { ident, literal, sqliteIdent } from "../../postgres/sql";
import { bucketSql, BucketSums, canonicalRowText, fieldTextSql, rowHash, rowHashSql, rowTextSql } from "../checksum/checksum";

export type CanonicalSql = (columnSql: string, column: TargetColumn) => string;

export interface RowDifference {
    readonly key: string;
    readonly issue: "missing in target" | "unexpected in target" | "values differ";
    /** Source chunk the row was copied in, when known. */
    readonly chunkNo?: number;
    readonly columns?: readonly { readonly column: string; readonly source: string | null; readonly target: string | null }[];
}

export interface TableValidation {
    readonly table: string;
    readonly sourceRows: number;
    readonly targetRows: number;
    readonly quarantinedRows: number;
    readonly placeholderRows: number;
    readonly countsMatch: boolean;
    readonly buckets: number;
    readonly mismatchedBuckets: readonly number[];
    readonly differences: readonly RowDifference[];
    readonly sampleCompared: number;
    readonly sampleMismatches: readonly RowDifference[];
    readonly checksumSource: "copy" | "source-rescan";
    readonly seconds: number;
}

export interface TableCheckInput {
    readonly sqlite: Database.Database;
    readonly pg: ClientBase;
    readonly mapping: TableMapping;
    readonly encoder: RowEncoder;
    readonly chunks: readonly Chunk[];
    readonly canonical: CanonicalSql;
    /** Re-read and re-convert the whole source instead of using the sums recorded by the copy. */
    readonly rescanSource: boolean;
    readonly sampleRows: number;
}

const MAX_DIFFERENCES = 20;

/** The SQL that reads the target's rows as the checksums see them (alias `t`). */
export interface TargetRowSql {
    /** The row's canonical text, the checksums' input. */
    readonly rowText: string;
    readonly keyText: string;
    /** The row's checksum bucket. */
    readonly bucket: string;
    /** Leaves out the placeholder parents the orphan policy invented ("TRUE" when the table has none). */
    readonly notPlaceholder: string;
}

export function targetRowSql(mapping: TableMapping, canonical: CanonicalSql, buckets: number, hasPlaceholders: boolean): TargetRowSql {
    const t = mapping.target;
    const field = (c: TargetColumn) => fieldTextSql(canonical(`t.${ident(c.name)}`, c), c.type);
    const keyText = rowTextSql(t.rowKey.map((k) => field(t.columns.find((c) => c.name === k)!)));
    // Most tables have no placeholder rows: then skip the per-row jsonb key (5-10% of the aggregate).
    const notPlaceholder = hasPlaceholders
        ? `NOT EXISTS (SELECT 1 FROM gecko_migration.placeholders p WHERE p.table_name = ${literal(t.name)} AND p.row_key = jsonb_build_object(${t.rowKey.map((k) => `${literal(k)}, t.${ident(k)}::text`).join(", ")}))`
        : "TRUE";
    return {
        rowText: rowTextSql(mapping.columns.map((c) => field(c.target))),
        keyText,
        bucket: bucketSql(keyText, buckets),
        notPlaceholder,
    };
}

/** The target's per-bucket checksums (placeholders left out), computed by the server. */
export async function targetBucketSums(pg: ClientBase, table: string, sql: TargetRowSql): Promise<{ sums: BucketSums; rows: number }> {
    const agg = await pg.query<{ b: number; n: string; s: string }>(
        `SELECT b, count(*) AS n, sum(h)::text AS s FROM (SELECT ${sql.bucket} AS b, ${rowHashSql(sql.rowText)} AS h FROM ${ident(table)} t WHERE ${sql.notPlaceholder}) x GROUP BY b`,
    );
    const sums = new BucketSums();
    let rows = 0;
    for (const r of agg.rows) {
        sums.add(r.b, BigInt(r.s), Number(r.n));
        rows += Number(r.n);
    }
    return { sums, rows };
}

export async function validateTable(input: TableCheckInput): Promise<TableValidation> {
    const t0 = Date.now();
    const { pg, mapping, encoder } = input;
    const table = mapping.target.name;

    const q = await pg.query<{ stage: string; n: string }>(
        "SELECT stage, count(*) AS n FROM gecko_quarantine.rows WHERE table_name = $1 GROUP BY stage",
        [table],
    );
    const quarantinedRows = q.rows.reduce((a, r) => a + Number(r.n), 0);
    const ph = await pg.query<{ n: string }>("SELECT count(*) AS n FROM gecko_migration.placeholders WHERE table_name = $1", [table]);
    const placeholderRows = Number(ph.rows[0].n);
    const buckets = encoder.buckets;
    const sql = targetRowSql(mapping, input.canonical, buckets, placeholderRows > 0);
    const { rowText, keyText, notPlaceholder } = sql;
    const target = await targetBucketSums(pg, table, sql);
    const targetSums = target.sums;
    const targetRows = placeholderRows + target.rows;

    // Source side: recorded per chunk by the copy, or recomputed from the snapshot.
    const excludedRowids = await quarantinedRowids(pg, table);
    const sourceSums = input.rescanSource ? rescan(input, excludedRowids) : await recordedSums(pg, table);
    const counted = await pg.query<{ b: number; n: string; s: string }>(
        "SELECT bucket AS b, count(*) AS n, sum(row_hash)::text AS s FROM gecko_quarantine.rows WHERE table_name = $1 AND stage <> 'orphan' AND row_hash IS NOT NULL GROUP BY bucket",
        [table],
    );
    for (const r of counted.rows) sourceSums.add(r.b, -BigInt(r.s), -Number(r.n));
    // An orphan was a target row: its hash is taken from the row kept in quarantine, with this version's
    // columns (a schema upgrade adds columns to it, and to that row, after the copy recorded a hash).
    const orphans = await pg.query<{ b: number; n: string; s: string }>(
        `SELECT q.bucket AS b, count(*) AS n, sum(${rowHashSql(rowText)})::text AS s
           FROM gecko_quarantine.rows q, LATERAL jsonb_populate_record(NULL::${ident(table)}, q.row_data) t
          WHERE q.table_name = $1 AND q.stage = 'orphan' AND q.row_hash IS NOT NULL GROUP BY q.bucket`,
        [table],
    );
    for (const r of orphans.rows) sourceSums.add(r.b, -BigInt(r.s), -Number(r.n));

    const sourceRows = mapping.source?.rowCount ?? 0;
    const mismatchedBuckets = BucketSums.differingBuckets(sourceSums, targetSums);
    const differences = mismatchedBuckets.length ? await drillDown(input, mismatchedBuckets, keyText, notPlaceholder, excludedRowids) : [];
    const sample = await compareSample(input, notPlaceholder);
    return {
        table,
        sourceRows,
        targetRows,
        quarantinedRows,
        placeholderRows,
        countsMatch: sourceRows === targetRows - placeholderRows + quarantinedRows,
        buckets,
        mismatchedBuckets,
        differences,
        sampleCompared: sample.compared,
        sampleMismatches: sample.mismatches,
        checksumSource: input.rescanSource ? "source-rescan" : "copy",
        seconds: (Date.now() - t0) / 1000,
    };
}

async function recordedSums(pg: ClientBase, table: string): Promise<BucketSums> {
    const r = await pg.query<{ bucket_sums: Record<string, [number, string]> | null }>(
        "SELECT bucket_sums FROM gecko_migration.chunks WHERE table_name = $1 AND status = 'done'",
        [table],
    );
    const sums = new BucketSums();
    for (const row of r.rows) sums.merge(BucketSums.fromJSON(row.bucket_sums));
    return sums;
}

/**
 * Source rows set aside by the copy (conversion or constraint): a rescan leaves them out as the
 * copy did, even where this version's conversion would now accept them (a wider type after an
 * upgrade); `migrate` retries those, validation checks what is not set aside.
 */
async function quarantinedRowids(pg: ClientBase, table: string): Promise<Set<bigint>> {
    const r = await pg.query<{ rowid: string }>(
        "SELECT source_rowid AS rowid FROM gecko_quarantine.rows WHERE table_name = $1 AND stage IN ('convert', 'constraint') AND source_rowid IS NOT NULL",
        [table],
    );
    return new Set(r.rows.map((x) => BigInt(x.rowid)));
}

function sourceRows(input: TableCheckInput): Generator<RawValue[]> {
    return allSourceRows(input.sqlite, input.mapping, input.encoder.sourceColumns());
}

function rescan(input: TableCheckInput, excluded: Set<bigint>): BucketSums {
    const sums = new BucketSums();
    const hash = { hi: 0, lo: 0 };
    for (const raw of sourceRows(input)) {
        if (excluded.has(raw[0] as bigint)) continue;
        const r = input.encoder.encode(raw);
        if (r.ok) sums.addRow(r.bucket, rowHash(r.line, hash));
    }
    return sums;
}

function chunkOf(chunks: readonly Chunk[], rowid: bigint): number | undefined {
    return chunks.find((c) => rowid >= c.rowidLo && rowid <= c.rowidHi)?.chunkNo;
}

async function drillDown(
    input: TableCheckInput,
    buckets: readonly number[],
    keyText: string,
    notPlaceholder: string,
    excluded: Set<bigint>,
): Promise<RowDifference[]> {
    const { mapping, encoder } = input;
    const wanted = new Set(buckets);
    const keyIdx = mapping.target.rowKey.map((k) => mapping.columns.findIndex((c) => c.target.name === k));
    const orphaned = await input.pg.query<{ k: string }>(
        `SELECT ${rowTextSql(mapping.target.rowKey.map((k) => fieldTextSql(`(row_data->>${literal(k)})`, mapping.target.columns.find((c) => c.name === k)!.type)))} AS k FROM gecko_quarantine.rows WHERE table_name = $1 AND stage = 'orphan'`,
        [mapping.target.name],
    );
    const orphanKeys = new Set(orphaned.rows.map((r) => r.k));
    const source = new Map<string, { values: readonly (string | null)[]; rowid: bigint }>();
    for (const raw of sourceRows(input)) {
        if (excluded.has(raw[0] as bigint)) continue;
        const r = encoder.encode(raw);
        if (!r.ok || !wanted.has(r.bucket)) continue;
        const key = canonicalRowText(keyIdx.map((i) => r.values[i]));
        if (!orphanKeys.has(key)) source.set(key, { values: r.values, rowid: raw[0] as bigint });
    }
    const fields = mapping.columns.map((c, i) => `${input.canonical(`t.${ident(c.target.name)}`, c.target)} AS f${i}`);
    const target = await input.pg.query<Record<string, string | null>>(
        `SELECT ${keyText} AS k, ${fields.join(", ")} FROM ${ident(mapping.target.name)} t WHERE ${notPlaceholder} AND ${bucketSql(keyText, encoder.buckets)} = ANY($1::int[])`,
        [buckets],
    );
    const diffs: RowDifference[] = [];
    const seen = new Set<string>();
    for (const row of target.rows) {
        const key = row.k as string;
        seen.add(key);
        const src = source.get(key);
        if (!src) {
            diffs.push({ key, issue: "unexpected in target" });
            continue;
        }
        const cols = mapping.columns.flatMap((c, i) =>
            src.values[i] === row[`f${i}`] ? [] : [{ column: c.target.name, source: src.values[i], target: row[`f${i}`] }],
        );
        if (cols.length) diffs.push({ key, issue: "values differ", chunkNo: chunkOf(input.chunks, src.rowid), columns: cols });
    }
    for (const [key, src] of source)
        if (!seen.has(key)) diffs.push({ key, issue: "missing in target", chunkNo: chunkOf(input.chunks, src.rowid) });
    return diffs.slice(0, MAX_DIFFERENCES);
}

async function compareSample(input: TableCheckInput, notPlaceholder: string): Promise<{ compared: number; mismatches: RowDifference[] }> {
    const { mapping, encoder, pg } = input;
    const src = mapping.source;
    if (!src || src.rowCount === 0 || src.minRowid === null || src.maxRowid === null || input.sampleRows <= 0)
        return { compared: 0, mismatches: [] };
    const cols = encoder.sourceColumns().map(sqliteIdent);
    const stmt = input.sqlite
        .prepare(`SELECT rowid, ${cols.join(", ")} FROM ${sqliteIdent(src.name)} WHERE rowid >= ? ORDER BY rowid LIMIT 1`)
        .raw(true);
    const span = src.maxRowid - src.minRowid + 1n;
    const markInvalidText = invalidTextMarker(input.sqlite, src.name, encoder.sourceColumns());
    const picked = new Map<bigint, RawValue[]>();
    for (let i = 0; i < input.sampleRows * 2 && picked.size < Math.min(input.sampleRows, src.rowCount); i++) {
        const at = src.minRowid + (BigInt(Math.floor(Math.random() * 2 ** 52)) % span);
        const raw = stmt.get(at) as RawValue[] | undefined;
        if (raw) picked.set(raw[0] as bigint, markInvalidText(raw));
    }
    const keyCols = mapping.target.rowKey.map((k) => mapping.columns.find((c) => c.target.name === k)!.target);
    const fields = mapping.columns.map((c) => input.canonical(`t.${ident(c.target.name)}`, c.target));
    const keyIdx = mapping.target.rowKey.map((k) => mapping.columns.findIndex((c) => c.target.name === k));
    const sampled: { raw: RawValue[]; values: readonly (string | null)[]; keyVals: (string | null)[] }[] = [];
    for (const raw of picked.values()) {
        const r = encoder.encode(raw);
        if (!r.ok) continue; // quarantined at conversion: covered by the counts
        sampled.push({ raw, values: r.values, keyVals: keyIdx.map((i) => r.values[i]) });
    }
    if (!sampled.length) return { compared: 0, mismatches: [] };
    // One query for the whole sample: the keys as a VALUES list joined to the table.
    const params: (string | null)[] = [];
    const values = sampled.map(
        (s, n) => `(${n}, ${s.keyVals.map((v, i) => `$${params.push(v)}::${columnTypeSql(keyCols[i].type)}`).join(", ")})`,
    );
    const on = keyCols.map((c, i) => `t.${ident(c.name)} = k.c${i}`).join(" AND ");
    const got = await pg.query<Record<string, string | null> & { n: number }>(
        `SELECT k.n, ${fields.map((f, i) => `${f} AS f${i}`).join(", ")} FROM (VALUES ${values.join(", ")}) AS k(n, ${keyCols.map((_, i) => `c${i}`).join(", ")})
           JOIN ${ident(mapping.target.name)} t ON ${on} WHERE ${notPlaceholder}`,
        params,
    );
    const found = new Map(got.rows.map((row) => [Number(row.n), row]));
    let compared = 0;
    const mismatches: RowDifference[] = [];
    for (const [n, s] of sampled.entries()) {
        const key = canonicalRowText(s.keyVals);
        const row = found.get(n);
        if (!row) {
            const q = await pg.query(
                "SELECT 1 FROM gecko_quarantine.rows WHERE table_name = $1 AND (source_rowid = $2 OR stage = 'orphan' AND row_key = $3::jsonb)",
                [
                    mapping.target.name,
                    String(s.raw[0]),
                    JSON.stringify(Object.fromEntries(mapping.target.rowKey.map((k, i) => [k, s.keyVals[i]]))),
                ],
            );
            if (q.rowCount === 0) mismatches.push({ key, issue: "missing in target", chunkNo: chunkOf(input.chunks, s.raw[0] as bigint) });
            continue;
        }
        compared++;
        const cols = mapping.columns.flatMap((c, i) =>
            s.values[i] === row[`f${i}`] ? [] : [{ column: c.target.name, source: s.values[i], target: row[`f${i}`] }],
        );
        if (cols.length)
            mismatches.push({ key, issue: "values differ", chunkNo: chunkOf(input.chunks, s.raw[0] as bigint), columns: cols });
    }
    return { compared, mismatches };
}
