/**
 * The twelve collector tables as they exist in PostgreSQL, as data.
 *
 * Column names are the collector's own (it runs unchanged against the result).
 * Types: DATETIME -> timestamptz, NUMERIC(p,s) -> numeric(p,s), BOOLEAN -> boolean,
 * JSON TEXT -> jsonb, VARCHAR(n) -> varchar(n), BIGINT -> bigint, rowid-alias
 * `id INTEGER` -> bigint identity (BY DEFAULT: the copy inserts explicit ids, the
 * collector's inserts without id take the sequence), other INTEGER -> integer.
 *
 * ## trades is not partitioned
 * The collector ingests trades with `INSERT ... ON CONFLICT (id) DO NOTHING`. That
 * needs a unique index on (id) alone, and every unique index of a partitioned table
 * must contain the partition key, so partitioning trades by block_timestamp would
 * make the collector's statement fail ("there is no unique or exclusion constraint
 * matching the ON CONFLICT specification"). The only partitioning keeping the
 * statement valid is by id itself (HASH(id)), which brings none of the benefits of
 * time partitioning (no pruning on block_timestamp, no dropping of old months) and
 * multiplies index probes for the per-pool reads. So trades stays one table with
 * PRIMARY KEY (id) and time indexes. See TRADES_PARTITIONING_NOTE.
 *
 * ## ohlcv_data is partitioned by month on `timestamp`
 * RANGE on the epoch `timestamp` (bigint, true UTC epoch, NOT NULL), monthly UTC
 * ranges over the data span plus a DEFAULT partition. The primary key becomes
 * (id, timestamp) and uq_ohlcv_pool_timeframe_timestamp already contains the
 * partition key, so the collector's `ON CONFLICT (pool_id, timeframe, timestamp)`
 * stays valid. A source row whose timestamp is NULL or not an integer cannot be
 * placed in a partition and violates NOT NULL: the copy quarantines it.
 *
 * ## Clocks after cutover (the database TimeZone is UTC, the collector sends naive timestamps)
 * See CLOCKS_AFTER_CUTOVER: a naive value is read in the session TimeZone (UTC), so
 * a column the collector fills with host-local wall-clock time is stored shifted by
 * the host's UTC offset unless the collector host runs with TZ=UTC. Historic rows are
 * converted by the copy with the measured offset; new rows are not.
 */
import type { AppDefault, ColumnType, TargetColumn, TargetTable } from "./types";

/** Version recorded in gecko_migration.schema_version for the DDL generated from this file (2: idx_new_pools_history_dex_id). */
export const SCHEMA_VERSION = 2;

const varchar = (n: number): ColumnType => ({ kind: "text", maxLength: n });
const text: ColumnType = { kind: "text" };
const integer: ColumnType = { kind: "integer" };
const bigint: ColumnType = { kind: "bigint" };
const numeric = (precision: number, scale: number): ColumnType => ({ kind: "numeric", precision, scale });
const timestamptz: ColumnType = { kind: "timestamptz" };
const boolean: ColumnType = { kind: "boolean" };
const jsonb: ColumnType = { kind: "jsonb" };

function col(name: string, type: ColumnType, nullable = true, appDefault?: AppDefault): TargetColumn {
    return appDefault ? { name, type, nullable, appDefault } : { name, type, nullable };
}
const id = (): TargetColumn => ({ name: "id", type: bigint, nullable: false, identity: true });

// App defaults the collector relies on; `fill` is canonical text for columns an old source lacks.
const NOW: AppDefault = { sql: "now()", fill: null }; // we don't invent times
const EMPTY_JSON: AppDefault = { sql: "'{}'::jsonb", fill: "{}" };
const ZERO_INT: AppDefault = { sql: "0", fill: "0" };
const zeroNumeric = (scale: number): AppDefault => ({ sql: "0", fill: (0).toFixed(scale) });
const hundred = (scale: number): AppDefault => ({ sql: "100", fill: (100).toFixed(scale) });
const bool = (v: boolean): AppDefault => ({ sql: String(v), fill: String(v) });
const str = (v: string): AppDefault => ({ sql: `'${v}'`, fill: v });

const collectionMetadata: TargetTable = {
    name: "collection_metadata",
    columns: [
        col("collector_type", varchar(50), false),
        col("last_run", timestamptz),
        col("last_success", timestamptz),
        col("run_count", integer, true, ZERO_INT),
        col("error_count", integer, true, ZERO_INT),
        col("last_error", text),
        col("total_execution_time", numeric(10, 3), true, zeroNumeric(3)),
        col("total_records_collected", bigint, true, ZERO_INT),
        col("average_execution_time", numeric(10, 3), true, zeroNumeric(3)),
        col("success_rate", numeric(5, 2), true, hundred(2)),
        col("health_score", numeric(5, 2), true, hundred(2)),
        col("last_updated", timestamptz, true, NOW),
    ],
    primaryKey: ["collector_type"],
    uniques: [],
    foreignKeys: [],
    indexes: [],
    rowKey: ["collector_type"],
};

const dexes: TargetTable = {
    name: "dexes",
    columns: [
        col("id", varchar(50), false),
        col("name", varchar(100), false),
        col("network", varchar(20), false),
        col("last_updated", timestamptz, true, NOW),
        col("metadata_json", jsonb, true, EMPTY_JSON),
    ],
    primaryKey: ["id"],
    uniques: [],
    foreignKeys: [],
    indexes: [],
    rowKey: ["id"],
};

const discoveryMetadata: TargetTable = {
    name: "discovery_metadata",
    columns: [
        id(),
        col("discovery_type", varchar(50), false),
        col("target_dex", varchar(50)),
        col("pools_discovered", integer, true, ZERO_INT),
        col("pools_filtered", integer, true, ZERO_INT),
        col("discovery_time", timestamptz, false),
        col("execution_time_seconds", numeric(10, 3)),
        col("api_calls_made", integer, true, ZERO_INT),
        col("errors_encountered", integer, true, ZERO_INT),
        col("created_at", timestamptz, true, NOW),
    ],
    primaryKey: ["id"],
    uniques: [],
    foreignKeys: [],
    indexes: [],
    rowKey: ["id"],
};

const executionHistory: TargetTable = {
    name: "execution_history",
    columns: [
        id(),
        col("collector_type", varchar(50), false),
        col("execution_id", varchar(100), false),
        col("start_time", timestamptz, false),
        col("end_time", timestamptz),
        col("status", varchar(20), false),
        col("records_collected", integer, true, ZERO_INT),
        col("execution_time", numeric(10, 3)),
        col("error_message", text),
        col("warnings", jsonb),
        col("execution_metadata", jsonb),
        col("created_at", timestamptz, true, NOW),
    ],
    primaryKey: ["id"],
    uniques: [{ name: "execution_history_execution_id_key", columns: ["execution_id"] }],
    foreignKeys: [],
    indexes: [],
    rowKey: ["id"],
};

const newPoolsHistory: TargetTable = {
    name: "new_pools_history",
    columns: [
        id(),
        col("pool_id", varchar(255), false),
        col("type", varchar(20)),
        col("name", varchar(255)),
        col("base_token_price_usd", numeric(20, 10)),
        col("base_token_price_native_currency", numeric(20, 10)),
        col("quote_token_price_usd", numeric(20, 10)),
        col("quote_token_price_native_currency", numeric(20, 10)),
        col("address", varchar(255)),
        col("reserve_in_usd", numeric(20, 4)),
        col("pool_created_at", timestamptz),
        col("fdv_usd", numeric(20, 4)),
        col("market_cap_usd", numeric(20, 4)),
        col("price_change_percentage_h1", numeric(10, 4)),
        col("price_change_percentage_h24", numeric(10, 4)),
        col("transactions_h1_buys", integer),
        col("transactions_h1_sells", integer),
        col("transactions_h24_buys", integer),
        col("transactions_h24_sells", integer),
        col("volume_usd_h24", numeric(20, 4)),
        col("dex_id", varchar(100)),
        col("base_token_id", varchar(255)),
        col("quote_token_id", varchar(255)),
        col("network_id", varchar(50)),
        col("collected_at", timestamptz),
        // The "extended" variant's columns, always present: a superset lets both older and
        // newer collectors run; sources without them fill NULL.
        col("signal_score", numeric(10, 4)),
        col("volume_trend", varchar(20)),
        col("liquidity_trend", varchar(20)),
        col("momentum_indicator", numeric(10, 4)),
        col("activity_score", numeric(10, 4)),
        col("volatility_score", numeric(10, 4)),
    ],
    primaryKey: ["id"],
    // Serves `pool_id = ? AND collected_at >= ? ORDER BY collected_at DESC` (scanned backwards),
    // so no separate (pool_id, collected_at DESC) index.
    uniques: [{ name: "uq_new_pools_history_pool_collected", columns: ["pool_id", "collected_at"] }],
    foreignKeys: [],
    indexes: [
        // network_id = ? AND collected_at >= ? [AND signal_score >= ?]; counts per network.
        { name: "idx_new_pools_history_network_collected", columns: ["network_id", "collected_at"] },
        // Counts per dex (statistics): an index-only scan in dex order instead of hashing every row
        // (version 2; measured 4.7 -> 1.8 ms at 10k rows, and it grows with the table).
        { name: "idx_new_pools_history_dex_id", columns: ["dex_id"] },
        // Hourly statistics over a collected_at window without a network filter.
        { name: "idx_new_pools_history_collected_at", columns: ["collected_at"] },
    ],
    rowKey: ["id"],
};

const ohlcvData: TargetTable = {
    name: "ohlcv_data",
    columns: [
        id(),
        col("pool_id", varchar(100), false),
        col("timeframe", varchar(10), false),
        col("timestamp", bigint, false),
        col("open_price", numeric(30, 18), false),
        col("high_price", numeric(30, 18), false),
        col("low_price", numeric(30, 18), false),
        col("close_price", numeric(30, 18), false),
        col("volume_usd", numeric(20, 8), false),
        col("datetime", timestamptz, false),
        col("created_at", timestamptz, true, NOW),
    ],
    // The partition key must be part of every unique index of a partitioned table.
    primaryKey: ["id", "timestamp"],
    uniques: [{ name: "uq_ohlcv_pool_timeframe_timestamp", columns: ["pool_id", "timeframe", "timestamp"] }],
    foreignKeys: [{ name: "ohlcv_data_pool_id_fkey", columns: ["pool_id"], references: { table: "pools", columns: ["id"] } }],
    indexes: [
        // pool_id = ? AND timeframe = ? [AND datetime BETWEEN] ORDER BY datetime; also covers the
        // plan's (pool_id, timeframe), which the unique constraint covers as well.
        { name: "idx_ohlcv_data_pool_timeframe_datetime", columns: ["pool_id", "timeframe", "datetime"] },
        // Retention `DELETE ... WHERE datetime < ?` and MIN/MAX(datetime).
        { name: "idx_ohlcv_data_datetime", columns: ["datetime DESC"] },
    ],
    partitioning: { column: "timestamp", unit: "epoch-seconds" },
    rowKey: ["id"],
};

const performanceMetrics: TargetTable = {
    name: "performance_metrics",
    columns: [
        id(),
        col("collector_type", varchar(50), false),
        col("metric_name", varchar(100), false),
        col("metric_value", numeric(20, 8), false),
        col("timestamp", timestamptz, false),
        col("labels", jsonb),
        col("created_at", timestamptz, true, NOW),
    ],
    primaryKey: ["id"],
    uniques: [{ name: "uq_metrics_collector_metric_timestamp", columns: ["collector_type", "metric_name", "timestamp"] }],
    foreignKeys: [],
    indexes: [],
    rowKey: ["id"],
};

const pools: TargetTable = {
    name: "pools",
    columns: [
        col("id", varchar(100), false),
        col("address", varchar(100), false),
        col("name", varchar(200)),
        col("dex_id", varchar(50), false),
        col("base_token_id", varchar(100)),
        col("quote_token_id", varchar(100)),
        col("reserve_usd", numeric(20, 8)),
        col("created_at", timestamptz, true, NOW),
        col("last_updated", timestamptz, true, NOW),
        col("activity_score", numeric(5, 2)),
        col("discovery_source", varchar(20), true, str("auto")),
        col("collection_priority", varchar(10), true, str("normal")),
        col("auto_discovered_at", timestamptz),
        col("last_activity_check", timestamptz),
        col("metadata_json", jsonb, true, EMPTY_JSON),
    ],
    primaryKey: ["id"],
    uniques: [],
    foreignKeys: [{ name: "pools_dex_id_fkey", columns: ["dex_id"], references: { table: "dexes", columns: ["id"] } }],
    indexes: [
        { name: "idx_pools_dex_id", columns: ["dex_id"] }, // counts per dex; FK check on dexes delete
        { name: "idx_pools_discovery_source", columns: ["discovery_source"] },
        { name: "idx_pools_collection_priority", columns: ["collection_priority"] },
        // Discovery ranking. Note: PostgreSQL sorts NULLs first in DESC (SQLite last).
        { name: "idx_pools_activity_score", columns: ["activity_score DESC"], where: "activity_score IS NOT NULL" },
    ],
    rowKey: ["id"],
};

const systemAlerts: TargetTable = {
    name: "system_alerts",
    columns: [
        id(),
        col("alert_id", varchar(100), false),
        col("level", varchar(20), false),
        col("collector_type", varchar(50), false),
        col("message", text, false),
        col("timestamp", timestamptz, false),
        col("acknowledged", boolean, true, bool(false)),
        col("resolved", boolean, true, bool(false)),
        col("alert_metadata", jsonb),
        col("created_at", timestamptz, true, NOW),
        col("updated_at", timestamptz, true, NOW),
    ],
    primaryKey: ["id"],
    uniques: [{ name: "system_alerts_alert_id_key", columns: ["alert_id"] }],
    foreignKeys: [],
    indexes: [],
    rowKey: ["id"],
};

const tokens: TargetTable = {
    name: "tokens",
    columns: [
        col("id", varchar(100), false),
        col("address", varchar(100), false),
        col("name", varchar(200)),
        col("symbol", varchar(20)),
        col("decimals", integer),
        col("network", varchar(20), false),
        col("last_updated", timestamptz, true, NOW),
        col("metadata_json", jsonb, true, EMPTY_JSON),
    ],
    primaryKey: ["id"],
    uniques: [],
    foreignKeys: [],
    indexes: [
        { name: "idx_tokens_network", columns: ["network"] },
        { name: "idx_tokens_symbol", columns: ["symbol"] },
    ],
    rowKey: ["id"],
};

const trades: TargetTable = {
    name: "trades",
    columns: [
        col("id", varchar(200), false),
        col("pool_id", varchar(100), false),
        col("block_number", bigint),
        col("tx_hash", varchar(100)),
        col("tx_from_address", varchar(100)),
        col("from_token_amount", numeric(30, 18)),
        col("to_token_amount", numeric(30, 18)),
        col("price_usd", numeric(30, 18)),
        col("volume_usd", numeric(20, 8)),
        col("side", varchar(10)),
        col("block_timestamp", timestamptz),
        col("created_at", timestamptz, true, NOW),
    ],
    primaryKey: ["id"], // ON CONFLICT (id) DO NOTHING: why trades is not partitioned (file comment)
    uniques: [],
    foreignKeys: [{ name: "trades_pool_id_fkey", columns: ["pool_id"], references: { table: "pools", columns: ["id"] } }],
    indexes: [
        // pool_id = ? [AND block_timestamp range] ORDER BY block_timestamp DESC; per-pool stats;
        // FK check on pools delete. Replaces the plan's trades(pool_id), which it covers.
        { name: "idx_trades_pool_block_timestamp", columns: ["pool_id", "block_timestamp DESC"] },
        // Retention `DELETE ... WHERE block_timestamp < ?`, time-window reads.
        { name: "idx_trades_block_timestamp", columns: ["block_timestamp DESC"] },
        { name: "idx_trades_volume_usd", columns: ["volume_usd DESC"], where: "volume_usd > 0" },
    ],
    rowKey: ["id"],
};

const watchlist: TargetTable = {
    name: "watchlist",
    columns: [
        id(),
        col("pool_id", varchar(200), false),
        col("token_symbol", varchar(50)),
        col("token_name", varchar(200)),
        col("network_address", varchar(100)),
        // Old databases allow NULL here; SQLite's `is_active = 1` never matched those rows, so they
        // become false (not the app's default true): the collector keeps not watching them.
        col("is_active", boolean, false, { ...bool(true), nullFill: "false" }),
        col("created_at", timestamptz, true, NOW),
        col("updated_at", timestamptz, true, NOW),
        col("metadata_json", jsonb, true, EMPTY_JSON),
    ],
    primaryKey: ["id"],
    // uq_watchlist_pool_id also serves the FK check; no is_active index: the table has a handful of rows.
    uniques: [{ name: "uq_watchlist_pool_id", columns: ["pool_id"] }],
    foreignKeys: [{ name: "watchlist_pool_id_fkey", columns: ["pool_id"], references: { table: "pools", columns: ["id"] } }],
    indexes: [],
    rowKey: ["id"],
};

/** All twelve target tables, parents before children (foreign-key order). */
export const TARGET_TABLES: readonly TargetTable[] = [
    dexes,
    tokens,
    pools,
    collectionMetadata,
    discoveryMetadata,
    executionHistory,
    newPoolsHistory,
    performanceMetrics,
    systemAlerts,
    ohlcvData,
    trades,
    watchlist,
];

/** The target table named `name`; throws for an unknown name. */
export function targetTable(name: string, tables: readonly TargetTable[] = TARGET_TABLES): TargetTable {
    const t = tables.find((x) => x.name === name);
    if (!t) throw new Error(`unknown target table '${name}'`);
    return t;
}

/** Why trades is one table (for the README). */
export const TRADES_PARTITIONING_NOTE =
    "trades is not partitioned. The collector ingests trades with INSERT ... ON CONFLICT (id) DO NOTHING, " +
    "which needs a unique index on (id) alone; a unique index of a partitioned table must contain the partition key, " +
    "so partitioning by block_timestamp would break that statement. Partitioning by HASH(id) would keep it valid but " +
    "gives none of time partitioning's benefits (no pruning on block_timestamp, no dropping of old months) while " +
    "multiplying index probes for per-pool reads. trades therefore keeps PRIMARY KEY (id) with indexes on " +
    "(pool_id, block_timestamp DESC), (block_timestamp DESC) and (volume_usd DESC) WHERE volume_usd > 0.";

/** Which clock the collector writes each timestamp column in after cutover (database TimeZone UTC, naive values). */
export interface ClockNote {
    readonly columns: readonly string[];
    readonly writtenIn: "utc" | "host-local" | "server-now";
    readonly effect: string;
}

/** The README's clock table: how new rows' timestamps land after cutover. */
export const CLOCKS_AFTER_CUTOVER: readonly ClockNote[] = [
    {
        columns: ["ohlcv_data.datetime", "new_pools_history.collected_at", "collection_metadata.last_run", "collection_metadata.last_success"],
        writtenIn: "host-local",
        effect: "read as UTC: shifted by the collector host's UTC offset unless the host runs with TZ=UTC (ohlcv_data.timestamp stays the true epoch)",
    },
    {
        columns: ["trades.block_timestamp", "pools.created_at", "new_pools_history.pool_created_at"],
        writtenIn: "utc",
        effect: "correct instants",
    },
    {
        columns: ["*.created_at", "*.updated_at", "*.last_updated"],
        writtenIn: "server-now",
        effect: "correct instants when PostgreSQL fills them (DEFAULT now() or CURRENT_TIMESTAMP); pools.last_updated is sometimes sent as host-local time and is then shifted like the host-local columns",
    },
];
