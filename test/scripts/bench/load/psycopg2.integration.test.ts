/**
 * scripts/bench/load/psycopg2.ts: the write mix's statements executed both ways on a real
 * PostgreSQL, as psycopg2 sends them (client-side literals) and parameterised: the literal
 * text stores exactly what the parameterised one stores. The adapters alone: psycopg2.test.ts.
 */
import { Client } from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_MIX, OpSource, type Workload } from "../../../../scripts/bench/load/ops";
import { mogrify } from "../../../../scripts/bench/load/psycopg2";
import { adminUrl } from "../../../support/db";

describe("the write mix sent as literals stores what the parameterised statements store", () => {
    const workload: Workload = {
        hotPools: ["solana_pool_a", "solana_pool_b"],
        ohlcvSeries: [{ poolId: "solana_pool_a", timeframe: "1h", seconds: 3600, lastTimestamp: 1_748_736_000 }],
        knownTradeIds: [],
        endEpoch: 1_748_736_000,
    };
    let client: Client;

    beforeAll(async () => {
        client = new Client({ connectionString: adminUrl() });
        await client.connect();
        // The target schema's column types for the columns the mix writes; one table per way of sending.
        for (const suffix of ["params", "literal"]) {
            await client.query(`CREATE TEMP TABLE trades_${suffix} (id varchar(255) PRIMARY KEY, pool_id varchar(255), block_number bigint, tx_hash varchar(255),
                tx_from_address varchar(255), from_token_amount numeric(30,18), to_token_amount numeric(30,18), price_usd numeric(20,10),
                volume_usd numeric(20,4), side varchar(10), block_timestamp timestamptz, created_at timestamptz)`);
            await client.query(`CREATE TEMP TABLE ohlcv_data_${suffix} (pool_id varchar(255), timeframe varchar(10), timestamp bigint, open_price numeric(20,10),
                high_price numeric(20,10), low_price numeric(20,10), close_price numeric(20,10), volume_usd numeric(20,4), datetime timestamptz,
                created_at timestamptz, UNIQUE (pool_id, timeframe, timestamp))`);
        }
        await client.query("SET TimeZone = 'UTC'");
    });

    afterAll(async () => {
        await client?.end();
    });

    it.each(["trade_ingest", "ohlcv_upsert"] as const)("%s", async (op) => {
        const source = new OpSource("postgres", workload, { ...DEFAULT_MIX, tradeBatch: 40 }, "t", 0, 7);
        for (let i = 0; i < 5; i++) {
            for (const s of source.plan(op).buildWrites(new Set())) {
                const table = op === "trade_ingest" ? "trades" : "ohlcv_data";
                const into = (suffix: string) => s.sql.replace(`INSERT INTO ${table} `, `INSERT INTO ${table}_${suffix} `);
                const viaParams = await client.query(into("params"), s.params as unknown[]);
                const viaLiteral = await client.query(mogrify(into("literal"), s.params));
                expect(viaLiteral.rowCount).toBe(viaParams.rowCount);
            }
        }
        const table = op === "trade_ingest" ? "trades" : "ohlcv_data";
        const count = Number((await client.query(`SELECT count(*) AS n FROM ${table}_literal`)).rows[0].n);
        expect(count).toBeGreaterThan(0);
        const differ = await client.query(
            `(SELECT * FROM ${table}_literal EXCEPT ALL SELECT * FROM ${table}_params) UNION ALL (SELECT * FROM ${table}_params EXCEPT ALL SELECT * FROM ${table}_literal)`,
        );
        expect(differ.rows).toEqual([]);
    });
});
