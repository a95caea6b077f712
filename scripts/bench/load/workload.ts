/**
 * Realistic parameters picked from the source SQLite file (read-only): the pools and
 * series the write mix contends on, and the busy pool / time windows of the reads.
 */
import Database from "better-sqlite3";
import type { Workload } from "./ops";

export interface ReadParams {
    /** Pool with the most trades. */
    readonly busyTradePool: string;
    readonly busyTradePoolTrades: number;
    /** OHLCV series (a watched pool) with the most candles. */
    readonly ohlcvPool: string;
    readonly ohlcvTimeframe: string;
    readonly ohlcvCandles: number;
    /** Pool with the most new_pools_history rows. */
    readonly historyPool: string;
    readonly network: string;
    /** Epoch second the data ends at (newest trade). */
    readonly endEpoch: number;
}

const TIMEFRAME_SECONDS: Record<string, number> = {
    "1m": 60,
    "5m": 300,
    "15m": 900,
    "1h": 3600,
    "4h": 14_400,
    "12h": 43_200,
    "1d": 86_400,
};

function epochOfNaiveUtc(text: string): number {
    return Math.floor(Date.parse(text.replace(" ", "T").slice(0, 19) + "Z") / 1000);
}

/** Picks the write workload and the read parameters. `hotPools` caps the contended pool set. */
export function pickWorkload(sqlitePath: string, hotPools: number): { workload: Workload; reads: ReadParams } {
    const db = new Database(sqlitePath, { readonly: true });
    try {
        const one = <T>(sql: string, ...params: unknown[]) => db.prepare(sql).get(...params) as T;
        const all = <T>(sql: string, ...params: unknown[]) => db.prepare(sql).all(...params) as T[];
        const end = one<{ t: string | null }>("SELECT max(block_timestamp) AS t FROM trades").t;
        if (!end) throw new Error("the source has no trades: generate more rows");
        const endEpoch = epochOfNaiveUtc(end);
        // The watchlist's active pools that exist: what every collector cycle fetches and updates.
        const hot = all<{ id: string }>(
            `SELECT p.id FROM watchlist w JOIN pools p ON p.id = w.pool_id WHERE w.is_active = 1
              AND EXISTS (SELECT 1 FROM ohlcv_data o WHERE o.pool_id = p.id) ORDER BY w.id LIMIT ?`,
            hotPools,
        ).map((r) => r.id);
        if (!hot.length) throw new Error("no active watchlist pool with OHLCV data: generate more rows");
        const marks = hot.map(() => "?").join(", ");
        const series = all<{ pool_id: string; timeframe: string; ts: number }>(
            `SELECT pool_id, timeframe, max(timestamp) AS ts FROM ohlcv_data WHERE pool_id IN (${marks}) GROUP BY pool_id, timeframe`,
            ...hot,
        )
            .filter((s) => TIMEFRAME_SECONDS[s.timeframe] && Number.isInteger(s.ts))
            .map((s) => ({ poolId: s.pool_id, timeframe: s.timeframe, seconds: TIMEFRAME_SECONDS[s.timeframe], lastTimestamp: s.ts }));
        const knownTradeIds = all<{ id: string }>("SELECT id FROM trades WHERE rowid > (SELECT max(rowid) FROM trades) - 5000").map(
            (r) => r.id,
        );

        const busy = one<{ pool_id: string; n: number }>(
            "SELECT pool_id, count(*) AS n FROM trades GROUP BY pool_id ORDER BY n DESC, pool_id LIMIT 1",
        );
        const ohlcv = one<{ pool_id: string; timeframe: string; n: number }>(
            `SELECT pool_id, timeframe, count(*) AS n FROM ohlcv_data WHERE pool_id IN (${marks}) GROUP BY pool_id, timeframe ORDER BY n DESC, pool_id, timeframe LIMIT 1`,
            ...hot,
        );
        const history = one<{ pool_id: string } | undefined>(
            "SELECT pool_id FROM new_pools_history GROUP BY pool_id ORDER BY count(*) DESC, pool_id LIMIT 1",
        );
        const network = one<{ network_id: string } | undefined>(
            "SELECT network_id FROM new_pools_history GROUP BY network_id ORDER BY count(*) DESC LIMIT 1",
        );
        return {
            workload: { hotPools: hot, ohlcvSeries: series, knownTradeIds, endEpoch },
            reads: {
                busyTradePool: busy.pool_id,
                busyTradePoolTrades: busy.n,
                ohlcvPool: ohlcv.pool_id,
                ohlcvTimeframe: ohlcv.timeframe,
                ohlcvCandles: ohlcv.n,
                historyPool: history?.pool_id ?? hot[0],
                network: network?.network_id ?? "solana",
                endEpoch,
            },
        };
    } finally {
        db.close();
    }
}
