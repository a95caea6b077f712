/**
 * TEXT whose bytes are not UTF-8. better-sqlite3 decodes every TEXT value to a JS string,
 * replacing each invalid sequence with U+FFFD: `FF FE 41` arrives as "\uFFFD\uFFFDA", and two
 * keys that differ only in their bad bytes arrive equal. So a string holding U+FFFD is read
 * again as its bytes; when they are not UTF-8 the value is replaced by those bytes, marked as
 * invalid text, and the encoder sets it aside (or repairs it on purpose: `--repair utf8`).
 * Only strings with U+FFFD cost a second read, so clean text pays one `includes` per value.
 */
import type Database from "better-sqlite3";
import { sqliteIdent } from "../../postgres/sql";

const LOSSY_TEXT = Symbol("gecko-pg lossy text");

/** A TEXT value's raw bytes that are not UTF-8, carrying the text better-sqlite3 made of them. */
export type InvalidUtf8Text = Buffer & { readonly [LOSSY_TEXT]: string };

export function isInvalidUtf8(value: unknown): value is InvalidUtf8Text {
    return Buffer.isBuffer(value) && LOSSY_TEXT in value;
}

/** The text with each invalid sequence replaced by U+FFFD, as `--repair utf8` stores it. */
export function lossyText(value: InvalidUtf8Text): string {
    return value[LOSSY_TEXT];
}

/** `invalid UTF-8 at byte N (x'...')`, N counted from 0. */
export function describeInvalidUtf8(value: InvalidUtf8Text): string {
    return `invalid UTF-8 at byte ${firstInvalidUtf8Byte(value)} (x'${value.toString("hex")}')`;
}

/**
 * Where the first byte that starts no valid UTF-8 sequence is, or -1 when all of it is UTF-8.
 * Strict as PostgreSQL is: no overlong forms, no surrogates, nothing above U+10FFFF.
 */
export function firstInvalidUtf8Byte(bytes: Uint8Array): number {
    for (let i = 0; i < bytes.length;) {
        const b = bytes[i];
        if (b < 0x80) {
            i++;
            continue;
        }
        let length: number;
        let min: number;
        if (b >= 0xc2 && b <= 0xdf) [length, min] = [2, 0x80];
        else if (b >= 0xe0 && b <= 0xef) [length, min] = [3, 0x800];
        else if (b >= 0xf0 && b <= 0xf4) [length, min] = [4, 0x10000];
        else return i;
        if (i + length > bytes.length) return i;
        let codePoint = b & (0xff >> (length + 1));
        for (let k = 1; k < length; k++) {
            const c = bytes[i + k];
            if ((c & 0xc0) !== 0x80) return i;
            codePoint = (codePoint << 6) | (c & 0x3f);
        }
        if (codePoint < min || codePoint > 0x10ffff || (codePoint >= 0xd800 && codePoint <= 0xdfff)) return i;
        i += length;
    }
    return -1;
}

/** Marks the invalid text of a row read from `table` (rowid first, then `columns`), in place; returns the row. */
export type InvalidTextMarker = <R extends unknown[]>(row: R) => R;

export function invalidTextMarker(db: Database.Database, table: string, columns: readonly string[]): InvalidTextMarker {
    const readBytes = new Map<number, Database.Statement>();
    const bytesOf = (column: number, rowid: unknown): Buffer | null => {
        let stmt = readBytes.get(column);
        if (!stmt)
            readBytes.set(
                column,
                (stmt = db
                    .prepare(`SELECT CAST(${sqliteIdent(columns[column])} AS BLOB) FROM ${sqliteIdent(table)} WHERE rowid = ?`)
                    .pluck()),
            );
        return stmt.get(rowid) as Buffer | null;
    };
    return (row) => {
        for (let i = 1; i < row.length; i++) {
            const v = row[i];
            if (typeof v !== "string" || !v.includes("\uFFFD")) continue;
            const bytes = bytesOf(i - 1, row[0]);
            // A genuine U+FFFD (EF BF BD) is text like any other.
            if (bytes && firstInvalidUtf8Byte(bytes) >= 0) row[i] = Object.assign(bytes, { [LOSSY_TEXT]: v });
        }
        return row;
    };
}
