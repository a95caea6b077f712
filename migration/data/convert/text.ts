/**
 * SQLite value -> `text` / `varchar(n)` canonical text (the string itself).
 *
 * - TEXT as is. Longer than n characters (Unicode code points, as PostgreSQL
 *   counts them) is rejected: PostgreSQL would error, or silently cut trailing
 *   spaces, and the migration never truncates.
 * - A NUL character is rejected (PostgreSQL text cannot hold it), as is a
 *   lone UTF-16 surrogate (no UTF-8 form).
 * - INTEGER -> its decimal; REAL -> the shortest round-trip form (`String(n)`,
 *   e.g. `1.5`, `1e+21`; SQLite's own CAST would print `1.0e+21`). Only
 *   columns without TEXT affinity can hold numbers at all.
 * - BLOB -> its text when it is valid UTF-8, else rejected.
 */
import { type ConvertResult, type FastPath, type SqliteValue, accept, decodeUtf8, describeRaw, isWellFormedText, reject } from "./result";

/**
 * TEXT that convertText accepts as it is. `length <= maxLength` in UTF-16 units
 * implies it in code points; longer values take the full path, which counts.
 */
export function textFastPath(maxLength?: number): FastPath {
    const limit = maxLength ?? Infinity;
    return (raw) => (typeof raw === "string" && raw.length <= limit && !raw.includes("\u0000") && isWellFormedText(raw) ? raw : undefined);
}

/** Converts a raw SQLite value for a `text` or `varchar(maxLength)` column. */
export function convertText(raw: SqliteValue, maxLength?: number): ConvertResult {
    let text: string;
    if (typeof raw === "string") text = raw;
    else if (typeof raw === "bigint") text = raw.toString();
    else if (typeof raw === "number") text = String(raw);
    else {
        const decoded = decodeUtf8(raw);
        if (decoded === undefined) return reject(`${describeRaw(raw)} is not valid UTF-8 text`);
        text = decoded;
    }
    if (text.includes("\u0000")) return reject(`${describeRaw(raw)} contains a NUL character, which PostgreSQL text cannot store`);
    if (!isWellFormedText(text)) return reject(`${describeRaw(raw)} contains a lone UTF-16 surrogate (not encodable as UTF-8)`);
    if (maxLength !== undefined) {
        const length = codePointLength(text);
        if (length > maxLength) return reject(`${describeRaw(raw)} has ${length} characters, varchar(${maxLength}) allows ${maxLength}`);
    }
    return accept(text);
}

function codePointLength(text: string): number {
    let n = 0;
    for (let i = 0; i < text.length; i++) {
        const c = text.charCodeAt(i);
        if (c >= 0xd800 && c <= 0xdbff) i++; // a surrogate pair is one character
        n++;
    }
    return n;
}
