/**
 * The comparison kinds: is PostgreSQL's answer to a query the one the collector got from SQLite?
 * Pure: canonical rows in (normalise.ts), a verdict out.
 *
 * - Rows whose ORDER BY keys are equal (all rows, without ORDER BY) form a tie group; groups are
 *   compared in order, the rows inside a group as a multiset: neither engine promises an order there.
 * - `unstable`: the query does not determine its answer. SQLite's two runs (the second with its
 *   scans reversed) returned different rows, or a LIMIT cuts through a tie group and PostgreSQL
 *   kept other rows of it. PostgreSQL's answer is still checked: it must be one SQLite could give.
 * - `null-order`: the answers are equal once SQLite's rows are put in PostgreSQL's NULL order
 *   (SQLite sorts NULL first ascending and last descending, PostgreSQL the opposite, so an
 *   `ORDER BY activity_score DESC` without NULLS LAST starts with the NULLs on PostgreSQL).
 * - `different`: anything else; the first differing rows are listed with the columns that differ.
 */
import { approximatelyEqual, secondsBetween, type Cell, type Row } from "./normalise";

export type VerdictKind = "equal" | "null-order" | "unstable" | "different";

export interface ShapeColumn {
    readonly name: string;
    /** SUM/AVG compared within rounding: the operation, declared scale and the index of the column counting its rows. */
    readonly approx?: { readonly op: "sum" | "avg"; readonly scale: number; readonly countIndex?: number };
    /** A timestamptz: a difference says by how much PostgreSQL's instant is shifted. */
    readonly timestamp?: boolean;
}

/** What the comparison needs to know about a query's result. */
export interface ResultShape {
    readonly columns: readonly ShapeColumn[];
    /** ORDER BY, as output column indexes. */
    readonly order: readonly { readonly index: number; readonly desc: boolean }[];
    /** Output columns naming a row, to pair a changed row; empty: rows pair by position. */
    readonly key: readonly number[];
    /** The LIMIT, when the query has one. */
    readonly limit?: number;
}

export interface ColumnDifference {
    readonly column: string;
    readonly sqlite: Cell;
    readonly postgres: Cell;
    /** E.g. `PostgreSQL is 1 h later` for a shifted clock. */
    readonly note?: string;
}

export interface Difference {
    readonly kind: "changed" | "missing-in-postgres" | "extra-in-postgres" | "order";
    /** The row's key columns (or, for `order`, the ORDER BY values where the order parts). */
    readonly key: Readonly<Record<string, Cell>>;
    /** `changed`: the columns that differ. */
    readonly columns?: readonly ColumnDifference[];
    /** `missing-in-postgres` / `extra-in-postgres`: the whole row. */
    readonly row?: Readonly<Record<string, Cell>>;
}

export interface Verdict {
    readonly kind: VerdictKind;
    /** Why, in a sentence, when not plainly equal. */
    readonly reason?: string;
    /** Rows changed, missing from and extra in PostgreSQL (`different` only). */
    readonly counts?: { readonly changed: number; readonly missing: number; readonly extra: number };
    readonly differences: readonly Difference[];
}

export interface Answers {
    /** SQLite's two runs: as written, and with its unordered scans reversed. */
    readonly sqlite: readonly [readonly Row[], readonly Row[]];
    /** PostgreSQL's two runs. */
    readonly postgres: readonly [readonly Row[], readonly Row[]];
    /** SQLite's answer without the LIMIT (asked only when a limited answer must be checked as a valid top-n). */
    readonly candidates?: () => readonly Row[];
}

const SHOWN_DIFFERENCES = 5;

export function judge(shape: ResultShape, answers: Answers, shown = SHOWN_DIFFERENCES): Verdict {
    const [first, second] = answers.sqlite;
    const [pg, pgAgain] = answers.postgres;
    const sqliteSettled = sameGroups(shape, first, second);
    const pgSettled = sameGroups(shape, pg, pgAgain);
    if (sameGroups(shape, first, pg) || (!sqliteSettled && sameGroups(shape, second, pg))) {
        if (sqliteSettled && pgSettled) return { kind: "equal", differences: [] };
        const side = sqliteSettled ? "PostgreSQL's" : "SQLite's";
        return unstable(`${side} two runs returned different rows; PostgreSQL's answer is one SQLite gives`);
    }
    const nulls = (rows: readonly Row[]) => shape.order.length > 0 && rows.some((r) => shape.order.some((o) => r[o.index] === null));
    if (shape.limit !== undefined && answers.candidates) {
        const full = answers.candidates();
        if (validTopN(shape, full, pg)) {
            const cut = shape.order.length ? "cuts through rows the ORDER BY leaves tied" : "without ORDER BY";
            return unstable(`LIMIT ${shape.limit} ${cut}: PostgreSQL returned other rows, as SQLite could`);
        }
        if (nulls(full) && validTopN(shape, withPostgresNulls(full, shape.order), pg)) return nullOrder(shape);
    } else if (nulls(first) && sameGroups(shape, withPostgresNulls(first, shape.order), pg)) return nullOrder(shape);
    return different(shape, first, pg, shown);
}

function unstable(reason: string): Verdict {
    return { kind: "unstable", reason, differences: [] };
}

function nullOrder(shape: ResultShape): Verdict {
    const keys = shape.order.map((o) => `${shape.columns[o.index].name}${o.desc ? " DESC" : ""}`).join(", ");
    return { kind: "null-order", reason: `equal once NULLs of ORDER BY ${keys} are placed as PostgreSQL places them`, differences: [] };
}

function different(shape: ResultShape, sqlite: readonly Row[], pg: readonly Row[], shown: number): Verdict {
    const { counts, differences } = differencesOf(shape, sqlite, pg, shown);
    const reason =
        counts.changed + counts.missing + counts.extra === 0
            ? "the same rows in another order"
            : `${counts.changed} changed, ${counts.missing} missing in PostgreSQL, ${counts.extra} extra in PostgreSQL`;
    return { kind: "different", reason, counts, differences };
}

/** Whether two cells of column `c` agree (SUM/AVG within rounding, anything else exactly). */
function cellsEqual(shape: ResultShape, c: number, a: Row, b: Row): boolean {
    const approx = shape.columns[c].approx;
    if (!approx) return a[c] === b[c];
    const rows = approx.countIndex === undefined ? 1 : Number(a[approx.countIndex] ?? 1);
    return approximatelyEqual(a[c], b[c], { op: approx.op, scale: approx.scale, rows });
}

export function rowsEqual(shape: ResultShape, a: Row, b: Row): boolean {
    if (a.length !== b.length) return false;
    for (let c = 0; c < a.length; c++) if (!cellsEqual(shape, c, a, b)) return false;
    return true;
}

/** A row's cells as one string; SUM/AVG cells left out (they pair by the other cells). */
function exactText(shape: ResultShape, row: Row): string {
    return JSON.stringify(row.filter((_, c) => !shape.columns[c]?.approx));
}

const orderText = (shape: ResultShape, row: Row) => JSON.stringify(shape.order.map((o) => row[o.index]));

/** Runs of rows with equal ORDER BY values, in order; one group of every row without ORDER BY. */
export function tieGroups(shape: ResultShape, rows: readonly Row[]): Row[][] {
    const groups: Row[][] = [];
    let last: string | undefined;
    for (const row of rows) {
        const key = orderText(shape, row);
        if (key === last) groups[groups.length - 1].push(row);
        else groups.push([row]);
        last = key;
    }
    return groups;
}

/** Whether two lists hold the same rows, in any order. */
export function sameMultiset(shape: ResultShape, a: readonly Row[], b: readonly Row[]): boolean {
    if (a.length !== b.length) return false;
    const byText = (rows: readonly Row[]) =>
        rows.map((r) => ({ r, t: exactText(shape, r) })).sort((x, y) => (x.t < y.t ? -1 : x.t > y.t ? 1 : 0));
    const [x, y] = [byText(a), byText(b)];
    return x.every((e, i) => e.t === y[i].t && rowsEqual(shape, e.r, y[i].r));
}

/** Whether two answers agree: the same tie groups in the same order, each holding the same rows. */
export function sameGroups(shape: ResultShape, a: readonly Row[], b: readonly Row[]): boolean {
    if (a.length !== b.length) return false;
    const [ga, gb] = [tieGroups(shape, a), tieGroups(shape, b)];
    return (
        ga.length === gb.length &&
        ga.every((g, i) => orderText(shape, g[0]) === orderText(shape, gb[i][0]) && sameMultiset(shape, g, gb[i]))
    );
}

/**
 * Whether `pg` is an answer the limited query could give when `full` is its whole answer in order:
 * the first `limit` rows of `full`, except that the last tie group may hold any of `full`'s rows
 * with its ORDER BY values (a LIMIT without ORDER BY: any `limit` of the rows).
 */
export function validTopN(shape: ResultShape, full: readonly Row[], pg: readonly Row[]): boolean {
    const expected = full.slice(0, shape.limit);
    if (pg.length !== expected.length) return false;
    if (pg.length === 0) return true;
    const [ge, gp] = [tieGroups(shape, expected), tieGroups(shape, pg)];
    if (ge.length !== gp.length) return false;
    const last = ge.length - 1;
    for (let i = 0; i < last; i++)
        if (orderText(shape, ge[i][0]) !== orderText(shape, gp[i][0]) || !sameMultiset(shape, ge[i], gp[i])) return false;
    const cutKey = orderText(shape, ge[last][0]);
    if (orderText(shape, gp[last][0]) !== cutKey) return false;
    return isSubMultiset(
        gp[last],
        full.filter((r) => orderText(shape, r) === cutKey),
    );
}

/** Whether every row of `part` is in `whole` (as often). Limited queries have no SUM/AVG, so cells compare exactly. */
function isSubMultiset(part: readonly Row[], whole: readonly Row[]): boolean {
    const available = new Map<string, number>();
    for (const r of whole) available.set(JSON.stringify(r), (available.get(JSON.stringify(r)) ?? 0) + 1);
    for (const r of part) {
        const n = available.get(JSON.stringify(r)) ?? 0;
        if (n === 0) return false;
        available.set(JSON.stringify(r), n - 1);
    }
    return true;
}

/**
 * SQLite's sorted rows re-sorted with PostgreSQL's NULL placement: within each run of equal
 * earlier keys, the NULLs of a key SQLite put first (ASC) go last, and the other way round for DESC.
 */
export function withPostgresNulls(rows: readonly Row[], order: ResultShape["order"], depth = 0): Row[] {
    if (depth >= order.length) return [...rows];
    const { index, desc } = order[depth];
    const nulls = withPostgresNulls(
        rows.filter((r) => r[index] === null),
        order,
        depth + 1,
    );
    const values: Row[] = [];
    let run: Row[] = [];
    for (const r of rows.filter((x) => x[index] !== null)) {
        if (run.length && run[0][index] !== r[index]) {
            values.push(...withPostgresNulls(run, order, depth + 1));
            run = [];
        }
        run.push(r);
    }
    values.push(...withPostgresNulls(run, order, depth + 1));
    return desc ? [...nulls, ...values] : [...values, ...nulls];
}

/**
 * The rows that differ: paired by key (or by position without one), SQLite's order first; when
 * both hold the same rows, where the order parts.
 */
export function differencesOf(shape: ResultShape, sqlite: readonly Row[], pg: readonly Row[], shown = SHOWN_DIFFERENCES) {
    const keyOf = (r: Row, i: number) => (shape.key.length ? JSON.stringify(shape.key.map((k) => r[k])) : String(i));
    const pgByKey = new Map<string, Row[]>();
    pg.forEach((r, i) => pgByKey.set(keyOf(r, i), [...(pgByKey.get(keyOf(r, i)) ?? []), r]));
    const differences: Difference[] = [];
    const counts = { changed: 0, missing: 0, extra: 0 };
    const note = (d: Difference) => {
        if (differences.length < shown) differences.push(d);
    };
    sqlite.forEach((r, i) => {
        const k = keyOf(r, i);
        const candidates = pgByKey.get(k);
        if (!candidates?.length) {
            counts.missing++;
            note({ kind: "missing-in-postgres", key: keyRecord(shape, r), row: rowRecord(shape, r) });
            return;
        }
        const same = candidates.findIndex((p) => rowsEqual(shape, r, p));
        const match = candidates.splice(same >= 0 ? same : 0, 1)[0];
        if (same < 0) {
            counts.changed++;
            note({ kind: "changed", key: keyRecord(shape, r), columns: columnDifferences(shape, r, match) });
        }
    });
    for (const rest of pgByKey.values())
        for (const r of rest) {
            counts.extra++;
            note({ kind: "extra-in-postgres", key: keyRecord(shape, r), row: rowRecord(shape, r) });
        }
    if (differences.length === 0) {
        const at = firstOrderDifference(shape, sqlite, pg);
        if (at) differences.push(at);
    }
    return { counts, differences };
}

function firstOrderDifference(shape: ResultShape, sqlite: readonly Row[], pg: readonly Row[]): Difference | undefined {
    const [gs, gp] = [tieGroups(shape, sqlite), tieGroups(shape, pg)];
    for (let i = 0; i < Math.max(gs.length, gp.length); i++) {
        const [s, p] = [gs[i]?.[0], gp[i]?.[0]];
        if (s && p && orderText(shape, s) === orderText(shape, p) && sameMultiset(shape, gs[i], gp[i])) continue;
        const row = s ?? p;
        const key = Object.fromEntries(shape.order.map((o) => [shape.columns[o.index].name, row[o.index]]));
        const columns = shape.order.map((o) => ({
            column: shape.columns[o.index].name,
            sqlite: s?.[o.index] ?? null,
            postgres: p?.[o.index] ?? null,
        }));
        return { kind: "order", key, columns };
    }
    return undefined;
}

function columnDifferences(shape: ResultShape, s: Row, p: Row): ColumnDifference[] {
    const out: ColumnDifference[] = [];
    shape.columns.forEach((col, c) => {
        if (cellsEqual(shape, c, s, p)) return;
        const shift = col.timestamp ? secondsBetween(s[c], p[c]) : undefined;
        out.push({ column: col.name, sqlite: s[c], postgres: p[c], ...(shift ? { note: describeShift(shift) } : {}) });
    });
    return out;
}

/** `PostgreSQL is 1 h later`, `... 30 s earlier`. */
export function describeShift(seconds: number): string {
    const size = Math.abs(seconds);
    const amount = size % 3600 === 0 ? `${size / 3600} h` : size % 60 === 0 ? `${size / 60} min` : `${size} s`;
    return `PostgreSQL is ${amount} ${seconds > 0 ? "later" : "earlier"}`;
}

function keyRecord(shape: ResultShape, row: Row): Record<string, Cell> {
    return Object.fromEntries(shape.key.map((k) => [shape.columns[k].name, row[k]]));
}

function rowRecord(shape: ResultShape, row: Row): Record<string, Cell> {
    return Object.fromEntries(shape.columns.map((c, i) => [c.name, row[i]]));
}
