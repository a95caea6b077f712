/**
 * Defects in single values: NaN and exponent text, precision limits, explicit
 * NULLs over app defaults, odd datetimes, invalid JSON, non-0/1 booleans.
 */
import { isoText, parseNaiveText } from "./clock";
import type { DefectKit } from "./defectKit";
import { targetTable } from "../../migration/schema/tables";
import type { GeneratedTable } from "./variants";

type Target = readonly [table: GeneratedTable, column: string];

/** NaN (stored by SQLite as NULL) in nullable numerics, and numbers stored as TEXT in numeric columns. */
export function plantNanAndExponent(kit: DefectKit): void {
    const nan: Target[] = [
        ["trades", "price_usd"],
        ["pools", "reserve_usd"],
        ["new_pools_history", "base_token_price_usd"],
        ["new_pools_history", "fdv_usd"],
    ];
    for (const [table, column] of nan) {
        // SQLite stores a bound NaN as NULL: what the collector's float('nan') became.
        for (const row of kit.pick(table, 2, `${column} IS NOT NULL`))
            kit.update("nan-and-exponent", "nan", table, row, { [column]: null });
    }
    const text: (readonly [table: GeneratedTable, column: string, values: readonly string[]])[] = [
        ["trades", "price_usd", ["1.5e-7", "3.04E-8"]],
        ["trades", "volume_usd", ["987.07"]],
        ["ohlcv_data", "close_price", ["3.04E-8", "1.5e-7"]],
        ["pools", "reserve_usd", ["987.07"]],
        ["new_pools_history", "base_token_price_usd", ["3.04E-8"]],
    ];
    for (const [table, column, values] of text) {
        kit.pick(table, values.length).forEach((row, i) =>
            kit.textNumber("nan-and-exponent", "text-number", table, row, column, values[i]),
        );
    }
}

/**
 * Values that just fit the target's NUMERIC(p,s) column and values that overflow it (too
 * many integer digits), from the target schema itself so they follow its types. The
 * SQLite file accepts anything; what matters is what PostgreSQL can hold exactly.
 */
export function plantPrecisionLimit(kit: DefectKit): void {
    const cases: readonly Target[] = [
        ["new_pools_history", "price_change_percentage_h24"], // NUMERIC(10,4): 866,222.818 was seen in a real file
        ["new_pools_history", "base_token_price_native_currency"],
        ["pools", "activity_score"],
        ["trades", "volume_usd"],
        ["trades", "from_token_amount"], // memecoin amounts: 10^12 and more
        ["collection_metadata", "total_execution_time"], // a long-lived collector's running total gets there
    ];
    for (const [table, column] of cases) {
        if (!kit.has(table, column)) continue;
        const digits = targetIntegerDigits(table, column);
        const rows = kit.pick(table, 3, `${column} IS NOT NULL`);
        if (rows[0]) kit.update("precision-limit", "near-limit", table, rows[0], { [column]: Number(`9.87654321e${digits - 1}`) });
        if (rows[1]) kit.update("precision-limit", "overflow", table, rows[1], { [column]: Number(`1.2345678e${digits}`) });
        if (rows[2]) kit.update("precision-limit", "overflow", table, rows[2], { [column]: Number(`-2.5e${digits}`) });
    }
}

/** Integer digits (precision - scale) of a numeric column of the target schema. */
export function targetIntegerDigits(table: string, column: string): number {
    const type = targetTable(table).columns.find((c) => c.name === column)?.type;
    if (type?.kind !== "numeric") throw new Error(`target ${table}.${column} is not numeric`);
    return type.precision - type.scale;
}

/** Explicit NULL where the application normally writes its default. */
export function plantNullDefaults(kit: DefectKit): void {
    for (const column of ["discovery_source", "collection_priority"]) {
        if (!kit.has("pools", column)) continue;
        for (const row of kit.pick("pools", 3, `${column} IS NOT NULL`)) {
            kit.update("null-defaults", `null-${column.replace("_", "-")}`, "pools", row, { [column]: null });
        }
    }
}

/** Hand-edited datetimes: ISO `T`, `Z`, `+00:00`, epoch seconds/milliseconds as INTEGER, empty strings. Instants are kept. */
export function plantOddDatetimes(kit: DefectKit): void {
    const d = "odd-datetimes";
    const wall = (v: unknown) => parseNaiveText(v as string);
    const set = (table: GeneratedTable, column: string, kind: string, count: number, to: (value: unknown) => string | number) => {
        if (!kit.has(table, column)) return;
        for (const row of kit.pick(table, count, `typeof(${column}) = 'text' AND ${column} <> ''`)) {
            kit.update(d, kind, table, row, { [column]: to(row.row[column]) });
        }
    };
    // block_timestamp is UTC, so Z and epoch seconds state the same instant the trade id carries.
    set("trades", "block_timestamp", "iso-z", 2, (v) => isoText(wall(v), "Z", "T", true));
    set("trades", "block_timestamp", "epoch-seconds", 2, (v) => Math.floor(wall(v) / 1e6));
    set("pools", "created_at", "offset-suffix", 2, (v) => isoText(wall(v), "+00:00", " ", true));
    set("ohlcv_data", "created_at", "epoch-milliseconds", 2, (v) => Math.floor(wall(v) / 1e3));
    set("dexes", "last_updated", "iso-t", 1, (v) => isoText(wall(v), "", "T", false));
    set("new_pools_history", "collected_at", "iso-t", 2, (v) => isoText(wall(v), "", "T", true));
    set("tokens", "last_updated", "empty-string", 2, () => "");
    set("pools", "last_activity_check", "empty-string", 2, () => "");
    set("system_alerts", "updated_at", "empty-string", 1, () => "");
}

/** metadata-style columns holding text that is not JSON. */
export function plantInvalidJson(kit: DefectKit): void {
    const cases: (readonly [table: GeneratedTable, column: string, value: string])[] = [
        ["pools", "metadata_json", "{'fee_tier': '0.25', 'pool_type': 'amm'}"],
        ["pools", "metadata_json", "None"],
        ["tokens", "metadata_json", '{"image_url": "https://assets.geckoterminal.com/'],
        ["watchlist", "metadata_json", "{'added_by': 'cli'}"],
        ["execution_history", "execution_metadata", "not json"],
        ["system_alerts", "alert_metadata", "{consecutive_failures: 3}"],
    ];
    for (const [table, column, value] of cases) {
        if (!kit.has(table, column)) continue;
        for (const row of kit.pick(table, 1)) kit.update("invalid-json", "invalid-json", table, row, { [column]: value });
    }
}

/** BOOLEAN columns with text: parseable (`yes`, `true`) and not (`maybe`). */
export function plantBadBooleans(kit: DefectKit): void {
    const cases: (readonly [table: GeneratedTable, column: string, value: string, kind: string])[] = [
        ["system_alerts", "acknowledged", "yes", "text-boolean"],
        ["system_alerts", "acknowledged", "true", "text-boolean"],
        ["system_alerts", "acknowledged", "maybe", "unparseable-boolean"],
        ["system_alerts", "resolved", "false", "text-boolean"],
        ["watchlist", "is_active", "true", "text-boolean"],
    ];
    // Old installs have no system_alerts: the watchlist carries both kinds then.
    if (!kit.has("system_alerts")) cases.push(["watchlist", "is_active", "maybe", "unparseable-boolean"]);
    for (const [table, column, value, kind] of cases) {
        if (!kit.has(table, column)) continue;
        for (const row of kit.pick(table, 1)) kit.update("bad-booleans", kind, table, row, { [column]: value });
    }
}
