/**
 * The slowly growing reference tables: dexes, tokens, pools, watchlist. They
 * also fill the context's entity lists that trades, OHLCV and history rows use.
 */
import { IdSequence, later, localPython, mixedUtc, utcPython, writerFor, type GenContext, type PoolInfo, type TokenInfo } from "./context";
import { DEXES, metadataJson, networkId, NETWORK, QUOTE_TOKENS, solanaAddress, tokenName } from "./shapes";

const DAY_US = 86_400e6;

export function generateDexes(ctx: GenContext): void {
    const rng = ctx.rng.fork("dexes");
    const w = writerFor(ctx, "dexes");
    for (let i = 0; i < ctx.counts.dexes; i++) {
        const [id, name] = i < DEXES.length ? DEXES[i] : [`amm-${i}`, `AMM ${i}`];
        ctx.dexIds.push(id);
        w!.add({
            id,
            name,
            network: NETWORK,
            last_updated: mixedUtc(rng, later(rng, ctx.endUs - 30 * DAY_US, 0, 29 * 86_400)),
            metadata_json: metadataJson(rng, () => ({ source: "geckoterminal", pools_seen: rng.int(1, 4000) }), 0.2),
        });
    }
    w?.finish();
}

export function generateTokens(ctx: GenContext): void {
    const rng = ctx.rng.fork("tokens");
    const w = writerFor(ctx, "tokens");
    const n = ctx.counts.tokens;
    for (let i = 0; i < n; i++) {
        const quote = i < QUOTE_TOKENS.length ? QUOTE_TOKENS[i] : null;
        const address = quote?.address ?? solanaAddress(rng);
        const { name, symbol } = quote ?? tokenName(rng);
        const pump = address.endsWith("pump");
        const token: TokenInfo = {
            id: networkId(address),
            address,
            name,
            symbol,
            // Quote prices have float noise too (they come from the API as decimals).
            priceUsd: quote ? quote.priceUsd * (1 + (rng.next() - 0.5) * 0.002) : rng.logRange(1e-8, 40),
        };
        ctx.tokens.push(token);
        w!.add({
            id: token.id,
            address,
            name,
            symbol,
            decimals: quote?.decimals ?? (pump ? 6 : rng.pick([6, 9, 9, 8])),
            network: NETWORK,
            last_updated: mixedUtc(rng, later(rng, ctx.startUs, 0, Math.floor((ctx.endUs - ctx.startUs) / 1e6))),
            metadata_json: metadataJson(rng, () => ({
                coingecko_coin_id: null,
                image_url: `https://assets.geckoterminal.com/${rng.hex(12)}.png`,
            })),
            coingecko_coin_id: rng.chance(0.05) ? name.toLowerCase().replace(" ", "-") : null,
        });
    }
    w?.finish();
}

const DISCOVERY_SOURCES = ["auto", "auto", "auto", "auto_new", "auto_new", "manual", "watchlist"];
const PRIORITIES = ["normal", "normal", "normal", "high", "low", "paused"];

export function generatePools(ctx: GenContext): void {
    const rng = ctx.rng.fork("pools");
    const n = ctx.counts.pools;
    const spanUs = ctx.endUs - ctx.startUs;
    // A third of the pools predate the span, so early trades always have a pool to trade in.
    const created = Array.from({ length: n }, (_, i) =>
        i < Math.ceil(n / 3) ? ctx.startUs - rng.int(1, 90 * 86_400) * 1e6 : ctx.startUs + Math.floor(rng.next() * (spanUs - DAY_US)),
    ).sort((a, b) => a - b);
    const baseTokens = ctx.tokens.slice(QUOTE_TOKENS.length);
    const w = writerFor(ctx, "pools");
    for (let i = 0; i < n; i++) {
        const address = solanaAddress(rng);
        // Every base token gets a pool first, then popular tokens get more pools.
        const base = i < baseTokens.length ? baseTokens[i] : baseTokens[rng.skewedIndex(baseTokens.length)];
        const q = rng.next();
        const quote = ctx.tokens[q < 0.75 ? 0 : q < 0.95 ? 1 : 2];
        const dexId = ctx.dexIds[rng.skewedIndex(ctx.dexIds.length, 2)];
        const createdUs = created[i] + rng.int(0, 999_999);
        const pool: PoolInfo = {
            id: networkId(address),
            address,
            name:
                `${base.symbol} / ${quote.symbol}` +
                (dexId.endsWith("clmm") || dexId.endsWith("dlmm") ? ` ${rng.pick(["0.01%", "0.25%", "1%"])}` : ""),
            dexId,
            base,
            quote,
            createdUs,
            reserveUsd: rng.logRange(200, 5e7),
            amp: rng.range(0.05, 0.6),
            periodSec: rng.range(3, 40) * 86_400,
            phase: rng.range(0, Math.PI * 2),
        };
        ctx.pools.push(pool);
        const source = rng.pick(DISCOVERY_SOURCES);
        const updatedUs = Math.min(ctx.endUs, later(rng, Math.max(createdUs, ctx.startUs), 60, Math.floor(spanUs / 1e6)));
        w!.add({
            id: pool.id,
            address,
            name: pool.name,
            dex_id: dexId,
            base_token_id: base.id,
            quote_token_id: quote.id,
            reserve_usd: pool.reserveUsd,
            created_at: utcPython(createdUs),
            // The pool upsert sometimes stamps local time instead of UTC.
            last_updated: rng.chance(0.1) ? localPython(ctx, updatedUs) : mixedUtc(rng, updatedUs),
            activity_score: rng.chance(0.05) ? 0 : rng.range(0, 100) * rng.next() + rng.next(),
            discovery_source: source,
            collection_priority: rng.pick(PRIORITIES),
            auto_discovered_at: source.startsWith("auto") ? utcPython(later(rng, createdUs, 30, 7200)) : null,
            last_activity_check: rng.chance(0.6) ? utcPython(later(rng, updatedUs - 3_600e6, 0, 3600)) : null,
            metadata_json: metadataJson(rng, () => ({
                fee_tier: rng.pick(["0.25", "0.3", "1"]),
                pool_type: rng.pick(["amm", "clmm", "cpmm"]),
            })),
        });
    }
    w?.finish();
}

export function generateWatchlist(ctx: GenContext): void {
    const rng = ctx.rng.fork("watchlist");
    const w = writerFor(ctx, "watchlist");
    if (!w) return;
    const ids = new IdSequence(rng, 0.15);
    for (const index of rng.sample(ctx.pools.length, ctx.counts.watchlist)) {
        const pool = ctx.pools[index];
        ctx.watchlistPoolIds.push(pool.id);
        const addedUs = later(rng, Math.max(pool.createdUs, ctx.startUs - 30 * DAY_US), 60, 20 * 86_400);
        w.add({
            id: ids.next(),
            pool_id: pool.id,
            token_symbol: pool.base.symbol,
            token_name: pool.base.name,
            network_address: pool.base.address,
            // Old installs had a nullable is_active and some rows never got one.
            is_active: w.has("added_at") && rng.chance(0.15) ? null : rng.chance(0.85) ? 1 : 0,
            added_at: utcPython(addedUs),
            created_at: mixedUtc(rng, addedUs),
            updated_at: mixedUtc(rng, later(rng, addedUs, 0, 30 * 86_400)),
            metadata_json: metadataJson(rng, () => ({ added_by: "cli", notes: "" }), 0.3),
        });
    }
    w.finish();
}
