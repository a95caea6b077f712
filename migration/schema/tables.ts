/**
 * The twelve collector tables as they exist in PostgreSQL, as data.
 *
 * Column names are the collector's own (it runs unchanged against the result).
 * Types: DATETIME -> timestamptz, NUMERIC(p,s) -> numeric(p,s), BOOLEAN -> boolean,
 * JSON TEXT -> jsonb, VARCHAR(n) -> varchar(n), BIGINT -> bigint, rowid-alias
 * `id INTEGER` -> bigint identity (BY DEFAULT: the copy inserts explicit ids, the
 * collector's inserts without id take the sequence), other INTEGER -> integer.
 *
 * ## Two model sets, one schema (version 3)
 * The collector maps these tables with its SQLite models (collector-sqlite-schema.sql) or,
 * with a `postgresql://` URL, its PostgreSQL models (collector-postgresql-models.md). Its ORM
 * names every mapped column in each SELECT and INSERT, so every column of either set exists
 * here, with the wider type where they differ; a column only one set maps is nullable or has
 * a server DEFAULT, because the other set's INSERTs omit it. Server DEFAULTs are added only
 * where one model lacks the column (or version 2 had them): a column both map gets each
 * model's own Python-side default. Indexes: the models' on the small tables, one per distinct
 * definition and none that another index or constraint leads with; on the unbounded tables
 * (trades, ohlcv_data, new_pools_history) only those serving the collector's queries, since
 * each costs every ingest.
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
import type { AppDefault, ColumnType, IndexSpec, TargetColumn, TargetTable } from "./types";

/**
 * Version recorded in gecko_migration.schema_version for the DDL generated from this file.
 * 2: idx_new_pools_history_dex_id. 3: the union of the collector's two model sets (see
 * "Two model sets" in the file comment); `upgrade.ts` brings a version-2 database here in place.
 */
export const SCHEMA_VERSION = 3;

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

// App defaults the collector relies on; `fill` is canonical text for columns a source lacks.
const NOW: AppDefault = { sql: "now()", fill: null }; // we don't invent times: an unknown instant stays NULL
const EMPTY_JSON: AppDefault = { sql: "'{}'::jsonb", fill: "{}" };
const ZERO_INT: AppDefault = { sql: "0", fill: "0" };
const zeroNumeric = (scale: number): AppDefault => ({ sql: "0", fill: (0).toFixed(scale) });
const hundred = (scale: number): AppDefault => ({ sql: "100", fill: (100).toFixed(scale) });
const bool = (v: boolean): AppDefault => ({ sql: String(v), fill: String(v) });
const str = (v: string): AppDefault => ({ sql: `'${v}'`, fill: v });
const index = (name: string, columns: string[], where?: string): IndexSpec => (where ? { name, columns, where } : { name, columns });

// Column comments name the source of a type where the two model sets differ:
// `sqlite X | pg Y`. Widest wins: the longer varchar; for numeric the larger integer
// digits (precision - scale) plus the larger scale. `pg only` / `sqlite only` columns
// are nullable or defaulted, so the other model's INSERTs (which omit them) work.

const collectionMetadata: TargetTable = {
    name: "collection_metadata",
    columns: [
        id(), // pg only: the PostgreSQL model's surrogate key; assigned by the target, never copied
        col("collector_type", varchar(100), false), // sqlite 50 | pg 100
        col("last_run", timestamptz),
        col("last_success", timestamptz),
        col("run_count", integer, true, ZERO_INT),
        col("error_count", integer, true, ZERO_INT),
        col("last_error", text),
        col("total_execution_time", numeric(10, 3), true, zeroNumeric(3)), // sqlite only
        col("total_records_collected", bigint, true, ZERO_INT), // sqlite only
        col("average_execution_time", numeric(10, 3), true, zeroNumeric(3)), // sqlite only
        col("success_rate", numeric(5, 2), true, hundred(2)), // sqlite only
        col("health_score", numeric(5, 2), true, hundred(2)), // sqlite only
        col("last_updated", timestamptz, true, NOW), // sqlite only
        col("metadata_json", jsonb, true, EMPTY_JSON), // pg only
        col("created_at", timestamptz, true, NOW), // pg only
        col("updated_at", timestamptz, true, NOW), // pg only
    ],
    primaryKey: ["id"], // pg model; the SQLite model's key stays unique
    uniques: [{ name: "collection_metadata_collector_type_key", columns: ["collector_type"] }],
    foreignKeys: [],
    indexes: [index("idx_collection_metadata_last_run", ["last_run"])],
    rowKey: ["collector_type"],
};

const dexes: TargetTable = {
    name: "dexes",
    columns: [
        col("id", varchar(100), false), // sqlite 50 | pg 100
        col("name", varchar(200), false), // sqlite 100 | pg 200
        col("network", varchar(50), false), // sqlite 20 | pg 50
        col("last_updated", timestamptz, true, NOW),
        col("metadata_json", jsonb, true, EMPTY_JSON),
        col("created_at", timestamptz, true, NOW), // pg only
    ],
    primaryKey: ["id"],
    uniques: [],
    foreignKeys: [],
    indexes: [index("idx_dexes_name", ["name"]), index("idx_dexes_network", ["network"])],
    rowKey: ["id"],
};

const discoveryMetadata: TargetTable = {
    name: "discovery_metadata",
    columns: [
        id(),
        col("discovery_type", varchar(50), false),
        col("target_dex", varchar(50)), // sqlite only
        col("pools_discovered", integer, true, ZERO_INT),
        col("pools_filtered", integer, true, ZERO_INT),
        // sqlite only and NOT NULL there: the PostgreSQL model's INSERTs omit it, so the server fills the run's time.
        col("discovery_time", timestamptz, false, NOW),
        col("execution_time_seconds", numeric(10, 3)),
        col("api_calls_made", integer, true, ZERO_INT),
        col("errors_encountered", integer, true, ZERO_INT),
        col("created_at", timestamptz, true, NOW),
        col("metadata_json", jsonb, true, EMPTY_JSON), // pg only
    ],
    primaryKey: ["id"],
    uniques: [],
    foreignKeys: [],
    indexes: [
        index("idx_discovery_metadata_type_created", ["discovery_type", "created_at"]),
        index("idx_discovery_metadata_created_at", ["created_at"]),
    ],
    rowKey: ["id"],
};

const executionHistory: TargetTable = {
    name: "execution_history", // sqlite only (like performance_metrics and system_alerts)
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
        col("pool_id", varchar(255), false), // sqlite 255 | pg 200
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
        // NOT NULL in the pg model, nullable in the sqlite model: source rows may hold NULL.
        col("collected_at", timestamptz, true, NOW),
        // pg only (and in "extended" SQLite files): sources without them fill NULL.
        col("signal_score", numeric(10, 4)),
        col("volume_trend", varchar(20)),
        col("liquidity_trend", varchar(20)),
        col("momentum_indicator", numeric(10, 4)),
        col("activity_score", numeric(10, 4)),
        col("volatility_score", numeric(10, 4)),
        col("discovery_source", varchar(50)), // pg only
        col("api_response_data", jsonb), // pg only
    ],
    primaryKey: ["id"],
    // Serves `pool_id = ? AND collected_at >= ? ORDER BY collected_at DESC` (scanned backwards),
    // so no separate (pool_id, collected_at DESC) index; also the models' pool_id index.
    uniques: [{ name: "uq_new_pools_history_pool_collected", columns: ["pool_id", "collected_at"] }],
    foreignKeys: [],
    indexes: [
        // network_id = ? AND collected_at >= ? [AND signal_score >= ?]; counts per network (the models' network_id index).
        index("idx_new_pools_history_network_collected", ["network_id", "collected_at"]),
        // Counts per dex (statistics): an index-only scan in dex order instead of hashing every row
        // (version 2; measured 4.7 -> 1.8 ms at 10k rows, and it grows with the table).
        index("idx_new_pools_history_dex_id", ["dex_id"]),
        // Hourly statistics over a collected_at window without a network filter.
        index("idx_new_pools_history_collected_at", ["collected_at"]),
    ],
    rowKey: ["id"],
};

const ohlcvData: TargetTable = {
    name: "ohlcv_data",
    columns: [
        id(),
        col("pool_id", varchar(200), false), // sqlite 100 | pg 200
        col("timeframe", varchar(10), false),
        col("timestamp", bigint, false),
        col("open_price", numeric(30, 18), false), // sqlite (30,18) | pg (20,8)
        col("high_price", numeric(30, 18), false),
        col("low_price", numeric(30, 18), false),
        col("close_price", numeric(30, 18), false),
        col("volume_usd", numeric(26, 8), false), // sqlite (20,8) | pg (20,2)
        col("datetime", timestamptz, false),
        col("created_at", timestamptz, true, NOW), // sqlite only
        col("metadata_json", jsonb, true, EMPTY_JSON), // pg only
    ],
    // The partition key must be part of every unique index of a partitioned table.
    primaryKey: ["id", "timestamp"],
    uniques: [{ name: "uq_ohlcv_pool_timeframe_timestamp", columns: ["pool_id", "timeframe", "timestamp"] }],
    foreignKeys: [{ name: "ohlcv_data_pool_id_fkey", columns: ["pool_id"], references: { table: "pools", columns: ["id"] } }],
    indexes: [
        // pool_id = ? AND timeframe = ? [AND datetime BETWEEN] ORDER BY datetime; also the pg model's
        // idx_ohlcv_pool_timeframe_datetime and the per-pool GROUP BY timeframe.
        index("idx_ohlcv_data_pool_timeframe_datetime", ["pool_id", "timeframe", "datetime"]),
        // Retention `DELETE ... WHERE datetime < ?` and MIN/MAX(datetime); the pg model's idx_ohlcv_datetime_desc.
        index("idx_ohlcv_data_datetime", ["datetime DESC"]),
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
        col("id", varchar(200), false), // sqlite 100 | pg 200
        col("address", varchar(100), false),
        col("name", varchar(200)),
        col("dex_id", varchar(100), false), // sqlite 50 | pg 100
        col("base_token_id", varchar(200)), // sqlite 100 | pg 200
        col("quote_token_id", varchar(200)), // sqlite 100 | pg 200
        col("reserve_usd", numeric(26, 8)), // sqlite (20,8) | pg (20,2)
        col("created_at", timestamptz, true, NOW),
        col("last_updated", timestamptz, true, NOW),
        col("activity_score", numeric(10, 2)), // sqlite (5,2) | pg (10,2)
        // 'auto' (the SQLite model's) fills sources older than the column, as version 2 did; both models send their own.
        col("discovery_source", varchar(50), true, str("auto")), // sqlite 20 | pg 50
        col("collection_priority", varchar(20), true, str("normal")), // sqlite 10 | pg 20
        col("auto_discovered_at", timestamptz),
        col("last_activity_check", timestamptz),
        col("metadata_json", jsonb, true, EMPTY_JSON),
    ],
    primaryKey: ["id"],
    uniques: [],
    foreignKeys: [{ name: "pools_dex_id_fkey", columns: ["dex_id"], references: { table: "dexes", columns: ["id"] } }],
    indexes: [
        index("idx_pools_dex_id", ["dex_id"]), // counts per dex; FK check on dexes delete
        index("idx_pools_discovery_source", ["discovery_source"]),
        index("idx_pools_collection_priority", ["collection_priority"]),
        index("idx_pools_last_activity_check", ["last_activity_check"]),
        index("idx_pools_auto_discovered_at", ["auto_discovered_at"]),
        // Discovery ranking: ORDER BY activity_score DESC is NULLS FIRST in PostgreSQL (this one, read
        // backwards); the pg model's DESC NULLS LAST serves the ranking once the collector says NULLS LAST.
        index("ix_pools_activity_score", ["activity_score"]),
        index("idx_pools_activity_score_desc", ["activity_score DESC NULLS LAST"]),
        index("idx_pools_reserve_usd", ["reserve_usd DESC"]),
        index("ix_pools_base_token_id", ["base_token_id"]),
        index("ix_pools_quote_token_id", ["quote_token_id"]),
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
        col("id", varchar(200), false), // sqlite 100 | pg 200
        col("address", varchar(100), false),
        col("name", varchar(200)),
        col("symbol", varchar(50)), // sqlite 20 | pg 50
        col("decimals", integer),
        col("network", varchar(50), false), // sqlite 20 | pg 50
        col("last_updated", timestamptz, true, NOW),
        col("metadata_json", jsonb, true, EMPTY_JSON),
        col("created_at", timestamptz, true, NOW), // pg only
    ],
    primaryKey: ["id"],
    // pg model. A source holding two ids for one (network, address) keeps the first (rowid order);
    // the others are set aside by the copy, naming this constraint (see the README).
    uniques: [{ name: "uq_tokens_network_address", columns: ["network", "address"] }],
    foreignKeys: [],
    // The models' (network) and (network, address) indexes are the unique constraint's; (symbol) leads this one.
    indexes: [index("idx_tokens_symbol_network", ["symbol", "network"])],
    rowKey: ["id"],
};

const trades: TargetTable = {
    name: "trades",
    columns: [
        col("id", varchar(200), false),
        col("pool_id", varchar(200), false), // sqlite 100 | pg 200
        col("block_number", bigint), // NOT NULL in the pg model only: source rows may hold NULL
        col("tx_hash", varchar(100)), // likewise
        col("tx_from_address", varchar(100)),
        col("from_token_amount", numeric(38, 18)), // sqlite (30,18) | pg (30,10): memecoin amounts reach 10^12 and more
        col("to_token_amount", numeric(38, 18)), // sqlite (30,18) | pg (30,10)
        col("price_usd", numeric(30, 18)), // sqlite (30,18) | pg (20,8)
        col("volume_usd", numeric(26, 8)), // sqlite (20,8) | pg (20,2)
        col("side", varchar(10)),
        col("block_timestamp", timestamptz), // NOT NULL in the pg model only
        col("created_at", timestamptz, true, NOW), // sqlite only
        col("metadata_json", jsonb, true, EMPTY_JSON), // pg only
    ],
    primaryKey: ["id"], // ON CONFLICT (id) DO NOTHING: why trades is not partitioned (file comment)
    uniques: [],
    foreignKeys: [{ name: "trades_pool_id_fkey", columns: ["pool_id"], references: { table: "pools", columns: ["id"] } }],
    indexes: [
        // pool_id = ? [AND block_timestamp range] ORDER BY block_timestamp DESC; per-pool stats;
        // FK check on pools delete. The pg model's idx_trades_pool_id_timestamp and ix_trades_pool_id.
        index("idx_trades_pool_block_timestamp", ["pool_id", "block_timestamp DESC"]),
        // Retention `DELETE ... WHERE block_timestamp < ?`, time-window reads (the pg model's ix_ and idx_..._desc).
        index("idx_trades_block_timestamp", ["block_timestamp DESC"]),
        index("idx_trades_volume_usd", ["volume_usd DESC"], "volume_usd > 0"),
        // The pg model's: a pool's large trades (`volume_usd >= ?` with a threshold of 1000 or more).
        index("idx_trades_high_volume", ["pool_id", "block_timestamp"], "volume_usd > 1000"),
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
    // uq_watchlist_pool_id also serves the FK check and the models' pool_id index.
    uniques: [{ name: "uq_watchlist_pool_id", columns: ["pool_id"] }],
    foreignKeys: [{ name: "watchlist_pool_id_fkey", columns: ["pool_id"], references: { table: "pools", columns: ["id"] } }],
    indexes: [index("idx_watchlist_active", ["is_active"]), index("idx_watchlist_token_symbol", ["token_symbol"])],
    rowKey: ["id"],
};

/**
 * Indexes an earlier schema version created that this one does not plan. The upgrade
 * drops them once their replacements are built; nothing else is ever dropped (an
 * operator's own indexes stay).
 */
export const RETIRED_INDEXES: readonly { readonly table: string; readonly name: string; readonly why: string }[] = [
    {
        table: "pools",
        name: "idx_pools_activity_score",
        why: "partial DESC index replaced by the pg model's ix_pools_activity_score and idx_pools_activity_score_desc",
    },
    { table: "tokens", name: "idx_tokens_network", why: "uq_tokens_network_address leads with network" },
    { table: "tokens", name: "idx_tokens_symbol", why: "idx_tokens_symbol_network leads with symbol" },
];

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
        columns: [
            "ohlcv_data.datetime",
            "new_pools_history.collected_at",
            "collection_metadata.last_run",
            "collection_metadata.last_success",
        ],
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
