import Database from "better-sqlite3";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createTimezonePolicy } from "../../../../migration/data/convert/timezonePolicy";
import { checkClocks } from "../../../../migration/data/source/clockCheck";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "clockcheck-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const p2 = (n: number) => String(n).padStart(2, "0");
/** Naive `YYYY-MM-DD HH:MM:SS.ffffff` of an instant shifted by `offsetHours`, without any zone library. */
function naive(epoch: number, offsetHours: number): string {
    const d = new Date((epoch + offsetHours * 3600) * 1000);
    return `${d.getUTCFullYear()}-${p2(d.getUTCMonth() + 1)}-${p2(d.getUTCDate())} ${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())}.000000`;
}
/** America/Chicago in March 2024: CST (-6) until 2024-03-10 08:00 UTC, CDT (-5) after. */
const chicagoMarch2024 = (epoch: number) => (epoch < Date.UTC(2024, 2, 10, 8) / 1000 ? -6 : -5);

function collectorDb(name: string, build: (db: Database.Database) => void): Database.Database {
    const db = new Database(path.join(dir, `${name}.db`));
    build(db);
    return db;
}

function fullDb(): Database.Database {
    return collectorDb("full", (db) => {
        db.exec(`CREATE TABLE ohlcv_data (id INTEGER NOT NULL, pool_id VARCHAR(100) NOT NULL, timeframe VARCHAR(10) NOT NULL, timestamp BIGINT NOT NULL,
                   open_price NUMERIC(30, 18) NOT NULL, high_price NUMERIC(30, 18) NOT NULL, low_price NUMERIC(30, 18) NOT NULL, close_price NUMERIC(30, 18) NOT NULL,
                   volume_usd NUMERIC(20, 8) NOT NULL, datetime DATETIME NOT NULL, created_at DATETIME, PRIMARY KEY (id))`);
        db.exec(`CREATE TABLE trades (id VARCHAR(200) NOT NULL, pool_id VARCHAR(100) NOT NULL, block_number BIGINT, tx_hash VARCHAR(100), tx_from_address VARCHAR(100),
                   from_token_amount NUMERIC(30, 18), to_token_amount NUMERIC(30, 18), price_usd NUMERIC(30, 18), volume_usd NUMERIC(20, 8), side VARCHAR(10),
                   block_timestamp DATETIME, created_at DATETIME, PRIMARY KEY (id))`);
        const ohlcv = db.prepare("INSERT INTO ohlcv_data VALUES (?, 'solana_pool', '1h', ?, 1.5, 2, 1, 1.75, 1000, ?, CURRENT_TIMESTAMP)");
        const trade = db.prepare("INSERT INTO trades (id, pool_id, block_number, block_timestamp) VALUES (?, 'solana_pool', ?, ?)");
        const start = Date.UTC(2024, 2, 1) / 1000;
        db.transaction(() => {
            // hourly candles over March 2024 (crosses the DST start), ids with gaps
            for (let i = 0; i < 31 * 24; i++) {
                const epoch = start + i * 3600;
                ohlcv.run(BigInt(i * 3 + 1), BigInt(epoch), naive(epoch, chicagoMarch2024(epoch)));
            }
            // trades whose block_timestamp is 6 hours behind the epoch in their id (the real incident)
            for (let i = 0; i < 500; i++) {
                const epoch = start + i * 517;
                trade.run(`solana_${300000000 + i}_${"5xZ".repeat(10)}${i}_0_${epoch}`, BigInt(300000000 + i), naive(epoch, -6));
            }
            // rows that cannot be measured: hand-edited with an offset, id without an epoch
            trade.run("solana_1_tx_0_notanepoch", 1n, "2024-03-01 00:00:00");
            trade.run(`solana_2_tx_0_${start}`, 2n, "2024-03-01T00:00:00Z");
        })();
    });
}

describe("checkClocks", () => {
    const db = fullDb();
    afterAll(() => db.close());

    it("confirms a local-clock ohlcv_data.datetime across DST and catches trades shifted by 6 hours", () => {
        const [ohlcv, trades] = checkClocks(db, createTimezonePolicy({ hostZone: "America/Chicago" }));
        expect(ohlcv).toMatchObject({
            column: "ohlcv_data.datetime",
            status: "ok",
            policyClock: "local",
            policyZone: "America/Chicago",
            rowsSampled: 744,
            rowsUsable: 744,
            rowsAgreeingWithPolicy: 744,
            policyAgrees: true,
            dominantOffsetMinutes: -300,
            expectedOffsetsMinutes: [-360, -300],
        });
        // 9 days and 7 hours in CST (until 08:00 UTC on the 10th), the rest in CDT
        expect(ohlcv!.dominantCount).toBe(744 - (9 * 24 + 8));
        expect(trades).toMatchObject({
            column: "trades.block_timestamp",
            status: "mismatch",
            policyClock: "utc",
            policyZone: "UTC",
            rowsSampled: 502,
            rowsUsable: 500,
            dominantOffsetMinutes: -360,
            dominantCount: 500,
            expectedOffsetsMinutes: [0],
            rowsAgreeingWithPolicy: 0,
            policyAgrees: false,
        });
        expect(trades!.message).toContain("UTC-06:00");
        expect(trades!.message).toContain("shifted");
    });

    it("flags a policy that reads the local column as UTC", () => {
        const [ohlcv] = checkClocks(db, createTimezonePolicy());
        expect(ohlcv).toMatchObject({
            status: "mismatch",
            policyZone: "UTC",
            rowsAgreeingWithPolicy: 0,
            policyAgrees: false,
            expectedOffsetsMinutes: [0],
        });
    });

    it("bounds the sample and spreads it over the rowid range", () => {
        const [ohlcv, trades] = checkClocks(db, createTimezonePolicy({ hostZone: "America/Chicago" }), { sampleSize: 100 });
        expect(ohlcv!.rowsSampled).toBe(100);
        expect(trades!.rowsSampled).toBe(100);
        // spread: both clocks of the month show up, not just the first 100 (all CST) rows
        expect(ohlcv!.dominantOffsetMinutes).toBe(-300);
        expect(ohlcv!.policyAgrees).toBe(true);
    });

    it("reports absent tables, absent columns, empty tables and unmeasurable rows", () => {
        const other = collectorDb("old", (d) => {
            d.exec("CREATE TABLE ohlcv_data (id INTEGER PRIMARY KEY, timestamp BIGINT NOT NULL)"); // no datetime column
        });
        const empty = collectorDb("empty", (d) => {
            d.exec("CREATE TABLE ohlcv_data (id INTEGER PRIMARY KEY, timestamp BIGINT, datetime DATETIME)");
            d.exec("CREATE TABLE trades (id VARCHAR(200) PRIMARY KEY, block_timestamp DATETIME)");
            d.prepare("INSERT INTO trades VALUES ('no_epoch_here', '2024-01-01 00:00:00')").run();
        });
        try {
            const policy = createTimezonePolicy();
            const [o1, t1] = checkClocks(other, policy);
            expect(o1).toMatchObject({
                status: "absent",
                rowsSampled: 0,
                policyAgrees: null,
                message: "ohlcv_data.datetime: not checked, column(s) ohlcv_data.datetime absent",
            });
            expect(t1).toMatchObject({ status: "absent", message: "trades.block_timestamp: not checked, table trades is absent" });
            const [o2, t2] = checkClocks(empty, policy);
            expect(o2).toMatchObject({ status: "empty", rowsSampled: 0, policyAgrees: null });
            expect(t2).toMatchObject({
                status: "inconclusive",
                rowsSampled: 1,
                rowsUsable: 0,
                policyAgrees: null,
                dominantOffsetMinutes: null,
            });
        } finally {
            other.close();
            empty.close();
        }
    });
});
