/**
 * What one sync pass must change in a table: the source read in full from the pass's
 * snapshot and compared with the target by row key, bucket by bucket (only the buckets
 * whose checksums differ are compared row by row). Rows are matched by key, never by
 * rowid, so a rowid the source reused or a VACUUM that renumbered rows changes nothing.
 * Reads only.
 */
import type Database from "better-sqlite3";
import type { ClientBase } from "pg";
import { ident } from "../postgres/sql";
import { BucketSums, canonicalRowText, fieldTextSql, hashValue, rowHash, rowHashSql, rowTextSql } from "../data/checksum/checksum";
import { allSourceRows } from "../data/copy/pageEncoder";
import type { EncodedRow, QuarantinedRow, RawValue, RepairRecord, SetAsideValue } from "../data/copy/rowEncoder";
import type { Chunk } from "../data/plan/chunkPlan";
import type { Conversion } from "../data/plan/conversion";
import type { TablePlan } from "../data/run/tablePlans";
import type { RowidRange } from "./pageScan";
import { targetBucketSums, targetRowSql } from "../data/validate/tableChecks";

/** A source row that converts, as the copy would write it. */
export interface SourceRow {
    readonly rowid: bigint;
    readonly values: readonly (string | null)[];
    readonly bucket: number;
    readonly hash: bigint;
    /** Values of the row a repair recovered (their raw text to keep), if any. */
    readonly repairs?: readonly RepairRecord[];
    /** Values of the row set aside (NULL in `values`), if any. */
    readonly setAside?: readonly SetAsideValue[];
}

export interface TableDiff {
    readonly plan: TablePlan;
    /** Rows to insert (key not in the target). */
    readonly inserts: readonly SourceRow[];
    /** Rows whose target version differs. */
    readonly updates: readonly SourceRow[];
    /** Keys (as the target's key column text) of target rows the source no longer has as a converting row. */
    readonly deletes: readonly string[];
    /** Source rows that do not convert now: set aside, their old target version removed. */
    readonly convertFailures: readonly { readonly row: QuarantinedRow; readonly chunkNo: number }[];
    /** Rows set aside earlier (orphan or constraint) still in the source: quarantine id -> current rowid. */
    readonly setAsideSeen: ReadonlyMap<string, bigint>;
    /** Quarantine ids of rows set aside earlier that the source no longer has. */
    readonly setAsideGone: readonly string[];
    /** Per chunk, the checksums of every converting source row now (what validation compares with); a full comparison. */
    readonly chunkSums?: ReadonlyMap<number, { readonly sums: BucketSums; readonly rows: number }>;
    /** A comparison of changed rowid ranges only (syncRanges): what the pass may touch, and the checksums' change. */
    readonly scope?: RangeScope;
}

export interface RangeScope {
    readonly ranges: readonly RowidRange[];
    /** Per chunk, what the applied changes add to (and take from) its recorded checksums. */
    readonly chunkDelta: ReadonlyMap<number, BucketSums>;
    /** Keys of conversion failures recorded earlier whose row left the source. */
    readonly quarantineGone: readonly string[];
    /** The row count said rows were deleted that the pages did not place: every key was compared. */
    readonly census?: boolean;
}

/** A source row as the copy encoded it, with its row hash (`h`: the hash's scratch). */
export function sourceRow(raw: readonly RawValue[], r: EncodedRow, h: { hi: number; lo: number }): SourceRow {
    return {
        rowid: raw[0] as bigint,
        values: r.values,
        bucket: r.bucket,
        hash: hashValue(rowHash(r.line, h)),
        ...(r.repairs ? { repairs: r.repairs } : {}),
        ...(r.setAside ? { setAside: r.setAside } : {}),
    };
}

/** Keys the quarantine holds for `table` as orphans or constraint failures: canonical key text -> quarantine id. */
export async function setAsideKeys(pg: ClientBase, plan: TablePlan, canonical: Conversion["canonicalSql"]): Promise<Map<string, string>> {
    const t = plan.mapping.target;
    const keyText = rowTextSql(
        t.rowKey.map((k) =>
            fieldTextSql(
                canonical(`(jsonb_populate_record(NULL::${ident(t.name)}, q.row_data)).${ident(k)}`, column(plan, k)),
                column(plan, k).type,
            ),
        ),
    );
    const r = await pg.query<{ id: string; k: string }>(
        `SELECT q.id::text AS id, ${keyText} AS k FROM gecko_quarantine.rows q WHERE q.table_name = $1 AND q.stage IN ('orphan', 'constraint')`,
        [t.name],
    );
    return new Map(r.rows.map((x) => [x.k, x.id]));
}

const column = (plan: TablePlan, name: string) => plan.mapping.target.columns.find((c) => c.name === name)!;

const sourceRows = (db: Database.Database, plan: TablePlan) => allSourceRows(db, plan.mapping, plan.encoder.sourceColumns());

/** The chunk a rowid belongs to; a rowid outside every range (renumbered by a VACUUM) goes to the nearest one below, else the first. */
export function chunkFinder(chunks: readonly Chunk[]): (rowid: bigint) => number {
    const sorted = [...chunks].sort((a, b) => (a.rowidLo < b.rowidLo ? -1 : 1));
    return (rowid) => {
        // Binary search (every source row asks): the last chunk starting at or below the rowid.
        let lo = 0;
        let hi = sorted.length - 1;
        let found = sorted[0]?.chunkNo ?? 0;
        while (lo <= hi) {
            const mid = (lo + hi) >> 1;
            if (sorted[mid].rowidLo <= rowid) {
                found = sorted[mid].chunkNo;
                lo = mid + 1;
            } else hi = mid - 1;
        }
        return found;
    };
}

interface Scan {
    readonly diffSums: BucketSums;
    readonly chunkSums: Map<number, { sums: BucketSums; rows: number }>;
    readonly convertFailures: { row: QuarantinedRow; chunkNo: number }[];
    readonly setAsideSeen: Map<string, bigint>;
}

/** Pass 1 over the source: the checksums (per bucket for the diff, per chunk for the record) and what does not convert. */
function scanSource(db: Database.Database, plan: TablePlan, setAside: ReadonlyMap<string, string>): Scan {
    const keyIdx = keyIndexes(plan);
    const chunkOf = chunkFinder(plan.chunks);
    const scan: Scan = { diffSums: new BucketSums(), chunkSums: new Map(), convertFailures: [], setAsideSeen: new Map() };
    const h = { hi: 0, lo: 0 };
    for (const raw of sourceRows(db, plan)) {
        const rowid = raw[0] as bigint;
        const r = plan.encoder.encode(raw);
        if (!r.ok) {
            scan.convertFailures.push({ row: r, chunkNo: chunkOf(rowid) });
            continue;
        }
        rowHash(r.line, h);
        const chunk = chunkOf(rowid);
        const c = scan.chunkSums.get(chunk) ?? { sums: new BucketSums(), rows: 0 };
        c.sums.addRow(r.bucket, h);
        c.rows++;
        scan.chunkSums.set(chunk, c);
        const setAsideId = setAside.get(canonicalRowText(keyIdx.map((i) => r.values[i])));
        if (setAsideId === undefined) scan.diffSums.addRow(r.bucket, h);
        else scan.setAsideSeen.set(setAsideId, rowid);
    }
    return scan;
}

export const keyIndexes = (plan: TablePlan) =>
    plan.mapping.target.rowKey.map((k) => plan.mapping.columns.findIndex((c) => c.target.name === k));

/** The target's rows as the checksums see them; placeholder parents are never the source's rows. */
const targetSql = (plan: TablePlan, canonical: Conversion["canonicalSql"]) =>
    targetRowSql(plan.mapping, canonical, plan.encoder.buckets, true);

/** Pass 2, only over the buckets that differ: each side's rows by key, then insert, update or delete. */
async function compareBuckets(
    db: Database.Database,
    pg: ClientBase,
    plan: TablePlan,
    buckets: readonly number[],
    canonical: Conversion["canonicalSql"],
    setAside: ReadonlyMap<string, string>,
) {
    const wanted = new Set(buckets);
    const keyIdx = keyIndexes(plan);
    const source = new Map<string, SourceRow>();
    const h = { hi: 0, lo: 0 };
    for (const raw of sourceRows(db, plan)) {
        const r = plan.encoder.encode(raw);
        if (!r.ok || !wanted.has(r.bucket)) continue;
        const key = canonicalRowText(keyIdx.map((i) => r.values[i]));
        if (setAside.has(key)) continue;
        source.set(key, sourceRow(raw, r, h));
    }
    const q = targetSql(plan, canonical);
    const key = plan.mapping.target.rowKey[0];
    const target = await pg.query<{ k: string; h: string; rk: string }>(
        `SELECT ${q.keyText} AS k, ${rowHashSql(q.rowText)}::text AS h, t.${ident(key)}::text AS rk FROM ${ident(plan.mapping.target.name)} t WHERE ${q.notPlaceholder} AND ${q.bucket} = ANY($1::int[])`,
        [buckets],
    );
    const inserts: SourceRow[] = [];
    const updates: SourceRow[] = [];
    const deletes: string[] = [];
    for (const row of target.rows) {
        const src = source.get(row.k);
        if (!src) deletes.push(row.rk);
        else if (String(src.hash) !== row.h) updates.push(src);
        source.delete(row.k);
    }
    inserts.push(...source.values());
    return { inserts, updates, deletes };
}

export async function diffTable(db: Database.Database, pg: ClientBase, plan: TablePlan, conversion: Conversion): Promise<TableDiff> {
    if (plan.mapping.target.rowKey.length !== 1)
        throw new Error(`sync: ${plan.mapping.target.name} has a multi-column key, which sync does not handle`);
    const setAside = await setAsideKeys(pg, plan, conversion.canonicalSql);
    const scan = scanSource(db, plan, setAside);
    const target = await targetBucketSums(pg, plan.mapping.target.name, targetSql(plan, conversion.canonicalSql));
    const differing = BucketSums.differingBuckets(scan.diffSums, target.sums);
    const changes = differing.length
        ? await compareBuckets(db, pg, plan, differing, conversion.canonicalSql, setAside)
        : { inserts: [], updates: [], deletes: [] };
    const setAsideGone = [...setAside.values()].filter((id) => !scan.setAsideSeen.has(id));
    return {
        plan,
        ...changes,
        convertFailures: scan.convertFailures,
        setAsideSeen: scan.setAsideSeen,
        setAsideGone,
        chunkSums: scan.chunkSums,
    };
}
