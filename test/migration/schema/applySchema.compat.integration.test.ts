/**
 * The collector must run unchanged against the target schema: every statement of
 * collector-facts.md "Queries the collector runs most" (1-11), as the app role
 * (password login), in the form SQLAlchemy 2.0 emits for PostgreSQL.
 *
 * The facts file writes the SQLite rendering. Differences on PostgreSQL:
 * - `Watchlist.is_active == True` renders `is_active = 1` on SQLite but `is_active = true`
 *   on PostgreSQL; `boolean = integer` does not exist in PostgreSQL (asserted below).
 * - Parameters: psycopg2 interpolates them client-side; naive Python datetimes arrive as
 *   `'...'::timestamp` literals (here `$n::timestamp`), read in the session TimeZone (UTC).
 * - Hourly buckets: `date_trunc('hour', collected_at)` instead of SQLite's strftime.
 */
import { Client } from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applySchema, type ApplySchemaOptions } from "../../../migration/schema/applySchema";
import { createSchemaFixture, utcEpoch, type SchemaFixture } from "../../support/schemaFixtures";

const OPTIONS = (f: SchemaFixture): ApplySchemaOptions => ({
    ownerRole: f.ownerRole,
    appRole: f.appRole,
    partitionSpan: { fromEpoch: utcEpoch("2024-01-01T00:00:00Z"), toEpoch: utcEpoch("2024-03-31T00:00:00Z") },
    monthsAhead: 1,
    now: new Date("2024-03-10T00:00:00Z"),
});

const ohlcvTimes = ["2024-01-10T12:00:00Z", "2024-02-10T12:00:00Z", "2024-02-20T12:00:00Z", "2024-03-05T12:00:00Z"];

/** The migration's bulk load (admin, explicit ids), then post-load. */
async function migrate(f: SchemaFixture): Promise<void> {
    const q = (sql: string, params: unknown[] = []) => f.admin.query(sql, params);
    await applySchema(f.admin, "tables", OPTIONS(f));
    await q(`INSERT INTO dexes (id, name, network) VALUES ('raydium', 'Raydium', 'solana'), ('orca', 'Orca', 'solana')`);
    await q(`INSERT INTO tokens (id, address, symbol, network) VALUES ('solana_SOL', 'SOL', 'SOL', 'solana')`);
    await q(`INSERT INTO pools (id, address, name, dex_id, activity_score, discovery_source, collection_priority, last_activity_check) VALUES
             ('solana_p1', 'p1', 'SOL/USDC', 'raydium', 80.50, 'auto', 'normal', '2024-03-01 00:00:00+00'),
             ('solana_p2', 'p2', 'BONK/SOL', 'orca', NULL, 'auto_new', 'high', NULL),
             ('solana_p3', 'p3', 'OLD/SOL', 'orca', 12.00, 'auto', 'paused', NULL),
             ('solana_p4', 'p4', 'MAN/SOL', 'raydium', 40.00, 'manual', 'normal', NULL)`);
    await q(
        `INSERT INTO watchlist (id, pool_id, token_symbol, is_active) VALUES (1, 'solana_p1', 'SOL', true), (2, 'solana_p2', 'BONK', false)`,
    );
    for (const [i, iso] of ohlcvTimes.entries()) {
        await q(
            `INSERT INTO ohlcv_data (id, pool_id, timeframe, timestamp, open_price, high_price, low_price, close_price, volume_usd, datetime)
             VALUES ($1, 'solana_p1', '1h', $2::bigint, 1.5, 2, 1, 1.75, 1000.12345678, to_timestamp($2::bigint))`,
            [100 + i, utcEpoch(iso)],
        );
    }
    await q(`INSERT INTO trades (id, pool_id, volume_usd, side, block_timestamp) VALUES
             ('solana_1_a_0_1704888000', 'solana_p1', 50, 'buy', '2024-01-10 12:00:00+00'),
             ('solana_2_b_0_1707566400', 'solana_p1', 500, 'sell', '2024-02-10 12:00:00+00'),
             ('solana_3_c_0_1709640000', 'solana_p1', 5, 'buy', '2024-03-05 12:00:00+00'),
             ('solana_4_d_0_1709640000', 'solana_p2', 7, 'buy', '2024-03-05 12:00:00+00')`);
    await q(`INSERT INTO new_pools_history (id, pool_id, network_id, dex_id, reserve_in_usd, volume_usd_h24, signal_score, collected_at) VALUES
             (40, 'solana_p1', 'solana', 'raydium', 1000, 10, 75.5, '2024-03-09 10:15:00+00'),
             (41, 'solana_p2', 'solana', 'orca', 3000, 30, 20, '2024-03-09 10:45:00+00'),
             (42, 'eth_p9', 'eth', 'uniswap', 50, 1, 90, '2024-03-09 11:05:00+00')`);
    await applySchema(f.admin, "post-load", OPTIONS(f));
}

/** Relation and index names of an EXPLAIN (FORMAT JSON) plan. */
function planNodes(
    plan: unknown,
    out: { relations: string[]; indexes: string[]; nodes: string[] } = { relations: [], indexes: [], nodes: [] },
) {
    if (Array.isArray(plan)) plan.forEach((p) => planNodes(p, out));
    else if (plan && typeof plan === "object") {
        const o = plan as Record<string, unknown>;
        if (typeof o["Relation Name"] === "string") out.relations.push(o["Relation Name"]);
        if (typeof o["Index Name"] === "string") out.indexes.push(o["Index Name"]);
        if (typeof o["Node Type"] === "string") out.nodes.push(o["Node Type"]);
        Object.values(o).forEach((v) => planNodes(v, out));
    }
    return out;
}

describe("the collector's statements as the app role", () => {
    let f: SchemaFixture;
    let app: Client;
    const sql = (text: string, params: unknown[] = []) => app.query(text, params);
    const explain = async (text: string) => planNodes((await app.query(`EXPLAIN (FORMAT JSON) ${text}`)).rows[0]["QUERY PLAN"]);

    beforeAll(async () => {
        f = await createSchemaFixture("schema_compat");
        await migrate(f);
        app = new Client({ connectionString: f.appUrl });
        await app.connect();
    });
    afterAll(async () => {
        await app?.end();
        await f?.cleanup();
    });

    it("logs in as the app role and reads naive timestamps as UTC", async () => {
        const r = await sql(
            `SELECT current_user AS u, current_setting('TimeZone') AS tz, '2024-02-01 12:00:00'::timestamptz = to_timestamp(1706788800) AS utc`,
        );
        expect(r.rows[0]).toEqual({ u: f.appRole, tz: "UTC", utc: true });
    });

    it("1. active watchlist (is_active = true), then each pool by id", async () => {
        await expect(sql(`SELECT * FROM watchlist WHERE is_active = 1`)).rejects.toThrow(/operator does not exist: boolean = integer/);
        const w = await sql(`SELECT watchlist.id, watchlist.pool_id, watchlist.is_active FROM watchlist WHERE watchlist.is_active = true`);
        expect(w.rows).toEqual([{ id: "1", pool_id: "solana_p1", is_active: true }]);
        const p = await sql(`SELECT * FROM pools WHERE pools.id = $1`, [w.rows[0].pool_id]);
        expect(p.rows.map((r) => r.name)).toEqual(["SOL/USDC"]);
    });

    it("2. OHLCV per pool and timeframe, datetime window, ordered by datetime", async () => {
        const r = await sql(
            `SELECT id, datetime FROM ohlcv_data WHERE pool_id = $1 AND timeframe = $2 AND datetime BETWEEN $3::timestamp AND $4::timestamp ORDER BY datetime`,
            ["solana_p1", "1h", "2024-02-01 00:00:00", "2024-03-31 00:00:00.000000"],
        );
        expect(r.rows.map((x) => [x.id, x.datetime.toISOString()])).toEqual([
            ["101", "2024-02-10T12:00:00.000Z"],
            ["102", "2024-02-20T12:00:00.000Z"],
            ["103", "2024-03-05T12:00:00.000Z"],
        ]);
        const all = await sql(`SELECT count(*)::int AS n FROM ohlcv_data WHERE pool_id = $1 AND timeframe = $2`, ["solana_p1", "1h"]);
        expect(all.rows[0].n).toBe(4);
    });

    it("3. trades per pool, time window and minimum volume, newest first", async () => {
        const r = await sql(
            `SELECT id FROM trades WHERE pool_id = $1 AND block_timestamp >= $2::timestamp AND block_timestamp <= $3::timestamp AND volume_usd >= $4 ORDER BY block_timestamp DESC`,
            ["solana_p1", "2024-01-01 00:00:00", "2024-03-31 00:00:00", 10],
        );
        expect(r.rows.map((x) => x.id)).toEqual(["solana_2_b_0_1707566400", "solana_1_a_0_1704888000"]);
        const plain = await sql(`SELECT id FROM trades WHERE pool_id = $1 ORDER BY block_timestamp DESC`, ["solana_p1"]);
        expect(plain.rowCount).toBe(3);
    });

    it("4. trade ingest: known ids, then multi-row INSERT ... ON CONFLICT (id) DO NOTHING", async () => {
        const ids = ["solana_3_c_0_1709640000", "solana_5_e_0_1709726400", "solana_6_f_0_1709726400"];
        const known = await sql(`SELECT trades.id FROM trades WHERE trades.id IN ($1, $2, $3)`, ids);
        expect(known.rows.map((x) => x.id)).toEqual(["solana_3_c_0_1709640000"]);
        const ins = await sql(
            `INSERT INTO trades (id, pool_id, block_number, tx_hash, tx_from_address, from_token_amount, to_token_amount, price_usd, volume_usd, side, block_timestamp, created_at)
             VALUES ($1, 'solana_p1', 3, 'c', 'w1', 1.5, 2.5, 100.123456789012345678, 9.99, 'buy', $4::timestamp, $5::timestamp),
                    ($2, 'solana_p1', 5, 'e', 'w2', 1, 2, 1, 11.5, 'sell', $4::timestamp, $5::timestamp),
                    ($3, 'solana_p1', 6, 'f', 'w3', 1, 2, 1, 12.5, 'buy', $4::timestamp, $5::timestamp)
             ON CONFLICT (id) DO NOTHING`,
            [...ids, "2024-03-06 12:00:00", "2024-03-06 12:00:01.123456"],
        );
        expect(ins.rowCount).toBe(2);
        const stored = await sql(`SELECT block_timestamp, volume_usd FROM trades WHERE id = $1`, [ids[1]]);
        expect(stored.rows[0]).toEqual({ block_timestamp: new Date("2024-03-06T12:00:00Z"), volume_usd: "11.50000000" });
    });

    it("5. OHLCV ingest row by row: INSERT ... ON CONFLICT (pool_id, timeframe, timestamp) DO UPDATE", async () => {
        const upsert = (ts: number, close: number) =>
            sql(
                `INSERT INTO ohlcv_data (pool_id, timeframe, timestamp, open_price, high_price, low_price, close_price, volume_usd, datetime, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::timestamp, $10::timestamp)
                 ON CONFLICT (pool_id, timeframe, timestamp) DO UPDATE SET open_price = excluded.open_price, high_price = excluded.high_price,
                   low_price = excluded.low_price, close_price = excluded.close_price, volume_usd = excluded.volume_usd, datetime = excluded.datetime
                 RETURNING id, close_price, tableoid::regclass::text AS part`,
                [
                    "solana_p1",
                    "1h",
                    ts,
                    1,
                    2,
                    0.5,
                    close,
                    10,
                    new Date(ts * 1000).toISOString().slice(0, 19).replace("T", " "),
                    "2024-03-10 00:00:00",
                ],
            );
        const mar = utcEpoch("2024-03-08T00:00:00Z");
        const first = await upsert(mar, 1.25);
        expect(first.rows[0]).toMatchObject({ close_price: "1.250000000000000000", part: "ohlcv_data_p202403" });
        expect(BigInt(first.rows[0].id)).toBeGreaterThan(103n); // identity continues after the migrated ids
        const second = await upsert(mar, 1.5);
        expect(second.rows[0]).toEqual({ id: first.rows[0].id, close_price: "1.500000000000000000", part: "ohlcv_data_p202403" });
        // An existing migrated candle is updated in place.
        const existing = await upsert(utcEpoch(ohlcvTimes[0]), 9);
        expect(existing.rows[0]).toMatchObject({ id: "100", part: "ohlcv_data_p202401" });
        // Beyond the planned months: the DEFAULT partition takes it.
        const later = await upsert(utcEpoch("2026-01-01T00:00:00Z"), 2);
        expect(later.rows[0].part).toBe("ohlcv_data_default");
    });

    it("6. pool upsert: UPDATE pools SET ..., last_updated = ? WHERE id = ?", async () => {
        const r = await sql(`UPDATE pools SET name = $1, reserve_usd = $2, last_updated = $3::timestamp WHERE pools.id = $4`, [
            "SOL/USDC",
            379.28646677651693,
            "2024-03-10 08:00:00.654321",
            "solana_p1",
        ]);
        expect(r.rowCount).toBe(1);
        const back = await sql(`SELECT reserve_usd, last_updated FROM pools WHERE id = 'solana_p1'`);
        expect(back.rows[0]).toEqual({ reserve_usd: "379.28646678", last_updated: new Date("2024-03-10T08:00:00.654Z") });
    });

    it("7. new_pools_history: single-row insert, per-pool history, signal ranking (extended columns present)", async () => {
        const ins = await sql(
            `INSERT INTO new_pools_history (pool_id, type, name, address, reserve_in_usd, dex_id, network_id, collected_at, signal_score, volume_trend, liquidity_trend, momentum_indicator, activity_score, volatility_score)
             VALUES ($1, 'pool', 'SOL/USDC', 'p1', 1200.5, 'raydium', 'solana', $2::timestamp, 88.25, 'up', 'stable', 1.5, 60, 3.2) RETURNING id`,
            ["solana_p1", "2024-03-09 11:30:00"],
        );
        expect(BigInt(ins.rows[0].id)).toBeGreaterThan(42n);
        const hist = await sql(
            `SELECT id FROM new_pools_history WHERE pool_id = $1 AND collected_at >= $2::timestamp ORDER BY collected_at DESC`,
            ["solana_p1", "2024-03-09 00:00:00"],
        );
        expect(hist.rows.map((x) => x.id)).toEqual([ins.rows[0].id, "40"]);
        const top = await sql(
            `SELECT pool_id, signal_score FROM new_pools_history WHERE network_id = $1 AND collected_at >= $2::timestamp AND signal_score >= $3 ORDER BY signal_score DESC LIMIT $4`,
            ["solana", "2024-03-09 00:00:00", 50, 10],
        );
        expect(top.rows).toEqual([
            { pool_id: "solana_p1", signal_score: "88.2500" },
            { pool_id: "solana_p1", signal_score: "75.5000" },
        ]);
    });

    it("8. statistics: counts per network and dex, hourly buckets", async () => {
        const byNetwork = await sql(`SELECT network_id, count(*)::int AS n FROM new_pools_history GROUP BY network_id ORDER BY network_id`);
        expect(byNetwork.rows).toEqual([
            { network_id: "eth", n: 1 },
            { network_id: "solana", n: 3 },
        ]);
        const byDex = await sql(`SELECT dex_id, count(*)::int AS n FROM new_pools_history GROUP BY dex_id ORDER BY dex_id`);
        expect(byDex.rows).toEqual([
            { dex_id: "orca", n: 1 },
            { dex_id: "raydium", n: 2 },
            { dex_id: "uniswap", n: 1 },
        ]);
        const hourly = await sql(
            `SELECT date_trunc('hour', collected_at) AS hour, count(DISTINCT pool_id)::int AS pools, avg(reserve_in_usd) AS avg_reserve, sum(volume_usd_h24) AS volume
               FROM new_pools_history WHERE collected_at >= $1::timestamp GROUP BY 1 ORDER BY 1`,
            ["2024-03-09 00:00:00"],
        );
        expect(hourly.rows.map((r) => [r.hour.toISOString(), r.pools, Number(r.avg_reserve), r.volume])).toEqual([
            ["2024-03-09T10:00:00.000Z", 2, 2000, "40.0000"],
            ["2024-03-09T11:00:00.000Z", 2, 625.25, "1.0000"],
        ]);
    });

    it("9. per-pool statistics on OHLCV and trades", async () => {
        const o = await sql(
            `SELECT timeframe, count(*)::int AS n, min(datetime) AS first, max(datetime) AS last FROM ohlcv_data WHERE pool_id = $1 GROUP BY timeframe`,
            ["solana_p1"],
        );
        expect(o.rows).toEqual([{ timeframe: "1h", n: 6, first: new Date(ohlcvTimes[0]), last: new Date("2026-01-01T00:00:00Z") }]);
        const t = await sql(
            `SELECT sum(volume_usd) AS total, avg(volume_usd)::numeric(20,2) AS mean, max(volume_usd) AS top, min(block_timestamp) AS first, max(block_timestamp) AS last FROM trades WHERE pool_id = $1`,
            ["solana_p2"],
        );
        expect(t.rows[0]).toEqual({
            total: "7.00000000",
            mean: "7.00",
            top: "7.00000000",
            first: new Date("2024-03-05T12:00:00Z"),
            last: new Date("2024-03-05T12:00:00Z"),
        });
    });

    it("11. discovery: ranking by activity_score DESC (NULLs sort FIRST in PostgreSQL) and the due-for-check list", async () => {
        const ranked = await sql(`SELECT id, activity_score FROM pools ORDER BY activity_score DESC`);
        expect(ranked.rows.map((r) => r.id)).toEqual(["solana_p2", "solana_p1", "solana_p4", "solana_p3"]);
        const due = await sql(
            `SELECT id FROM pools WHERE discovery_source IN ('auto', 'auto_new') AND collection_priority <> 'paused' AND (last_activity_check IS NULL OR last_activity_check < $1::timestamp) ORDER BY id LIMIT 100`,
            ["2024-03-05 00:00:00"],
        );
        expect(due.rows.map((r) => r.id)).toEqual(["solana_p1", "solana_p2"]);
    });

    it("relies on the PostgreSQL defaults when the collector omits columns", async () => {
        await sql(`INSERT INTO pools (id, address, dex_id) VALUES ('solana_p5', 'p5', 'orca')`);
        const p = await sql(
            `SELECT discovery_source, collection_priority, metadata_json, created_at IS NOT NULL AS stamped FROM pools WHERE id = 'solana_p5'`,
        );
        expect(p.rows[0]).toEqual({ discovery_source: "auto", collection_priority: "normal", metadata_json: {}, stamped: true });
        const w = await sql(`INSERT INTO watchlist (pool_id) VALUES ('solana_p5') RETURNING id, is_active, metadata_json`);
        expect(w.rows[0]).toEqual({ id: "3", is_active: true, metadata_json: {} });
        const a = await sql(
            `INSERT INTO system_alerts (alert_id, level, collector_type, message, timestamp) VALUES ('a1', 'warning', 'ohlcv', 'slow', $1::timestamp) RETURNING acknowledged, resolved`,
            ["2024-03-10 00:00:00"],
        );
        expect(a.rows[0]).toEqual({ acknowledged: false, resolved: false });
        await sql(`INSERT INTO collection_metadata (collector_type) VALUES ('ohlcv')`);
        const m = await sql(`SELECT run_count, error_count, total_execution_time, success_rate FROM collection_metadata`);
        expect(m.rows[0]).toEqual({ run_count: 0, error_count: 0, total_execution_time: "0.000", success_rate: "100.00" });
    });

    it("cannot change the schema (not the owner)", async () => {
        await expect(sql(`DROP TABLE watchlist`)).rejects.toThrow(/must be owner/);
        await expect(sql(`ALTER TABLE pools ADD COLUMN x int`)).rejects.toThrow(/must be owner/);
    });

    it("prunes ohlcv_data partitions on `timestamp`, not on `datetime` (the collector filters by datetime)", async () => {
        const byKey = await explain(
            `SELECT * FROM ohlcv_data WHERE pool_id = 'solana_p1' AND timeframe = '1h' AND timestamp >= ${utcEpoch("2024-02-05T00:00:00Z")} AND timestamp < ${utcEpoch("2024-02-25T00:00:00Z")}`,
        );
        expect(byKey.relations).toEqual(["ohlcv_data_p202402"]);
        const byDatetime = await explain(
            `SELECT * FROM ohlcv_data WHERE pool_id = 'solana_p1' AND timeframe = '1h' AND datetime BETWEEN '2024-02-05 00:00:00' AND '2024-02-25 00:00:00' ORDER BY datetime`,
        );
        expect(new Set(byDatetime.relations)).toEqual(
            new Set(["ohlcv_data_p202401", "ohlcv_data_p202402", "ohlcv_data_p202403", "ohlcv_data_p202404", "ohlcv_data_default"]),
        );
    });

    it("serves the hot reads from the planned indexes", async () => {
        // Enough rows of another pool that pool/timeframe selectivity matters, then statistics.
        await f.admin.query(
            `INSERT INTO ohlcv_data (pool_id, timeframe, timestamp, open_price, high_price, low_price, close_price, volume_usd, datetime)
             SELECT 'solana_p4', '1m', ts, 1, 1, 1, 1, 1, to_timestamp(ts) FROM generate_series($1::bigint, $2::bigint, 600) ts`,
            [utcEpoch("2024-02-15T00:00:00Z"), utcEpoch("2024-03-20T00:00:00Z")],
        );
        await f.admin.query("ANALYZE ohlcv_data");
        await sql("SET enable_seqscan = off"); // tiny tables otherwise: make the planner show which index fits
        try {
            expect(
                (
                    await explain(
                        `SELECT * FROM trades WHERE pool_id = 'solana_p1' AND block_timestamp >= '2024-01-01' ORDER BY block_timestamp DESC`,
                    )
                ).indexes,
            ).toEqual(["idx_trades_pool_block_timestamp"]);
            expect(
                (
                    await explain(
                        `SELECT id FROM new_pools_history WHERE pool_id = 'solana_p1' AND collected_at >= '2024-03-01' ORDER BY collected_at DESC`,
                    )
                ).indexes,
            ).toEqual(["uq_new_pools_history_pool_collected"]);
            expect(
                (await explain(`SELECT * FROM new_pools_history WHERE network_id = 'solana' AND collected_at >= '2024-03-01'`)).indexes,
            ).toEqual(["idx_new_pools_history_network_collected"]);
            // 8. statistics: counts per dex read the dex index in order, not every row.
            expect(
                (await explain(`SELECT new_pools_history.dex_id, count(*) AS n FROM new_pools_history GROUP BY new_pools_history.dex_id`))
                    .indexes,
            ).toEqual(["idx_new_pools_history_dex_id"]);
            const ohlcv = await explain(
                `SELECT * FROM ohlcv_data WHERE pool_id = 'solana_p1' AND timeframe = '1h' AND datetime >= '2024-02-01' ORDER BY datetime`,
            );
            expect(ohlcv.nodes).not.toContain("Seq Scan");
            // The populated months use the composite index (near-empty ones may pick any index).
            expect(ohlcv.indexes).toEqual(
                expect.arrayContaining([
                    "ohlcv_data_p202402_pool_timeframe_datetime_idx",
                    "ohlcv_data_p202403_pool_timeframe_datetime_idx",
                ]),
            );
            expect((await explain(`DELETE FROM trades WHERE block_timestamp < '2024-01-01'`)).indexes).toEqual([
                "idx_trades_block_timestamp",
            ]);
        } finally {
            await sql("RESET enable_seqscan");
        }
    });

    it("10. retention: DELETE old OHLCV by datetime and old trades by block_timestamp", async () => {
        const o = await sql(`DELETE FROM ohlcv_data WHERE datetime < $1::timestamp`, ["2024-02-01 00:00:00"]);
        expect(o.rowCount).toBe(1);
        const t = await sql(`DELETE FROM trades WHERE block_timestamp < $1::timestamp`, ["2024-02-01 00:00:00"]);
        expect(t.rowCount).toBe(1);
        const left = await sql(`SELECT min(datetime) AS o, (SELECT min(block_timestamp) FROM trades) AS t FROM ohlcv_data`);
        expect(left.rows[0]).toEqual({ o: new Date(ohlcvTimes[1]), t: new Date("2024-02-10T12:00:00Z") });
    });
});
