/**
 * scripts/bench/load/psycopg2.ts: the benchmark's PostgreSQL writers send what psycopg2
 * sends (client-side literals). Python's repr and psycopg2's adapters as tables, then the
 * write mix's statements executed both ways on a real PostgreSQL: the literal text stores
 * exactly what the parameterised one stores.
 */
import { Client } from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_MIX, OpSource, type Workload } from "../scripts/bench/load/ops";
import { adapt, mogrify, pythonFloatRepr } from "../scripts/bench/load/psycopg2";
import { adminUrl } from "./support/db";

describe("pythonFloatRepr", () => {
    // Expected values are what CPython's repr() prints.
    it.each([
        [0.1, "0.1"],
        [5, "5.0"],
        [-2.5, "-2.5"],
        [0.0001, "0.0001"],
        [0.00001, "1e-05"],
        [1.5e-7, "1.5e-07"],
        [123.456, "123.456"],
        [379.28646677651693, "379.28646677651693"],
        [1234567890123456, "1234567890123456.0"],
        [1e16, "1e+16"],
        [1.5e22, "1.5e+22"],
        [-0, "-0.0"],
        [Number.NaN, "nan"],
    ])("%s -> %s", (x, expected) => {
        expect(pythonFloatRepr(x)).toBe(expected);
    });
});

describe("adapt (psycopg2's adapters)", () => {
    it.each([
        [null, false, "NULL"],
        ["it's", false, "'it''s'"],
        ["back\\slash", false, "'back\\slash'"],
        [42, false, "42"],
        [-42, false, " -42"],
        [0.25, false, "0.25"],
        [-0.00001, false, " -1e-05"],
        [Number.NaN, false, "'NaN'::float"],
        [Number.POSITIVE_INFINITY, false, "'Infinity'::float"],
        [true, false, "true"],
        ["2025-05-31 23:58:46.500000", true, "'2025-05-31T23:58:46.500000'::timestamp"],
        ["2025-05-31 23:58:46.000000", true, "'2025-05-31T23:58:46'::timestamp"],
        ["2025-05-31 23:58:46", true, "'2025-05-31T23:58:46'::timestamp"],
    ])("%s (timestamp %s) -> %s", (value, asTimestamp, expected) => {
        expect(adapt(value, asTimestamp)).toBe(expected);
    });

    it("refuses what psycopg2 could not send", () => {
        expect(() => adapt("a\0b")).toThrow(/NUL/);
        expect(() => adapt("yesterday", true)).toThrow(/naive datetime/);
        expect(() => adapt({})).toThrow(/no psycopg2 adaptation/);
    });
});

describe("mogrify", () => {
    it("replaces every marker once, casts included, and never re-reads a substituted value", () => {
        expect(mogrify("UPDATE pools SET a = $1, b = $2::timestamp WHERE id = $3", [1.5, "2025-01-02 03:04:05.000007", "$1 o'clock"])).toBe(
            "UPDATE pools SET a = 1.5, b = '2025-01-02T03:04:05.000007'::timestamp WHERE id = '$1 o''clock'",
        );
        expect(mogrify("SELECT $10, $1", [1, 2, 3, 4, 5, 6, 7, 8, 9, 10])).toBe("SELECT 10, 1");
    });

    it("fails on a marker without a parameter", () => {
        expect(() => mogrify("SELECT $2", [1])).toThrow(/only 1 parameters/);
    });
});

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
