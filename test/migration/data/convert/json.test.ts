import { describe, expect, it } from "vitest";
import { convertJson } from "../../../../migration/data/convert/json";
import { resultText } from "../../../support/convertOracle";

describe("convertJson: jsonb output form", () => {
    it.each([
        ["{}", "{}"],
        ["[]", "[]"],
        [' { "a" : 1 } ', '{"a": 1}'],
        ['{"bb":[1,2],"a":1}', '{"a": 1, "bb": [1, 2]}'],
        ['{"a":1,"a":2}', '{"a": 2}'], // last duplicate wins
        ['{"a":{"z":1},"a":[]}', '{"a": []}'],
        ['{"é":1,"z":2,"aa":3,"Z":4,"":5}', '{"": 5, "Z": 4, "z": 2, "aa": 3, "é": 1}'], // byte length, then bytes
        ["[1 , {} ,[], null,true,false]", "[1, {}, [], null, true, false]"],
        ["\t\r\n[1]\n", "[1]"],
        ['"x"', '"x"'],
        ["1.5e-7", "0.00000015"],
        ["1.50e1", "15.0"],
        ["1E+2", "100"],
        ["1.0E-3", "0.0010"],
        ["123e-2", "1.23"],
        ["0.00e3", "0"],
        ["-0", "0"],
        ["-0.0", "0.0"],
        ["-1.25", "-1.25"],
        ["12345678901234567890123456789.000", "12345678901234567890123456789.000"],
        ['"\\u00e9\\u001F\\b\\f\\n\\r\\t\\"\\\\\\/"', '"é\\u001f\\b\\f\\n\\r\\t\\"\\\\/"'],
        ['"\\ud83d\\ude00 raw 😀"', '"😀 raw 😀"'],
        ['"\u007f"', '"\u007f"'],
        ['{"k\\u0041":"v"}', '{"kA": "v"}'],
    ])("%s -> %s", (input, expected) => {
        expect(resultText(convertJson(input))).toBe(expected);
    });

    it.each([
        ["{", "expected a string key"],
        ["[1,]", "expected a JSON value"],
        ['{"a":1,}', "expected a string key"],
        ["01", "invalid number"],
        ["1.", "invalid number"],
        [".5", "expected a JSON value"],
        ["2.5E", "invalid number"],
        ["-", "invalid number"],
        ["+1", "expected a JSON value"],
        ["TRUE", "expected a JSON value"],
        ["truex", "unexpected text after"],
        ["NaN", "expected a JSON value"],
        ["'a'", "expected a JSON value"],
        ['{"a" 1}', "expected ':'"],
        ['"abc', "unterminated string"],
        ['"a\u0001"', "control character"],
        ['"\\u0000"', "\\u0000 cannot be stored in jsonb"],
        ['"\\ud83d"', "high surrogate"],
        ['"\\ude00"', "low surrogate"],
        ['"\\x41"', "invalid escape"],
        ['"\\u12G4"', "four hex digits"],
        ["\u000b1", "expected a JSON value"],
        ["1e-16384", "overflows numeric"],
        ["[".repeat(1002) + "]".repeat(1002), "nested deeper than 1000"],
    ])("rejects %j naming why", (input, why) => {
        const r = convertJson(input);
        expect(r.ok).toBe(false);
        if (!r.ok) expect(r.reason).toContain(why);
    });

    it("reads INTEGER/REAL as JSON numbers and BLOBs as UTF-8", () => {
        expect(convertJson(12n)).toEqual({ ok: true, value: "12" });
        expect(convertJson(1.5)).toEqual({ ok: true, value: "1.5" });
        expect(convertJson(Buffer.from('{"b":1,"a":2}'))).toEqual({ ok: true, value: '{"a": 2, "b": 1}' });
        expect(convertJson(Buffer.from([0x7b, 0xff, 0x7d]))).toMatchObject({
            ok: false,
            reason: expect.stringContaining("not valid UTF-8"),
        });
        expect(convertJson("\ud800")).toMatchObject({ ok: false, reason: expect.stringContaining("lone UTF-16 surrogate") });
    });

    it("names the position of a syntax error", () => {
        expect(convertJson('{"a": tru}')).toEqual({
            ok: false,
            reason: 'TEXT "{\\"a\\": tru}" is not valid jsonb: expected a JSON value at character 7',
        });
    });
});
