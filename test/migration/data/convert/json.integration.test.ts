/**
 * convertJson against PostgreSQL's own jsonb: random documents (and broken variants)
 * print as text::jsonb::text or are rejected alike. The rules alone: json.test.ts.
 */
import { describe, expect, it } from "vitest";
import { canonicalJsonb, convertJson } from "../../../../migration/data/convert/json";
import { mismatches, oracleClient, pgEach, prng, resultText } from "../../../support/convertOracle";

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
        const ours = inputs.map((t) => resultText(convertJson(t)));
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
