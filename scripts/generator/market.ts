/**
 * The large, ever-growing tables: trades, ohlcv_data and new_pools_history,
 * with the clocks the collector really uses for each column.
 */
import { pythonText } from "./clock";
import { IdSequence, later, localPython, mixedUtc, priceAt, utcPython, writerFor, type GenContext, type PoolInfo } from "./context";
import { NETWORK, solanaAddress, txSignature } from "./shapes";

/** OHLCV timeframes the collector stores, with their length in seconds. */
export const TIMEFRAMES: readonly (readonly [name: string, seconds: number])[] = [
    ["1m", 60],
    ["5m", 300],
    ["15m", 900],
    ["1h", 3600],
    ["4h", 14_400],
    ["12h", 43_200],
    ["1d", 86_400],
];

/** Solana slot at an epoch second (~2.5 slots per second), so block numbers rise with block time. */
export function slotAt(epochSec: number): number {
    return 290_000_000 + Math.floor((epochSec - 1_725_000_000) * 2.5);
}

/** Trade id as GeckoTerminal builds it: `solana_{block}_{tx}_{logidx}_{epoch}`. */
export function tradeId(block: number, tx: string, logIndex: number, epochSec: number): string {
    return `${NETWORK}_${block}_${tx}_${logIndex}_${epochSec}`;
}

/** Newest pools and a few established ones get most trades. */
function pickActivePool(ctx: GenContext, rng: GenContext["rng"], eligible: number): PoolInfo {
    return ctx.pools[rng.chance(0.5) ? eligible - 1 - rng.skewedIndex(eligible, 4) : rng.skewedIndex(eligible, 3)];
}

export function generateTrades(ctx: GenContext): void {
    const rng = ctx.rng.fork("trades");
    const w = writerFor(ctx, "trades");
    if (!w) return;
    const n = ctx.counts.trades;
    const wallets = Array.from({ length: Math.min(50_000, Math.max(10, Math.ceil(n / 20))) }, () => solanaAddress(rng));
    const spanUs = ctx.endUs - ctx.startUs;
    let eligible = 0;
    // Chronological, as the collector ingests them (it also keeps the text primary key index append-mostly).
    for (let k = 0; k < n; k++) {
        const epochSec = Math.floor((ctx.startUs + Math.floor(((k + rng.next()) * spanUs) / n)) / 1e6);
        const us = epochSec * 1e6;
        while (eligible < ctx.pools.length && ctx.pools[eligible].createdUs <= us) eligible++;
        const pool = pickActivePool(ctx, rng, Math.max(1, eligible));
        const price = priceAt(pool, us) * (1 + (rng.next() - 0.5) * 0.01);
        // Clean data stays below 10^12 tokens: pgloader, the benchmark's peer, fails a whole table on larger
        // REALs (it loaded 0 of 9,018 trades with amounts up to 10^18). The precision-limit defect plants
        // memecoin amounts up to 10^20, which the target's numeric(38,18) holds.
        const volume = Math.min(rng.logRange(0.5, 25_000), price * 9e11, pool.quote.priceUsd * 9e11);
        const baseAmount = volume / price;
        const quoteAmount = volume / pool.quote.priceUsd;
        const buy = rng.chance(0.55);
        const block = slotAt(epochSec);
        const tx = txSignature(rng);
        w.add({
            id: tradeId(block, tx, rng.int(0, 12), epochSec),
            pool_id: pool.id,
            block_number: block,
            tx_hash: tx,
            tx_from_address: wallets[rng.skewedIndex(wallets.length, 2)],
            from_token_amount: buy ? quoteAmount : baseAmount,
            to_token_amount: buy ? baseAmount : quoteAmount,
            price_usd: price,
            volume_usd: baseAmount * price,
            side: buy ? "buy" : "sell",
            block_timestamp: pythonText(us),
            created_at: mixedUtc(rng, later(rng, us, 5, 3600)),
        });
    }
    w.finish();
}

interface Series {
    readonly pool: PoolInfo;
    readonly timeframe: string;
    readonly seconds: number;
    readonly firstSlot: number;
    readonly slots: number;
    count: number;
}

/** Splits `total` candles over (pool, timeframe) series without exceeding any series' slots. */
function planSeries(ctx: GenContext, rng: GenContext["rng"], total: number): Series[] {
    const watched = new Set(ctx.watchlistPoolIds);
    const order = [
        ...ctx.pools.filter((p) => watched.has(p.id)),
        ...rng
            .sample(ctx.pools.length, ctx.pools.length)
            .map((i) => ctx.pools[i])
            .filter((p) => !watched.has(p.id)),
    ];
    const tracked = order.slice(0, Math.min(order.length, Math.max(3, Math.ceil(total / 1500))));
    const series: Series[] = [];
    for (const pool of tracked) {
        const fromSec = Math.max(ctx.startUs, pool.createdUs) / 1e6;
        for (const [timeframe, seconds] of TIMEFRAMES) {
            if (timeframe !== "1h" && !rng.chance(0.6)) continue;
            const firstSlot = Math.ceil(fromSec / seconds);
            const slots = Math.floor(ctx.endUs / 1e6 / seconds) - firstSlot;
            if (slots > 0) series.push({ pool, timeframe, seconds, firstSlot, slots, count: 0 });
        }
    }
    let remaining = total;
    const bySize = [...series].sort((a, b) => a.slots - b.slots);
    bySize.forEach((s, i) => {
        s.count = Math.min(s.slots, Math.ceil(remaining / (bySize.length - i)));
        remaining -= s.count;
    });
    return series;
}

export function generateOhlcv(ctx: GenContext): void {
    const rng = ctx.rng.fork("ohlcv");
    const w = writerFor(ctx, "ohlcv_data");
    if (!w) return;
    const ids = new IdSequence(rng);
    // Ordered like the unique index (pool_id, timeframe, timestamp), so index inserts append.
    const series = planSeries(ctx, rng, ctx.counts.ohlcv_data).sort((a, b) =>
        a.pool.id !== b.pool.id ? (a.pool.id < b.pool.id ? -1 : 1) : a.timeframe < b.timeframe ? -1 : 1,
    );
    for (const s of series) {
        if (s.count === 0) continue;
        // Spread each series over the whole span so every monthly partition gets candles.
        const stride = Math.max(1, Math.floor(s.slots / s.count));
        let slot = s.firstSlot + rng.int(0, Math.max(0, s.slots - (s.count - 1) * stride - 1));
        let close = priceAt(s.pool, slot * s.seconds * 1e6);
        for (let j = 0; j < s.count; j++, slot += stride) {
            const ts = slot * s.seconds;
            const open = close;
            close = priceAt(s.pool, (ts + s.seconds) * 1e6) * (1 + (rng.next() - 0.5) * 0.02);
            w.add({
                id: ids.next(),
                pool_id: s.pool.id,
                timeframe: s.timeframe,
                timestamp: ts,
                open_price: open,
                high_price: Math.max(open, close) * (1 + rng.next() * 0.015),
                low_price: Math.min(open, close) * (1 - rng.next() * 0.015),
                close_price: close,
                volume_usd: rng.chance(0.03) ? 0 : ((s.pool.reserveUsd * rng.next() * s.seconds) / 3600) * 0.05,
                // fromtimestamp(): the host's local wall clock.
                datetime: localPython(ctx, ts * 1e6),
                created_at: mixedUtc(rng, later(rng, (ts + s.seconds) * 1e6, 1, 900)),
            });
        }
    }
    w.finish();
}

const TRENDS = ["increasing", "decreasing", "stable", "spike"];

export function generateNewPoolsHistory(ctx: GenContext): void {
    const rng = ctx.rng.fork("new_pools_history");
    const w = writerFor(ctx, "new_pools_history");
    if (!w) return;
    const ids = new IdSequence(rng);
    const total = ctx.counts.new_pools_history;
    const runs = Math.max(1, Math.ceil(total / 20));
    const spanUs = ctx.endUs - ctx.startUs;
    let written = 0;
    let eligible = 0;
    for (let r = 0; written < total; r++) {
        // Extra runs (only when pools are too few for the batches) land in the span's last hour.
        const runUs = r < runs ? ctx.startUs + Math.floor(((r + rng.next() * 0.5) * spanUs) / runs) : ctx.endUs - rng.int(60, 3600) * 1e6;
        while (eligible < ctx.pools.length && ctx.pools[eligible].createdUs <= runUs) eligible++;
        const wanted = r < runs ? Math.ceil((total - written) / (runs - r)) : total - written;
        const batch = new Set<number>();
        const tail = Math.max(1, eligible);
        for (let tries = 0; batch.size < Math.min(wanted, tail) && tries < wanted * 4; tries++) {
            batch.add(tail - 1 - rng.skewedIndex(tail, 2)); // new pools are what this collector watches
        }
        let at = runUs;
        for (const index of batch) {
            const pool = ctx.pools[index];
            at = later(rng, at, 0, 1);
            const price = priceAt(pool, at);
            const supply = rng.chance(0.7) ? 1e9 : rng.logRange(1e6, 1e12);
            w.add({
                id: ids.next(),
                pool_id: pool.id,
                type: "pool",
                name: pool.name,
                base_token_price_usd: price,
                base_token_price_native_currency: price / pool.quote.priceUsd,
                quote_token_price_usd: pool.quote.priceUsd * (1 + (rng.next() - 0.5) * 0.004),
                quote_token_price_native_currency: 1,
                address: pool.address,
                reserve_in_usd: pool.reserveUsd * (1 + (rng.next() - 0.5) * 0.2),
                pool_created_at: utcPython(pool.createdUs),
                fdv_usd: price * supply,
                market_cap_usd: rng.chance(0.6) ? null : price * supply * rng.range(0.3, 1),
                price_change_percentage_h1: (rng.next() - 0.45) * 80,
                price_change_percentage_h24: rng.chance(0.1) ? rng.range(100, 4000) : (rng.next() - 0.5) * 150,
                transactions_h1_buys: rng.int(0, 900),
                transactions_h1_sells: rng.int(0, 800),
                transactions_h24_buys: rng.int(0, 20_000),
                transactions_h24_sells: rng.int(0, 18_000),
                volume_usd_h24: rng.chance(0.05) ? 0 : pool.reserveUsd * rng.logRange(0.01, 20),
                dex_id: pool.dexId,
                base_token_id: pool.base.id,
                quote_token_id: pool.quote.id,
                network_id: NETWORK,
                collected_at: localPython(ctx, at),
                signal_score: rng.range(0, 100),
                volume_trend: rng.pick(TRENDS),
                liquidity_trend: rng.pick(TRENDS),
                momentum_indicator: (rng.next() - 0.5) * 20,
                activity_score: rng.range(0, 100),
                volatility_score: rng.range(0, 100),
            });
            if (++written === total) break;
        }
    }
    w.finish();
}
