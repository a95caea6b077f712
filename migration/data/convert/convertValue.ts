/**
 * The dispatcher: one raw SQLite value + the target column type -> canonical
 * text (COPY input and checksum form) or a rejection.
 *
 * NULL and empty-string rules, the same for every type:
 * - NULL -> NULL; rejected for a NOT NULL column.
 * - Blank string (only whitespace) in a non-text column (numeric, integer,
 *   boolean, timestamptz, jsonb): hand-edited rows use it for "no value", so
 *   a nullable column gets NULL with an `empty-as-null` warning (counted in
 *   the report); a NOT NULL column rejects it. Text columns keep `''`.
 */
import type { TargetColumn, ColumnType } from "../../schema/types";
import { booleanFastPath, convertBoolean } from "./boolean";
import { convertInteger, integerFastPath } from "./integer";
import { convertJson } from "./json";
import { convertNumeric, numericFastPath } from "./numeric";
import { type ConvertResult, type FastPath, type FieldConverter, type RawValue, accept, describeRaw, isBlank, reject } from "./result";
import { convertText, textFastPath } from "./text";
import { convertTimestamp, timestampFastPath } from "./timestamp";
import { type TimezonePolicy, zoneOf } from "./timezonePolicy";

/** What a conversion needs to know about the column beyond its type. */
export interface ConvertContext {
    /** IANA zone naive timestamps are read in: `UTC` for utc-clock columns, the host zone for local ones. */
    readonly timeZone: string;
    /** Whether the target column accepts NULL. */
    readonly nullable: boolean;
    /** A JSON column reads a Python literal as the JSON it means (a repair, counted). */
    readonly pythonRepr?: boolean;
    /** Which reading of a wall clock a DST change makes ambiguous (or skips) is taken (default the later, PostgreSQL's). */
    readonly dstPick?: "earlier" | "later";
}

/** The context for one target column under a TimezonePolicy. */
export function columnContext(policy: TimezonePolicy, table: string, column: TargetColumn): ConvertContext {
    return { timeZone: zoneOf(policy, table, column.name), nullable: column.nullable };
}

/** Converts one raw value (as better-sqlite3 returns it with safeIntegers) for a column of `type`. */
export function convertValue(raw: RawValue, type: ColumnType, context: ConvertContext): ConvertResult {
    if (raw === null) return context.nullable ? accept(null) : reject("NULL in a NOT NULL column");
    if (type.kind !== "text" && typeof raw === "string" && isBlank(raw)) {
        return context.nullable ? accept(null, "empty-as-null") : reject(`${describeRaw(raw)} (empty) in a NOT NULL ${type.kind} column`);
    }
    switch (type.kind) {
        case "text":
            return convertText(raw, type.maxLength);
        case "integer":
        case "bigint":
            return convertInteger(raw, type.kind);
        case "numeric":
            return convertNumeric(raw, type.precision, type.scale);
        case "boolean":
            return convertBoolean(raw);
        case "timestamptz":
            return convertTimestamp(raw, context.timeZone, context.dstPick);
        case "jsonb":
            return convertJson(raw, context.pythonRepr);
    }
}

/**
 * convertValue bound to one column: the same results, but the common values take
 * their type's fast path and come back as plain text (see FieldConversion). The
 * copy converts every value of every row through this.
 */
export function fieldConverter(type: ColumnType, context: ConvertContext): FieldConverter {
    const fast = fastPathOf(type, context);
    const nullable = context.nullable;
    return (raw) => {
        if (raw === null) {
            if (nullable) return null;
        } else if (fast) {
            const text = fast(raw);
            if (text !== undefined) return text;
        }
        const result = convertValue(raw, type, context);
        return result.ok && result.warning === undefined ? result.value : result;
    };
}

function fastPathOf(type: ColumnType, context: ConvertContext): FastPath | undefined {
    switch (type.kind) {
        case "text":
            return textFastPath(type.maxLength);
        case "integer":
        case "bigint":
            return integerFastPath(type.kind);
        case "numeric":
            return numericFastPath(type.precision, type.scale);
        case "boolean":
            return booleanFastPath();
        case "timestamptz":
            return timestampFastPath(context.timeZone);
        case "jsonb":
            return undefined;
    }
}
