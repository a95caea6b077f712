/**
 * How many rows each table gets: the realistic split of an approximate total,
 * overridden per table when asked.
 */
import { DEXES } from "./shapes";
import type { GeneratedTable, VariantLayout } from "./variants";

/** Collector types the scheduler records in collection_metadata (and execution_history etc.). */
export const COLLECTOR_TYPES = [
    "ohlcv_collector",
    "trade_collector",
    "watchlist_collector",
    "new_pools_collector",
    "top_pools_collector",
    "dex_monitoring_collector",
    "historical_ohlcv_collector",
    "token_collector",
    "watchlist_monitor",
    "discovery_engine",
] as const;

/** Share of the total per growing table (a busy collector: trades and OHLCV dominate). */
const SHARES: Partial<Record<GeneratedTable, number>> = {
    trades: 0.45,
    ohlcv_data: 0.45,
    new_pools_history: 0.05,
    pools: 0.02,
    tokens: 0.018,
    watchlist: 0.0004,
    execution_history: 0.004,
    performance_metrics: 0.004,
    system_alerts: 0.0008,
    discovery_metadata: 0.0008,
    collector_notes: 0.0002,
};

const MINIMUM: Partial<Record<GeneratedTable, number>> = {
    pools: 5,
    tokens: 6,
    watchlist: 2,
    execution_history: 3,
    performance_metrics: 3,
    system_alerts: 3,
    discovery_metadata: 2,
    collector_notes: 3,
};

/** Row targets per table present in the layout. */
export function planCounts(
    layout: VariantLayout,
    rows: number,
    explicit: Partial<Record<GeneratedTable, number>> = {},
): Record<GeneratedTable, number> {
    const present = layout.tables.map((t) => t.name);
    // Tables an old layout lacks give their share to the rest, so `rows` stays the total.
    const shareSum = present.reduce((sum, t) => sum + (SHARES[t] ?? 0), 0);
    const counts = {} as Record<GeneratedTable, number>;
    for (const table of present) {
        const share = SHARES[table];
        let n: number;
        if (table === "dexes") n = DEXES.length;
        else if (table === "collection_metadata") n = 7;
        else if (table === "alembic_version") n = 1;
        else n = Math.max(MINIMUM[table] ?? 0, Math.round((rows * (share ?? 0)) / shareSum));
        const wanted = explicit[table];
        if (wanted !== undefined) {
            if (!Number.isInteger(wanted) || wanted < 0) throw new Error(`counts.${table} must be a non-negative integer, got ${wanted}`);
            n = wanted;
        }
        counts[table] = n;
    }
    if (explicit.watchlist === undefined && counts.watchlist > counts.pools) counts.watchlist = counts.pools;
    if (counts.collection_metadata > COLLECTOR_TYPES.length) {
        throw new Error(`counts.collection_metadata is at most ${COLLECTOR_TYPES.length} (one row per collector type)`);
    }
    if (counts.alembic_version > 1) throw new Error("counts.alembic_version is at most 1");
    if (counts.tokens < 4 && (counts.pools ?? 0) > 0)
        throw new Error("counts.tokens must be at least 4 when there are pools (3 quote tokens + 1 base)");
    if (counts.dexes < 1 && (counts.pools ?? 0) > 0) throw new Error("counts.dexes must be at least 1 when there are pools");
    if (counts.watchlist > counts.pools) throw new Error("counts.watchlist cannot exceed counts.pools (watchlist.pool_id is unique)");
    for (const t of ["trades", "ohlcv_data", "new_pools_history", "watchlist"] as const) {
        if ((counts[t] ?? 0) > 0 && counts.pools === 0) throw new Error(`counts.${t} needs pools (counts.pools is 0)`);
    }
    return counts;
}
