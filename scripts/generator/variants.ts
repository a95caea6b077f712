/**
 * Schema variants: the shapes collector databases take depending on the
 * version that created them (collector-facts.md, "Schema drift").
 */
import { COLLECTOR_TABLES, CURRENT_TABLE_ITEMS, itemColumn, type CollectorTable } from "./ddl";

/**
 * - `current`: the reference schema verbatim.
 * - `old`: an early install (old watchlist, no metadata_json on dexes/tokens, no late pool
 *   columns, no history/ops tables, an `alembic_version` table).
 * - `altered`: current, but the late pool columns were added with ALTER TABLE ADD COLUMN
 *   after some pools existed, so those rows read NULL.
 * - `extended`: current plus the later new_pools_history signal columns, an unknown
 *   table (`collector_notes`) and an unknown tokens column (`coingecko_coin_id`).
 */
export type SchemaVariant = "current" | "old" | "altered" | "extended";

export const SCHEMA_VARIANTS: readonly SchemaVariant[] = ["current", "old", "altered", "extended"];

/** Tables a generated database may contain: the collector's plus the drift extras. */
export type GeneratedTable = CollectorTable | "alembic_version" | "collector_notes";

/** Columns appended with `ALTER TABLE ... ADD COLUMN` once a fraction of the table's rows exist. */
export interface LateColumns {
    readonly items: readonly string[];
    /** Share of the table's generated rows inserted before the ALTER (those rows read NULL). */
    readonly afterFraction: number;
}

export interface TableLayout {
    readonly name: GeneratedTable;
    /** Items of the CREATE TABLE statement (columns and constraints). */
    readonly createItems: readonly string[];
    readonly late?: LateColumns;
}

export interface VariantLayout {
    readonly variant: SchemaVariant;
    /** In creation order. */
    readonly tables: readonly TableLayout[];
}

/** Late pool columns (added by a collector upgrade). */
export const LATE_POOL_COLUMNS = [
    "activity_score",
    "discovery_source",
    "collection_priority",
    "auto_discovered_at",
    "last_activity_check",
] as const;

/** Tables an old install does not have. */
export const TABLES_MISSING_IN_OLD: readonly CollectorTable[] = [
    "execution_history",
    "performance_metrics",
    "system_alerts",
    "new_pools_history",
    "discovery_metadata",
];

const OLD_WATCHLIST_ITEMS = [
    "id INTEGER NOT NULL",
    "pool_id VARCHAR(200) NOT NULL",
    "token_symbol VARCHAR(50)",
    "token_name VARCHAR(200)",
    "network_address VARCHAR(100)",
    "added_at DATETIME",
    "is_active BOOLEAN",
    "PRIMARY KEY (id)",
    "CONSTRAINT uq_watchlist_pool_id UNIQUE (pool_id)",
    "FOREIGN KEY(pool_id) REFERENCES pools (id)",
];

const ALEMBIC_ITEMS = ["version_num VARCHAR(32) NOT NULL", "CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)"];

const COLLECTOR_NOTES_ITEMS = [
    "id INTEGER NOT NULL",
    "pool_id VARCHAR(100)",
    "author VARCHAR(50)",
    "note TEXT",
    "created_at DATETIME",
    "PRIMARY KEY (id)",
];

/** The later new_pools_history signal columns some installs added. */
export const EXTENDED_HISTORY_ITEMS = [
    "signal_score NUMERIC(10, 4)",
    "volume_trend VARCHAR(20)",
    "liquidity_trend VARCHAR(20)",
    "momentum_indicator NUMERIC(10, 4)",
    "activity_score NUMERIC(10, 4)",
    "volatility_score NUMERIC(10, 4)",
];

const without = (items: readonly string[], columns: readonly string[]) => items.filter((item) => !columns.includes(itemColumn(item) ?? ""));

const only = (items: readonly string[], columns: readonly string[]) => items.filter((item) => columns.includes(itemColumn(item) ?? ""));

/** The tables, their CREATE items and late columns for a variant. */
export function layoutFor(variant: SchemaVariant): VariantLayout {
    const current = (name: CollectorTable): TableLayout => ({ name, createItems: CURRENT_TABLE_ITEMS[name] });
    const poolLate = only(CURRENT_TABLE_ITEMS.pools, LATE_POOL_COLUMNS);
    switch (variant) {
        case "current":
            return { variant, tables: COLLECTOR_TABLES.map(current) };
        case "old": {
            const tables: TableLayout[] = COLLECTOR_TABLES.filter((t) => !TABLES_MISSING_IN_OLD.includes(t)).map((name) => {
                if (name === "dexes" || name === "tokens") {
                    return { name, createItems: without(CURRENT_TABLE_ITEMS[name], ["metadata_json"]) };
                }
                if (name === "pools") return { name, createItems: without(CURRENT_TABLE_ITEMS.pools, LATE_POOL_COLUMNS) };
                if (name === "watchlist") return { name, createItems: OLD_WATCHLIST_ITEMS };
                return current(name);
            });
            return { variant, tables: [{ name: "alembic_version", createItems: ALEMBIC_ITEMS }, ...tables] };
        }
        case "altered":
            return {
                variant,
                tables: COLLECTOR_TABLES.map((name) =>
                    name === "pools"
                        ? {
                              name,
                              createItems: without(CURRENT_TABLE_ITEMS.pools, LATE_POOL_COLUMNS),
                              late: { items: poolLate, afterFraction: 0.4 },
                          }
                        : current(name),
                ),
            };
        case "extended": {
            const tables: TableLayout[] = COLLECTOR_TABLES.map((name) => {
                if (name === "new_pools_history") {
                    return { ...current(name), late: { items: EXTENDED_HISTORY_ITEMS, afterFraction: 0.5 } };
                }
                if (name === "tokens") return { ...current(name), late: { items: ["coingecko_coin_id TEXT"], afterFraction: 0.6 } };
                return current(name);
            });
            return { variant, tables: [...tables, { name: "collector_notes", createItems: COLLECTOR_NOTES_ITEMS }] };
        }
    }
}

/** Column names of a table's CREATE statement, plus its late columns when `withLate`. */
export function layoutColumns(table: TableLayout, withLate = true): string[] {
    const items = withLate && table.late ? [...table.createItems, ...table.late.items] : table.createItems;
    return items.map(itemColumn).filter((c): c is string => c !== null);
}

/** The table's layout, or undefined when the variant lacks it. */
export function findTable(layout: VariantLayout, name: GeneratedTable): TableLayout | undefined {
    return layout.tables.find((t) => t.name === name);
}

/** Whether the variant's table ends up with `column` (after any ALTERs). */
export function hasColumn(layout: VariantLayout, table: GeneratedTable, column: string): boolean {
    const t = findTable(layout, table);
    return t !== undefined && layoutColumns(t).includes(column);
}
