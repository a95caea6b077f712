/**
 * Exact decimal arithmetic on digit strings: parsing numeric text, the exact
 * value of a float64, rounding to a scale and fixed-notation output. Nothing
 * here goes through a JS number, so exact inputs stay exact.
 */

/** An exact decimal: `(negative ? -1 : 1) × digits × 10^exponent`; `digits` has no leading zeros ("0" for zero). */
export interface Decimal {
    readonly negative: boolean;
    readonly digits: string;
    readonly exponent: number;
}

/** A decimal parsed from text, with the display scale PostgreSQL's numeric_in gives it. */
export interface ParsedDecimal extends Decimal {
    /** `max(0, fraction digits as written - exponent)`: how many fraction digits `numeric::text` prints. */
    readonly displayScale: number;
}

// PostgreSQL numeric limits (numeric.c): NUMERIC_DSCALE_MAX, and NUMERIC_WEIGHT_MAX base-10000 digits.
const PG_MAX_DISPLAY_SCALE = 16383;
const PG_MAX_INTEGER_DIGITS = 131072;

const DECIMAL_TEXT = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

/**
 * Parses plain decimal text: optional sign, digits with an optional point
 * (`5.`, `.5`), optional exponent (`1.5e-7`, `3.04E-8`). No surrounding
 * whitespace (callers trim), no `NaN`/`Infinity`, no `_` separators or hex.
 */
export function parseDecimalText(text: string): ParsedDecimal | undefined {
    const m = DECIMAL_TEXT.exec(text);
    if (!m) return undefined;
    const [, sign, int = "", frac = "", exp] = m;
    if (int.length + frac.length === 0) return undefined;
    // A 10+ digit exponent is far outside every limit; clamp instead of overflowing Number.
    const e = exp === undefined ? 0 : exp.replace(/^[+-]/, "").length > 9 ? (exp.startsWith("-") ? -1e9 : 1e9) : Number(exp);
    return {
        negative: sign === "-",
        digits: stripLeadingZeros(int + frac),
        exponent: e - frac.length,
        displayScale: Math.max(0, frac.length - e),
    };
}

/** Why PostgreSQL's numeric type cannot hold this value at all ("value overflows numeric format"), if so. */
export function numericFormatLimit(d: ParsedDecimal): string | undefined {
    if (d.displayScale > PG_MAX_DISPLAY_SCALE) return `more than ${PG_MAX_DISPLAY_SCALE} fraction digits`;
    if (integerDigits(d) > PG_MAX_INTEGER_DIGITS) return `more than ${PG_MAX_INTEGER_DIGITS} integer digits`;
    return undefined;
}

export function isZero(d: Decimal): boolean {
    return /^0*$/.test(d.digits);
}

/** Number of digits before the decimal point of |d| (0 when |d| < 1). */
export function integerDigits(d: Decimal): number {
    if (isZero(d)) return 0;
    return Math.max(0, d.digits.length + d.exponent);
}

/**
 * `|d| × 10^scale` rounded half away from zero (PostgreSQL's numeric rounding).
 * Callers bound `integerDigits(d)` first: the result has that many digits plus `scale`.
 */
export function roundHalfAwayFromZero(d: Decimal, scale: number): bigint {
    const keep = d.digits.length + d.exponent + scale; // leading digits that survive
    if (keep >= d.digits.length) return BigInt(d.digits + "0".repeat(keep - d.digits.length));
    if (keep < 0) return 0n;
    const head = keep === 0 ? 0n : BigInt(d.digits.slice(0, keep));
    return d.digits.charCodeAt(keep) - 48 >= 5 ? head + 1n : head;
}

/** Fixed notation with exactly `scale` fraction digits; zero never gets a minus sign. */
export function formatFixed(negative: boolean, magnitude: bigint, scale: number): string {
    const s = magnitude.toString().padStart(scale + 1, "0");
    const sign = negative && magnitude !== 0n ? "-" : "";
    const int = s.slice(0, s.length - scale);
    return scale > 0 ? `${sign}${int}.${s.slice(s.length - scale)}` : `${sign}${int}`;
}

/** `d` exactly as an integer, or undefined when it has a non-zero fraction. Values beyond 40 digits come back as ±10^40 (callers range-check). */
export function exactInteger(d: Decimal): bigint | undefined {
    if (isZero(d)) return 0n;
    const sign = d.negative ? -1n : 1n;
    if (integerDigits(d) > 40) return sign * 10n ** 40n;
    if (d.exponent >= 0) return sign * BigInt(d.digits + "0".repeat(d.exponent));
    const cut = d.digits.length + d.exponent;
    if (!/^0*$/.test(d.digits.slice(Math.max(0, cut)))) return undefined;
    return cut <= 0 ? 0n : sign * BigInt(d.digits.slice(0, cut));
}

/** The exact value of a finite float64 (every double is a finite binary fraction, hence a finite decimal). */
export function float64Exact(n: number): Decimal {
    if (!Number.isFinite(n)) throw new Error(`float64Exact: ${n} is not finite`);
    const view = new DataView(new ArrayBuffer(8));
    view.setFloat64(0, n);
    const bits = view.getBigUint64(0);
    const negative = bits >> 63n === 1n;
    const biased = Number((bits >> 52n) & 0x7ffn);
    const fraction = bits & 0xfffffffffffffn;
    const mantissa = biased === 0 ? fraction : fraction | (1n << 52n);
    const exp2 = (biased === 0 ? 1 : biased) - 1075;
    if (exp2 >= 0) return { negative, digits: stripLeadingZeros((mantissa << BigInt(exp2)).toString()), exponent: 0 };
    // m × 2^-k = m × 5^k × 10^-k
    return { negative, digits: stripLeadingZeros((mantissa * 5n ** BigInt(-exp2)).toString()), exponent: exp2 };
}

function stripLeadingZeros(digits: string): string {
    const s = digits.replace(/^0+/, "");
    return s === "" ? "0" : s;
}
