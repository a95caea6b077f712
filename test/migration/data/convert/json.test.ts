import { describe, expect, it } from "vitest";
import { canonicalJsonb, convertJson } from "../migration/data/convert/json";
import type { ConvertResult } from "../migration/data/convert/result";
import { mismatches, oracleClient, pgEach, prng } from "./convertOracle";

const value = (r: ConvertResult) => (r.ok ? (r.value ?? "NULL") : "ERROR");

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
        expect(value(convertJson(input))).toBe(expected);
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

/** Random JSON text with lexical variety (whitespace, escapes, number spellings, duplicate keys). */
function randomJson(rnd: ReturnType<typeof prng>, depth: number): string {
    const ws = () => rnd.pick(["", "", " ", "\n", "\t ", "\r\n"]);
    const kind = depth > 3 ? rnd.int(0, 3) : rnd.int(0, 5);
    if (kind === 0) return rnd.pick(["true", "false", "null"]);
    if (kind === 1) return randomNumber(rnd);
    if (kind <= 3) return randomString(rnd);
    if (kind === 4) {
        const n = rnd.int(0, 4);
        return `[${ws()}${Array.from({ length: n }, () => `${ws()}${randomJson(rnd, depth + 1)}${ws()}`).join(",")}]`;
    }
    const keys = ["a", "b", "aa", "ab", "B", "", "é", "ü1", "key", "k\\u0041", "😀", "a\\n"];
    const n = rnd.int(0, 5);
    return `{${ws()}${Array.from({ length: n }, () => `${randomStringFrom(rnd, rnd.pick(keys))}${ws()}:${ws()}${randomJson(rnd, depth + 1)}`).join(`${ws()},${ws()}`)}${ws()}}`;
}

function randomNumber(rnd: ReturnType<typeof prng>): string {
    const digits = (n: number) => Array.from({ length: n }, () => rnd.int(0, 9)).join("");
    let int = rnd.chance(0.3) ? "0" : `${rnd.int(1, 9)}${digits(rnd.int(0, 25))}`;
    if (rnd.chance(0.3)) int = `-${int}`;
    const frac = rnd.chance(0.5) ? `.${digits(rnd.int(1, 12))}` : "";
    const exp = rnd.chance(0.3) ? `${rnd.pick(["e", "E"])}${rnd.pick(["", "+", "-"])}${rnd.int(0, 30)}` : "";
    return int + frac + exp;
}

function randomString(rnd: ReturnType<typeof prng>): string {
    const pieces = [
        "a",
        "Z",
        " ",
        "é",
        "ß",
        "中",
        "😀",
        "\\n",
        "\\t",
        '\\"',
        "\\\\",
        "\\/",
        "\\b",
        "\\f",
        "\\r",
        "\\u0001",
        "\\u001F",
        "\\u00e9",
        "\\ud83d\\ude00",
        "\\u20AC",
        "\u007f",
        "'",
        "<",
        "\u2028",
    ];
    return randomStringFrom(rnd, Array.from({ length: rnd.int(0, 8) }, () => rnd.pick(pieces)).join(""));
}

function randomStringFrom(_rnd: ReturnType<typeof prng>, body: string): string {
    return `"${body}"`;
}

describe("convertJson: agrees with PostgreSQL's jsonb", () => {
    const pg = oracleClient("conv_json");

    it("random documents (and broken variants) print as text::jsonb::text or are rejected alike", async () => {
        const rnd = prng(4242);
        const inputs: string[] = [];
        for (let i = 0; i < 3000; i++) {
            let doc = randomJson(rnd, 0);
            if (rnd.chance(0.15)) {
                // break it with one ASCII edit that never splits a surrogate pair
                const at = rnd.int(0, doc.length);
                const surrogate = (i: number) => /[\ud800-\udfff]/.test(doc[i] ?? "");
                const safe = !surrogate(at - 1) && !surrogate(at);
                if (safe)
                    doc = rnd.chance(0.5)
                        ? doc.slice(0, at) +
                          rnd.pick([",", "]", "}", ":", '"', "\\", "x", "0", "-", ".", "\u0001", "\\u0000"]) +
                          doc.slice(at)
                        : doc.slice(0, at) + doc.slice(at + 1);
            }
            inputs.push(doc);
        }
        const theirs = await pgEach(pg(), "select $1::jsonb::text", inputs);
        const ours = inputs.map((t) => value(convertJson(t)));
        expect(mismatches(inputs, ours, theirs)).toEqual([]);
        expect(theirs.filter((t) => t === "ERROR").length).toBeGreaterThan(50);
        expect(theirs.filter((t) => t !== "ERROR").length).toBeGreaterThan(2000);
    });

    it("canonical text is a fixed point: jsonb reads it back unchanged", async () => {
        const rnd = prng(5);
        const docs = Array.from({ length: 300 }, () => canonicalJsonb(`[${randomJson(rnd, 1)}]`));
        const theirs = await pgEach(pg(), "select $1::jsonb::text", docs);
        expect(theirs).toEqual(docs);
        expect(docs.map(canonicalJsonb)).toEqual(docs);
    });
});
