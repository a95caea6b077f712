/**
 * Applying a sync pass's diff to the target, inside the pass's one transaction: deletes
 * (children first), then per table in copy order the rows that no longer convert set
 * aside, the quarantine brought in line with the source, updates, inserts (orphans and
 * constraint failures set aside as the copy does), orphans whose parent came back
 * returned, and the chunk checksums rewritten from the source as it is now.
 */
import type { ClientBase } from "pg";
import { ident, literal } from "../postgres/sql";
import { columnTypeSql } from "../schema/ddl";
import { TARGET_TABLES } from "../schema/tables";
import type { TargetTable } from "../schema/types";
import { BucketSums } from "../data/checksum/checksum";
import { insertQuarantine, insertRepairs, insertSetAside, type QuarantineRecord } from "../data/copy/checkpointStore";
import { isRowLevelError } from "../data/copy/copyTable";
import { quarantineOrphans } from "../data/copy/orphans";
import { returnOrphans } from "../data/copy/retryQuarantine";
import type { OrphanPolicy } from "../data/options";
import type { Conversion } from "../data/plan/conversion";
import type { RepairRecord, SetAsideValue } from "../data/copy/rowEncoder";
import { keyIndexes, type SourceRow, type TableDiff } from "./syncDiff";

export interface SyncTableResult {
    readonly table: string;
    readonly inserted: number;
    readonly updated: number;
    readonly deleted: number;
    /** Rows set aside by this pass: no longer converting, orphaned, or breaking a constraint. */
    readonly quarantined: number;
    /** Values of the rows written that could not be stored exactly (NULL, kept in gecko_quarantine.set_aside_values); absent when none. */
    readonly valuesSetAside?: number;
    /** Set-aside rows that came back (their parent exists again) or left the source. */
    readonly released: number;
}

export interface ApplyContext {
    readonly pg: ClientBase;
    readonly conversion: Conversion;
    readonly orphanPolicy: OrphanPolicy;
    /** A table's checksum bucket count (quarantined rows are taken out of their bucket). */
    readonly bucketsOf: (table: string) => number;
}

const keyOf = (t: TargetTable) => t.columns.find((c) => c.name === t.rowKey[0])!;

/** Deletes the target rows the source lost; a parent's children still in the target follow the orphan policy first. */
export async function applyDeletes(a: ApplyContext, d: TableDiff): Promise<{ deleted: number; orphaned: number }> {
    if (d.deletes.length === 0) return { deleted: 0, orphaned: 0 };
    const t = d.plan.mapping.target;
    const key = keyOf(t);
    let orphaned = 0;
    for (const child of TARGET_TABLES) {
        for (const fk of child.foreignKeys.filter((f) => f.references.table === t.name && f.columns.length === 1)) {
            const where = `c.${ident(fk.columns[0])}::text IN (${d.deletes.map((k) => literal(k)).join(", ")})`;
            const reason = `${fk.columns[0]} has no parent row in ${t.name}(${fk.references.columns[0]}): the source deleted it`;
            if (a.orphanPolicy === "fail") {
                const n = await a.pg.query<{ n: string }>(`SELECT count(*) AS n FROM ${ident(child.name)} c WHERE ${where}`);
                if (Number(n.rows[0].n) > 0)
                    throw new Error(`sync: ${n.rows[0].n} ${child.name} rows would lose their parent in ${t.name} (orphan policy: fail)`);
                continue;
            }
            orphaned += await quarantineOrphans(a.pg, child, fk, where, reason, a.conversion.canonicalSql, a.bucketsOf(child.name));
        }
    }
    const r = await a.pg.query(`DELETE FROM ${ident(t.name)} WHERE ${ident(key.name)} = ANY($1::${columnTypeSql(key.type)}[])`, [
        d.deletes,
    ]);
    for (const store of ROW_NOTES) await forgetNotes(a.pg, store.table, t.name, key.name, d.deletes);
    return { deleted: r.rowCount ?? 0, orphaned };
}

/** The table's rows from the source's side: set-aside rows first, then updates, inserts and returned orphans. */
export async function applyUpserts(a: ApplyContext, d: TableDiff): Promise<SyncTableResult & { quarantinedOrphans: number }> {
    const t = d.plan.mapping.target;
    const gone = await syncQuarantine(a.pg, d);
    const updated = await updateRows(a.pg, d, d.updates);
    const { inserted, orphans, constraint } = await insertRows(a, d, d.inserts);
    await keepNotes(a.pg, d, [...d.updates, ...d.inserts], REPAIR_NOTES);
    await keepNotes(a.pg, d, [...d.updates, ...d.inserts], SET_ASIDE_NOTES);
    const returned = await returnOrphans(a.pg, d.plan.mapping);
    await recordChunkSums(a.pg, d);
    return {
        table: t.name,
        inserted: inserted + returned,
        updated,
        deleted: 0,
        quarantined: d.convertFailures.length + orphans + constraint,
        released: gone + returned,
        quarantinedOrphans: orphans,
        ...valuesSetAside([...d.updates, ...d.inserts]),
    };
}

function valuesSetAside(rows: readonly SourceRow[]): { valuesSetAside?: number } {
    const n = rows.reduce((sum, r) => sum + (r.setAside?.length ?? 0), 0);
    return n ? { valuesSetAside: n } : {};
}

/** What is kept beside a written row about some of its values: repairs, and values set aside. */
interface RowNotes<N extends { readonly key: Record<string, string | null> }> {
    readonly table: string;
    readonly of: (row: SourceRow) => readonly N[] | undefined;
    readonly insert: (pg: ClientBase, table: string, chunkNo: number | null, notes: readonly N[]) => Promise<void>;
}

const REPAIR_NOTES: RowNotes<RepairRecord> = { table: "gecko_quarantine.repairs", of: (r) => r.repairs, insert: insertRepairs };
const SET_ASIDE_NOTES: RowNotes<SetAsideValue> = {
    table: "gecko_quarantine.set_aside_values",
    of: (r) => r.setAside,
    insert: insertSetAside,
};
const ROW_NOTES = [REPAIR_NOTES, SET_ASIDE_NOTES] as const;

/** The notes of the rows written, replacing what was kept for them before. */
async function keepNotes<N extends { readonly key: Record<string, string | null> }>(
    pg: ClientBase,
    d: TableDiff,
    rows: readonly SourceRow[],
    store: RowNotes<N>,
): Promise<void> {
    const t = d.plan.mapping.target;
    const key = keyOf(t);
    const at = keyIndexes(d.plan)[0];
    const written = rows.map((r) => r.values[at]).filter((k): k is string => k !== null);
    await forgetNotes(pg, store.table, t.name, key.name, written);
    const notes = rows.flatMap((r) => store.of(r) ?? []);
    if (!notes.length) return;
    await store.insert(pg, t.name, null, notes);
    // A row that went to quarantine instead (an orphan, a constraint) keeps no notes.
    await pg.query(
        `DELETE FROM ${store.table} r WHERE r.table_name = $1 AND r.row_key->>$2 = ANY($3::text[])
            AND NOT EXISTS (SELECT 1 FROM ${ident(t.name)} t WHERE t.${ident(key.name)}::text = r.row_key->>$2)`,
        [t.name, key.name, notes.map((r) => r.key[key.name])],
    );
}

async function forgetNotes(pg: ClientBase, store: string, table: string, keyName: string, keys: readonly string[]): Promise<void> {
    if (keys.length === 0) return;
    await pg.query(`DELETE FROM ${store} WHERE table_name = $1 AND row_key->>$2 = ANY($3::text[])`, [table, keyName, keys]);
}

/**
 * Conversion failures are the source's state now: the old entries go, the current ones come
 * in (with their rowids now), and a target row with such a key (an older version) is removed.
 * Orphan and constraint entries whose row left the source are closed; the others get the
 * row's rowid now (a VACUUM renumbers, a deleted last row's rowid is reused).
 */
async function syncQuarantine(pg: ClientBase, d: TableDiff): Promise<number> {
    const t = d.plan.mapping.target;
    const key = keyOf(t);
    const failedKeys = d.convertFailures.map((f) => f.row.key[key.name]).filter((k): k is string => k !== null);
    await closeConvertEntries(pg, d, failedKeys);
    if (failedKeys.length) await pg.query(`DELETE FROM ${ident(t.name)} WHERE ${ident(key.name)}::text = ANY($1::text[])`, [failedKeys]);
    const byChunk = new Map<number, QuarantineRecord[]>();
    for (const f of d.convertFailures) byChunk.set(f.chunkNo, [...(byChunk.get(f.chunkNo) ?? []), { stage: "convert", row: f.row }]);
    for (const [chunkNo, records] of byChunk) await insertQuarantine(pg, t.name, chunkNo, records);
    if (d.setAsideGone.length) await pg.query("DELETE FROM gecko_quarantine.rows WHERE id = ANY($1::bigint[])", [d.setAsideGone]);
    if (d.setAsideSeen.size) {
        await pg.query(
            `UPDATE gecko_quarantine.rows q SET source_rowid = s.rowid FROM unnest($1::bigint[], $2::bigint[]) AS s(id, rowid)
              WHERE q.id = s.id AND q.source_rowid IS DISTINCT FROM s.rowid`,
            [[...d.setAsideSeen.keys()], [...d.setAsideSeen.values()].map(String)],
        );
    }
    return d.setAsideGone.length;
}

/**
 * The conversion failures this pass re-read leave the quarantine (the current ones come back in):
 * all of the table's after a full comparison, else those in the compared ranges or with a key
 * read again, and those whose row left the source.
 */
async function closeConvertEntries(pg: ClientBase, d: TableDiff, failedKeys: readonly string[]): Promise<void> {
    const t = d.plan.mapping.target;
    if (!d.scope) {
        await pg.query("DELETE FROM gecko_quarantine.rows WHERE table_name = $1 AND stage = 'convert'", [t.name]);
        return;
    }
    await pg.query(
        `DELETE FROM gecko_quarantine.rows q WHERE q.table_name = $1 AND q.stage = 'convert'
            AND (q.row_key->>$2 = ANY($3::text[])
                 OR EXISTS (SELECT 1 FROM unnest($4::bigint[], $5::bigint[]) AS r(lo, hi) WHERE q.source_rowid BETWEEN r.lo AND r.hi))`,
        [
            t.name,
            t.rowKey[0],
            [...failedKeys, ...d.scope.quarantineGone],
            d.scope.ranges.map((r) => String(r.lo)),
            d.scope.ranges.map((r) => String(r.hi)),
        ],
    );
}

/** `SELECT` of the rows as typed columns named like the table's: one text[] parameter per column. */
function rowsSql(d: TableDiff, rows: readonly SourceRow[]): { sql: string; params: (string | null)[][] } {
    const cols = d.plan.mapping.columns.map((c) => c.target);
    const params = cols.map((_, i) => rows.map((r) => r.values[i]));
    const unnest = cols.map((_, i) => `$${i + 1}::text[]`).join(", ");
    const typed = cols.map((c, i) => `u.c${i}::${columnTypeSql(c.type)} AS ${ident(c.name)}`).join(", ");
    return { sql: `SELECT ${typed} FROM unnest(${unnest}) AS u(${cols.map((_, i) => `c${i}`).join(", ")})`, params };
}

async function updateRows(pg: ClientBase, d: TableDiff, rows: readonly SourceRow[]): Promise<number> {
    if (rows.length === 0) return 0;
    const t = d.plan.mapping.target;
    const key = ident(t.rowKey[0]);
    const cols = d.plan.mapping.columns.map((c) => ident(c.target.name));
    const { sql, params } = rowsSql(d, rows);
    const r = await pg.query(
        `UPDATE ${ident(t.name)} t SET (${cols.join(", ")}) = (${cols.map((c) => `s.${c}`).join(", ")}) FROM (${sql}) s WHERE t.${key} = s.${key}`,
        params,
    );
    return r.rowCount ?? 0;
}

/**
 * New rows: those whose parent the target lacks are set aside as orphans (or the pass fails,
 * under orphan policy fail); the rest inserted at once, or one by one when a row breaks a
 * constraint (that row set aside, as the copy does).
 */
async function insertRows(a: ApplyContext, d: TableDiff, rows: readonly SourceRow[]) {
    if (rows.length === 0) return { inserted: 0, orphans: 0, constraint: 0 };
    const t = d.plan.mapping.target;
    const stage = `sync_${t.name}`;
    const { sql, params } = rowsSql(d, rows);
    await a.pg.query(`CREATE TEMP TABLE ${ident(stage)} ON COMMIT DROP AS ${sql}`, params);
    let orphans = 0;
    for (const fk of t.foreignKeys) {
        const where = `${fk.columns.map((c) => `c.${ident(c)} IS NOT NULL`).join(" AND ")} AND NOT EXISTS (SELECT 1 FROM ${ident(fk.references.table)} p WHERE ${fk.columns.map((c, i) => `p.${ident(fk.references.columns[i])} = c.${ident(c)}`).join(" AND ")})`;
        if (a.orphanPolicy === "fail") {
            const n = await a.pg.query<{ n: string }>(`SELECT count(*) AS n FROM ${ident(stage)} c WHERE ${where}`);
            if (Number(n.rows[0].n) > 0)
                throw new Error(`sync: ${n.rows[0].n} new ${t.name} rows have no parent in ${fk.references.table} (orphan policy: fail)`);
            continue;
        }
        const reason = `${fk.columns.join(", ")} has no parent row in ${fk.references.table}(${fk.references.columns.join(", ")})`;
        orphans += await quarantineOrphans(a.pg, t, fk, where, reason, a.conversion.canonicalSql, d.plan.encoder.buckets, ident(stage));
    }
    const cols = d.plan.mapping.columns.map((c) => ident(c.target.name)).join(", ");
    await a.pg.query("SAVEPOINT sync_insert");
    try {
        const r = await a.pg.query(`INSERT INTO ${ident(t.name)} (${cols}) SELECT ${cols} FROM ${ident(stage)}`);
        await a.pg.query("RELEASE SAVEPOINT sync_insert");
        return { inserted: r.rowCount ?? 0, orphans, constraint: 0 };
    } catch (err) {
        await a.pg.query("ROLLBACK TO SAVEPOINT sync_insert");
        if (!isRowLevelError(err)) throw err;
        return { ...(await insertOneByOne(a.pg, d, rows, stage, cols)), orphans };
    }
}

/** A row that breaks a constraint is set aside with its reason; the others go in. */
async function insertOneByOne(
    pg: ClientBase,
    d: TableDiff,
    rows: readonly SourceRow[],
    stage: string,
    cols: string,
): Promise<{ inserted: number; constraint: number }> {
    const t = d.plan.mapping.target;
    const key = ident(t.rowKey[0]);
    const keyIdx = d.plan.mapping.columns.findIndex((c) => c.target.name === t.rowKey[0]);
    const byKey = new Map(rows.map((r) => [r.values[keyIdx], r]));
    const keys = await pg.query<{ k: string }>(`SELECT ${key}::text AS k FROM ${ident(stage)}`);
    let inserted = 0;
    let constraint = 0;
    for (const { k } of keys.rows) {
        await pg.query("SAVEPOINT sync_row");
        try {
            await pg.query(`INSERT INTO ${ident(t.name)} (${cols}) SELECT ${cols} FROM ${ident(stage)} WHERE ${key}::text = $1`, [k]);
            await pg.query("RELEASE SAVEPOINT sync_row");
            inserted++;
        } catch (err) {
            await pg.query("ROLLBACK TO SAVEPOINT sync_row");
            if (!isRowLevelError(err)) throw err;
            // Counted in the chunk's checksums like every converting row: validation takes its hash out again.
            const src = byKey.get(k);
            await pg.query(
                `INSERT INTO gecko_quarantine.rows (table_name, stage, source_rowid, row_key, reason, row_data, bucket, row_hash)
                 SELECT $1, 'constraint', $4, jsonb_build_object(${literal(t.rowKey[0])}, s.${key}::text), $2, to_jsonb(s), $5, $6
                   FROM ${ident(stage)} s WHERE s.${key}::text = $3`,
                [t.name, (err as Error).message, k, src ? String(src.rowid) : null, src?.bucket ?? null, src ? String(src.hash) : null],
            );
            constraint++;
        }
    }
    return { inserted, constraint };
}

/** The chunks' recorded checksums become the source's now, so a later run compares against what the target holds. */
async function recordChunkSums(pg: ClientBase, d: TableDiff): Promise<void> {
    const t = d.plan.mapping.target.name;
    if (!d.chunkSums) return addChunkDelta(pg, t, d.scope?.chunkDelta ?? new Map());
    for (const c of d.plan.chunks) {
        const s = d.chunkSums.get(c.chunkNo);
        await pg.query(
            `UPDATE gecko_migration.chunks SET status = 'done', bucket_sums = $3, rows_read = $4, copied_at = now() WHERE table_name = $1 AND chunk_no = $2`,
            [t, c.chunkNo, JSON.stringify(s?.sums.toJSON() ?? {}), s?.rows ?? 0],
        );
    }
}

/**
 * After a comparison of changed ranges: each chunk's checksums get what changed (old versions
 * out, new ones in). Validation adds a table's chunks together, so a deleted row's old version
 * may leave any chunk of its table.
 */
async function addChunkDelta(pg: ClientBase, table: string, delta: ReadonlyMap<number, BucketSums>): Promise<void> {
    for (const [chunkNo, change] of delta) {
        const r = await pg.query<{ bucket_sums: Record<string, [number, string]> | null }>(
            "SELECT bucket_sums FROM gecko_migration.chunks WHERE table_name = $1 AND chunk_no = $2 FOR UPDATE",
            [table, chunkNo],
        );
        if (!r.rows.length) continue;
        const sums = BucketSums.fromJSON(r.rows[0].bucket_sums);
        sums.merge(change);
        const rows = [...change.sums.values()].reduce((n, s) => n + s.count, 0);
        await pg.query(
            // A chunk planned since the copy (rowids beyond its maximum) holds only rows sync inserted: done now.
            "UPDATE gecko_migration.chunks SET status = 'done', bucket_sums = $3, rows_read = coalesce(rows_read, 0) + $4, copied_at = now() WHERE table_name = $1 AND chunk_no = $2",
            [table, chunkNo, JSON.stringify(sums.toJSON()), rows],
        );
    }
}
