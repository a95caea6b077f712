/**
 * A Python literal read as the JSON it means (migration/data/convert/pythonLiteral.ts), and the
 * JSON converter's repair: exactly what `ast.literal_eval` would give, for what JSON can hold;
 * nothing evaluated, nothing else accepted.
 */
import { describe, expect, it } from "vitest";
import { convertJson } from "../../../../migration/data/convert/json";
import { pythonLiteralAsJson } from "../../../../migration/data/convert/pythonLiteral";

describe("pythonLiteralAsJson", () => {
    it.each([
        ["{'fee_tier': '0.25', 'pool_type': 'amm'}", '{"fee_tier": "0.25", "pool_type": "amm"}'], // the collector's str(dict)
        ["None", "null"],
        ["True", "true"],
        ["[1, 2.5, -3e-05, 1e+20, .5, 1., -0, +7]", "[1, 2.5, -3e-05, 1e+20, 0.5, 1.0, -0, 7]"],
        ["((1, 2), 3)", "[[1, 2], 3]"], // tuples are arrays
        ["(1,)", "[1]"],
        ["()", "[]"],
        ["(1)", "1"], // parentheses alone make no tuple
        [`{'a': "it's", 'b': 'say "hi"'}`, `{"a": "it's", "b": "say \\"hi\\""}`],
        ["'\\x41\\u00e9\\U0001F600\\n\\t\\101\\\\'", '"Aé😀\\n\\tA\\\\"'],
        ["{'k': {'n': [1, {'d': (None, False)}]}}", '{"k": {"n": [1, {"d": [null, false]}]}}'],
        ["  {'a' : 1 ,}  ", '{"a": 1}'],
        ["{}", "{}"],
        ["123456789012345678901234567890", "123456789012345678901234567890"], // Python ints are exact
    ])("%s -> %s", (text, json) => {
        expect(pythonLiteralAsJson(text)).toBe(json);
    });

    it.each([
        "{1: 'a'}", // a key JSON cannot hold as it is
        "{'a'}", // a set
        "set()",
        "inf",
        "float('nan')",
        "b'bytes'",
        "'a' 'b'", // concatenation
        "'''triple'''",
        "0777",
        "1_000",
        "'\\N{EM DASH}'",
        "__import__('os')",
        "x",
        "[1,,2]",
        "{'a': 1",
        "'unterminated",
        "'raw\nnewline'",
        "[1] [2]",
        "Nonesuch",
    ])("%s is not a literal it reads", (text) => {
        expect(pythonLiteralAsJson(text)).toBeUndefined();
    });

    it("refuses nesting deeper than 1000 levels without exhausting the stack", () => {
        expect(pythonLiteralAsJson("[".repeat(5000) + "]".repeat(5000))).toBeUndefined();
        expect(pythonLiteralAsJson("[".repeat(900) + "]".repeat(900))).toBeDefined();
    });
});

describe("convertJson with the python-repr repair", () => {
    it("stores a Python literal as the canonical jsonb it means, flagged as repaired", () => {
        expect(convertJson("{'pool_type': 'amm', 'fee_tier': '0.25'}", true)).toEqual({
            ok: true,
            value: '{"fee_tier": "0.25", "pool_type": "amm"}',
            warning: "python-repr-repaired",
        });
        expect(convertJson("None", true)).toEqual({ ok: true, value: "null", warning: "python-repr-repaired" });
    });

    it("leaves valid JSON as it is, and rejects what is neither (or when the repair is off)", () => {
        expect(convertJson('{"a": 1}', true)).toEqual({ ok: true, value: '{"a": 1}' });
        expect(convertJson("not json", true)).toMatchObject({ ok: false, reason: expect.stringContaining("is not valid jsonb") });
        expect(convertJson("{'a': 1}", false)).toMatchObject({ ok: false });
        expect(convertJson("'\\x00'", true)).toMatchObject({ ok: false }); // jsonb cannot hold NUL either way
    });
});
