/**
 * SQLite value -> `integer` (int4) / `bigint` (int8) canonical text (decimal).
 *
 * INTEGER is exact; REAL is accepted only when integral (`5.0` -> `5`);
 * numeric TEXT (`' 42 '`, `'4.2e1'`, `'42.0'`) only when its exact value is
 * integral. Out-of-range values and fractions are rejected, never rounded.
 */
import { exactInteger, float64Exact, parseDecimalText } from "./decimal";
import { type ConvertResult, type FastPath, type SqliteValue, accept, describeRaw, reject } from "./result";

const RANGES = {
    integer: { min: -(2n ** 31n), max: 2n ** 31n - 1n },
    bigint: { min: -(2n ** 63n), max: 2n ** 63n - 1n },
} as const;

/** Converts a raw SQLite value for an `integer` or `bigint` column. */
export function convertInteger(raw: SqliteValue, kind: "integer" | "bigint"): ConvertResult {
    const value = toInteger(raw);
    if (typeof value === "string") return reject(`${describeRaw(raw)} is not a valid ${kind}: ${value}`);
    const { min, max } = RANGES[kind];
    if (value < min || value > max) return reject(`${describeRaw(raw)} is out of range for ${kind} (${min}..${max})`);
    return accept(value.toString());
}

/** INTEGER within the type's range: its decimal. */
export function integerFastPath(kind: "integer" | "bigint"): FastPath {
    const { min, max } = RANGES[kind];
    return (raw) => (typeof raw === "bigint" && raw >= min && raw <= max ? raw.toString() : undefined);
}

function toInteger(raw: SqliteValue): bigint | string {
    if (typeof raw === "bigint") return raw;
    if (typeof raw === "number") {
        if (!Number.isFinite(raw)) return "not a finite number";
        return exactInteger(float64Exact(raw)) ?? "has a fractional part";
    }
    if (Buffer.isBuffer(raw)) return "a BLOB is not a number";
    const parsed = parseDecimalText(raw.replace(/^[ \t\n\r\f\v]+|[ \t\n\r\f\v]+$/g, ""));
    if (!parsed) return "not a decimal number";
    return exactInteger(parsed) ?? "has a fractional part";
}
