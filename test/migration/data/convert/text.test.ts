import { describe, expect, it } from "vitest";
import { convertText } from "../../../../migration/data/convert/text";
import { resultText } from "../../../support/convertOracle";

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
        expect(resultText(convertText(raw, max))).toBe(expected);
    });

    it("names the limit on over-length values", () => {
        expect(convertText("abcdef", 5)).toEqual({ ok: false, reason: 'TEXT "abcdef" has 6 characters, varchar(5) allows 5' });
        expect(convertText("a".repeat(200), 10)).toMatchObject({
            ok: false,
            reason: expect.stringMatching(/^TEXT "a{77}\.\.\." has 200 characters/),
        });
    });
});
