import { describe, expect, it } from "vitest";
import { convertBoolean } from "../migration/data/convert/boolean";
import { convertInteger } from "../migration/data/convert/integer";
import { convertText } from "../migration/data/convert/text";
import type { ConvertResult } from "../migration/data/convert/result";

const value = (r: ConvertResult) => (r.ok ? (r.value ?? "NULL") : "ERROR");

describe("convertInteger", () => {
    it.each([
        [42n, "integer", "42"],
        [-(2n ** 31n), "integer", "-2147483648"],
        [2n ** 31n - 1n, "integer", "2147483647"],
        [2n ** 31n, "integer", "ERROR"],
        [-(2n ** 31n) - 1n, "integer", "ERROR"],
        [2n ** 63n - 1n, "bigint", "9223372036854775807"],
        [-(2n ** 63n), "bigint", "-9223372036854775808"],
        [2n ** 63n, "bigint", "ERROR"],
        [5.0, "integer", "5"], // integral REAL
        [-0, "integer", "0"],
        [2 ** 60, "bigint", "1152921504606846976"], // exact, not 1152921504606847000
        [2 ** 63, "bigint", "ERROR"],
        [1e300, "bigint", "ERROR"],
        [5.5, "integer", "ERROR"],
        [Number.NaN, "integer", "ERROR"],
        ["42", "integer", "42"],
        [" -17 ", "integer", "-17"],
        ["+7", "bigint", "7"],
        ["42.0", "integer", "42"],
        ["4.2e1", "integer", "42"],
        ["4200e-2", "integer", "42"],
        ["4.25e1", "integer", "ERROR"],
        ["9223372036854775807", "bigint", "9223372036854775807"],
        ["9223372036854775808", "bigint", "ERROR"],
        ["1e400", "bigint", "ERROR"],
        ["0.000", "integer", "0"],
        ["-0", "integer", "0"],
        ["0x10", "integer", "ERROR"],
        ["twelve", "integer", "ERROR"],
        [Buffer.from("1"), "integer", "ERROR"],
    ] as const)("%s as %s -> %s", (raw, kind, expected) => {
        expect(value(convertInteger(raw, kind))).toBe(expected);
    });

    it("says why a value is rejected", () => {
        expect(convertInteger(5.5, "integer")).toEqual({ ok: false, reason: "REAL 5.5 is not a valid integer: has a fractional part" });
        expect(convertInteger(2n ** 31n, "integer")).toEqual({
            ok: false,
            reason: "INTEGER 2147483648 is out of range for integer (-2147483648..2147483647)",
        });
    });
});

describe("convertText", () => {
    it.each([
        ["plain", undefined, "plain"],
        ["", 10, ""],
        ["tab\tnew\nline\\", undefined, "tab\tnew\nline\\"],
        ["héllo", 5, "héllo"], // 5 characters, 6 bytes
        ["😀😀", 2, "😀😀"], // code points, not UTF-16 units
        ["😀😀😀", 2, "ERROR"],
        ["abcdef", 5, "ERROR"],
        ["abc  ", 3, "ERROR"], // PostgreSQL would silently cut the spaces; we never truncate
        ["a\u0000b", undefined, "ERROR"],
        ["lone \ud800", undefined, "ERROR"],
        [12n, undefined, "12"],
        [1.5, undefined, "1.5"],
        [1e21, undefined, "1e+21"],
        [Buffer.from("utf8 é"), undefined, "utf8 é"],
        [Buffer.from([0xc3, 0x28]), undefined, "ERROR"],
    ] as const)("%s (max %s) -> %s", (raw, max, expected) => {
        expect(value(convertText(raw, max))).toBe(expected);
    });

    it("names the limit on over-length values", () => {
        expect(convertText("abcdef", 5)).toEqual({ ok: false, reason: 'TEXT "abcdef" has 6 characters, varchar(5) allows 5' });
        expect(convertText("a".repeat(200), 10)).toMatchObject({
            ok: false,
            reason: expect.stringMatching(/^TEXT "a{77}\.\.\." has 200 characters/),
        });
    });
});

describe("convertBoolean", () => {
    it.each([
        [1n, "true"],
        [0n, "false"],
        [1, "true"],
        [0, "false"],
        ["true", "true"],
        ["TRUE", "true"],
        [" t ", "true"],
        ["yes", "true"],
        ["Yes", "true"],
        ["1", "true"],
        ["false", "false"],
        ["F", "false"],
        ["no", "false"],
        ["NO", "false"],
        ["0", "false"],
        [2n, "ERROR"],
        [-1n, "ERROR"],
        [0.5, "ERROR"],
        ["on", "ERROR"],
        ["y", "ERROR"],
        ["2", "ERROR"],
        ["constructor", "ERROR"],
        ["", "ERROR"],
        [Buffer.from([1]), "ERROR"],
    ] as const)("%s -> %s", (raw, expected) => {
        expect(value(convertBoolean(raw))).toBe(expected);
    });
});
