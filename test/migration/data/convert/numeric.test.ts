import { describe, expect, it } from "vitest";
import { convertNumeric, roundReal, roundShortest } from "../../../../migration/data/convert/numeric";
import { type Decimal, float64Exact, formatFixed, roundHalfAwayFromZero } from "../../../../migration/data/convert/decimal";
import { prng, resultText } from "../../../support/convertOracle";

describe("convertNumeric: rules", () => {
    it.each([
        // REAL: the shortest round-trip decimal (Python's repr, what psycopg2 sends), then the scale
        [379.28646677651693, 20, 8, "379.28646678"],
        [0.1, 20, 8, "0.10000000"],
        [1e-7, 20, 10, "0.0000001000"],
        [1.5e-7, 30, 18, "0.000000150000000000"],
        [0.12345678901234568, 30, 18, "0.123456789012345680"], // all 17 digits the double carries
        [100000000000000.5, 20, 4, "100000000000000.5000"],
        [-0.00001, 5, 2, "0.00"], // no -0
        [-0, 5, 2, "0.00"],
        [2.675, 5, 2, "2.68"], // exact double is 2.67499999..., its shortest form 2.675 -> half away
        [-2.675, 5, 2, "-2.68"],
        [866222.818, 10, 4, "866222.8180"], // at the precision limit (collector-facts defect 4)
        [999999.99994, 10, 4, "999999.9999"],
        // INTEGER: exact
        [42n, 10, 3, "42.000"],
        [-(2n ** 63n), 30, 0, "-9223372036854775808"],
        [9007199254740993n, 20, 2, "9007199254740993.00"], // beyond 2^53: no float on the way
        // TEXT: exact decimal math
        ["987.07", 10, 4, "987.0700"],
        ["1.5e-7", 20, 10, "0.0000001500"],
        ["3.04E-8", 20, 8, "0.00000003"],
        ["3.05E-8", 20, 8, "0.00000003"],
        ["3.5E-8", 20, 8, "0.00000004"],
        ["  1.23456789012345678901234567890  ", 30, 18, "1.234567890123456789"],
        ["\t-12.5\n", 5, 0, "-13"], // half away from zero
        ["12.5", 5, 0, "13"],
        ["0.005", 5, 2, "0.01"],
        ["-0.005", 5, 2, "-0.01"],
        ["-0.0049", 5, 2, "0.00"],
        [".5", 5, 2, "0.50"],
        ["5.", 5, 2, "5.00"],
        ["+7", 5, 2, "7.00"],
        ["1e3", 10, 4, "1000.0000"],
        ["1e-100000", 5, 2, "ERROR"], // PostgreSQL: value overflows numeric format
        ["0.00000000000000000001e5", 10, 4, "0.0000"],
        ["99.995", 4, 2, "ERROR"], // rounds to 100.00: 3 integer digits > 4-2
        ["99.994", 4, 2, "99.99"],
        ["999.995", 5, 2, "ERROR"],
        ["999.994999", 5, 2, "999.99"],
        ["1e5", 10, 6, "ERROR"],
        ["1e99999999999", 10, 4, "ERROR"],
    ] as const)("%s as numeric(%d,%d) -> %s", (raw, p, s, expected) => {
        expect(resultText(convertNumeric(raw, p, s))).toBe(expected);
    });

    it.each([
        ["NaN", "NaN and Infinity"],
        ["-Infinity", "NaN and Infinity"],
        ["inf", "NaN and Infinity"],
        [Number.NaN, "NaN and Infinity"],
        [Number.POSITIVE_INFINITY, "NaN and Infinity"],
        ["", "not a decimal number"],
        ["abc", "not a decimal number"],
        ["1_000", "not a decimal number"],
        ["0x1F", "not a decimal number"],
        ["1.2.3", "not a decimal number"],
        ["e5", "not a decimal number"],
        [".", "not a decimal number"],
        ["1 000", "not a decimal number"],
        [Buffer.from("12"), "BLOB"],
    ] as const)("rejects %j naming why", (raw, why) => {
        const r = convertNumeric(raw, 10, 4);
        expect(r.ok).toBe(false);
        if (!r.ok) expect(r.reason).toContain(why);
    });

    it("names the value and the limits on overflow", () => {
        const r = convertNumeric("866222.818", 9, 4);
        expect(r).toEqual({
            ok: false,
            reason: 'TEXT "866222.818" overflows numeric(9,4): needs 6 integer digits, at most 5 allowed (values are never truncated)',
        });
    });

    it("rejects an impossible type definition as a programming error", () => {
        expect(() => convertNumeric("1", 5, 6)).toThrow(/numeric\(5,6\)/);
    });

    it("expands doubles exactly", () => {
        const exact = (d: Decimal) =>
            formatFixed(d.negative, roundHalfAwayFromZero(d, Math.max(0, -d.exponent)), Math.max(0, -d.exponent)).replace(/\.?0+$/, "");
        expect(exact(float64Exact(0.1))).toBe("0.1000000000000000055511151231257827021181583404541015625");
        expect(exact(float64Exact(-1.5))).toBe("-1.5");
        expect(float64Exact(-(2 ** 60))).toEqual({ negative: true, digits: String(2n ** 60n), exponent: 0 });
        expect(float64Exact(5e-324).digits).toMatch(/^494065645841246544/);
    });
});

describe("roundReal: toFixed with 3 guard digits equals rounding the shortest decimal", () => {
    const bits = new Float64Array(1);
    const ints = new BigInt64Array(bits.buffer);
    /** `x` moved by `k` ulps (same sign, away from zero for k > 0). */
    const ulps = (x: number, k: number) => {
        bits[0] = x;
        ints[0] += BigInt(k);
        return bits[0]!;
    };

    it.each([0, 1, 2, 4, 6, 8, 10, 12, 18, 30])("scale %i", (scale) => {
        const rnd = prng(1000 + scale);
        const inputs: number[] = [
            0,
            -0,
            0.1,
            0.5,
            1.005,
            999.9995,
            4.68e-7,
            1e-300,
            2 ** 52,
            2 ** 53 + 2,
            1e21,
            Number("123456789.987654321"),
        ];
        for (let i = 0; i < 20_000; i++) {
            const shape = rnd.int(0, 3);
            let x: number;
            if (shape === 0) x = rnd.next() * 10 ** rnd.int(-14, 17);
            else if (shape === 1) x = Number((rnd.next() * 10 ** rnd.int(-10, 12)).toPrecision(rnd.int(1, 17)));
            else {
                // Within a few ulps of a rounding midpoint at this scale, where the two roundings could part.
                const midpoint = Number(`${rnd.int(0, 10 ** rnd.int(0, 8))}5e-${scale + 1}`);
                x = ulps(midpoint, rnd.int(-3, 3));
            }
            inputs.push(rnd.chance(0.4) ? -x : x);
        }
        const precision = Math.max(scale + 1, Math.min(1000, scale + 12));
        const differ = inputs.filter((x) => roundReal(x, precision, scale) !== roundShortest(x, precision, scale));
        expect(differ.map((x) => `${x}: ${roundReal(x, precision, scale)} vs ${roundShortest(x, precision, scale)}`)).toEqual([]);
    });
});
