import { describe, expect, it } from "vitest";
import { convertTimestamp, formatTimestamp, resolveByEpoch } from "../../../../migration/data/convert/timestamp";
import { resultText } from "../../../support/convertOracle";

describe("convertTimestamp: shapes (UTC column)", () => {
    it.each([
        ["2024-05-01 12:34:56.123456", "2024-05-01 12:34:56.123456+00"], // what Python writes
        ["2024-05-01 12:34:56", "2024-05-01 12:34:56+00"], // CURRENT_TIMESTAMP
        ["2024-05-01 12:34:56.5", "2024-05-01 12:34:56.5+00"],
        ["2024-05-01 12:34:56.000001", "2024-05-01 12:34:56.000001+00"],
        ["2024-05-01T12:34:56Z", "2024-05-01 12:34:56+00"],
        ["2024-05-01t12:34:56z", "2024-05-01 12:34:56+00"],
        ["2024-05-01T12:34:56.25+00:00", "2024-05-01 12:34:56.25+00"],
        ["2024-05-01 12:34:56+05:30", "2024-05-01 07:04:56+00"],
        ["2024-05-01 12:34:56+0530", "2024-05-01 07:04:56+00"],
        ["2024-05-01 12:34:56-06", "2024-05-01 18:34:56+00"],
        ["2024-05-01 12:34:56 -06:00", "2024-05-01 18:34:56+00"],
        ["2024-01-01 01:00:00+02", "2023-12-31 23:00:00+00"], // crosses the year
        ["2024-05-01 12:34", "2024-05-01 12:34:00+00"],
        ["2024-05-01", "2024-05-01 00:00:00+00"],
        ["  2024-05-01 12:34:56 \n", "2024-05-01 12:34:56+00"],
        ["2024-02-29 00:00:00", "2024-02-29 00:00:00+00"],
        ["0001-01-01 00:00:00", "0001-01-01 00:00:00+00"],
        ["9999-12-31 23:59:59.999999", "9999-12-31 23:59:59.999999+00"],
        // > 6 fraction digits: rounded like PostgreSQL (rint on the double)
        ["2024-01-01 00:00:00.1234565", "2024-01-01 00:00:00.123456+00"],
        ["2024-01-01 00:00:00.1234575", "2024-01-01 00:00:00.123458+00"],
        ["2024-01-01 00:00:00.123456789", "2024-01-01 00:00:00.123457+00"],
        ["2024-12-31 23:59:59.9999995", "2025-01-01 00:00:00+00"],
        // epochs: < 1e11 seconds, >= 1e11 milliseconds
        [1700000000n, "2023-11-14 22:13:20+00"],
        [1700000000123n, "2023-11-14 22:13:20.123+00"],
        [1700000000.25, "2023-11-14 22:13:20.25+00"],
        ["1700000000", "2023-11-14 22:13:20+00"],
        [" 1700000000123 ", "2023-11-14 22:13:20.123+00"],
        ["1.7e9", "2023-11-14 22:13:20+00"],
        [99999999999n, "5138-11-16 09:46:39+00"],
        [100000000000n, "1973-03-03 09:46:40+00"],
        [-1n, "1969-12-31 23:59:59+00"],
        [-1.5, "1969-12-31 23:59:58.5+00"], // half away from zero
        [0n, "1970-01-01 00:00:00+00"],
        [1700000000.0000005, "2023-11-14 22:13:20+00"], // the exact double is below .0000005
    ] as const)("%s -> %s", (raw, expected) => {
        expect(resultText(convertTimestamp(raw, "UTC"))).toBe(expected);
    });

    it.each([
        ["", "empty string"],
        ["   ", "empty string"],
        ["2024-02-30 00:00:00", "day 30 out of range"],
        ["2023-02-29", "day 29 out of range"],
        ["2024-13-01", "month 13"],
        ["2024-01-01 24:00:00", "out of range"],
        ["2024-01-01 23:59:60", "out of range"],
        ["2024-01-01 10:00:00+16:00", "UTC offset"],
        ["2024-01-01 10:00:00+05:60", "UTC offset"],
        ["2024-01-01 10", "expected YYYY-MM-DD"],
        ["2024-1-01 10:00:00", "expected YYYY-MM-DD"],
        ["01/05/2024", "expected YYYY-MM-DD"],
        ["now", "expected YYYY-MM-DD"],
        ["2024-01-01 10:00:00.", "expected YYYY-MM-DD"],
        ["2024-01-01 10:00.5", "expected YYYY-MM-DD"], // PostgreSQL would read MM:SS.f here: 00:10:00.5
        ["2024-01-01 10:00:00 UTC", "expected YYYY-MM-DD"],
        ["0000-01-01 00:00:00", "year 0000"],
        ["9999-12-31 23:59:59-01:00", "outside 0001-01-01"],
        ["0001-01-01 00:00:00+01", "outside 0001-01-01"],
        [1e20, "out of range"],
        [Number.POSITIVE_INFINITY, "not a finite"],
        [Buffer.from("2024-01-01"), "BLOB"],
    ] as const)("rejects %j naming why", (raw, why) => {
        const r = convertTimestamp(raw, "UTC");
        expect(r.ok).toBe(false);
        if (!r.ok) expect(r.reason).toContain(why);
    });

    it("warns when sub-microsecond digits are rounded, not when they are zeros", () => {
        expect(convertTimestamp("2024-01-01 00:00:00.1234561", "UTC")).toMatchObject({ ok: true, warning: "fraction-rounded" });
        expect(convertTimestamp("2024-01-01 00:00:00.123456000", "UTC")).toEqual({ ok: true, value: "2024-01-01 00:00:00.123456+00" });
    });

    it("formats instants with a four-digit year and six fraction digits", () => {
        expect(formatTimestamp({ epochSeconds: -62135596800, micros: 7 })).toBe("0001-01-01 00:00:00.000007+00");
    });
});

describe("convertTimestamp: naive values in a local-clock column", () => {
    it.each([
        ["America/Chicago", "2024-07-01 12:00:00", "2024-07-01 17:00:00+00", undefined], // CDT
        ["America/Chicago", "2024-01-01 12:00:00.000042", "2024-01-01 18:00:00.000042+00", undefined], // CST
        ["America/Chicago", "2024-03-10 01:59:59", "2024-03-10 07:59:59+00", undefined],
        ["America/Chicago", "2024-03-10 02:30:00", "2024-03-10 08:30:00+00", "dst-nonexistent"], // gap: 03:30 CDT
        ["America/Chicago", "2024-03-10 03:00:00", "2024-03-10 08:00:00+00", undefined],
        ["America/Chicago", "2024-11-03 00:59:59", "2024-11-03 05:59:59+00", undefined],
        ["America/Chicago", "2024-11-03 01:30:00", "2024-11-03 07:30:00+00", "dst-ambiguous"], // overlap: later (CST)
        ["America/Chicago", "2024-11-03 02:00:00", "2024-11-03 08:00:00+00", undefined],
        ["Europe/Berlin", "2024-03-31 02:30:00", "2024-03-31 01:30:00+00", "dst-nonexistent"],
        ["Europe/Berlin", "2024-10-27 02:30:00", "2024-10-27 01:30:00+00", "dst-ambiguous"],
        ["Europe/Berlin", "2024-10-27 01:30:00", "2024-10-26 23:30:00+00", undefined],
        ["America/Chicago", "2024-07-01 12:00:00+00", "2024-07-01 12:00:00+00", undefined], // explicit offset wins
        ["America/Chicago", "2024-07-01T12:00:00Z", "2024-07-01 12:00:00+00", undefined],
        ["America/Chicago", 1719835200n, "2024-07-01 12:00:00+00", undefined], // epochs are UTC
        ["America/Chicago", "2024-07-01", "2024-07-01 05:00:00+00", undefined],
        ["Asia/Kolkata", "2024-07-01 12:00:00", "2024-07-01 06:30:00+00", undefined],
        ["Pacific/Apia", "2011-12-30 12:00:00", "2011-12-30 22:00:00+00", "dst-nonexistent"], // the skipped day
    ] as const)("%s %s -> %s (%s)", (zone, raw, expected, warning) => {
        const r = convertTimestamp(raw, zone);
        expect(r).toEqual(warning ? { ok: true, value: expected, warning } : { ok: true, value: expected });
    });
});

describe("resolveByEpoch: a local time decided by the row's own epoch (ohlcv_data.datetime = fromtimestamp(timestamp))", () => {
    const at = (iso: string) => BigInt(new Date(iso).getTime() / 1000);
    it.each([
        ["America/Denver", "2025-11-02 01:30:00.000000", "2025-11-02T07:30:00Z", "2025-11-02 07:30:00+00"], // the first 01:30 (MDT)
        ["America/Denver", "2025-11-02 01:30:00.000000", "2025-11-02T08:30:00Z", "2025-11-02 08:30:00+00"], // the second (MST)
        ["Europe/Berlin", "2025-10-26 02:15:00.000000", "2025-10-26T00:15:00Z", "2025-10-26 00:15:00+00"], // CEST
        ["Europe/Berlin", "2025-10-26 02:15:00.000000", "2025-10-26T01:15:00Z", "2025-10-26 01:15:00+00"], // CET
    ])("%s %s with epoch %s -> %s", (zone, raw, iso, expected) => {
        expect(convertTimestamp(raw, zone)).toMatchObject({ ok: true, warning: "dst-ambiguous" });
        expect(resolveByEpoch(raw, at(iso), zone)).toEqual({ ok: true, value: expected, warning: "dst-resolved-by-epoch" });
        // In milliseconds too (hand-edited rows), and as a REAL.
        expect(resolveByEpoch(raw, at(iso) * 1000n, zone)).toMatchObject({ ok: true, value: expected });
        expect(resolveByEpoch(raw, Number(at(iso)), zone)).toMatchObject({ ok: true, value: expected });
    });

    it("says nothing when the epoch names another wall clock, is not an epoch, or the value is not naive", () => {
        expect(resolveByEpoch("2025-11-02 01:30:00", at("2025-11-02T09:30:00Z"), "America/Denver")).toBeUndefined();
        expect(resolveByEpoch("2025-11-02 01:30:00", "1762068600", "America/Denver")).toBeUndefined();
        expect(resolveByEpoch("2025-11-02 01:30:00", null, "America/Denver")).toBeUndefined();
        expect(resolveByEpoch("2025-11-02T07:30:00Z", at("2025-11-02T07:30:00Z"), "America/Denver")).toBeUndefined();
        // A time the spring-forward gap skipped is no epoch's wall clock: the collector never wrote it.
        expect(resolveByEpoch("2025-03-09 02:30:00", at("2025-03-09T09:30:00Z"), "America/Denver")).toBeUndefined();
    });
});

describe("convertTimestamp: which reading of an ambiguous or skipped local time", () => {
    it.each([
        ["America/Denver", "2025-11-02 01:30:00", "2025-11-02 07:30:00+00", "2025-11-02 08:30:00+00", "dst-ambiguous"],
        ["Europe/Berlin", "2025-10-26 02:30:00", "2025-10-26 00:30:00+00", "2025-10-26 01:30:00+00", "dst-ambiguous"],
        ["America/Denver", "2025-03-09 02:30:00", "2025-03-09 08:30:00+00", "2025-03-09 09:30:00+00", "dst-nonexistent"],
        ["America/Denver", "2025-07-01 12:00:00", "2025-07-01 18:00:00+00", "2025-07-01 18:00:00+00", undefined],
    ])("%s %s: earlier %s, later %s", (zone, raw, earlier, later, warning) => {
        expect(convertTimestamp(raw, zone, "earlier")).toEqual(
            warning ? { ok: true, value: earlier, warning } : { ok: true, value: earlier },
        );
        expect(convertTimestamp(raw, zone, "later")).toEqual(warning ? { ok: true, value: later, warning } : { ok: true, value: later });
        expect(convertTimestamp(raw, zone)).toEqual(convertTimestamp(raw, zone, "later")); // PostgreSQL's reading by default
    });
});
