/**
 * The collector's most frequent reads (collector-facts.md, "Queries the collector runs most"),
 * each in the SQL its SQLite path and its PostgreSQL path send, with the runs the drawn
 * parameters give it: busy and quiet pools, every timeframe, windows across a partition bound
 * and across DST changes. Writes (ingest, upserts, the retention DELETEs) are compared as the
 * reads that decide what they touch: `id IN (...)` before a trade insert, a COUNT of what a
 * retention delete would remove. `SELECT *` is every mapped column (columns.ts). Pure.
 */
import { countColumn } from "./normalise";
import { at, IN_LIST, placeholders, postgresPlaceholders, selectMapped, type QueryDefinition } from "./query";
import { derivedColumn } from "./columns";
import type { DrawnParameters } from "./params";

const FACTS = (n: number) => `collector-facts ${n}`;

const watchlistActive: QueryDefinition = {
    id: "watchlist.active",
    needs: ["watchlist.is_active"],
    build: (m) => {
        const q = selectMapped(m, {
            id: "watchlist.active",
            title: "active watchlist entries",
            origin: FACTS(1),
            table: "watchlist",
            where: "is_active = 1",
        });
        return { ...q, postgres: q.postgres.replace("is_active = 1", "is_active = true") };
    },
    instances: () => [{ label: "", paramSets: [[]] }],
};

const poolsById: QueryDefinition = {
    id: "pools.by_id",
    needs: ["pools"],
    build: (m) => selectMapped(m, { id: "pools.by_id", title: "a watched pool by id", origin: FACTS(1), table: "pools", where: "id = ?" }),
    instances: (p) =>
        p.watchlistPools.length
            ? [{ label: `${p.watchlistPools.length} active watchlist entries`, paramSets: p.watchlistPools.map((id) => [id]) }]
            : "no active watchlist entry",
};

const ohlcvByPool: QueryDefinition = {
    id: "ohlcv.by_pool",
    needs: ["ohlcv_data"],
    build: (m) =>
        selectMapped(m, {
            id: "ohlcv.by_pool",
            title: "a pool's candles of one timeframe",
            origin: FACTS(2),
            table: "ohlcv_data",
            where: "pool_id = ? AND timeframe = ?",
            order: [{ column: "datetime", desc: false }],
        }),
    instances: (p) =>
        p.ohlcvPools.flatMap((pool) => pool.timeframes.map((tf) => ({ label: `${pool.label} pool, ${tf}`, paramSets: [[pool.id, tf]] }))),
};

const ohlcvWindow: QueryDefinition = {
    id: "ohlcv.window",
    needs: ["ohlcv_data"],
    build: (m) =>
        selectMapped(m, {
            id: "ohlcv.window",
            title: "a pool's candles of one timeframe in a time window",
            origin: FACTS(2),
            table: "ohlcv_data",
            where: "pool_id = ? AND timeframe = ? AND datetime BETWEEN ? AND ?",
            order: [{ column: "datetime", desc: false }],
        }),
    instances: (p) =>
        p.ohlcvPools
            .filter((pool) => pool.label !== "quiet")
            .flatMap((pool) =>
                pool.timeframes.flatMap((tf) =>
                    p.windows.map((w) => ({
                        label: `${pool.label} pool, ${tf}, ${w.label}`,
                        paramSets: [[pool.id, tf, at(w.from, "ohlcv_data", "datetime"), at(w.to, "ohlcv_data", "datetime")]],
                    })),
                ),
            ),
};

const tradesByPool: QueryDefinition = {
    id: "trades.by_pool",
    needs: ["trades"],
    build: (m) =>
        selectMapped(m, {
            id: "trades.by_pool",
            title: "a pool's trades, newest first",
            origin: FACTS(3),
            table: "trades",
            where: "pool_id = ?",
            order: [{ column: "block_timestamp", desc: true }],
        }),
    instances: (p) => p.tradePools.map((pool) => ({ label: `${pool.label} pool`, paramSets: [[pool.id]] })),
};

const tradeWindow = (w: DrawnParameters["windows"][number]) => [
    at(w.from, "trades", "block_timestamp"),
    at(w.to, "trades", "block_timestamp"),
];

const tradesWindow: QueryDefinition = {
    id: "trades.window",
    needs: ["trades"],
    build: (m) =>
        selectMapped(m, {
            id: "trades.window",
            title: "a pool's trades in a time window, newest first",
            origin: FACTS(3),
            table: "trades",
            where: "pool_id = ? AND block_timestamp >= ? AND block_timestamp <= ?",
            order: [{ column: "block_timestamp", desc: true }],
        }),
    instances: (p) =>
        p.tradePools
            .filter((pool) => pool.label !== "quiet")
            .flatMap((pool) =>
                p.windows.map((w) => ({ label: `${pool.label} pool, ${w.label}`, paramSets: [[pool.id, ...tradeWindow(w)]] })),
            ),
};

const tradesLarge: QueryDefinition = {
    id: "trades.window_volume",
    needs: ["trades"],
    build: (m) =>
        selectMapped(m, {
            id: "trades.window_volume",
            title: "a pool's trades in a time window above a volume, newest first",
            origin: FACTS(3),
            table: "trades",
            where: "pool_id = ? AND block_timestamp >= ? AND block_timestamp <= ? AND volume_usd >= ?",
            order: [{ column: "block_timestamp", desc: true }],
        }),
    instances: (p) => {
        if (p.volumeThreshold === undefined) return "no trade volumes to draw a threshold from";
        const v = p.volumeThreshold;
        return p.tradePools
            .filter((pool) => pool.label !== "quiet")
            .flatMap((pool) =>
                p.windows.map((w) => ({
                    label: `${pool.label} pool, ${w.label}, volume >= ${v}`,
                    paramSets: [[pool.id, ...tradeWindow(w), v]],
                })),
            );
    },
};

const tradesKnownIds: QueryDefinition = {
    id: "trades.known_ids",
    needs: ["trades"],
    build: (m) => {
        const q = selectMapped(m, {
            id: "trades.known_ids",
            title: "which of up to 500 trade ids are stored (before an insert)",
            origin: FACTS(4),
            table: "trades",
            where: `id IN (${placeholders(IN_LIST)})`,
            only: ["id"],
        });
        return q;
    },
    instances: (p) =>
        p.tradeIds.length === IN_LIST ? [{ label: "stored ids of the busy pool and unknown ones", paramSets: [p.tradeIds] }] : "no trades",
};

const historyByPool: QueryDefinition = {
    id: "history.by_pool",
    needs: ["new_pools_history.collected_at"],
    build: (m) =>
        selectMapped(m, {
            id: "history.by_pool",
            title: "a pool's new-pool snapshots since a time, newest first",
            origin: FACTS(7),
            table: "new_pools_history",
            where: "pool_id = ? AND collected_at >= ?",
            order: [{ column: "collected_at", desc: true }],
        }),
    instances: (p) =>
        p.historyPools.flatMap((pool) =>
            p.windows.map((w) => ({
                label: `${pool.label} pool, since ${w.label} - 36 h`,
                paramSets: [[pool.id, at(w.from, "new_pools_history", "collected_at")]],
            })),
        ),
};

const historySignal: QueryDefinition = {
    id: "history.top_signal",
    needs: ["new_pools_history.signal_score", "new_pools_history.network_id"],
    build: (m) =>
        selectMapped(m, {
            id: "history.top_signal",
            title: "a network's strongest signals since a time",
            origin: FACTS(7),
            table: "new_pools_history",
            where: "network_id = ? AND collected_at >= ? AND signal_score >= ?",
            order: [{ column: "signal_score", desc: true }],
            limited: true,
        }),
    instances: (p) => {
        if (!p.network || p.signalThreshold === undefined || !p.span) return "no network or signal scores to draw from";
        const since = at(p.span.from, "new_pools_history", "collected_at");
        return [
            {
                label: `${p.network}, signal >= ${p.signalThreshold}, LIMIT 20`,
                paramSets: [[p.network, since, p.signalThreshold]],
                limit: 20,
            },
        ];
    },
};

const discoveryRanking: QueryDefinition = {
    id: "discovery.ranking",
    needs: ["pools.activity_score"],
    build: (m) =>
        selectMapped(m, {
            id: "discovery.ranking",
            title: "pools by activity score",
            origin: FACTS(11),
            table: "pools",
            order: [{ column: "activity_score", desc: true }],
        }),
    instances: () => [{ label: "", paramSets: [[]] }],
};

const discoveryDue: QueryDefinition = {
    id: "discovery.due",
    needs: ["pools.discovery_source", "pools.collection_priority", "pools.last_activity_check"],
    build: (m) =>
        selectMapped(m, {
            id: "discovery.due",
            title: "auto-discovered pools due for an activity check",
            origin: FACTS(11),
            table: "pools",
            where: "discovery_source IN ('auto', 'auto_new') AND collection_priority <> 'paused' AND (last_activity_check IS NULL OR last_activity_check < ?)",
            limited: true,
        }),
    instances: (p) =>
        p.activityCheckCutoff
            ? [
                  {
                      label: "checked over 14 days before the last candle, LIMIT 100",
                      paramSets: [[at(p.activityCheckCutoff, "pools", "last_activity_check")]],
                      limit: 100,
                  },
              ]
            : "no time span to draw a cutoff from",
};

/** The statistics queries (8, 9, 10): aggregates, written per dialect where the functions differ. */
const statistics: readonly QueryDefinition[] = [
    countsBy("stats.pools_by_dex", "pools", "dex_id", FACTS(8)),
    countsBy("stats.history_by_network", "new_pools_history", "network_id", FACTS(8)),
    countsBy("stats.history_by_dex", "new_pools_history", "dex_id", FACTS(8)),
    {
        id: "stats.history_hourly",
        needs: ["new_pools_history.collected_at", "new_pools_history.reserve_in_usd", "new_pools_history.volume_usd_h24"],
        build: () => {
            const rest =
                "count(DISTINCT pool_id) AS pools, avg(reserve_in_usd) AS avg_reserve, sum(volume_usd_h24) AS volume_h24, count(*) AS snapshots";
            const where = "FROM new_pools_history WHERE collected_at >= ? AND collected_at < ? GROUP BY 1 ORDER BY 1";
            return {
                id: "stats.history_hourly",
                title: "new-pool snapshots per hour",
                origin: FACTS(8),
                sqlite: `SELECT strftime('%Y-%m-%d %H:00:00', collected_at) AS hour, ${rest} ${where}`,
                postgres: postgresPlaceholders(`SELECT date_trunc('hour', collected_at) AS hour, ${rest} ${where}`),
                columns: [
                    derivedColumn("hour", "new_pools_history", "collected_at"),
                    countColumn("pools"),
                    { name: "avg_reserve", kind: "approx", op: "avg", scale: 4, count: "snapshots" },
                    { name: "volume_h24", kind: "approx", op: "sum", scale: 4, count: "snapshots" },
                    countColumn("snapshots"),
                ],
                order: [{ column: "hour", desc: false }],
                key: ["hour"],
            };
        },
        instances: (p) =>
            p.windows.map((w) => ({
                label: w.label,
                paramSets: [[at(w.from, "new_pools_history", "collected_at"), at(w.to, "new_pools_history", "collected_at")]],
            })),
    },
    {
        id: "stats.ohlcv_per_pool",
        needs: ["ohlcv_data"],
        build: () => {
            const sql =
                "SELECT timeframe, count(*) AS candles, min(datetime) AS first, max(datetime) AS last FROM ohlcv_data WHERE pool_id = ? GROUP BY timeframe";
            return {
                id: "stats.ohlcv_per_pool",
                title: "a pool's candles per timeframe",
                origin: FACTS(9),
                sqlite: sql,
                postgres: postgresPlaceholders(sql),
                columns: [
                    derivedColumn("timeframe", "ohlcv_data", "timeframe"),
                    countColumn("candles"),
                    derivedColumn("first", "ohlcv_data", "datetime"),
                    derivedColumn("last", "ohlcv_data", "datetime"),
                ],
                order: [],
                key: ["timeframe"],
            };
        },
        instances: (p) => p.ohlcvPools.map((pool) => ({ label: `${pool.label} pool`, paramSets: [[pool.id]] })),
    },
    {
        id: "stats.trades_per_pool",
        needs: ["trades"],
        build: () => {
            const sql =
                "SELECT count(*) AS trades, sum(volume_usd) AS volume, avg(volume_usd) AS avg_volume, max(volume_usd) AS max_volume, " +
                "min(block_timestamp) AS first, max(block_timestamp) AS last FROM trades WHERE pool_id = ?";
            return {
                id: "stats.trades_per_pool",
                title: "a pool's trade volume and time span",
                origin: FACTS(9),
                sqlite: sql,
                postgres: postgresPlaceholders(sql),
                columns: [
                    countColumn("trades"),
                    { name: "volume", kind: "approx", op: "sum", scale: 8, count: "trades" },
                    { name: "avg_volume", kind: "approx", op: "avg", scale: 8, count: "trades" },
                    derivedColumn("max_volume", "trades", "volume_usd"),
                    derivedColumn("first", "trades", "block_timestamp"),
                    derivedColumn("last", "trades", "block_timestamp"),
                ],
                order: [],
                key: [],
            };
        },
        instances: (p) => p.tradePools.map((pool) => ({ label: `${pool.label} pool`, paramSets: [[pool.id]] })),
    },
    retention("retention.ohlcv", "ohlcv_data", "datetime"),
    retention("retention.trades", "trades", "block_timestamp"),
];

function countsBy(id: string, table: string, column: string, origin: string): QueryDefinition {
    const sql = `SELECT ${column}, count(*) AS n FROM ${table} GROUP BY ${column}`;
    return {
        id,
        needs: [`${table}.${column}`],
        build: () => ({
            id,
            title: `${table} per ${column}`,
            origin,
            sqlite: sql,
            postgres: sql,
            columns: [derivedColumn(column, table, column), countColumn("n")],
            order: [],
            key: [column],
        }),
        instances: () => [{ label: "", paramSets: [[]] }],
    };
}

/** What the 90-day retention DELETE would remove, as a count. */
function retention(id: string, table: string, column: string): QueryDefinition {
    const sql = `SELECT count(*) AS n FROM ${table} WHERE ${column} < ?`;
    return {
        id,
        needs: [`${table}.${column}`],
        build: () => ({
            id,
            title: `${table} rows the retention delete removes`,
            origin: FACTS(10),
            sqlite: sql,
            postgres: postgresPlaceholders(sql),
            columns: [countColumn("n")],
            order: [],
            key: [],
        }),
        instances: (p) =>
            p.retentionCutoff
                ? [{ label: "older than 90 days before the last candle", paramSets: [[at(p.retentionCutoff, table, column)]] }]
                : "no time span to draw a cutoff from",
    };
}

export const COLLECTOR_QUERIES: readonly QueryDefinition[] = [
    watchlistActive,
    poolsById,
    ohlcvByPool,
    ohlcvWindow,
    tradesByPool,
    tradesWindow,
    tradesLarge,
    tradesKnownIds,
    historyByPool,
    historySignal,
    ...statistics,
    discoveryRanking,
    discoveryDue,
];
