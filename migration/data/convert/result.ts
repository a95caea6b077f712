/**
 * The shapes every converter shares: the raw SQLite value, the outcome of a
 * conversion, and how a raw value is named in a rejection reason.
 */

/** A non-NULL value as better-sqlite3 returns it with `safeIntegers(true)`. */
export type SqliteValue = number | bigint | string | Buffer;

/** A raw column value as better-sqlite3 returns it with `safeIntegers(true)`. */
export type RawValue = SqliteValue | null;

/**
 * Something a conversion accepted but the report should count:
 * - `empty-as-null`: an empty (blank) string in a nullable non-text column became NULL;
 * - `fraction-rounded`: a timestamp had more than 6 fraction digits and was rounded to microseconds;
 * - `dst-ambiguous`: a naive local time occurred twice (fall back); the later instant was taken;
 * - `dst-nonexistent`: a naive local time fell in a spring-forward gap; it was shifted forward;
 * - `dst-resolved-by-epoch`: a naive local time that was ambiguous (or nonexistent) was decided by
 *   the same row's epoch, which the collector derived it from (evidence.ts);
 * - `dst-resolved-by-order`: such a value decided by the order of the collector's writes around it
 *   (plan/orderEvidence.ts);
 * - `python-repr-repaired`: a JSON column held a Python literal (`{'a': None}`): stored as the JSON
 *   it means (pythonLiteral.ts), its raw text kept beside its key (a repair, see REPAIR_WARNINGS);
 * - `utf8-replaced`: TEXT whose bytes are not UTF-8, stored with U+FFFD for each bad sequence on
 *   request (`--repair utf8`), its raw bytes kept in hex (a repair).
 */
export type ConvertWarning =
    | "empty-as-null"
    | "fraction-rounded"
    | "dst-ambiguous"
    | "dst-nonexistent"
    | "dst-resolved-by-epoch"
    | "dst-resolved-by-order"
    | "python-repr-repaired"
    | "utf8-replaced";

/** Warnings that mark a repair: the value was recovered from a form the column should not hold, and its raw text is kept. */
export const REPAIR_WARNINGS: ReadonlySet<ConvertWarning> = new Set(["python-repr-repaired", "utf8-replaced"]);

/** Converted value in canonical text form (NULL as `null`), or why the value cannot be loaded. */
export type ConvertResult =
    | { readonly ok: true; readonly value: string | null; readonly warning?: ConvertWarning }
    | { readonly ok: false; readonly reason: string };

/**
 * A column's conversion as the copy's hot path takes it: the canonical text (or
 * NULL) when the value is accepted without a warning, the full ConvertResult when
 * there is a warning or a rejection. No object per accepted value.
 */
export type FieldConversion = string | null | ConvertResult;

/** Converts the raw values of one column; bound once to its type and context (see fieldConverter). */
export type FieldConverter = (raw: RawValue) => FieldConversion;

/**
 * A type's shortcut for its common raw values: the canonical text, exactly what the
 * full converter accepts without a warning, or undefined to take the full converter.
 */
export type FastPath = (raw: SqliteValue) => string | undefined;

export function accept(value: string | null, warning?: ConvertWarning): ConvertResult {
    return warning ? { ok: true, value, warning } : { ok: true, value };
}

export function reject(reason: string): ConvertResult {
    return { ok: false, reason };
}

/** Names a raw value for an error message: its SQLite storage class and (truncated) content. */
export function describeRaw(raw: RawValue): string {
    if (raw === null) return "NULL";
    if (typeof raw === "bigint") return `INTEGER ${raw}`;
    if (typeof raw === "number") return `REAL ${raw}`;
    if (Buffer.isBuffer(raw)) return `BLOB (${raw.length} bytes)`;
    const shown = raw.length > 80 ? `${raw.slice(0, 77)}...` : raw;
    return `TEXT ${JSON.stringify(shown)}`;
}

/** Blank for the empty-string rule: nothing but ASCII whitespace. */
export function isBlank(text: string): boolean {
    return /^[ \t\n\r\f\v]*$/.test(text);
}

/** Whether a JS string is valid UTF-16 (no lone surrogate), i.e. encodable as UTF-8 without loss. */
export function isWellFormedText(text: string): boolean {
    return nativeWellFormed
        ? nativeWellFormed.call(text)
        : !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(text);
}

/** String.prototype.isWellFormed (Node 20+): native, far cheaper than the regex on the copy's hot path. */
const nativeWellFormed = (String.prototype as { isWellFormed?: (this: string) => boolean }).isWellFormed;

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** A BLOB's bytes as text when they are valid UTF-8, else undefined. */
export function decodeUtf8(bytes: Buffer): string | undefined {
    try {
        return utf8.decode(bytes);
    } catch {
        return undefined;
    }
}
