import { describe, expect, it } from "vitest";
import { canonicalTimeZone, localToUtc, utcOffsetAt } from "../../../../migration/data/convert/timeZone";
import { civilSeconds } from "../../../../migration/data/convert/civil";

describe("zone arithmetic", () => {
    const at = (y: number, mo: number, d: number, h: number, mi: number, s = 0) => civilSeconds(y, mo, d, h, mi, s);

    it.each([
        ["UTC", at(2024, 7, 1, 0, 0), 0],
        ["America/Chicago", at(2024, 3, 10, 7, 59, 59), -6 * 3600],
        ["America/Chicago", at(2024, 3, 10, 8, 0), -5 * 3600], // transition instant
        ["America/Chicago", at(2024, 11, 3, 6, 59, 59), -5 * 3600],
        ["America/Chicago", at(2024, 11, 3, 7, 0), -6 * 3600],
        ["Europe/Berlin", at(2024, 3, 31, 1, 0), 2 * 3600],
        ["Asia/Kolkata", at(2024, 1, 1, 0, 0), 5.5 * 3600],
        ["Australia/Lord_Howe", at(2024, 1, 1, 0, 0), 11 * 3600], // 30-minute DST
        ["Australia/Lord_Howe", at(2024, 7, 1, 0, 0), 10.5 * 3600],
        ["America/Chicago", at(2023, 12, 31, 23, 0), -6 * 3600], // year boundary
        ["America/Chicago", at(1850, 1, 1, 0, 0), -(5 * 3600 + 50 * 60 + 36)], // LMT, to the second
    ] as const)("%s at %d -> %d", (zone, t, offset) => {
        expect(utcOffsetAt(zone, t)).toBe(offset);
    });

    it.each([
        ["America/Chicago", at(2024, 3, 10, 2, 0), at(2024, 3, 10, 8, 0), "nonexistent"],
        ["America/Chicago", at(2024, 3, 10, 2, 59, 59), at(2024, 3, 10, 8, 59, 59), "nonexistent"],
        ["America/Chicago", at(2024, 3, 10, 3, 0), at(2024, 3, 10, 8, 0), "exact"],
        ["America/Chicago", at(2024, 11, 3, 1, 0), at(2024, 11, 3, 7, 0), "ambiguous"],
        ["America/Chicago", at(2024, 11, 3, 1, 59, 59), at(2024, 11, 3, 7, 59, 59), "ambiguous"],
        ["America/Chicago", at(2024, 11, 3, 2, 0), at(2024, 11, 3, 8, 0), "exact"],
        ["America/Chicago", at(2024, 11, 3, 0, 59, 59), at(2024, 11, 3, 5, 59, 59), "exact"],
        ["Australia/Lord_Howe", at(2024, 10, 6, 2, 15), at(2024, 10, 5, 15, 45), "nonexistent"], // 02:00 -> 02:30
        ["Australia/Lord_Howe", at(2024, 4, 7, 1, 45), at(2024, 4, 6, 15, 15), "ambiguous"], // 02:00 -> 01:30, later instant
    ] as const)("%s local %d -> %d (%s)", (zone, local, instant, kind) => {
        expect(localToUtc(zone, local)).toMatchObject({ epochSeconds: instant, kind });
    });

    it("canonicalises zone names", () => {
        expect(canonicalTimeZone("america/chicago")).toBe("America/Chicago");
        expect(canonicalTimeZone("UTC")).toBe("UTC");
    });
});
