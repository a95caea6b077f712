/**
 * COPY text format and the SQL side of checksums: the two places canonical
 * text meets PostgreSQL.
 */
import type { ColumnType } from "../../schema/types";

/**
 * One field of a COPY ... FROM STDIN (FORMAT text) row: `\N` for NULL;
 * backslash, newline, carriage return and tab escaped. Fields are joined
 * with a tab and rows end with a newline by the caller.
 */
export function copyEscape(value: string | null): string {
    if (value === null) return "\\N";
    // Most values need no escaping: test first, replace (and allocate) only when needed.
    return NEEDS_ESCAPE.test(value) ? value.replace(/[\\\n\r\t]/g, (c) => COPY_ESCAPES[c]!) : value;
}

const NEEDS_ESCAPE = /[\\\n\r\t]/;
const COPY_ESCAPES: Readonly<Record<string, string>> = { "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t" };

/**
 * Whether a column's canonical text can hold a character COPY escapes: only text
 * and json can; numbers, booleans and timestamps are digits, signs and punctuation.
 */
export function mayNeedCopyEscape(type: ColumnType): boolean {
    return type.kind === "text" || type.kind === "jsonb";
}

/**
 * The SQL expression whose value equals the canonical text convertValue
 * produced for the stored value (NULL stays NULL). `columnSqlName` is inserted
 * verbatim: pass a quoted identifier or a qualified `alias."col"`.
 */
export function canonicalSql(columnSqlName: string, type: ColumnType): string {
    if (type.kind === "timestamptz") {
        // timestamp_out: far cheaper than to_char, and prints what formatTimestamp writes.
        return `(${columnSqlName} AT TIME ZONE 'UTC')::text || '+00'`;
    }
    return `${columnSqlName}::text`;
}
