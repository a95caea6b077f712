/**
 * What one sync pass must change in a table, found from its changed pages (pageScan): the
 * source rows in the rowid ranges of the changed leaves are compared with the target by
 * key; deletes are found by counting. Every insert lands on a changed leaf, so when the
 * table's row count moved by exactly the new keys found, nothing was deleted. Otherwise the
 * deletes are placed, cheapest first: by the gaps around the changed leaves (a table keyed
 * by rowid); by the rows the changed leaves held at the last pass, read from the pages this
 * process kept (keptPages), counted exactly against the row count; else by comparing the
 * keys of both sides (a census: keys only, no row hashing). Reads only.
 */
import type Database from "better-sqlite3";
import type { ClientBase } from "pg";
import { ident, sqliteIdent } from "../postgres/sql";
import { columnTypeSql } from "../schema/ddl";
import { BucketSums, canonicalRowText, rowHashSql } from "../data/checksum/checksum";
import type { QuarantinedRow, RawValue } from "../data/copy/rowEncoder";
import type { Conversion } from "../data/plan/conversion";
import type { TablePlan } from "../data/run/tablePlans";
import { targetRowSql } from "../data/validate/tableChecks";
import { invalidTextMarker } from "../data/source/utf8";
import type { PreviousSnapshot } from "./keptPages";
import type { CellValue } from "./leafCells";
import type { RowidRange } from "./pageScan";
import { chunkFinder, keyIndexes, setAsideKeys, sourceRow, type SourceRow, type TableDiff } from "./syncDiff";

export interface RangeDiffInput {
    readonly db: Database.Database;
    readonly pg: ClientBase;
    readonly plan: TablePlan;
    readonly conversion: Conversion;
    readonly ranges: readonly RowidRange[];
    /** The table's source row count at the last pass, and now. */
    readonly countBefore: number;
    readonly countNow: number;
    /** The source as the last pass saw it (kept in this process), and this table's root page in it. */
    readonly before?: { readonly snapshot: PreviousSnapshot; readonly root: number };
}

interface TargetVersion {
    readonly hash: string;
    readonly bucket: number;
}

export async function diffRanges(input: RangeDiffInput): Promise<TableDiff> {
    const { db, pg, plan, conversion } = input;
    const setAside = await setAsideKeys(pg, plan, conversion.canonicalSql);
    const source = readRanges(db, plan, input.ranges, setAside);
    const target = await targetVersions(
        pg,
        plan,
        conversion,
        [...source.rows.values()].map((r) => r.values[keyIndexes(plan)[0]]),
    );
    const chunkOf = chunkFinder(plan.chunks);
    const delta = new Map<number, BucketSums>();
    const add = (chunkNo: number, bucket: number, hash: bigint, count: 1 | -1) => {
        const sums = delta.get(chunkNo) ?? new BucketSums();
        sums.add(bucket, count === 1 ? hash : -hash, count);
        delta.set(chunkNo, sums);
    };
    const inserts: SourceRow[] = [];
    const updates: SourceRow[] = [];
    for (const [key, row] of source.rows) {
        const old = target.get(key);
        if (old && old.hash === String(row.hash)) continue;
        if (old) add(chunkOf(row.rowid), old.bucket, BigInt(old.hash), -1);
        add(chunkOf(row.rowid), row.bucket, row.hash, 1);
        (old ? updates : inserts).push(row);
    }
    // A row that no longer converts leaves the target (syncQuarantine): its old version leaves the sums.
    const failing = await targetVersions(
        pg,
        plan,
        conversion,
        source.failures.map((f) => keyOf(plan, f)),
        true,
    );
    for (const f of source.failures) {
        const old = failing.get(canonicalRowText([keyOf(plan, f)]));
        if (old) add(chunkOf(f.rowid), old.bucket, BigInt(old.hash), -1);
    }
    const knownFailures = await quarantinedConvertKeys(pg, plan);
    const newKeys =
        inserts.length +
        source.failures.filter((f) => !failing.has(canonicalRowText([keyOf(plan, f)])) && !knownFailures.has(keyOf(plan, f) ?? "")).length;
    const seen = new Set([...source.rows.values()].map((r) => r.values[keyIndexes(plan)[0]]!));
    for (const f of source.failures) seen.add(keyOf(plan, f) ?? "");
    const inGaps = rowidKeyed(plan) ? await gapDeletes(db, pg, plan, conversion, input.ranges, seen, setAside) : [];
    const counted = input.countNow - input.countBefore === newKeys - inGaps.length;
    const since = counted ? undefined : await deletesSinceBefore(input, setAside, knownFailures);
    const census = counted || since ? undefined : await keyCensus(db, pg, plan, conversion, setAside, knownFailures);
    const gone = census ?? since;
    const deletes = gone?.deletes ?? inGaps;
    for (const gone of deletes) add(plan.chunks[0]?.chunkNo ?? 0, gone.bucket, BigInt(gone.hash), -1);
    return {
        plan,
        inserts,
        updates,
        deletes: deletes.map((d) => d.key),
        convertFailures: source.failures.map((row) => ({ row, chunkNo: chunkOf(row.rowid) })),
        setAsideSeen: source.setAsideSeen,
        setAsideGone: gone?.setAsideGone ?? [],
        scope: { ranges: input.ranges, chunkDelta: delta, quarantineGone: gone?.quarantineGone ?? [], census: census !== undefined },
    };
}

/** A table none of whose pages changed and whose row count did not move. */
export const unchangedTable = (plan: TablePlan): TableDiff => ({
    plan,
    inserts: [],
    updates: [],
    deletes: [],
    convertFailures: [],
    setAsideSeen: new Map(),
    setAsideGone: [],
    scope: { ranges: [], chunkDelta: new Map(), quarantineGone: [] },
});

const keyOf = (plan: TablePlan, row: QuarantinedRow) => row.key[plan.mapping.target.rowKey[0]] ?? null;

/** The source rows of the ranges, encoded as the copy would write them. */
function readRanges(db: Database.Database, plan: TablePlan, ranges: readonly RowidRange[], setAside: ReadonlyMap<string, string>) {
    const source = plan.mapping.source!;
    const stmt = db
        .prepare(
            `SELECT rowid, ${plan.encoder.sourceColumns().map(sqliteIdent).join(", ")} FROM ${sqliteIdent(source.name)} WHERE rowid BETWEEN ? AND ? ORDER BY rowid`,
        )
        .raw(true);
    const markInvalidText = invalidTextMarker(db, source.name, plan.encoder.sourceColumns());
    const keyIdx = keyIndexes(plan);
    const rows = new Map<string, SourceRow>();
    const failures: QuarantinedRow[] = [];
    const setAsideSeen = new Map<string, bigint>();
    const h = { hi: 0, lo: 0 };
    for (const range of ranges) {
        for (const row of stmt.iterate(range.lo, range.hi) as IterableIterator<RawValue[]>) {
            const raw = markInvalidText(row);
            const r = plan.encoder.encode(raw);
            if (!r.ok) {
                failures.push(r);
                continue;
            }
            const key = canonicalRowText(keyIdx.map((i) => r.values[i]));
            const setAsideId = setAside.get(key);
            if (setAsideId !== undefined) setAsideSeen.set(setAsideId, raw[0] as bigint);
            else rows.set(key, sourceRow(raw, r, h));
        }
    }
    return { rows, failures, setAsideSeen };
}

/** The target's version (hash and bucket) of each of `keys` it holds, by canonical key text. */
async function targetVersions(
    pg: ClientBase,
    plan: TablePlan,
    conversion: Conversion,
    keys: readonly (string | null)[],
    asText = false,
): Promise<Map<string, TargetVersion>> {
    const present = keys.filter((k): k is string => k !== null);
    if (present.length === 0) return new Map();
    const t = plan.mapping.target;
    const key = t.columns.find((c) => c.name === t.rowKey[0])!;
    const q = targetRowSql(plan.mapping, conversion.canonicalSql, plan.encoder.buckets, true);
    // Keys of rows that do not convert may not even parse as the key's type: compared as text (no index, rare).
    const match = asText ? `t.${ident(key.name)}::text = ANY($1::text[])` : `t.${ident(key.name)} = ANY($1::${columnTypeSql(key.type)}[])`;
    const r = await pg.query<{ k: string; h: string; b: number }>(
        `SELECT ${q.keyText} AS k, ${rowHashSql(q.rowText)}::text AS h, ${q.bucket} AS b FROM ${ident(t.name)} t
          WHERE ${match} AND ${q.notPlaceholder}`,
        [present],
    );
    return new Map(r.rows.map((x) => [x.k, { hash: x.h, bucket: x.b }]));
}

async function quarantinedConvertKeys(pg: ClientBase, plan: TablePlan): Promise<Set<string>> {
    const key = plan.mapping.target.rowKey[0];
    const r = await pg.query<{ k: string | null }>(
        "SELECT row_key->>$2 AS k FROM gecko_quarantine.rows WHERE table_name = $1 AND stage = 'convert'",
        [plan.mapping.target.name, key],
    );
    return new Set(r.rows.map((x) => x.k ?? ""));
}

const keyType = (plan: TablePlan) => plan.mapping.target.columns.find((c) => c.name === plan.mapping.target.rowKey[0])!.type;

/** The key column is the rowid (`INTEGER PRIMARY KEY`): target keys then say where in the file a row was. */
function rowidKeyed(plan: TablePlan): boolean {
    const source = plan.mapping.source!;
    const key = plan.mapping.columns.find((c) => c.target.name === plan.mapping.target.rowKey[0])!.source;
    const pk = source.columns.filter((c) => c.primaryKeyIndex > 0);
    return key.kind === "column" && pk.length === 1 && pk[0].name === key.name && pk[0].declaredType.toUpperCase() === "INTEGER";
}

/**
 * Deletes in a table keyed by rowid, without a census: a deleted row was on a leaf that changed,
 * between that leaf's neighbours' rows. Each changed range is widened to the rows around it, and
 * the target's keys in the widened range that the source no longer has are the deletes there.
 */
async function gapDeletes(
    db: Database.Database,
    pg: ClientBase,
    plan: TablePlan,
    conversion: Conversion,
    ranges: readonly RowidRange[],
    seen: ReadonlySet<string>,
    setAside: ReadonlyMap<string, string>,
): Promise<{ key: string; hash: string; bucket: number }[]> {
    if (ranges.length === 0) return [];
    const t = sqliteIdent(plan.mapping.source!.name);
    const below = db.prepare(`SELECT max(rowid) FROM ${t} WHERE rowid < ?`).pluck();
    const above = db.prepare(`SELECT min(rowid) FROM ${t} WHERE rowid > ?`).pluck();
    const lo = ranges.map((r) => String(((below.get(r.lo) as bigint | null) ?? -(2n ** 62n)) + 1n));
    const hi = ranges.map((r) => String(((above.get(r.hi) as bigint | null) ?? 2n ** 62n) - 1n));
    const key = ident(plan.mapping.target.rowKey[0]);
    const q = targetRowSql(plan.mapping, conversion.canonicalSql, plan.encoder.buckets, true);
    const r = await pg.query<{ k: string; h: string; b: number }>(
        `SELECT t.${key}::text AS k, ${rowHashSql(q.rowText)}::text AS h, ${q.bucket} AS b
           FROM unnest($1::bigint[], $2::bigint[]) AS g(lo, hi) JOIN ${ident(plan.mapping.target.name)} t ON t.${key} BETWEEN g.lo AND g.hi
          WHERE ${q.notPlaceholder}`,
        [lo, hi],
    );
    return r.rows
        .filter((x) => !seen.has(x.k) && !setAside.has(canonicalRowText([x.k])))
        .map((x) => ({ key: x.k, hash: x.h, bucket: x.b }));
}

interface Gone {
    readonly deletes: { key: string; hash: string; bucket: number }[];
    readonly setAsideGone: string[];
    readonly quarantineGone: string[];
}

/**
 * Deletes found against the last pass's snapshot: the keys its changed (or since freed) leaves
 * held, read from the kept pages, that the source no longer has. Trusted only when the count
 * agrees exactly (rows now - rows then = keys that appeared - keys that went; every key that
 * appeared is on a changed leaf now, and a key that was on no such leaf then is on an unchanged
 * page still). Undefined (a census follows) when it does not, or when keys cannot be looked up by index.
 */
async function deletesSinceBefore(
    input: RangeDiffInput,
    setAside: ReadonlyMap<string, string>,
    knownFailures: ReadonlySet<string>,
): Promise<Gone | undefined> {
    const { db, plan, before } = input;
    const key = before && keyInRecord(db, plan);
    const then = key && before.snapshot.valuesOf(before.root, key.position);
    if (!key || !then) return undefined;
    const t = sqliteIdent(plan.mapping.source!.name);
    const k = sqliteIdent(key.column);
    const inRange = db.prepare(`SELECT ${k} FROM ${t} WHERE rowid BETWEEN ? AND ?`).pluck();
    const now = input.ranges.flatMap((r) => inRange.all(r.lo, r.hi) as CellValue[]);
    // A NULL key cannot be looked up: count it out by a census.
    if (then.some((x) => x === null) || now.some((x) => x === null)) return undefined;
    const heldThen = new Set(then.map(sameValue));
    const appeared = now.filter((x) => !heldThen.has(sameValue(x))).length;
    const lookup = db.prepare(`SELECT 1 FROM ${t} WHERE ${k} = ?`).pluck();
    const went = then.filter((x) => lookup.get(x) === undefined).map(String);
    if (input.countNow - input.countBefore !== appeared - went.length) return undefined;
    return {
        deletes: await targetRowsOf(input, went),
        setAsideGone: went.map((x) => setAside.get(canonicalRowText([x]))).filter((id): id is string => id !== undefined),
        quarantineGone: went.filter((x) => knownFailures.has(x)),
    };
}

/** A SQLite value as a set member: its type and its text. */
const sameValue = (v: CellValue) => (Buffer.isBuffer(v) ? `blob:${v.toString("hex")}` : `${typeof v}:${String(v)}`);

/**
 * The source's key column and where the record holds it ("rowid" for an INTEGER PRIMARY KEY);
 * undefined unless keys can be looked up by index (the rowid, a primary key or unique index on it alone).
 */
function keyInRecord(db: Database.Database, plan: TablePlan): { column: string; position: number | "rowid" } | undefined {
    const source = plan.mapping.columns.find((c) => c.target.name === plan.mapping.target.rowKey[0])?.source;
    if (source?.kind !== "column") return undefined;
    if (rowidKeyed(plan)) return { column: source.name, position: "rowid" };
    const table = plan.mapping.source!.name;
    const indexes = db.prepare(`SELECT name, "unique" AS u FROM pragma_index_list(?)`).all(table) as { name: string; u: number | bigint }[];
    const columns = db.prepare("SELECT name FROM pragma_index_info(?)").pluck();
    if (!indexes.some((i) => Number(i.u) === 1 && (columns.all(i.name) as string[]).join("\0") === source.name)) return undefined;
    const cid = db.prepare("SELECT cid FROM pragma_table_info(?) WHERE name = ?").pluck().get(table, source.name);
    return cid === undefined ? undefined : { column: source.name, position: Number(cid) };
}

/** The target's version (key, hash, bucket) of each of `keys` it holds, placeholders aside. */
async function targetRowsOf(input: RangeDiffInput, keys: readonly string[]): Promise<Gone["deletes"]> {
    if (keys.length === 0) return [];
    const { pg, plan, conversion } = input;
    const t = plan.mapping.target;
    const q = targetRowSql(plan.mapping, conversion.canonicalSql, plan.encoder.buckets, true);
    // Matched through the key's index: as text for a text key, as integers when every key is one, else as text (a source key may not parse).
    const kind = keyType(plan).kind;
    const integers = (kind === "integer" || kind === "bigint") && keys.every((k) => /^-?\d{1,18}$/.test(k));
    const key = `t.${ident(t.rowKey[0])}${kind === "text" || integers ? "" : "::text"}`;
    const r = await pg.query<{ rk: string; h: string; b: number }>(
        `SELECT t.${ident(t.rowKey[0])}::text AS rk, ${rowHashSql(q.rowText)}::text AS h, ${q.bucket} AS b FROM ${ident(t.name)} t
          WHERE ${key} = ANY($1::${integers ? "bigint" : "text"}[]) AND ${q.notPlaceholder}`,
        [keys],
    );
    return r.rows.map((x) => ({ key: x.rk, hash: x.h, bucket: x.b }));
}

/**
 * Every key of both sides, compared: target rows (placeholders aside) whose key the source no
 * longer has are deleted, and quarantine entries whose row left the source are closed.
 */
async function keyCensus(
    db: Database.Database,
    pg: ClientBase,
    plan: TablePlan,
    conversion: Conversion,
    setAside: ReadonlyMap<string, string>,
    knownFailures: ReadonlySet<string>,
) {
    const t = plan.mapping.target;
    const keySource = plan.mapping.columns.find((c) => c.target.name === t.rowKey[0])!.source;
    if (keySource.kind !== "column") throw new Error(`sync: the source's ${t.name} has no ${t.rowKey[0]} column to compare keys by`);
    const sourceKeys = new Set<string>();
    const stmt = db.prepare(`SELECT ${sqliteIdent(keySource.name)} FROM ${sqliteIdent(plan.mapping.source!.name)}`).raw(true);
    for (const [k] of stmt.iterate() as IterableIterator<RawValue[]>) if (k !== null) sourceKeys.add(String(k));
    // Keys only (no row hashing over the whole table); the hashes of the deleted rows alone afterwards.
    const q = targetRowSql(plan.mapping, conversion.canonicalSql, plan.encoder.buckets, true);
    const target = await pg.query<{ rk: string }>(
        `SELECT t.${ident(t.rowKey[0])}::text AS rk FROM ${ident(t.name)} t WHERE ${q.notPlaceholder}`,
    );
    const gone = target.rows.filter((r) => !sourceKeys.has(r.rk)).map((r) => r.rk);
    const versions = await pg.query<{ rk: string; h: string; b: number }>(
        `SELECT t.${ident(t.rowKey[0])}::text AS rk, ${rowHashSql(q.rowText)}::text AS h, ${q.bucket} AS b FROM ${ident(t.name)} t WHERE t.${ident(t.rowKey[0])} = ANY($1::${columnTypeSql(keyType(plan))}[])`,
        [gone],
    );
    const deletes = versions.rows.map((r) => ({ key: r.rk, hash: r.h, bucket: r.b }));
    const canonicalKeys = setAside.size ? new Set([...sourceKeys].map((k) => canonicalRowText([k]))) : new Set<string>();
    const setAsideGone = [...setAside].filter(([k]) => !canonicalKeys.has(k)).map(([, id]) => id);
    const quarantineGone = [...knownFailures].filter((k) => !sourceKeys.has(k));
    return { deletes, setAsideGone, quarantineGone };
}
