/**
 * scripts/bench/load/psycopg2.ts: the benchmark's PostgreSQL writers send what psycopg2
 * sends (client-side literals). Python's repr and psycopg2's adapters as tables; the write
 * mix's statements executed both ways on a real PostgreSQL: psycopg2.integration.test.ts.
 */
import { describe, expect, it } from "vitest";
import { adapt, mogrify, pythonFloatRepr } from "../../../../scripts/bench/load/psycopg2";

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
