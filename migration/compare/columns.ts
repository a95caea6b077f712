/**
 * The columns the collector reads from a table, as each side selects them. Its ORM names every
 * mapped column in a SELECT, and the target holds the union of its two model sets
 * (migration/schema/tables.ts), so "every mapped column" is the target table's own columns:
 * selected by name on PostgreSQL, and on SQLite by the source column that feeds each one (a
 * renamed one under its old name, one the file lacks as the value the migration filled in).
 * Pure.
 */
import type { TableMapping } from "../data/plan/tableMapping";
import { ident, sqliteIdent } from "../postgres/sql";
import { targetTable } from "../schema/tables";
import type { TargetColumn } from "../schema/types";
import type { OutputColumn } from "./normalise";

/** One output column: its select expression in each dialect and how its cells are read. */
export interface SelectedColumn {
    readonly sqlite: string;
    readonly postgres: string;
    readonly output: OutputColumn;
}

/** Every column the collector's models map, in the target's order; identity columns the file lacks are left out. */
export function mappedColumns(mapping: TableMapping): SelectedColumn[] {
    const table = mapping.target.name;
    const collectors = new Set(targetTable(table).columns.map((c) => c.name));
    return mapping.columns
        .filter((c) => collectors.has(c.target.name))
        .map(({ target, source }) => {
            const name = ident(target.name);
            if (source.kind === "fill")
                return {
                    sqlite: `NULL AS ${name}`,
                    postgres: name,
                    output: { name: target.name, kind: "fill", value: source.value, type: target.type },
                };
            const from = sqliteIdent(source.name);
            return {
                sqlite: source.name === target.name ? from : `${from} AS ${name}`,
                postgres: name,
                output: { name: target.name, kind: "value", table, column: target },
            };
        });
}

/** A value column computed from `column` of `table` (MIN/MAX of it, a time bucket of it) under another name. */
export function derivedColumn(name: string, table: string, column: string): OutputColumn {
    return { name, kind: "value", table, column: columnOf(table, column) };
}

export function columnOf(table: string, column: string): TargetColumn {
    const c = targetTable(table).columns.find((x) => x.name === column);
    if (!c) throw new Error(`compare: ${table} has no column ${column}`);
    return { ...c, name: column, nullable: true };
}

/** Whether the source file has `column` of `table` (not filled by the migration). */
export function sourceHas(mappings: ReadonlyMap<string, TableMapping>, table: string, column?: string): boolean {
    const m = mappings.get(table);
    if (!m?.source) return false;
    return column === undefined || m.columns.some((c) => c.target.name === column && c.source.kind === "column");
}

/** The source's name of a target column (old files name watchlist.created_at `added_at`). */
export function sourceName(mapping: TableMapping, column: string): string {
    const c = mapping.columns.find((x) => x.target.name === column);
    return c?.source.kind === "column" ? c.source.name : column;
}
