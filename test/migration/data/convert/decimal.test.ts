/**
 * Exact decimal arithmetic on digit strings (migration/data/convert/decimal.ts): parsing
 * numeric text as PostgreSQL's numeric_in reads it (value and display scale), the
 * format limits, rounding half away from zero and fixed notation (the numeric
 * converter's output), exact integers, and the exact value of a double. Expectations
 * are decimal facts worked out by hand; the cases a float would get wrong (2.675,
 * 2^53 + 1, 0.1's binary value) show no step goes through a JS number.
 */
import { describe, expect, it } from "vitest";
import {
    exactInteger,
    float64Exact,
    formatFixed,
    integerDigits,
    isZero,
    numericFormatLimit,
    parseDecimalText,
    roundHalfAwayFromZero,
    type Decimal,
} from "../../../../migration/data/convert/decimal";

/** The value of `d` in plain notation, fraction zeros dropped: independent of how digits/exponent are split. */
function plain(d: Decimal): string {
    let s: string;
    if (d.exponent >= 0) s = d.digits + "0".repeat(d.exponent);
    else {
        const padded = d.digits.padStart(-d.exponent + 1, "0");
        const cut = padded.length + d.exponent;
        s = `${padded.slice(0, cut)}.${padded.slice(cut)}`.replace(/\.?0+$/, "");
    }
    return (d.negative ? "-" : "") + s;
}

const parse = (text: string) => {
    const d = parseDecimalText(text);
    if (!d) throw new Error(`test setup: '${text}' does not parse`);
    return d;
};

/** What the numeric converter does: round to `scale` fraction digits and print them all. */
const round = (text: string, scale: number) => {
    const d = parse(text);
    return formatFixed(d.negative, roundHalfAwayFromZero(d, scale), scale);
};

describe("parseDecimalText", () => {
    it.each([
        // text, value, display scale (what numeric::text prints, PostgreSQL's dscale)
        ["1.50", "1.5", 2],
        ["-0.001", "-0.001", 3],
        ["+42", "42", 0],
        ["5.", "5", 0],
        [".5", "0.5", 1],
        ["1.5e-7", "0.00000015", 8],
        ["3.04E-8", "0.0000000304", 10],
        ["12.5e1", "125", 0],
        ["1.23e1", "12.3", 1],
        ["1e3", "1000", 0],
        ["007.250", "7.25", 3],
        ["0.1000000000000000000000000001", "0.1000000000000000000000000001", 28],
    ])("reads %s as %s with display scale %i", (text, value, displayScale) => {
        const d = parse(text);
        expect(plain(d)).toBe(value);
        expect(d.displayScale).toBe(displayScale);
        expect(d.digits === "0" || !d.digits.startsWith("0")).toBe(true); // no leading zeros
    });

    it("keeps the sign of a zero and reads every zero as zero", () => {
        expect(parse("-0")).toMatchObject({ negative: true, digits: "0" });
        expect(parse("0.000")).toMatchObject({ negative: false, digits: "0", displayScale: 3 });
        expect(isZero(parse("-0.0e5"))).toBe(true);
        expect(isZero(parse("0.001"))).toBe(false);
    });

    it.each(["", ".", "+", "-", "e5", "1e", "1e+", "NaN", "Infinity", "-Infinity", " 1", "1 ", "1_000", "0x10", "1.2.3", "--1", "1,5"])(
        "refuses %j",
        (text) => expect(parseDecimalText(text)).toBeUndefined(),
    );

    it("clamps a ten-digit exponent instead of overflowing, so the format limits catch it", () => {
        expect(parse("1e1234567890")).toMatchObject({ digits: "1", exponent: 1e9, displayScale: 0 });
        expect(parse("1e-1234567890")).toMatchObject({ digits: "1", exponent: -1e9, displayScale: 1e9 });
    });
});

describe("numericFormatLimit", () => {
    it("accepts up to 16383 fraction digits and 131072 integer digits, and says which limit is passed", () => {
        expect(numericFormatLimit(parse(`0.${"0".repeat(16382)}1`))).toBeUndefined();
        expect(numericFormatLimit(parse(`0.${"0".repeat(16383)}1`))).toBe("more than 16383 fraction digits");
        expect(numericFormatLimit(parse("1e131071"))).toBeUndefined(); // 131072 integer digits
        expect(numericFormatLimit(parse("1e131072"))).toBe("more than 131072 integer digits");
        expect(numericFormatLimit(parse("1e-1234567890"))).toBe("more than 16383 fraction digits");
        expect(numericFormatLimit(parse("0e999999"))).toBeUndefined(); // zero has no integer digits
    });
});

describe("integerDigits", () => {
    it.each([
        ["0", 0],
        ["0.5", 0],
        ["-0.001", 0],
        ["12.5", 2],
        ["100", 3],
        ["000123.4", 3],
        ["1e3", 4],
        ["0e9", 0],
    ])("%s has %i digits before the point", (text, n) => expect(integerDigits(parse(text))).toBe(n));
});

describe("roundHalfAwayFromZero and formatFixed", () => {
    it.each([
        ["2.675", 2, "2.68"], // as a double 2.675 is 2.67499999999999982236431605997495353221893310546875
        ["2.665", 2, "2.67"], // half away from zero, not to even
        ["-2.5", 0, "-3"],
        ["0.5", 0, "1"],
        ["0.05", 0, "0"],
        ["0.005", 2, "0.01"],
        ["0.0049", 2, "0.00"],
        ["-0.004", 2, "0.00"], // a zero result never gets a minus sign
        ["-0", 3, "0.000"],
        ["0.9995", 3, "1.000"],
        ["1.5e-7", 8, "0.00000015"],
        ["12.5e1", 2, "125.00"],
        ["123", 0, "123"],
        ["1e3", 1, "1000.0"],
        ["99999999999999999999.999999995", 8, "100000000000000000000.00000000"],
        ["0.1000000000000000000000000001", 28, "0.1000000000000000000000000001"],
    ])("%s at scale %i is %s", (text, scale, expected) => expect(round(text, scale)).toBe(expected));

    it("pads the magnitude to the scale and puts the sign before it", () => {
        expect(formatFixed(false, 5n, 3)).toBe("0.005");
        expect(formatFixed(true, 12345n, 2)).toBe("-123.45");
        expect(formatFixed(true, 0n, 0)).toBe("0");
        expect(formatFixed(false, 7n, 0)).toBe("7");
    });
});

describe("exactInteger", () => {
    it.each([
        ["9007199254740993", 9007199254740993n], // 2^53 + 1: a double would say ...992
        ["1.0", 1n],
        ["-120e-1", -12n],
        ["12e3", 12000n],
        ["-0.0", 0n],
        ["9".repeat(40), 10n ** 40n - 1n],
    ])("reads %s as %s", (text, expected) => expect(exactInteger(parse(text))).toBe(expected));

    it.each(["1.5", "0.5", "-12e-1", "1.0000000000000000000001"])("finds a fraction in %s", (text) => {
        expect(exactInteger(parse(text))).toBeUndefined();
    });

    it("answers ±10^40 beyond 40 digits, for the caller's range check", () => {
        expect(exactInteger(parse("2e40"))).toBe(10n ** 40n);
        expect(exactInteger(parse("-5e45"))).toBe(-(10n ** 40n));
        expect(exactInteger(parse("123456789012345678901234567890123456789012.5"))).toBe(10n ** 40n);
    });
});

describe("float64Exact", () => {
    it("gives the exact binary value of a double, not its shortest decimal", () => {
        expect(plain(float64Exact(0.1))).toBe("0.1000000000000000055511151231257827021181583404541015625");
        expect(plain(float64Exact(2.675))).toBe("2.67499999999999982236431605997495353221893310546875");
        expect(plain(float64Exact(1e23))).toBe("99999999999999991611392");
    });

    it("is exact for halves, integers and negatives", () => {
        expect(plain(float64Exact(0.5))).toBe("0.5");
        expect(plain(float64Exact(-2.5))).toBe("-2.5");
        expect(plain(float64Exact(3))).toBe("3");
        expect(exactInteger(float64Exact(2 ** 60))).toBe(1152921504606846976n);
        expect(exactInteger(float64Exact(-3))).toBe(-3n);
        expect(exactInteger(float64Exact(0.5))).toBeUndefined();
    });

    it("covers the extremes: the largest double and the smallest subnormal", () => {
        // Number.MAX_VALUE = (2^53 - 1) × 2^971
        expect(plain(float64Exact(Number.MAX_VALUE))).toBe(((2n ** 53n - 1n) * 2n ** 971n).toString());
        // 2^-1074 = 5^1074 / 10^1074: 751 significant digits after 323 zeros
        const tiny = plain(float64Exact(Number.MIN_VALUE));
        expect(tiny.startsWith(`0.${"0".repeat(323)}49406564584124654417656879286822137236505980`)).toBe(true);
        expect(tiny.length).toBe(2 + 323 + 751);
        expect(tiny.endsWith("5")).toBe(true);
    });

    it("keeps the sign of -0 with a zero value, and refuses NaN and infinities", () => {
        const negZero = float64Exact(-0);
        expect(negZero.negative).toBe(true);
        expect(isZero(negZero)).toBe(true);
        expect(exactInteger(negZero)).toBe(0n);
        expect(() => float64Exact(Number.NaN)).toThrow("float64Exact: NaN is not finite");
        expect(() => float64Exact(Number.NEGATIVE_INFINITY)).toThrow("float64Exact: -Infinity is not finite");
    });
});
