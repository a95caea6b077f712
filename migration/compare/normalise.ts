/**
 * Query results as the collector would see them: one canonical text per cell, so an answer
 * from the SQLite file and one from PostgreSQL can be compared value by value. Pure.
 *
 * - A SQLite value goes through the migration's own converter for its column (docs/conversion.md):
 *   a REAL with float noise becomes its NUMERIC at the declared scale, a naive DATETIME the instant
 *   its column's clock says, 0/1 a boolean. A NULL in a NOT NULL column with an application
 *   default becomes that default, as the copy fills it.
 * - A PostgreSQL value arrives as the server's output text and is brought to the same form:
 *   `t`/`f` -> `true`/`false`, a timestamptz in any session TimeZone -> UTC (`...+00`).
 * - A timestamp of a local-clock column is compared as its wall clock in that clock's zone
 *   (`2025-11-02 01:30:00 local`): the file holds only the wall clock, so in the repeated hour of a
 *   DST fall-back it cannot say which of two instants it meant, and PostgreSQL, which can (the
 *   row's epoch decided it: evidence.ts), is right either way.
 * - SUM and AVG are compared as numbers, within what rounding the inputs to their declared
 *   scale can move them (SQLite adds the stored doubles, PostgreSQL the rounded numerics).
 */
import type { FieldConverter, RawValue } from "../data/convert/result";
import { formatTimestamp, parseTimestamp } from "../data/convert/timestamp";
import { wallClockText } from "./query";
import type { ColumnType, TargetColumn } from "../schema/types";

/** A canonical cell: the value's text as PostgreSQL prints it in UTC, or NULL. */
export type Cell = string | null;
export type Row = readonly Cell[];

/** How one output column of a query is read on each side. */
export type OutputColumn =
    /** A stored value (or MIN/MAX of one, or a time bucket of one): `column` gives its type and clock. */
    | { readonly name: string; readonly kind: "value"; readonly table: string; readonly column: TargetColumn }
    /** A column the source file lacks: the migration filled `value` into every row. */
    | { readonly name: string; readonly kind: "fill"; readonly value: Cell; readonly type: ColumnType }
    /** SUM or AVG of a numeric column of declared `scale`; `count` names the output column counting its rows. */
    | { readonly name: string; readonly kind: "approx"; readonly op: "sum" | "avg"; readonly scale: number; readonly count?: string };

/** Converts one source value of `column` (its clock from `table`), as the migration does. */
export type ConverterFor = (table: string, column: TargetColumn) => FieldConverter;

export interface CellNormaliser {
    sqlite(raw: RawValue): Cell;
    postgres(text: string | null): Cell;
}

/** Marks a source value the migration's converter refuses; it can never equal a PostgreSQL value. */
export const REJECTED_PREFIX = "\u26a0 not convertible: ";

const BIGINT: TargetColumn = { name: "count", type: { kind: "bigint" }, nullable: true };

/** An output column holding COUNT(...). */
export function countColumn(name: string): OutputColumn {
    return { name, kind: "value", table: "", column: BIGINT };
}

/** The zone of a column's clock (`UTC` for a UTC column). */
export type ZoneOf = (table: string, column: string) => string;

export function normaliserFor(column: OutputColumn, converterFor: ConverterFor, zoneOf?: ZoneOf): CellNormaliser {
    switch (column.kind) {
        case "value": {
            const n = valueNormaliser(column.column, converterFor(column.table, column.column));
            const zone = column.column.type.kind === "timestamptz" ? zoneOf?.(column.table, column.column.name) : undefined;
            return zone && zone !== "UTC"
                ? { sqlite: (raw) => wallClock(n.sqlite(raw), zone), postgres: (text) => wallClock(n.postgres(text), zone) }
                : n;
        }
        case "fill":
            return { sqlite: () => column.value, postgres: (text) => postgresCell(column.type, text) };
        case "approx":
            return { sqlite: (raw) => (raw === null ? null : String(raw)), postgres: (text) => text };
    }
}

function valueNormaliser(column: TargetColumn, convert: FieldConverter): CellNormaliser {
    const nullFill = column.nullable ? undefined : (column.appDefault?.nullFill ?? column.appDefault?.fill ?? undefined);
    return {
        sqlite(raw) {
            const converted = convert(raw);
            let cell: Cell;
            if (converted === null || typeof converted === "string") cell = converted;
            else if (converted.ok) cell = converted.value;
            else return REJECTED_PREFIX + converted.reason;
            return cell === null && nullFill !== undefined ? nullFill : cell;
        },
        postgres: (text) => postgresCell(column.type, text),
    };
}

/** PostgreSQL's output text of a value of `type`, in canonical form. */
export function postgresCell(type: ColumnType, text: string | null): Cell {
    if (text === null) return null;
    if (type.kind === "boolean") return text === "t" ? "true" : text === "f" ? "false" : text;
    if (type.kind === "timestamptz") return utcTimestamp(text);
    return text;
}

/** A timestamptz as printed in any session TimeZone (`... 01:00:00-05`), printed in UTC; anything else unchanged. */
export function utcTimestamp(text: string): string {
    const parsed = parseTimestamp(text);
    if (typeof parsed === "string" || parsed.kind !== "absolute") return text;
    return formatTimestamp(parsed);
}

/** A canonical timestamp as the wall clock in `zone` (anything else unchanged). */
export function wallClock(cell: Cell, zone: string): Cell {
    if (cell === null) return cell;
    const parsed = parseTimestamp(cell);
    if (typeof parsed === "string" || parsed.kind !== "absolute") return cell;
    return `${wallClockText(parsed, zone)} local`;
}

/** Seconds from one canonical timestamp to another, or undefined when either is not one. */
export function secondsBetween(from: Cell, to: Cell): number | undefined {
    if (from === null || to === null) return undefined;
    const [a, b] = [parseTimestamp(from.replace(/ local$/, "")), parseTimestamp(to.replace(/ local$/, ""))];
    if (typeof a === "string" || typeof b === "string" || a.kind !== b.kind) return undefined;
    const seconds = (t: typeof a) => (t.kind === "absolute" ? t.epochSeconds : t.localSeconds);
    return seconds(b) - seconds(a) + (b.micros - a.micros) / 1e6;
}

/** How an approximate column is compared: its operation, declared scale and the rows it aggregates. */
export interface Approximation {
    readonly op: "sum" | "avg";
    readonly scale: number;
    /** Rows aggregated (the query's count column), 1 when unknown. */
    readonly rows: number;
}

/**
 * Whether a SQLite SUM/AVG (over doubles) and a PostgreSQL one (over numerics rounded to `scale`)
 * agree: each input moved by at most half a unit of the scale, so a sum by `rows` such halves and
 * an average by one; the doubles' own summation error comes on top.
 */
export function approximatelyEqual(a: Cell, b: Cell, approx: Approximation): boolean {
    if (a === null || b === null) return a === b;
    const [x, y] = [Number(a), Number(b)];
    if (!Number.isFinite(x) || !Number.isFinite(y)) return a === b;
    const rows = Math.max(1, approx.rows);
    const rounding = (approx.op === "sum" ? rows : 1) * 0.5 * 10 ** -approx.scale;
    const floatError = Math.max(Math.abs(x), Math.abs(y)) * (rows + 1) * Number.EPSILON;
    return Math.abs(x - y) <= rounding + floatError;
}
