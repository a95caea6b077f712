/**
 * SQLite value -> `numeric(p,s)` canonical text.
 *
 * Rules (each equals what PostgreSQL stores for the same input):
 * - REAL: the double's shortest round-trip decimal (what Python's repr, and
 *   so psycopg2, sends for a float: the value the collector would store on
 *   PostgreSQL), then rounded to the scale; equal to PostgreSQL's
 *   `$1::float8::text::numeric(p,s)`. `379.28646677651693` -> `379.28646678`
 *   in numeric(20,8). Not `float8::numeric`, which first cuts to 15
 *   significant digits and so drops digits the double really carries.
 * - INTEGER: exact.
 * - TEXT: `$1::numeric(p,s)`: exact decimal string math, surrounding
 *   whitespace ignored, `987.07`, `.5`, `5.`, `1.5e-7`, `3.04E-8` accepted;
 *   `NaN`/`Infinity`, `1_000`, `0x1F` rejected (the last two are valid
 *   PostgreSQL input but never collector data, so they get a human look).
 * - Rounding to the scale is half away from zero (PostgreSQL's numeric
 *   rounding); a zero result never prints as `-0`.
 * - More than p-s integer digits after rounding is an overflow: rejected with
 *   the value, never truncated or clamped.
 * - BLOB is rejected. Empty strings are handled by convertValue (see there).
 */
import { type Decimal, formatFixed, integerDigits, numericFormatLimit, parseDecimalText, roundHalfAwayFromZero } from "./decimal";
import { type ConvertResult, type SqliteValue, accept, describeRaw, reject } from "./result";

/** Converts a raw SQLite value for a `numeric(precision, scale)` column. */
export function convertNumeric(raw: SqliteValue, precision: number, scale: number): ConvertResult {
    if (!Number.isInteger(precision) || !Number.isInteger(scale) || precision < 1 || precision > 1000 || scale < 0 || scale > precision) {
        throw new Error(`numeric(${precision},${scale}): precision must be 1..1000 and scale 0..precision`);
    }
    if (typeof raw === "number") {
        const fast = roundReal(raw, precision, scale);
        if (fast !== undefined) return accept(fast);
    }
    const type = `numeric(${precision},${scale})`;
    const parsed = toDecimal(raw);
    if (typeof parsed === "string") return reject(`${describeRaw(raw)} is not a ${type} value: ${parsed}`);
    const maxIntegerDigits = precision - scale;
    // Checked before rounding so a huge exponent never builds a huge digit string.
    if (integerDigits(parsed) > maxIntegerDigits) return reject(overflow(raw, type, integerDigits(parsed), maxIntegerDigits));
    const magnitude = roundHalfAwayFromZero(parsed, scale);
    const roundedIntegerDigits = magnitude === 0n ? 0 : Math.max(0, magnitude.toString().length - scale);
    if (roundedIntegerDigits > maxIntegerDigits) return reject(overflow(raw, type, roundedIntegerDigits, maxIntegerDigits));
    return accept(formatFixed(parsed.negative, magnitude, scale));
}

/**
 * The common case on the copy's hot path, by string arithmetic alone: a REAL
 * whose shortest form has no exponent, within the precision. Same result as
 * the general path; undefined sends everything else (exponents, overflow,
 * NaN) there.
 */
function roundReal(n: number, precision: number, scale: number): string | undefined {
    const text = String(n);
    if (text.includes("e") || text.includes("N") || text.includes("I")) return undefined;
    let negative = text.charCodeAt(0) === 45;
    const body = negative ? text.slice(1) : text;
    const dot = body.indexOf(".");
    let int = dot < 0 ? body : body.slice(0, dot);
    let frac = dot < 0 ? "" : body.slice(dot + 1);
    if (frac.length > scale) {
        const roundUp = frac.charCodeAt(scale) >= 53; // '5': half away from zero
        frac = frac.slice(0, scale);
        if (roundUp) {
            const digits = incrementDigits(int + frac);
            int = digits.slice(0, digits.length - scale);
            frac = digits.slice(digits.length - scale);
        }
    } else if (frac.length < scale) frac = frac.padEnd(scale, "0");
    if (int.length > 1 && int.charCodeAt(0) === 48) int = int.replace(/^0+(?=\d)/, "");
    const integerDigitCount = int === "0" ? 0 : int.length;
    if (integerDigitCount > precision - scale) return undefined;
    if (negative && integerDigitCount === 0 && !/[1-9]/.test(frac)) negative = false; // no -0
    return (negative ? "-" : "") + int + (scale > 0 ? "." + frac : "");
}

/** "129" -> "130", "99" -> "100". */
function incrementDigits(digits: string): string {
    let i = digits.length - 1;
    while (i >= 0 && digits.charCodeAt(i) === 57) i--;
    if (i < 0) return "1" + "0".repeat(digits.length);
    return digits.slice(0, i) + String.fromCharCode(digits.charCodeAt(i) + 1) + "0".repeat(digits.length - i - 1);
}

function overflow(raw: SqliteValue, type: string, digits: number, max: number): string {
    return `${describeRaw(raw)} overflows ${type}: needs ${digits} integer digits, at most ${max} allowed (values are never truncated)`;
}

/** The exact decimal a raw value stands for, or why it has none. */
function toDecimal(raw: SqliteValue): Decimal | string {
    if (typeof raw === "bigint") return parseDecimalText(raw.toString()) as Decimal;
    if (typeof raw === "number") return Number.isFinite(raw) ? (parseDecimalText(String(raw)) as Decimal) : "NaN and Infinity cannot be stored";
    if (Buffer.isBuffer(raw)) return "a BLOB is not a number";
    const text = raw.replace(/^[ \t\n\r\f\v]+|[ \t\n\r\f\v]+$/g, "");
    if (/^[+-]?(nan|inf|infinity)$/i.test(text)) return "NaN and Infinity cannot be stored";
    const parsed = parseDecimalText(text);
    if (!parsed) return "not a decimal number";
    const limit = numericFormatLimit(parsed);
    return limit ? `value overflows numeric format (${limit})` : parsed;
}
