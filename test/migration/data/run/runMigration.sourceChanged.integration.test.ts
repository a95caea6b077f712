/**
 * A live collector changes rows in place: an OHLCV upsert rewrites a candle, a pool
 * update moves last_updated, retention deletes a trade. A migrate rerun copies only
 * new rows, so it must not call those tables good on the checksums it recorded at
 * copy time: when the source changed since the last run, it re-reads the source for
 * the tables copied earlier and names each changed row.
 */
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMigrationFixture, tableReport, type MigrationFixture } from "../../../support/migrationFixture";

describe("a migrate rerun after the source changed in place", () => {
    let fx: MigrationFixture;
    let source: string;

    beforeAll(async () => {
        fx = await createMigrationFixture("moved");
        ({ path: source } = fx.generate("moved", { rows: 2000, seed: 21 }));
    });
    afterAll(async () => fx?.dispose());

    it("with the file unchanged, trusts the copy's checksums and passes", async () => {
        expect((await fx.migrate(source)).ok).toBe(true);
        const again = await fx.migrate(source);
        expect(again.ok).toBe(true);
        expect(again.warnings.filter((w) => w.includes("source changed"))).toEqual([]);
        expect(again.tables.every((t) => t.validation!.checksumSource === "copy")).toBe(true);
    });

    it("fails, naming the updated candle, the updated pool and the deleted trade, and says the source moved", async () => {
        const db = new Database(source);
        const candle = db.prepare("SELECT rowid AS r FROM ohlcv_data ORDER BY rowid LIMIT 1 OFFSET 7").get() as { r: number };
        db.prepare("UPDATE ohlcv_data SET close_price = close_price + 1 WHERE rowid = ?").run(candle.r);
        const pool = db.prepare("SELECT id FROM pools ORDER BY id LIMIT 1 OFFSET 3").get() as { id: string };
        db.prepare("UPDATE pools SET last_updated = '2031-01-02 03:04:05' WHERE id = ?").run(pool.id);
        const trade = db.prepare("SELECT id FROM trades ORDER BY rowid LIMIT 1 OFFSET 11").get() as { id: string };
        db.prepare("DELETE FROM trades WHERE id = ?").run(trade.id);
        db.close();

        const report = await fx.migrate(source);
        expect(report.ok).toBe(false);
        expect(report.warnings.some((w) => w.startsWith("the source changed since the last run (fingerprint"))).toBe(true);
        const ohlcv = tableReport(report, "ohlcv_data").validation!;
        expect(ohlcv.checksumSource).toBe("source-rescan");
        expect(ohlcv.differences.map((d) => d.issue)).toEqual(["values differ"]);
        expect(tableReport(report, "pools").validation!.differences).toEqual([
            expect.objectContaining({ key: expect.stringContaining(pool.id), issue: "values differ" }),
        ]);
        const trades = tableReport(report, "trades").validation!;
        expect(trades.countsMatch).toBe(false);
        expect(trades.differences).toEqual([
            expect.objectContaining({ key: expect.stringContaining(trade.id), issue: "unexpected in target" }),
        ]);
        expect(report.failures.filter((f) => /^(ohlcv_data|pools): checksum mismatch/.test(f))).toHaveLength(2);
        expect(report.failures.some((f) => f.startsWith("trades: source"))).toBe(true);
    });
});
