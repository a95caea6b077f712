import { describe, expect, it } from "vitest";
import { convertTimestamp, formatTimestamp } from "../migration/data/convert/timestamp";
import type { ConvertResult } from "../migration/data/convert/result";
import { mismatches, oracleClient, pgEach, prng } from "./convertOracle";

const value = (r: ConvertResult) => (r.ok ? (r.value ?? "NULL") : "ERROR");
const PG_CANONICAL = (expr: string) => `((${expr}) AT TIME ZONE 'UTC')::text || '+00'`;

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
        expect(value(convertTimestamp(raw, "UTC"))).toBe(expected);
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

describe("convertTimestamp: agrees with PostgreSQL", () => {
    const pg = oracleClient("conv_ts");

    it.each(["UTC", "America/Chicago", "Europe/Berlin", "Asia/Kolkata", "Australia/Lord_Howe", "America/St_Johns"])(
        "every text shape equals text::timestamptz with TimeZone = %s",
        async (zone) => {
            const rnd = prng(zone.length * 7919);
            const p2 = (n: number) => String(n).padStart(2, "0");
            const inputs: string[] = [];
            for (let i = 0; i < 1500; i++) {
                const y = rnd.int(1970, 2037),
                    mo = rnd.int(1, 12),
                    d = rnd.int(1, 28);
                // half the values near the small hours of a March/April/October/November Sunday-ish date: DST territory
                const dstish = rnd.chance(0.5);
                const month = dstish ? rnd.pick([3, 4, 10, 11]) : mo;
                const h = dstish ? rnd.int(0, 4) : rnd.int(0, 23);
                let text = `${y}-${p2(month)}-${p2(d)}`;
                if (!rnd.chance(0.05)) {
                    text += `${rnd.pick([" ", " ", "T"])}${p2(h)}:${p2(rnd.int(0, 59))}`;
                    if (!rnd.chance(0.05)) {
                        text += `:${p2(rnd.int(0, 59))}`;
                        if (rnd.chance(0.7)) text += `.${Array.from({ length: rnd.int(1, 9) }, () => rnd.int(0, 9)).join("")}`;
                    }
                    const suffix = rnd.int(0, 9);
                    const oh = p2(rnd.int(0, 14)),
                        om = rnd.pick(["00", "30", "45"]),
                        sign = rnd.pick(["+", "-"]);
                    if (suffix === 0) text += "Z";
                    else if (suffix === 1) text += `${sign}${oh}:${om}`;
                    else if (suffix === 2) text += `${sign}${oh}${om}`;
                    else if (suffix === 3) text += `${sign}${oh}`;
                    else if (suffix === 4) text += ` ${sign}${oh}:${om}`;
                }
                inputs.push(text);
            }
            await pg().query(`SET TimeZone = '${zone}'`);
            const theirs = await pgEach(pg(), `select ${PG_CANONICAL("$1::timestamptz")}`, inputs);
            const ours = inputs.map((t) => value(convertTimestamp(t, zone)));
            expect(mismatches(inputs, ours, theirs)).toEqual([]);
        },
    );

    it.each(["America/Chicago", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Europe/Moscow", "Pacific/Apia"])(
        "naive local times around DST transitions equal (naive::timestamp AT TIME ZONE '%s'), with the right gap/overlap warning",
        async (zone) => {
            const rnd = prng(zone.charCodeAt(0) * 104729);
            const p2 = (n: number) => String(n).padStart(2, "0");
            const inputs: string[] = [];
            for (let y = 1975; y <= 2035; y++) {
                for (const month of [3, 4, 9, 10, 11, 12]) {
                    for (let day = 1; day <= 31; day++) {
                        if (day > 30 && (month === 4 || month === 9 || month === 11)) continue;
                        if (new Date(Date.UTC(y, month - 1, day)).getUTCDay() !== 0 && !(zone === "Pacific/Apia" || rnd.chance(0.02)))
                            continue;
                        for (let k = 0; k < 4; k++) {
                            const minutes = rnd.int(0, 5 * 60); // 00:00 .. 05:00
                            inputs.push(
                                `${y}-${p2(month)}-${p2(day)} ${p2(Math.floor(minutes / 60))}:${p2(minutes % 60)}:${p2(rnd.int(0, 59))}.${String(rnd.int(0, 999999)).padStart(6, "0")}`,
                            );
                        }
                    }
                }
            }
            const query = `select ${PG_CANONICAL("t")} || '|' || case
                    when (t AT TIME ZONE '${zone}') <> l then 'dst-nonexistent'
                    when ((t - interval '30 minutes') AT TIME ZONE '${zone}') = l or ((t - interval '1 hour') AT TIME ZONE '${zone}') = l then 'dst-ambiguous'
                    else 'exact' end
                from (select $1::timestamp as l, ($1::timestamp AT TIME ZONE '${zone}') as t) s`;
            await pg().query("SET TimeZone = 'UTC'");
            const theirs = await pgEach(pg(), query, inputs);
            const ours = inputs.map((t) => {
                const r = convertTimestamp(t, zone);
                return r.ok ? `${r.value}|${r.warning ?? "exact"}` : "ERROR";
            });
            expect(mismatches(inputs, ours, theirs)).toEqual([]);
            // The sample really crosses transitions in both directions (Apia and Moscow only some years).
            expect(ours.filter((o) => o.endsWith("dst-nonexistent")).length).toBeGreaterThan(0);
            expect(ours.filter((o) => o.endsWith("dst-ambiguous")).length).toBeGreaterThan(0);
        },
    );

    it("epoch seconds and milliseconds equal PostgreSQL's epoch arithmetic", async () => {
        const rnd = prng(99);
        const inputs: string[] = [];
        for (let i = 0; i < 2000; i++) {
            if (rnd.chance(0.5)) inputs.push(String(rnd.int(-2_000_000_000, 4_000_000_000)));
            else inputs.push(String(BigInt(rnd.int(100_000_000, 4_000_000_000)) * 1000n + BigInt(rnd.int(0, 999))));
        }
        inputs.push("99999999999", "100000000000");
        const theirs = await pgEach(
            pg(),
            `select ${PG_CANONICAL(`'epoch'::timestamptz + case when abs($1::bigint) >= 100000000000 then $1::bigint * interval '1 millisecond' else $1::bigint * interval '1 second' end`)}`,
            inputs,
        );
        const ours = inputs.map((t) => value(convertTimestamp(BigInt(t), "America/Chicago")));
        expect(mismatches(inputs, ours, theirs)).toEqual([]);
    });
});
