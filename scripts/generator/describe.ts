/**
 * The manifest's descriptive parts: which clock each datetime column uses and
 * the schema drift a variant carries.
 */
import { itemColumn } from "./ddl";
import { rowsBeforeAlter } from "./tableWriter";
import type { DriftNote } from "./types";
import { LATE_POOL_COLUMNS, layoutFor, TABLES_MISSING_IN_OLD, type GeneratedTable, type VariantLayout } from "./variants";

/** Datetime columns written with the host's local clock (collector-facts.md, "Timezones"). */
const LOCAL_COLUMNS = new Set([
    "ohlcv_data.datetime",
    "new_pools_history.collected_at",
    "collection_metadata.last_run",
    "collection_metadata.last_success",
]);

/** Mostly UTC, sometimes local: the pool upsert is inconsistent. */
const MIXED_COLUMNS = new Set(["pools.last_updated"]);

/** `table.column` -> clock, for every DATETIME column of the layout. */
export function describeClocks(layout: VariantLayout): Record<string, "utc" | "local" | "utc+local"> {
    const clocks: Record<string, "utc" | "local" | "utc+local"> = {};
    for (const table of layout.tables) {
        const items = [...table.createItems, ...(table.late?.items ?? [])];
        for (const item of items) {
            const column = itemColumn(item);
            if (!column || !/ DATETIME\b/.test(item)) continue;
            const name = `${table.name}.${column}`;
            clocks[name] = LOCAL_COLUMNS.has(name) ? "local" : MIXED_COLUMNS.has(name) ? "utc+local" : "utc";
        }
    }
    return clocks;
}

/** How the variant's schema differs from the current one. */
export function describeDrift(layout: VariantLayout, counts: Record<GeneratedTable, number>): DriftNote[] {
    const notes: DriftNote[] = [];
    const current = new Map(layoutFor("current").tables.map((t) => [t.name, t]));
    if (layout.variant === "old") {
        for (const table of TABLES_MISSING_IN_OLD) notes.push({ kind: "missing-table", table });
        notes.push({ kind: "missing-columns", table: "dexes", columns: ["metadata_json"] });
        notes.push({ kind: "missing-columns", table: "tokens", columns: ["metadata_json"] });
        notes.push({ kind: "missing-columns", table: "pools", columns: [...LATE_POOL_COLUMNS] });
        notes.push({ kind: "old-columns", table: "watchlist", columns: ["added_at", "is_active (nullable)"] });
        notes.push({ kind: "missing-columns", table: "watchlist", columns: ["created_at", "updated_at", "metadata_json"] });
    }
    for (const table of layout.tables) {
        if (!current.has(table.name)) {
            notes.push({ kind: "unknown-table", table: table.name });
            continue;
        }
        if (!table.late) continue;
        const columns = table.late.items.map((i) => itemColumn(i)!);
        const known = current.get(table.name)!.createItems.map(itemColumn);
        notes.push({
            kind: columns.every((c) => known.includes(c)) ? "columns-added-by-alter" : "extra-columns",
            table: table.name,
            columns,
            rowsBeforeAlter: rowsBeforeAlter(counts[table.name] ?? 0, table),
        });
    }
    return notes;
}
