/**
 * SQLite value -> `boolean` canonical text (`true`/`false`).
 *
 * Accepted: INTEGER or REAL 0/1 (the collector writes 0/1), and the text forms
 * `true false t f yes no 1 0` in any case with surrounding whitespace ignored.
 * Everything else (2, -1, 'on', 'y', BLOB) is rejected: a value outside the
 * documented forms is a data problem, not a guess.
 */
import { type ConvertResult, type FastPath, type SqliteValue, accept, describeRaw, reject } from "./result";

/** INTEGER 0/1, as the collector writes booleans. */
export function booleanFastPath(): FastPath {
    return (raw) => (raw === 1n ? "true" : raw === 0n ? "false" : undefined);
}

const TEXT_FORMS: ReadonlyMap<string, "true" | "false"> = new Map([
    ["true", "true"],
    ["t", "true"],
    ["yes", "true"],
    ["1", "true"],
    ["false", "false"],
    ["f", "false"],
    ["no", "false"],
    ["0", "false"],
] as const);

/** Converts a raw SQLite value for a `boolean` column. */
export function convertBoolean(raw: SqliteValue): ConvertResult {
    if (typeof raw === "bigint" || typeof raw === "number") {
        if (raw == 1) return accept("true");
        if (raw == 0) return accept("false");
        return reject(`${describeRaw(raw)} is not a boolean: only 0 and 1 are`);
    }
    if (typeof raw === "string") {
        const form = TEXT_FORMS.get(raw.trim().toLowerCase());
        if (form) return accept(form);
        return reject(`${describeRaw(raw)} is not a boolean: expected true/false/t/f/yes/no/1/0`);
    }
    return reject(`${describeRaw(raw)} is not a boolean`);
}
