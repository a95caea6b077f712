/**
 * Defects about whole rows and their relations: blank pools, placeholder
 * tokens, orphans (no FK is enforced by the collector's SQLite) and test rows.
 */
import { pythonText } from "./clock";
import { later, priceAt, utcPython, utcSqlite, type GenContext } from "./context";
import type { DefectKit } from "./defectKit";
import { slotAt, tradeId } from "./market";
import { networkId, NETWORK, QUOTE_TOKENS, solanaAddress, txSignature } from "./shapes";

const clamp = (n: number, lo: number, hi: number) => Math.max(lo, Math.min(hi, n));

/** Pools known only by id: empty name, address = id, no tokens, no reserve (~11% in a real snapshot; bounded here). */
export function plantBlankPools(kit: DefectKit, ctx: GenContext): void {
    const n = clamp(Math.ceil(ctx.counts.pools * 0.1), 1, 200);
    for (const p of kit.pick("pools", n)) {
        kit.update("blank-pools", "blank-pool", "pools", p, {
            name: "",
            address: p.row.id as string,
            base_token_id: null,
            quote_token_id: null,
            reserve_usd: null,
        });
    }
}

/** Tokens saved before their metadata arrived: `Token 8oyYG4Qo...`, `TKN8oyY`, NULL decimals. */
export function plantPlaceholderTokens(kit: DefectKit, ctx: GenContext): void {
    const n = clamp(Math.ceil(ctx.counts.tokens * 0.05), 1, 100);
    // rowid > 3 keeps SOL/USDC/USDT real.
    for (const t of kit.pick("tokens", n, `rowid > ${QUOTE_TOKENS.length}`)) {
        const address = t.row.address as string;
        kit.update("placeholder-tokens", "placeholder-token", "tokens", t, {
            name: `Token ${address.slice(0, 8)}...`,
            symbol: `TKN${address.slice(0, 4)}`,
            decimals: null,
        });
    }
}

/** References without a parent row: missing tokens, doubled `solana_solana_` prefixes, history and trades/OHLCV of deleted pools. */
export function plantOrphans(kit: DefectKit, ctx: GenContext): void {
    const rng = kit.rng;
    const live = "base_token_id IS NOT NULL AND quote_token_id IS NOT NULL";
    for (const p of kit.pick("pools", 2, live)) {
        kit.update("orphans", "missing-base-token", "pools", p, { base_token_id: networkId(solanaAddress(rng)) });
    }
    for (const p of kit.pick("pools", 2, live)) {
        kit.update("orphans", "missing-quote-token", "pools", p, { quote_token_id: networkId(solanaAddress(rng)) });
    }
    for (const p of kit.pick("pools", 2, live)) {
        kit.update("orphans", "doubled-prefix", "pools", p, { base_token_id: `${NETWORK}_${p.row.base_token_id as string}` });
    }
    for (const h of kit.pick("new_pools_history", 2)) {
        kit.update("orphans", "doubled-prefix", "new_pools_history", h, { pool_id: `${NETWORK}_${h.row.pool_id as string}` });
    }
    for (const h of kit.pick("new_pools_history", 3)) {
        kit.update("orphans", "history-missing-pool", "new_pools_history", h, { pool_id: networkId(solanaAddress(rng)) });
    }

    // A pool deleted after its trades and candles were stored.
    const deletedPool = networkId(solanaAddress(rng));
    const midSec = Math.floor((ctx.startUs + (ctx.endUs - ctx.startUs) / 2) / 1e6);
    for (let i = 0; i < 3; i++) {
        const epoch = midSec + i * 97;
        const tx = txSignature(rng);
        const price = rng.logRange(1e-6, 2);
        kit.insert("orphans", "trade-deleted-pool", "trades", {
            id: tradeId(slotAt(epoch), tx, i, epoch),
            pool_id: deletedPool,
            block_number: slotAt(epoch),
            tx_hash: tx,
            tx_from_address: solanaAddress(rng),
            from_token_amount: 1.5 * (i + 1),
            to_token_amount: (1.5 * (i + 1) * 150) / price,
            price_usd: price,
            volume_usd: 1.5 * (i + 1) * 150.37,
            side: "buy",
            block_timestamp: pythonText(epoch * 1e6),
            created_at: utcSqlite((epoch + 30) * 1e6),
        });
    }
    let id = kit.maxId("ohlcv_data") + 5;
    const hour0 = Math.floor(midSec / 3600) * 3600;
    for (let i = 0; i < 3; i++) {
        const ts = hour0 + i * 3600;
        const open = 0.0012 * (1 + i * 0.013);
        kit.insert("orphans", "ohlcv-deleted-pool", "ohlcv_data", {
            id: id++,
            pool_id: deletedPool,
            timeframe: "1h",
            timestamp: ts,
            open_price: open,
            high_price: open * 1.021,
            low_price: open * 0.987,
            close_price: open * 1.013,
            volume_usd: 1234.5678 * (i + 1.1),
            datetime: pythonText(ctx.clock.wallUs(ts * 1e6)),
            created_at: utcSqlite((ts + 3700) * 1e6),
        });
    }
}

/** Rows left behind by someone testing against the production database. */
export function plantTestRows(kit: DefectKit, ctx: GenContext): void {
    const atUs = ctx.startUs + 86_400e6 * 3;
    plantTestReference(kit, atUs);
    plantTestMarket(kit, ctx, atUs);
    plantTestOperations(kit, ctx, atUs);
}

const TEST_ROWS = "test-rows";

/** A test DEX, a test token and two TEST / SOL pools. */
function plantTestReference(kit: DefectKit, atUs: number): void {
    const sol = networkId(QUOTE_TOKENS[0].address);
    kit.insert(TEST_ROWS, "test-row", "dexes", {
        id: "test_dex",
        name: "Test DEX",
        network: NETWORK,
        last_updated: utcSqlite(atUs),
        metadata_json: "{}",
    });
    kit.insert(TEST_ROWS, "test-row", "tokens", {
        id: "test_token",
        address: "test_token",
        name: "Test Token",
        symbol: "TEST",
        decimals: 9,
        network: NETWORK,
        last_updated: utcSqlite(atUs),
        metadata_json: "{}",
    });
    for (const id of ["test_pool_1", "test_pool_2"]) {
        kit.insert(TEST_ROWS, "test-row", "pools", {
            id,
            address: id,
            name: "TEST / SOL",
            dex_id: "test_dex",
            base_token_id: "test_token",
            quote_token_id: sol,
            reserve_usd: 1000,
            created_at: utcPython(atUs),
            last_updated: utcSqlite(atUs),
            activity_score: 50,
            discovery_source: "manual",
            collection_priority: "normal",
            metadata_json: "{}",
        });
    }
}

/** Two trades and two hourly candles of the first test pool. */
function plantTestMarket(kit: DefectKit, ctx: GenContext, atUs: number): void {
    for (let i = 1; i <= 2; i++) {
        const epoch = Math.floor(atUs / 1e6) + i * 60;
        kit.insert(TEST_ROWS, "test-row", "trades", {
            id: `test_trade_${i}`,
            pool_id: "test_pool_1",
            block_number: slotAt(epoch),
            tx_hash: `test_tx_${i}`,
            tx_from_address: "test_wallet",
            from_token_amount: 1,
            to_token_amount: 1000,
            price_usd: 0.15,
            volume_usd: 150,
            side: "buy",
            block_timestamp: pythonText(epoch * 1e6),
            created_at: utcSqlite((epoch + 5) * 1e6),
        });
    }
    let id = kit.maxId("ohlcv_data") + 1;
    for (let i = 0; i < 2; i++) {
        const ts = Math.floor(atUs / 3_600e6) * 3600 + i * 3600;
        kit.insert(TEST_ROWS, "test-row", "ohlcv_data", {
            id: id++,
            pool_id: "test_pool_1",
            timeframe: "1h",
            timestamp: ts,
            open_price: 0.15,
            high_price: 0.16,
            low_price: 0.14,
            close_price: 0.155,
            volume_usd: 300,
            datetime: pythonText(ctx.clock.wallUs(ts * 1e6)),
            created_at: utcSqlite((ts + 3600) * 1e6),
        });
    }
}

/** The first test pool on the watchlist and in new_pools_history (where the variant has them), and a test collector's metadata. */
function plantTestOperations(kit: DefectKit, ctx: GenContext, atUs: number): void {
    if (kit.has("watchlist")) {
        kit.insert(TEST_ROWS, "test-row", "watchlist", {
            id: kit.maxId("watchlist") + 1,
            pool_id: "test_pool_1",
            token_symbol: "TEST",
            token_name: "Test Token",
            network_address: "test_token",
            is_active: 1,
            added_at: utcPython(atUs),
            created_at: utcSqlite(atUs),
            updated_at: utcSqlite(atUs),
            metadata_json: "{}",
        });
    }
    kit.insert(TEST_ROWS, "test-row", "collection_metadata", {
        collector_type: "test_collector",
        last_run: pythonText(ctx.clock.wallUs(atUs)),
        last_success: pythonText(ctx.clock.wallUs(atUs)),
        run_count: 1,
        error_count: 0,
        total_execution_time: 0.5,
        total_records_collected: 2,
        average_execution_time: 0.5,
        success_rate: 100,
        health_score: 100,
        last_updated: utcSqlite(atUs),
    });
    if (kit.has("new_pools_history")) {
        const pool = ctx.pools[0];
        kit.insert(TEST_ROWS, "test-row", "new_pools_history", {
            id: kit.maxId("new_pools_history") + 1,
            pool_id: "test_pool_1",
            type: "pool",
            name: "TEST / SOL",
            base_token_price_usd: pool ? priceAt(pool, atUs) : 0.15,
            address: "test_pool_1",
            reserve_in_usd: 1000,
            pool_created_at: utcPython(atUs),
            dex_id: "test_dex",
            base_token_id: "test_token",
            quote_token_id: networkId(QUOTE_TOKENS[0].address),
            network_id: NETWORK,
            collected_at: pythonText(ctx.clock.wallUs(later(kit.rng, atUs, 60, 120))),
        });
    }
}
