/**
 * A rerun gives set-aside rows another chance. Rows quarantined at conversion or by a
 * constraint are read again from the snapshot by rowid and converted with this run's
 * rules and types (a fixed source value, or a wider column after a schema upgrade, e.g.
 * a memecoin amount that overflowed numeric(30,18) and fits numeric(38,18)). A row that
 * now converts and inserts leaves quarantine for the target and its hash joins its
 * chunk's recorded checksums; one that still fails stays, with its reason. Values set
 * aside in copied rows are retried the same way: one that now converts is written into
 * its row. One transaction per table, so a crash leaves quarantine and target as they were.
 */
import type Database from "better-sqlite3";
import type { ClientBase } from "pg";
import type { TableMapping } from "../plan/tableMapping";
import { ident } from "../../postgres/sql";
import { BucketSums, rowHash } from "../checksum/checksum";
import { insertRepairs, insertSetAside } from "./checkpointStore";
import { isRowLevelError, rowInsertSql } from "./copyTable";
import { inTransaction } from "../../postgres/session";
import { pageReader } from "./pageEncoder";
import type { EncodedRow, RowEncoder } from "./rowEncoder";

export interface QuarantineRetry {
    /** Set-aside rows read again. */
    readonly retried: number;
    /** Of those, rows now in the target. */
    readonly recovered: number;
}

interface SetAsideRow {
    readonly id: string;
    readonly rowid: string;
    readonly chunkNo: number | null;
}

/**
 * Retries the table's convert- and constraint-stage quarantine set aside before `runStart`
 * (this run's own were just tried); `pg` is SET ROLE to the owner, in autocommit.
 */
export async function retryQuarantined(
    pg: ClientBase,
    sqlite: Database.Database,
    mapping: TableMapping,
    encoder: RowEncoder,
    runStart: Date,
): Promise<QuarantineRetry> {
    const table = mapping.target.name;
    if (!mapping.source) return { retried: 0, recovered: 0 };
    const setAside = await pg.query<SetAsideRow>(
        `SELECT id::text, source_rowid::text AS rowid, chunk_no AS "chunkNo" FROM gecko_quarantine.rows
          WHERE table_name = $1 AND stage IN ('convert', 'constraint') AND source_rowid IS NOT NULL AND quarantined_at < $2 ORDER BY source_rowid`,
        [table, runStart],
    );
    const orphans = await pg.query<{ n: string }>(
        "SELECT count(*) AS n FROM gecko_quarantine.rows WHERE table_name = $1 AND stage = 'orphan'",
        [table],
    );
    if (setAside.rows.length === 0 && orphans.rows[0].n === "0") return { retried: 0, recovered: 0 };
    const readPage = pageReader(sqlite, mapping, encoder.sourceColumns());
    const insert = rowInsertSql(mapping);
    const perChunk = new Map<number, { sums: BucketSums; rows: number }>();
    const hash = { hi: 0, lo: 0 };
    let recovered = 0;
    try {
        await inTransaction(pg, async () => {
            for (const q of setAside.rows) {
                const rowid = BigInt(q.rowid);
                const raw = readPage(rowid, rowid)[0];
                if (!raw) continue; // gone from the source: a sync's business, not a copy's
                const r = encoder.encode(raw);
                if (!r.ok) {
                    // Still set aside: say why in this version's terms (an upgrade changes a type's limits).
                    await pg.query(
                        "UPDATE gecko_quarantine.rows SET reason = $2, column_name = $3 WHERE id = $1 AND stage = 'convert' AND reason IS DISTINCT FROM $2",
                        [q.id, r.reason, r.column],
                    );
                    continue;
                }
                await pg.query("SAVEPOINT retry_row");
                try {
                    await pg.query(insert, r.values as (string | null)[]);
                } catch (err) {
                    await pg.query("ROLLBACK TO SAVEPOINT retry_row");
                    if (isRowLevelError(err)) continue;
                    throw err;
                }
                await pg.query("DELETE FROM gecko_quarantine.rows WHERE id = $1", [q.id]);
                const chunk = q.chunkNo ?? -1;
                if (r.repairs) await insertRepairs(pg, table, chunk, r.repairs);
                // The row is back, a value of it still set aside: that value is kept as any other set-aside value.
                if (r.setAside) await insertSetAside(pg, table, chunk, r.setAside);
                const acc = perChunk.get(chunk) ?? { sums: new BucketSums(), rows: 0 };
                acc.sums.addRow(r.bucket, rowHash(r.line, hash));
                acc.rows++;
                perChunk.set(chunk, acc);
                recovered++;
            }
            for (const [chunkNo, acc] of perChunk) await addToChunk(pg, table, chunkNo, acc.sums, acc.rows);
            recovered += await returnOrphans(pg, mapping);
        });
    } catch (err) {
        throw new Error(`retry quarantined ${table} rows: ${(err as Error).message}`, { cause: err });
    }
    return { retried: setAside.rows.length + Number(orphans.rows[0].n), recovered };
}

interface SetAsideEntry {
    readonly id: string;
    readonly rowid: string;
    readonly chunkNo: number | null;
    readonly column: string;
}

/**
 * Retries the table's values set aside before `runStart`: the row is read again, and each
 * value that now converts is written into the target row (found by its key), its entry
 * closed, and the chunk's recorded checksum moved from the row with NULL to the row with
 * the value. A row gone from the source, or no longer convertible as a whole, is a sync's
 * business and stays as it is.
 */
export async function retrySetAsideValues(
    pg: ClientBase,
    sqlite: Database.Database,
    mapping: TableMapping,
    encoder: RowEncoder,
    runStart: Date,
): Promise<QuarantineRetry> {
    const table = mapping.target.name;
    if (!mapping.source) return { retried: 0, recovered: 0 };
    const entries = await pg.query<SetAsideEntry>(
        `SELECT id::text, source_rowid::text AS rowid, chunk_no AS "chunkNo", column_name AS column FROM gecko_quarantine.set_aside_values
          WHERE table_name = $1 AND source_rowid IS NOT NULL AND set_aside_at < $2 ORDER BY source_rowid, id`,
        [table, runStart],
    );
    if (entries.rows.length === 0) return { retried: 0, recovered: 0 };
    const byRow = new Map<string, SetAsideEntry[]>();
    for (const e of entries.rows) byRow.set(e.rowid, [...(byRow.get(e.rowid) ?? []), e]);
    const readPage = pageReader(sqlite, mapping, encoder.sourceColumns());
    const perChunk = new Map<number, BucketSums>();
    let recovered = 0;
    try {
        await inTransaction(pg, async () => {
            for (const [rowid, rowEntries] of byRow) {
                const raw = readPage(BigInt(rowid), BigInt(rowid))[0];
                const r = raw && encoder.encode(raw);
                // Gone from the source, or no longer convertible as a whole: a sync's business.
                if (r && r.ok) recovered += await retryRowValues(pg, encoder, r, rowEntries, perChunk);
            }
            for (const [chunkNo, sums] of perChunk) await addToChunk(pg, table, chunkNo, sums, 0);
        });
    } catch (err) {
        throw new Error(`retry set-aside ${table} values: ${(err as Error).message}`, { cause: err });
    }
    return { retried: entries.rows.length, recovered };
}

/**
 * One row's set-aside values against the row as it converts now: each that converts is written
 * into the target row (by key), its entry closed, and the row's hash in `perChunk` moved from the
 * row with NULL there to the row with the value; each still set aside gets this version's reason.
 * Returns how many were written.
 */
async function retryRowValues(
    pg: ClientBase,
    encoder: RowEncoder,
    r: EncodedRow,
    entries: readonly SetAsideEntry[],
    perChunk: Map<number, BucketSums>,
): Promise<number> {
    const { mapping } = encoder;
    const table = mapping.target.name;
    const stillAside = new Map((r.setAside ?? []).map((v) => [v.column, v]));
    for (const e of entries.filter((x) => stillAside.has(x.column)))
        await pg.query("UPDATE gecko_quarantine.set_aside_values SET reason = $2 WHERE id = $1 AND reason IS DISTINCT FROM $2", [
            e.id,
            stillAside.get(e.column)!.reason,
        ]);
    const fixed = entries.filter((e) => !stillAside.has(e.column));
    if (fixed.length === 0) return 0;
    const names = mapping.columns.map((c) => c.target.name);
    const keyAt = mapping.target.rowKey.map((k) => names.indexOf(k));
    const at = fixed.map((e) => names.indexOf(e.column));
    const sets = at.map((i, n) => `${ident(names[i])} = $${n + 1}`).join(", ");
    const where = keyAt.map((i, n) => `${ident(names[i])} IS NOT DISTINCT FROM $${at.length + n + 1}`).join(" AND ");
    const updated = await pg.query(`UPDATE ${ident(table)} SET ${sets} WHERE ${where}`, [
        ...at.map((i) => r.values[i]),
        ...keyAt.map((i) => r.values[i]),
    ]);
    if (updated.rowCount !== 1) return 0; // the row left the target meanwhile (an orphan, a sync delete)
    await pg.query("DELETE FROM gecko_quarantine.set_aside_values WHERE id = ANY($1::bigint[])", [fixed.map((e) => e.id)]);
    const chunk = fixed[0].chunkNo ?? -1;
    const repairs = (r.repairs ?? []).filter((x) => fixed.some((e) => e.column === x.column));
    if (repairs.length) await insertRepairs(pg, table, chunk, repairs);
    // The chunk recorded the row with NULL in those columns: swap that row's hash for this one's.
    const hash = { hi: 0, lo: 0 };
    const before = new BucketSums();
    before.addRow(r.bucket, rowHash(encoder.lineOf(r.values.map((v, i) => (at.includes(i) ? null : v))), hash));
    const sums = perChunk.get(chunk) ?? new BucketSums();
    sums.merge(before, -1);
    sums.addRow(r.bucket, rowHash(r.line, hash));
    perChunk.set(chunk, sums);
    return fixed.length;
}

/**
 * Orphans whose parents now exist (a parent row recovered above, on its own table's turn)
 * go back to the target as they were moved out. Their hashes never left the recorded
 * source checksums (validation takes quarantined orphans out), so the sums need no change.
 */
export async function returnOrphans(pg: ClientBase, mapping: TableMapping): Promise<number> {
    const t = mapping.target;
    if (t.foreignKeys.length === 0) return 0;
    const row = (c: string) => `(jsonb_populate_record(NULL::${ident(t.name)}, q.row_data)).${ident(c)}`;
    const parentsExist = t.foreignKeys
        .map((fk) => {
            const match = fk.columns.map((c, i) => `p.${ident(fk.references.columns[i])} = ${row(c)}`).join(" AND ");
            const isNull = fk.columns.map((c) => `${row(c)} IS NULL`).join(" OR ");
            return `(${isNull} OR EXISTS (SELECT 1 FROM ${ident(fk.references.table)} p WHERE ${match}))`;
        })
        .join(" AND ");
    const notThere = `NOT EXISTS (SELECT 1 FROM ${ident(t.name)} x WHERE ${t.rowKey.map((k) => `x.${ident(k)} = ${row(k)}`).join(" AND ")})`;
    const r = await pg.query(
        `WITH back AS (
            DELETE FROM gecko_quarantine.rows q WHERE q.table_name = $1 AND q.stage = 'orphan' AND ${parentsExist} AND ${notThere}
            RETURNING q.row_data)
         INSERT INTO ${ident(t.name)} SELECT (jsonb_populate_record(NULL::${ident(t.name)}, back.row_data)).* FROM back`,
        [t.name],
    );
    return r.rowCount ?? 0;
}

/** The recovered rows join the checksums and counts recorded for the chunk they were read in. */
async function addToChunk(pg: ClientBase, table: string, chunkNo: number, sums: BucketSums, rows: number): Promise<void> {
    const r = await pg.query<{ bucket_sums: Record<string, [number, string]> | null }>(
        "SELECT bucket_sums FROM gecko_migration.chunks WHERE table_name = $1 AND chunk_no = $2 FOR UPDATE",
        [table, chunkNo],
    );
    if (!r.rows[0]) throw new Error(`chunk ${chunkNo} of ${table} is not in gecko_migration.chunks`);
    const merged = BucketSums.fromJSON(r.rows[0].bucket_sums);
    merged.merge(sums);
    await pg.query(
        `UPDATE gecko_migration.chunks SET bucket_sums = $3, rows_copied = rows_copied + $4, rows_quarantined = rows_quarantined - $4
          WHERE table_name = $1 AND chunk_no = $2`,
        [table, chunkNo, JSON.stringify(merged.toJSON()), rows],
    );
}
