/** SQLite value -> PostgreSQL canonical text, TimezonePolicy, COPY escaping and checksum SQL (pure). */
export { convertValue, fieldConverter, columnContext, type ConvertContext } from "./convertValue";
export { copyEscape, canonicalSql } from "./copyText";
export type { ConvertResult, ConvertWarning, FieldConversion, FieldConverter, RawValue, SqliteValue } from "./result";
export {
    createTimezonePolicy,
    clockOf,
    zoneOf,
    DEFAULT_CLOCKS,
    type Clock,
    type TimezonePolicy,
    type TimezonePolicyOptions,
} from "./timezonePolicy";
export { canonicalTimeZone, localToUtc, utcOffsetAt, type LocalResolution, type LocalTimeKind } from "./timeZone";
export { convertTimestamp, parseTimestamp, formatTimestamp, EPOCH_MILLIS_THRESHOLD, type Instant, type ParsedTimestamp } from "./timestamp";
export { convertNumeric } from "./numeric";
export { convertInteger } from "./integer";
export { convertText } from "./text";
export { convertBoolean } from "./boolean";
export { convertJson, canonicalJsonb } from "./json";
