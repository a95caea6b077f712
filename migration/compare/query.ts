/**
 * What a compared query is: its SQL in each dialect, how its output columns are read, its ORDER
 * BY, its row key, and the parameters of each run; how a SELECT of mapped columns is written; and
 * how a parameter is bound on each side (an instant as its column's clock writes it on SQLite,
 * as UTC on PostgreSQL). Pure.
 */
import { civilFromDays } from "../data/convert/civil";
import { formatTimestamp, type Instant } from "../data/convert/timestamp";
import { utcOffsetAt } from "../data/convert/timeZone";
import type { TableMapping } from "../data/plan/tableMapping";
import { mappedColumns, type SelectedColumn } from "./columns";
import type { OutputColumn } from "./normalise";
import type { DrawnParameters } from "./params";

export type Dialect = "sqlite" | "postgres";

/** The collector checks trade ids before an insert in lists of up to 500 (params.ts draws exactly as many). */
export const IN_LIST = 500;

export interface CompareQuery {
    /** Stable name, e.g. `ohlcv.window`. */
    readonly id: string;
    readonly title: string;
    /** Where the collector runs it: `collector-facts 2`, `ORM read by key`. */
    readonly origin: string;
    readonly sqlite: string;
    readonly postgres: string;
    readonly columns: readonly OutputColumn[];
    readonly order: readonly { readonly column: string; readonly desc: boolean }[];
    /** Output columns naming a row (empty: the answer is one row, or rows pair by position). */
    readonly key: readonly string[];
    /** The last parameter is a LIMIT. */
    readonly limited?: boolean;
}

/** A parameter: a plain value, or an instant compared with `table.column` (bound in that column's clock). */
export type Param = string | number | bigint | { readonly instant: Instant; readonly table: string; readonly column: string };

/** One run of a query: a label for the report and its parameters (several sets: the statement runs once per set). */
export interface QueryInstance {
    readonly query: CompareQuery;
    readonly label: string;
    readonly paramSets: readonly (readonly Param[])[];
    readonly limit?: number;
}

export type Mappings = ReadonlyMap<string, TableMapping>;

/** A query of the catalogue: what it needs from the source, its SQL, and its runs under the drawn parameters. */
export interface QueryDefinition {
    readonly id: string;
    /** `table` or `table.column` the source must have for the collector to run it there. */
    readonly needs: readonly string[];
    build(mappings: Mappings): CompareQuery;
    /** The runs, or why there is none. */
    instances(params: DrawnParameters): Omit<QueryInstance, "query">[] | string;
}

export interface SelectSpec {
    readonly id: string;
    readonly title: string;
    readonly origin: string;
    readonly table: string;
    /** WHERE clause with `?` placeholders, the same on both sides. */
    readonly where?: string;
    readonly order?: readonly { readonly column: string; readonly desc: boolean }[];
    readonly limited?: boolean;
    /** Output only these of the mapped columns (default all). */
    readonly only?: readonly string[];
}

/** `SELECT <every mapped column> FROM table [WHERE] [ORDER BY] [LIMIT ?]`, keyed by the table's row key. */
export function selectMapped(mappings: Mappings, spec: SelectSpec): CompareQuery {
    const mapping = mappings.get(spec.table);
    if (!mapping) throw new Error(`compare: no mapping for ${spec.table}`);
    const cols = mappedColumns(mapping).filter((c) => !spec.only || spec.only.includes(c.output.name));
    const order = spec.order ?? [];
    const tail = [
        spec.where ? ` WHERE ${spec.where}` : "",
        order.length ? ` ORDER BY ${order.map((o) => `${o.column}${o.desc ? " DESC" : ""}`).join(", ")}` : "",
        spec.limited ? " LIMIT ?" : "",
    ].join("");
    const sql = (d: Dialect) => `SELECT ${selectList(cols, d)} FROM ${spec.table}${tail}`;
    const names = cols.map((c) => c.output.name);
    return {
        id: spec.id,
        title: spec.title,
        origin: spec.origin,
        sqlite: sql("sqlite"),
        postgres: postgresPlaceholders(sql("postgres")),
        columns: cols.map((c) => c.output),
        order,
        key: mapping.target.rowKey.filter((k) => names.includes(k)),
        limited: spec.limited,
    };
}

export function selectList(cols: readonly SelectedColumn[], dialect: Dialect): string {
    return cols.map((c) => c[dialect]).join(", ");
}

/** `?` placeholders numbered `$1, $2, ...` (the catalogue's SQL holds no `?` inside a literal). */
export function postgresPlaceholders(sql: string): string {
    let n = 0;
    return sql.replace(/\?/g, () => `$${++n}`);
}

/** `?, ?, ...` for an IN list of `n` values. */
export function placeholders(n: number): string {
    return Array.from({ length: n }, () => "?").join(", ");
}

/** A run's parameters as the driver of `dialect` takes them, the LIMIT last (none: SQLite -1, PostgreSQL NULL). */
export function bindParams(
    params: readonly Param[],
    dialect: Dialect,
    zoneOf: (table: string, column: string) => string,
    limited?: { readonly limit?: number },
): unknown[] {
    const bound: unknown[] = params.map((p) => {
        if (typeof p === "object")
            return dialect === "sqlite" ? wallClockText(p.instant, zoneOf(p.table, p.column)) : formatTimestamp(p.instant);
        return dialect === "postgres" && typeof p === "bigint" ? p.toString() : p;
    });
    if (limited) bound.push(limited.limit ?? (dialect === "sqlite" ? -1 : null));
    return bound;
}

/** An instant as the collector writes it into a column of clock `zone`: `YYYY-MM-DD HH:MM:SS.ffffff`, wall clock, no offset. */
export function wallClockText(instant: Instant, zone: string): string {
    const local = instant.epochSeconds + utcOffsetAt(zone, instant.epochSeconds);
    const days = Math.floor(local / 86400);
    const { year, month, day } = civilFromDays(days);
    const s = local - days * 86400;
    const two = (n: number) => String(n).padStart(2, "0");
    const date = `${String(year).padStart(4, "0")}-${two(month)}-${two(day)}`;
    return `${date} ${two(Math.floor(s / 3600))}:${two(Math.floor((s % 3600) / 60))}:${two(s % 60)}.${String(instant.micros).padStart(6, "0")}`;
}

/** An instant parameter compared with `table.column`. */
export function at(instant: Instant, table: string, column: string): Param {
    return { instant, table, column };
}
