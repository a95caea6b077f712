/**
 * SQLite DATETIME value -> `timestamptz` canonical text
 * `YYYY-MM-DD HH:MM:SS.ffffff+00` (UTC, always 6 fraction digits).
 *
 * Accepted shapes (surrounding whitespace ignored):
 * - `YYYY-MM-DD HH:MM:SS` with optional `.f` ... `.ffffff`, `T`/`t` or space
 *   between date and time, seconds optional (`HH:MM`), date only
 *   (`YYYY-MM-DD` = midnight);
 * - optional offset after the time: `Z`, `±HH:MM`, `±HHMM`, `±HH` (an optional
 *   space before it). With an offset the value is absolute; without one it is
 *   naive and read in the column's zone (see TimezonePolicy), with
 *   PostgreSQL's DST rules (timeZone.ts: gap -> shifted forward, overlap ->
 *   later instant), reported by a `dst-*` warning;
 * - more than 6 fraction digits are rounded to microseconds the way
 *   PostgreSQL does (`rint(strtod(fraction) * 1e6)`, ties to even on the
 *   double), with a `fraction-rounded` warning; up to 6 digits are exact
 *   integer math, never a JS Date;
 * - an epoch: INTEGER, REAL or numeric TEXT. |value| >= 1e11 is epoch
 *   MILLISECONDS, below that SECONDS (1e11 s is year 5138, 1e11 ms is
 *   1973-03-03: collector data, 2024 onward, is ~1.7e9 s or ~1.7e12 ms). The
 *   fraction is rounded to microseconds half away from zero from the exact
 *   decimal (REAL: the exact double). Epochs are UTC whatever the column clock.
 * Rejected: invalid dates/times (Feb 30, 25:00, also 24:00:00 and leap second
 * :60 which PostgreSQL would roll over), offsets beyond ±15:59, results
 * outside 0001-01-01 .. 9999-12-31 UTC, BLOBs, anything else.
 * Empty strings are handled by convertValue.
 */
import { civilFromDays, civilSeconds, daysInMonth } from "./civil";
import { type Decimal, float64Exact, integerDigits, parseDecimalText, roundHalfAwayFromZero } from "./decimal";
import { type ConvertResult, type ConvertWarning, type FastPath, type SqliteValue, accept, describeRaw, reject } from "./result";
import { localToUtc, utcOffsetAt } from "./timeZone";

/** Epoch values with an absolute value at or above this are milliseconds, below it seconds. */
export const EPOCH_MILLIS_THRESHOLD = 1e11;

/** An instant with microsecond precision: epoch seconds (integer) + 0..999999 microseconds. */
export interface Instant {
    readonly epochSeconds: number;
    readonly micros: number;
}

/** A DATETIME text or epoch, before the zone of naive values is applied. */
export type ParsedTimestamp =
    | { readonly kind: "naive"; readonly localSeconds: number; readonly micros: number; readonly fractionRounded: boolean }
    | { readonly kind: "absolute"; readonly epochSeconds: number; readonly micros: number; readonly fractionRounded: boolean };

const MIN_SECONDS = civilSeconds(1, 1, 1, 0, 0, 0);
const MAX_SECONDS = civilSeconds(10000, 1, 1, 0, 0, 0) - 1;

const DATETIME = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)? ?(?:([Zz])|([+-])(\d{2})(?::?(\d{2}))?)?)?$/;

/**
 * Converts a raw SQLite value for a `timestamptz` column; naive values are wall-clock time in
 * `timeZone`. A wall clock a DST change makes ambiguous (or skips) is read as the later of its
 * two readings (PostgreSQL's rule) or, with `pick` "earlier", the earlier, with a `dst-*` warning.
 */
export function convertTimestamp(raw: SqliteValue, timeZone: string, pick: "earlier" | "later" = "later"): ConvertResult {
    const parsed = parseTimestamp(raw);
    if (typeof parsed === "string") return reject(`${describeRaw(raw)} is not a timestamp: ${parsed}`);
    let instant: Instant;
    let warning: ConvertWarning | undefined = parsed.fractionRounded ? "fraction-rounded" : undefined;
    if (parsed.kind === "naive") {
        const resolved = localToUtc(timeZone, parsed.localSeconds);
        const other = resolved.otherEpochSeconds ?? resolved.epochSeconds;
        const epochSeconds = pick === "earlier" ? Math.min(resolved.epochSeconds, other) : Math.max(resolved.epochSeconds, other);
        instant = { epochSeconds, micros: parsed.micros };
        if (resolved.kind !== "exact") warning = resolved.kind === "ambiguous" ? "dst-ambiguous" : "dst-nonexistent";
    } else instant = parsed;
    if (instant.epochSeconds < MIN_SECONDS || instant.epochSeconds > MAX_SECONDS) {
        return reject(`${describeRaw(raw)} is outside 0001-01-01 .. 9999-12-31 UTC`);
    }
    return accept(formatTimestamp(instant), warning);
}

/**
 * A naive local time decided by an epoch of the same row that it was derived from (the
 * collector writes `ohlcv_data.datetime` as `fromtimestamp(timestamp)`): that epoch's instant,
 * when its wall clock in `timeZone` is the value's to the second; undefined otherwise (the
 * value is not naive, the epoch is not one, or they disagree: the row then says nothing).
 */
export function resolveByEpoch(raw: SqliteValue, epochRaw: SqliteValue | null, timeZone: string): ConvertResult | undefined {
    const parsed = parseTimestamp(raw);
    if (epochRaw === null || typeof epochRaw === "string" || Buffer.isBuffer(epochRaw)) return undefined;
    const epoch = parseTimestamp(epochRaw);
    if (typeof parsed === "string" || parsed.kind !== "naive" || typeof epoch === "string" || epoch.kind !== "absolute") return undefined;
    if (epoch.epochSeconds + utcOffsetAt(timeZone, epoch.epochSeconds) !== parsed.localSeconds) return undefined;
    if (epoch.epochSeconds < MIN_SECONDS || epoch.epochSeconds > MAX_SECONDS) return undefined;
    return accept(formatTimestamp({ epochSeconds: epoch.epochSeconds, micros: parsed.micros }), "dst-resolved-by-epoch");
}

/** The collector's own DATETIME text, read in `timeZone` outside DST transitions and within range. */
export function timestampFastPath(timeZone: string): FastPath {
    return (raw) => {
        if (typeof raw !== "string") return undefined;
        const parsed = parseCommonDatetime(raw);
        if (!parsed || parsed.kind !== "naive") return undefined;
        const resolved = localToUtc(timeZone, parsed.localSeconds);
        if (resolved.kind !== "exact" || resolved.epochSeconds < MIN_SECONDS || resolved.epochSeconds > MAX_SECONDS) return undefined;
        return formatTimestamp({ epochSeconds: resolved.epochSeconds, micros: parsed.micros });
    };
}

/** Parses a raw DATETIME value, or returns why it is not one. */
export function parseTimestamp(raw: SqliteValue): ParsedTimestamp | string {
    if (typeof raw === "bigint") return fromEpoch(parseDecimalText(raw.toString())!);
    if (typeof raw === "number") return Number.isFinite(raw) ? fromEpoch(float64Exact(raw)) : "not a finite epoch";
    if (Buffer.isBuffer(raw)) return "a BLOB is not a timestamp";
    const common = parseCommonDatetime(raw);
    if (common) return common;
    const text = raw.replace(/^[ \t\n\r\f\v]+|[ \t\n\r\f\v]+$/g, "");
    if (text === "") return "empty string";
    const epoch = parseDecimalText(text);
    if (epoch) return fromEpoch(epoch);
    return parseDatetimeText(text);
}

/** An instant as PostgreSQL prints it in UTC: `YYYY-MM-DD HH:MM:SS[.ffffff]+00`, the fraction without trailing zeros. */
export function formatTimestamp(instant: Instant): string {
    const days = Math.floor(instant.epochSeconds / 86400);
    // Rows come in rowid order, so consecutive values mostly share a day: keep its text.
    if (days !== lastDay) {
        const { year, month, day } = civilFromDays(days);
        lastDate = `${pad(year, 4)}-${TWO_DIGITS[month]}-${TWO_DIGITS[day]} `;
        lastDay = days;
    }
    const secondOfDay = instant.epochSeconds - days * 86400;
    const hh = Math.floor(secondOfDay / 3600);
    const mi = Math.floor((secondOfDay % 3600) / 60);
    const hms = lastDate + TWO_DIGITS[hh] + ":" + TWO_DIGITS[mi] + ":" + TWO_DIGITS[secondOfDay % 60];
    return instant.micros === 0 ? hms + "+00" : hms + "." + fraction(instant.micros) + "+00";
}

/** Microseconds as PostgreSQL prints them: six digits, trailing zeros dropped (500000 -> "5"). */
function fraction(micros: number): string {
    let text = String(micros + 1_000_000).slice(1);
    while (text.charCodeAt(text.length - 1) === 48) text = text.slice(0, -1);
    return text;
}

const TWO_DIGITS = Array.from({ length: 60 }, (_, i) => String(i).padStart(2, "0"));
let lastDay = NaN;
let lastDate = "";

/**
 * `YYYY-MM-DD HH:MM:SS[.ffffff]` (space or T), the shapes the collector writes, read
 * with char codes and no regex: this runs for most timestamps of the copy. Anything
 * else, or an out-of-range field, goes to the general parser, which names the problem.
 */
function parseCommonDatetime(text: string): ParsedTimestamp | undefined {
    const n = text.length;
    if (n !== 19 && n !== 26) return undefined;
    const sep = text.charCodeAt(10);
    if (
        text.charCodeAt(4) !== 45 ||
        text.charCodeAt(7) !== 45 ||
        (sep !== 32 && sep !== 84 && sep !== 116) ||
        text.charCodeAt(13) !== 58 ||
        text.charCodeAt(16) !== 58
    )
        return undefined;
    if (n === 26 && text.charCodeAt(19) !== 46) return undefined;
    const year = digitsAt(text, 0, 4),
        month = digitsAt(text, 5, 2),
        day = digitsAt(text, 8, 2);
    const hour = digitsAt(text, 11, 2),
        minute = digitsAt(text, 14, 2),
        second = digitsAt(text, 17, 2);
    const micros = n === 26 ? digitsAt(text, 20, 6) : 0;
    if (
        year < 1 ||
        month < 1 ||
        month > 12 ||
        day < 1 ||
        day > daysInMonth(year, month) ||
        hour < 0 ||
        hour > 23 ||
        minute < 0 ||
        minute > 59 ||
        second < 0 ||
        second > 59 ||
        micros < 0
    )
        return undefined;
    return { kind: "naive", localSeconds: civilSeconds(year, month, day, hour, minute, second), micros, fractionRounded: false };
}

/** The decimal number of `count` ASCII digits at `at`, or -1 if one is not a digit. */
function digitsAt(text: string, at: number, count: number): number {
    let v = 0;
    for (let i = at; i < at + count; i++) {
        const d = text.charCodeAt(i) - 48;
        if (d < 0 || d > 9) return -1;
        v = v * 10 + d;
    }
    return v;
}

function parseDatetimeText(text: string): ParsedTimestamp | string {
    const m = DATETIME.exec(text);
    if (!m) return "expected YYYY-MM-DD[ HH:MM[:SS[.ffffff]]][Z|±HH[:MM]] or an epoch number";
    const [, y, mo, d, h = "0", mi = "0", s = "0", fraction = "", zulu, sign, oh, om = "0"] = m;
    const year = Number(y),
        month = Number(mo),
        day = Number(d),
        hour = Number(h),
        minute = Number(mi),
        second = Number(s);
    if (year < 1) return "year 0000 does not exist";
    if (month < 1 || month > 12) return `month ${mo} out of range`;
    if (day < 1 || day > daysInMonth(year, month)) return `day ${d} out of range for ${y}-${mo}`;
    if (hour > 23 || minute > 59 || second > 59) return `time ${h}:${mi}:${s} out of range`;
    if (oh !== undefined && (Number(oh) > 15 || Number(om) > 59)) return `UTC offset ${sign}${oh}:${om} out of range`;
    const { micros, carry, rounded } = fractionToMicros(fraction);
    const local = civilSeconds(year, month, day, hour, minute, second) + carry;
    if (zulu === undefined && sign === undefined) return { kind: "naive", localSeconds: local, micros, fractionRounded: rounded };
    const offset = sign === undefined ? 0 : (sign === "-" ? -1 : 1) * (Number(oh) * 3600 + Number(om) * 60);
    return { kind: "absolute", epochSeconds: local - offset, micros, fractionRounded: rounded };
}

/** Fraction digits -> microseconds; beyond 6 digits rounded like PostgreSQL's ParseFractionalSecond. */
function fractionToMicros(fraction: string): { micros: number; carry: number; rounded: boolean } {
    if (fraction.length <= 6) return { micros: Number(fraction.padEnd(6, "0")), carry: 0, rounded: false };
    // PostgreSQL: fsec = rint(strtod(".digits") * 1e6); JS numbers are the same IEEE doubles.
    const x = Number(`0.${fraction}`) * 1e6;
    let r = Math.round(x);
    if (r - x === 0.5 && r % 2 !== 0) r -= 1; // rint: ties to even
    const rounded = !/^0*$/.test(fraction.slice(6));
    return r >= 1_000_000 ? { micros: r - 1_000_000, carry: 1, rounded } : { micros: r, carry: 0, rounded };
}

function fromEpoch(d: Decimal): ParsedTimestamp | string {
    if (integerDigits(d) > 16) return "epoch value out of range";
    const seconds: Decimal = integerDigits(d) >= 12 ? { ...d, exponent: d.exponent - 3 } : d; // >= 1e11: milliseconds
    const totalMicros = (d.negative ? -1n : 1n) * roundHalfAwayFromZero(seconds, 6);
    const epochSeconds = totalMicros >= 0n ? totalMicros / 1_000_000n : -((-totalMicros + 999_999n) / 1_000_000n);
    const micros = Number(totalMicros - epochSeconds * 1_000_000n);
    return { kind: "absolute", epochSeconds: Number(epochSeconds), micros, fractionRounded: false };
}

function pad(n: number, width: number): string {
    return String(n).padStart(width, "0");
}
