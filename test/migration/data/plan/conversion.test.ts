/**
 * A run's conversion rules bound to its time-zone policy (migration/data/plan/conversion.ts):
 * which zone each column's naive DATETIME text is read in (host zone for the collector's
 * local-clock columns, UTC otherwise, clock overrides on top), NOT NULL left to the
 * encoder, the SQL canonical form, and the clock check over a small collector-shaped
 * SQLite file that only pushes a warning when the data disagrees with the policy.
 * America/Chicago is UTC-6 in January (CST) and UTC-5 in July (CDT); 2024 DST starts
 * 2024-03-10 02:00 local and ends 2024-11-03 02:00 local.
 */
import Database from "better-sqlite3";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { conversionFor } from "../../../../migration/data/plan/conversion";
import { openReadOnly } from "../../../../migration/data/source/snapshot";
import { targetTable } from "../../../../migration/schema/tables";
import type { TargetColumn } from "../../../../migration/schema/types";
import { CURRENT_TABLE_ITEMS, renderCreateTable } from "../../../../scripts/generator/ddl";

const column = (table: string, name: string): TargetColumn => {
    const c = targetTable(table).columns.find((x) => x.name === name);
    if (!c) throw new Error(`test setup: no column ${table}.${name}`);
    return c;
};
const ohlcvDatetime = column("ohlcv_data", "datetime");
const blockTimestamp = column("trades", "block_timestamp");

describe("converterFor", () => {
    const chicago = conversionFor({ sourceTimeZone: "America/Chicago" });

    it("reads a local-clock column in the host zone, with the offset of each date", () => {
        const convert = chicago.converterFor("ohlcv_data", ohlcvDatetime);
        expect(convert("2024-01-15 06:00:00.000000")).toBe("2024-01-15 12:00:00+00"); // CST, +6 h
        expect(convert("2024-07-15 06:00:00")).toBe("2024-07-15 11:00:00+00"); // CDT, +5 h
        expect(convert("2024-07-15 06:00:00.25")).toBe("2024-07-15 11:00:00.25+00");
    });

    it("reads a utc-clock column as UTC whatever the host zone, and epochs as UTC everywhere", () => {
        expect(chicago.converterFor("trades", blockTimestamp)("2024-01-15 06:00:00")).toBe("2024-01-15 06:00:00+00");
        expect(chicago.converterFor("ohlcv_data", ohlcvDatetime)(1_704_067_200n)).toBe("2024-01-01 00:00:00+00");
    });

    it("follows clock overrides in both directions", () => {
        const swapped = conversionFor({
            sourceTimeZone: "America/Chicago",
            clockOverrides: { "trades.block_timestamp": "local", "ohlcv_data.datetime": "utc" },
        });
        expect(swapped.converterFor("trades", blockTimestamp)("2024-01-15 06:00:00")).toBe("2024-01-15 12:00:00+00");
        expect(swapped.converterFor("ohlcv_data", ohlcvDatetime)("2024-01-15 06:00:00")).toBe("2024-01-15 06:00:00+00");
        expect(swapped.policy.clocks["new_pools_history.collected_at"]).toBe("local"); // the other defaults stay
    });

    it("reports DST gaps and overlaps of the host zone as warnings with PostgreSQL's choice of instant", () => {
        const convert = chicago.converterFor("ohlcv_data", ohlcvDatetime);
        // 02:30 does not exist on 2024-03-10: read with the offset before the gap (CST), i.e. 03:30 CDT
        expect(convert("2024-03-10 02:30:00")).toEqual({ ok: true, value: "2024-03-10 08:30:00+00", warning: "dst-nonexistent" });
        // 01:30 happens twice on 2024-11-03: the later one (CST)
        expect(convert("2024-11-03 01:30:00")).toEqual({ ok: true, value: "2024-11-03 07:30:00+00", warning: "dst-ambiguous" });
    });

    it("converts a NOT NULL column as nullable: NULL passes, a blank becomes NULL with a warning (the encoder enforces NOT NULL)", () => {
        const openPrice = column("ohlcv_data", "open_price");
        expect(openPrice.nullable).toBe(false);
        const convert = chicago.converterFor("ohlcv_data", openPrice);
        expect(convert(null)).toBeNull();
        expect(convert("  ")).toEqual({ ok: true, value: null, warning: "empty-as-null" });
        expect(convert("1.5")).toBe("1.500000000000000000"); // numeric(30,18)
        expect(convert("abc")).toEqual({ ok: false, reason: 'TEXT "abc" is not a numeric(30,18) value: not a decimal number' });
    });

    it("refuses an unknown zone and malformed overrides when the conversion is built", () => {
        expect(() => conversionFor({ sourceTimeZone: "Mars/Olympus" })).toThrow("time zone 'Mars/Olympus' is not a known IANA zone name");
        expect(() => conversionFor({ sourceTimeZone: "UTC", clockOverrides: { pools: "local" } })).toThrow(
            "timezone override 'pools': expected 'table.column', e.g. 'pools.last_updated'",
        );
        const bad = { "pools.last_updated": "est" } as unknown as Record<string, "utc" | "local">;
        expect(() => conversionFor({ sourceTimeZone: "UTC", clockOverrides: bad })).toThrow(
            "timezone override 'pools.last_updated': clock must be 'utc' or 'local', got 'est'",
        );
    });
});

describe("canonicalSql", () => {
    it("prints a timestamptz in UTC with +00, like the converter, and every other type as ::text", () => {
        const c = conversionFor({ sourceTimeZone: "America/Chicago" });
        expect(c.canonicalSql('"datetime"', ohlcvDatetime)).toBe(`("datetime" AT TIME ZONE 'UTC')::text || '+00'`);
        expect(c.canonicalSql('t."open_price"', column("ohlcv_data", "open_price"))).toBe('t."open_price"::text');
    });
});

describe("checkClocks", () => {
    let dir: string;
    let file: string;
    let db: Database.Database;
    const p2 = (n: number) => String(n).padStart(2, "0");
    /** Naive `YYYY-MM-DD HH:MM:SS.000000` of an epoch shifted by `hours`. */
    const naive = (epoch: number, hours: number) => {
        const d = new Date((epoch + hours * 3600) * 1000);
        return `${d.getUTCFullYear()}-${p2(d.getUTCMonth() + 1)}-${p2(d.getUTCDate())} ${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())}.000000`;
    };

    beforeAll(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "gecko-conversion-"));
        file = path.join(dir, "collector.db");
        const w = new Database(file);
        w.pragma("foreign_keys = OFF"); // as the collector (Python's sqlite3) runs: no pools rows needed
        w.exec(renderCreateTable("ohlcv_data", CURRENT_TABLE_ITEMS.ohlcv_data));
        w.exec(renderCreateTable("trades", CURRENT_TABLE_ITEMS.trades));
        const ohlcv = w.prepare(
            "INSERT INTO ohlcv_data (id, pool_id, timeframe, timestamp, open_price, high_price, low_price, close_price, volume_usd, datetime) " +
                "VALUES (?, 'solana_pool', '1h', ?, 1, 1, 1, 1, 1, ?)",
        );
        const trade = w.prepare("INSERT INTO trades (id, pool_id, block_number, block_timestamp) VALUES (?, 'solana_pool', ?, ?)");
        const jan = 1_704_067_200; // 2024-01-01T00:00:00Z: Chicago is on CST (-6) all month
        for (let i = 0; i < 10; i++) {
            const epoch = jan + i * 3600;
            ohlcv.run(i + 1, epoch, naive(epoch, -6)); // the host's wall clock, as the collector writes it
            trade.run(`solana_${300 + i}_tx${i}_0_${epoch}`, 300 + i, naive(epoch, 0)); // UTC, as it should be
        }
        w.close();
        db = openReadOnly(file);
    });
    afterAll(() => {
        db?.close();
        fs.rmSync(dir, { recursive: true, force: true });
    });

    it("returns both findings and adds no warning when the policy matches the data", () => {
        const warnings = ["earlier warning"];
        const findings = conversionFor({ sourceTimeZone: "America/Chicago" }).checkClocks(db, warnings);
        expect(findings.map((f) => [f.column, f.status, f.rowsUsable, f.dominantOffsetMinutes, f.policyAgrees])).toEqual([
            ["ohlcv_data.datetime", "ok", 10, -360, true],
            ["trades.block_timestamp", "ok", 10, 0, true],
        ]);
        expect(warnings).toEqual(["earlier warning"]);
    });

    it("warns once per column whose clock disagrees with the policy, with the finding's message", () => {
        const warnings: string[] = [];
        const findings = conversionFor({ sourceTimeZone: "UTC" }).checkClocks(db, warnings);
        expect(findings.map((f) => f.status)).toEqual(["mismatch", "ok"]);
        expect(warnings).toEqual([findings[0].message]);
        expect(warnings[0]).toContain("UTC-06:00 (10 rows)");

        const overridden: string[] = [];
        conversionFor({ sourceTimeZone: "America/Chicago", clockOverrides: { "trades.block_timestamp": "local" } }).checkClocks(
            db,
            overridden,
        );
        expect(overridden).toHaveLength(1);
        expect(overridden[0]).toMatch(/^trades\.block_timestamp: only 0 of 10 sampled rows match the policy \(local, America\/Chicago/);
    });

    it("adds no warning for what it could not measure (absent tables)", () => {
        const emptyFile = path.join(dir, "empty.db");
        const w = new Database(emptyFile);
        w.pragma("user_version = 1"); // a database without tables (a 0-byte file is refused before this)
        w.close();
        const empty = openReadOnly(emptyFile);
        try {
            const warnings: string[] = [];
            const findings = conversionFor({ sourceTimeZone: "UTC" }).checkClocks(empty, warnings);
            expect(findings.map((f) => [f.status, f.policyAgrees])).toEqual([
                ["absent", null],
                ["absent", null],
            ]);
            expect(warnings).toEqual([]);
        } finally {
            empty.close();
        }
    });
});
