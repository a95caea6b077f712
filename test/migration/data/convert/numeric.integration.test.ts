/**
 * convertNumeric against PostgreSQL's numeric(p,s): REAL and TEXT inputs, overflow
 * rejections included. The rules and roundReal alone: numeric.test.ts.
 */
import { describe, expect, it } from "vitest";
import { convertNumeric } from "../../../../migration/data/convert/numeric";
import { mismatches, oracleClient, pgEach, prng, resultText } from "../../../support/convertOracle";

const TYPES: readonly (readonly [number, number])[] = [
    [20, 8],
    [30, 18],
    [10, 4],
    [5, 2],
    [10, 3],
    [20, 10],
    [20, 4],
    [12, 0],
];

describe("convertNumeric: agrees with PostgreSQL", () => {
    const pg = oracleClient("conv_num");

    it("REAL inputs equal $1::float8::text::numeric(p,s), including overflow rejections", async () => {
        const rnd = prng(20240601);
        const inputs: number[] = [];
        for (let i = 0; i < 3000; i++) {
            const shape = rnd.int(0, 5);
            const magnitude = 10 ** rnd.int(-14, 16);
            let x: number;
            if (shape === 0)
                x = rnd.next() * magnitude; // arbitrary double
            else if (shape === 1)
                x = Number((rnd.next() * magnitude).toPrecision(rnd.int(1, 17))); // "API-like" decimals
            else if (shape === 2)
                x = Number(`${rnd.int(0, 99999)}.${String(rnd.int(0, 9999)).padStart(4, "0")}5`) * 10 ** rnd.int(-8, 3); // near ties
            else if (shape === 3) x = rnd.int(-1e9, 1e9);
            else if (shape === 4)
                x = 10 ** rnd.int(1, 13) - rnd.next() * 10 ** rnd.int(-10, 0); // near the integer-digit limit
            else x = rnd.next() * 2 ** rnd.int(-60, 60);
            inputs.push(rnd.chance(0.3) ? -x : x);
        }
        for (const [p, s] of TYPES) {
            const texts = inputs.map(String);
            const theirs = await pgEach(pg(), `select $1::float8::text::numeric(${p},${s})::text`, texts);
            const ours = inputs.map((x) => resultText(convertNumeric(x, p, s)));
            expect(mismatches(texts, ours, theirs), `numeric(${p},${s})`).toEqual([]);
            expect(theirs.filter((t) => t === "ERROR").length, `some overflow cases for numeric(${p},${s})`).toBeGreaterThan(0);
        }
    });

    it("TEXT inputs equal $1::numeric(p,s), including overflow rejections", async () => {
        const rnd = prng(7);
        const digits = (n: number) => Array.from({ length: n }, () => rnd.int(0, 9)).join("");
        const inputs: string[] = [];
        for (let i = 0; i < 3000; i++) {
            let int = digits(rnd.int(0, 14));
            let frac = rnd.chance(0.8) ? digits(rnd.int(0, 22)) : "";
            if (rnd.chance(0.2)) frac = `${frac.slice(0, rnd.int(0, frac.length))}5`; // exact ties
            if (int === "" && frac === "") int = "0";
            let text = frac === "" && rnd.chance(0.5) ? int : `${int}.${frac}`;
            if (text === ".") text = "0";
            if (rnd.chance(0.3)) text += `${rnd.pick(["e", "E"])}${rnd.pick(["", "+", "-"])}${rnd.int(0, 25)}`;
            if (rnd.chance(0.3)) text = `${rnd.pick(["-", "+"])}${text}`;
            if (rnd.chance(0.1)) text = ` ${text}\t`;
            inputs.push(text);
        }
        for (const [p, s] of TYPES) {
            const theirs = await pgEach(pg(), `select $1::numeric(${p},${s})::text`, inputs);
            const ours = inputs.map((x) => resultText(convertNumeric(x, p, s)));
            expect(mismatches(inputs, ours, theirs), `numeric(${p},${s})`).toEqual([]);
        }
    });
});
