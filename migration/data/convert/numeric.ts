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
import { type ConvertResult, type FastPath, type SqliteValue, accept, describeRaw, reject } from "./result";

/** Converts a raw SQLite value for a `numeric(precision, scale)` column. */
export function convertNumeric(raw: SqliteValue, precision: number, scale: number): ConvertResult {
    checkTypmod(precision, scale);
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

/** convertNumeric's REAL fast path, bound to the column's precision and scale. */
export function numericFastPath(precision: number, scale: number): FastPath {
    checkTypmod(precision, scale);
    return (raw) => (typeof raw === "number" ? roundReal(raw, precision, scale) : undefined);
}

function checkTypmod(precision: number, scale: number): void {
    if (!Number.isInteger(precision) || !Number.isInteger(scale) || precision < 1 || precision > 1000 || scale < 0 || scale > precision) {
        throw new Error(`numeric(${precision},${scale}): precision must be 1..1000 and scale 0..precision`);
    }
}

/**
 * The common case on the copy's hot path: a REAL within the precision. Same
 * result as the general path; undefined sends everything else (huge exponents,
 * overflow, NaN) there.
 *
 * The rule rounds the double's shortest round-trip decimal, which String(n)
 * gives at 2-3x the cost of toFixed. toFixed rounds the double's exact value
 * instead, and the two roundings agree unless a rounding midpoint lies between
 * the double and its shortest decimal. They are less than half an ulp apart,
 * so with 3 extra digits (u = 10^-(scale+3)): when the extra digits of
 * toFixed(scale+3) are not 499..501, the exact value is at least 1.5u from
 * every midpoint, and below `fixedPathLimit` half an ulp is less than 1.5u.
 */
export function roundReal(n: number, precision: number, scale: number): string | undefined {
    if (!(Math.abs(n) < fixedPathLimit(scale))) return roundShortest(n, precision, scale);
    const y = n.toFixed(scale + 3);
    const len = y.length;
    const extra = (y.charCodeAt(len - 3) - 48) * 100 + (y.charCodeAt(len - 2) - 48) * 10 + (y.charCodeAt(len - 1) - 48);
    if (extra >= 499 && extra <= 501) return roundShortest(n, precision, scale);
    let out = y.slice(0, scale === 0 ? len - 4 : len - 3);
    if (extra > 501) out = incrementDecimal(out);
    const negative = out.charCodeAt(0) === 45;
    const start = negative ? 1 : 0;
    const dot = scale === 0 ? out.length : out.length - scale - 1;
    const intDigits = dot - start === 1 && out.charCodeAt(start) === 48 ? 0 : dot - start;
    if (intDigits > precision - scale) return undefined;
    return negative && isZeroText(out) ? out.slice(1) : out; // no -0
}

const FIXED_PATH_LIMITS: number[] = [];

/** |n| below which ulp(n) < 3 * 10^-(scale+3), i.e. |n| * 2^-52 < 3u (1% margin for the float math); 0 where toFixed cannot go. */
function fixedPathLimit(scale: number): number {
    return (FIXED_PATH_LIMITS[scale] ??= scale + 3 > 100 ? 0 : (0.99 * 3 * 2 ** 52) / 10 ** (scale + 3));
}

/** roundReal by String(n): the shortest round-trip decimal, spelled out and rounded as text. */
export function roundShortest(n: number, precision: number, scale: number): string | undefined {
    if (!Number.isFinite(n)) return undefined;
    let text = String(n);
    const e = text.indexOf("e");
    if (e >= 0) {
        // String(n) writes |n| < 1e-6 as `[-]d[.ddd]e-N`: spell it out as `[-]0.000ddd`.
        if (text.charCodeAt(e + 1) !== 45) return undefined;
        const negative = text.charCodeAt(0) === 45;
        const mantissa = text.slice(negative ? 1 : 0, e);
        const digits = mantissa.length > 1 ? mantissa.charAt(0) + mantissa.slice(2) : mantissa;
        text = (negative ? "-0." : "0.") + zeros(Number(text.slice(e + 2)) - 1) + digits;
    }
    const negative = text.charCodeAt(0) === 45;
    const start = negative ? 1 : 0;
    let dot = text.indexOf(".");
    if (dot < 0) dot = text.length;
    const fracLength = text.length - dot - (dot < text.length ? 1 : 0);
    // String(n) never has leading zeros, except the single 0 of "0.x".
    let intDigits = dot - start === 1 && text.charCodeAt(start) === 48 ? 0 : dot - start;
    let out: string;
    if (fracLength <= scale) {
        // Exact at this scale: pad (the usual case for prices stored with few digits).
        out = scale === 0 ? text.slice(0, dot) : (dot < text.length ? text : text + ".") + zeros(scale - fracLength);
        if (intDigits > precision - scale) return undefined;
        return negative && isZeroText(out) ? out.slice(1) : out;
    }
    // Cut to `scale` digits, then round half away from zero on the first dropped digit.
    const cut = scale === 0 ? dot : dot + 1 + scale;
    out = text.slice(0, cut);
    if (text.charCodeAt(cut === dot ? dot + 1 : cut) >= 53) {
        out = incrementDecimal(out);
        if (out.length - start - (scale > 0 ? scale + 1 : 0) > (intDigits || 1)) intDigits++;
        else if (intDigits === 0 && out.charCodeAt(start) !== 48) intDigits = 1;
    }
    if (intDigits > precision - scale) return undefined;
    return negative && isZeroText(out) ? out.slice(1) : out; // no -0
}

const ZEROS: string[] = [];

/** `n` zeros, kept once made (scales repeat on every row). */
function zeros(n: number): string {
    return (ZEROS[n] ??= "0".repeat(n));
}

function isZeroText(text: string): boolean {
    for (let i = 0; i < text.length; i++) {
        const c = text.charCodeAt(i);
        if (c >= 49 && c <= 57) return false;
    }
    return true;
}

/** Adds one unit in the last place of a decimal text: "-1.29" -> "-1.30", "9.99" -> "10.00". */
function incrementDecimal(text: string): string {
    let i = text.length - 1;
    let tail = "";
    for (; i >= 0; i--) {
        const c = text.charCodeAt(i);
        if (c === 46) {
            tail = "." + tail;
            continue;
        }
        if (c === 45) break;
        if (c !== 57) return text.slice(0, i) + String.fromCharCode(c + 1) + tail;
        tail = "0" + tail;
    }
    return text.slice(0, i + 1) + "1" + tail;
}

function overflow(raw: SqliteValue, type: string, digits: number, max: number): string {
    return `${describeRaw(raw)} overflows ${type}: needs ${digits} integer digits, at most ${max} allowed (values are never truncated)`;
}

/** The exact decimal a raw value stands for, or why it has none. */
function toDecimal(raw: SqliteValue): Decimal | string {
    if (typeof raw === "bigint") return parseDecimalText(raw.toString()) as Decimal;
    if (typeof raw === "number")
        return Number.isFinite(raw) ? (parseDecimalText(String(raw)) as Decimal) : "NaN and Infinity cannot be stored";
    if (Buffer.isBuffer(raw)) return "a BLOB is not a number";
    const text = raw.replace(/^[ \t\n\r\f\v]+|[ \t\n\r\f\v]+$/g, "");
    if (/^[+-]?(nan|inf|infinity)$/i.test(text)) return "NaN and Infinity cannot be stored";
    const parsed = parseDecimalText(text);
    if (!parsed) return "not a decimal number";
    const limit = numericFormatLimit(parsed);
    return limit ? `value overflows numeric format (${limit})` : parsed;
}
