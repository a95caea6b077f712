/**
 * Proleptic Gregorian calendar arithmetic (migration/data/convert/civil.ts): day counts
 * of known dates (the epoch, 2024-01-01 = 1704067200 / 86400, PostgreSQL's range
 * ends 0001-01-01 and 9999-12-31), the leap-year rules, and the inverse checked day
 * by day against JS Date over several 400-year cycles. civil.ts does no validation:
 * the timestamp converter refuses impossible dates with daysInMonth, so that is the
 * guard tested here, next to what daysFromCivil does with such a date.
 */
import { describe, expect, it } from "vitest";
import { civilFromDays, civilSeconds, daysFromCivil, daysInMonth } from "../../../../migration/data/convert/civil";

describe("daysFromCivil", () => {
    it.each([
        [1970, 1, 1, 0],
        [1969, 12, 31, -1],
        [2000, 3, 1, 11017],
        [2024, 1, 1, 19723], // 1704067200 / 86400
        [2024, 2, 29, 19782], // + 31 January days + 28
        [2024, 3, 1, 19783],
        [1, 1, 1, -719162], // PostgreSQL's first timestamptz day
        [9999, 12, 31, 2932896], // and its last
    ])("%i-%i-%i is day %i", (y, m, d, days) => expect(daysFromCivil(y, m, d)).toBe(days));

    it("counts a leap day only in leap years: every 4th, not every 100th, but every 400th", () => {
        const february = (year: number) => daysFromCivil(year, 3, 1) - daysFromCivil(year, 2, 1);
        expect([2023, 2024, 1900, 2000, 2100, 2400].map(february)).toEqual([28, 29, 28, 29, 28, 29]);
        expect(daysFromCivil(2025, 1, 1) - daysFromCivil(2024, 1, 1)).toBe(366);
        expect(daysFromCivil(2401, 1, 1) - daysFromCivil(2001, 1, 1)).toBe(146097); // one 400-year cycle
    });

    it("does not validate: day 29 of February 2023 lands on March 1 (callers check daysInMonth first)", () => {
        expect(daysFromCivil(2023, 2, 29)).toBe(daysFromCivil(2023, 3, 1));
        expect(daysFromCivil(2024, 4, 31)).toBe(daysFromCivil(2024, 5, 1));
    });
});

describe("civilFromDays", () => {
    it("inverts daysFromCivil and agrees with JS Date on every day from 1600 to 2800", () => {
        const first = daysFromCivil(1600, 1, 1);
        const last = daysFromCivil(2800, 12, 31);
        for (let days = first; days <= last; days++) {
            const d = new Date(days * 86_400_000);
            const expected = { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
            const got = civilFromDays(days);
            if (got.year !== expected.year || got.month !== expected.month || got.day !== expected.day) {
                expect(got, `day ${days}`).toEqual(expected);
            }
            if (daysFromCivil(got.year, got.month, got.day) !== days) expect(daysFromCivil(got.year, got.month, got.day)).toBe(days);
        }
    });

    it("reaches the ends of PostgreSQL's range and the days around the epoch", () => {
        expect(civilFromDays(-719162)).toEqual({ year: 1, month: 1, day: 1 });
        expect(civilFromDays(2932896)).toEqual({ year: 9999, month: 12, day: 31 });
        expect(civilFromDays(-1)).toEqual({ year: 1969, month: 12, day: 31 });
        expect(civilFromDays(0)).toEqual({ year: 1970, month: 1, day: 1 });
        expect(civilFromDays(19782)).toEqual({ year: 2024, month: 2, day: 29 });
    });
});

describe("daysInMonth", () => {
    it("gives February 29 days in leap years only", () => {
        expect([2023, 2024, 1900, 2000, 2100, 2400].map((y) => daysInMonth(y, 2))).toEqual([28, 29, 28, 29, 28, 29]);
    });

    it("gives 30 days to April, June, September and November and 31 to the other months", () => {
        expect(Array.from({ length: 12 }, (_, i) => daysInMonth(2023, i + 1))).toEqual([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]);
    });

    it("agrees with the day count: the month's last day plus one is the next month's first", () => {
        for (const year of [1900, 2000, 2023, 2024]) {
            for (let month = 1; month <= 12; month++) {
                const next = month === 12 ? daysFromCivil(year + 1, 1, 1) : daysFromCivil(year, month + 1, 1);
                expect(daysFromCivil(year, month, daysInMonth(year, month)) + 1, `${year}-${month}`).toBe(next);
            }
        }
    });
});

describe("civilSeconds", () => {
    it("reads a wall-clock time as UTC seconds since the epoch", () => {
        expect(civilSeconds(2024, 1, 1, 0, 0, 0)).toBe(1_704_067_200);
        expect(civilSeconds(2024, 3, 10, 8, 0, 0)).toBe(1_710_057_600); // Chicago's 2024 DST start, in UTC
        expect(civilSeconds(1969, 12, 31, 23, 59, 59)).toBe(-1);
        expect(civilSeconds(1, 1, 1, 0, 0, 0)).toBe(-62_135_596_800);
        expect(civilSeconds(9999, 12, 31, 23, 59, 59)).toBe(253_402_300_799);
    });
});
