/**
 * The one kit the dynamic providers share (infra/providers/*.ts): Pulumi's
 * preview placeholder, the check and diff helpers, and the result shapes the
 * engine expects. Plain TypeScript: the provider process loads it with tsx.
 */
import type { ConnectionSpec } from "../../migration/postgres/connection";

/** Pulumi's placeholder for a value not known during preview (pulumi.runtime.unknownValue). */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

export interface PropertyDiff {
    readonly kind: "add" | "update" | "delete" | "update-replace";
    readonly inputDiff: boolean;
}

/** Structural twin of pulumi.dynamic.DiffResult plus `detailedDiff`. */
export interface ResourceDiff {
    readonly changes: boolean;
    readonly replaces: string[];
    readonly deleteBeforeReplace: false;
    readonly detailedDiff: Record<string, PropertyDiff>;
}

export interface CheckFailure {
    readonly property: string;
    readonly reason: string;
}

export interface CheckResult {
    readonly inputs: Record<string, unknown>;
    readonly failures: CheckFailure[];
}

/** Whether Pulumi passed its placeholder (preview) for this value. */
export const isUnknown = (v: unknown): boolean => v === UNKNOWN;

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

/** Validates the connection shape (unknown values pass: they are checked again at create). */
export function checkConnection(conn: unknown, fail: (property: string, reason: string) => void): void {
    if (isUnknown(conn)) return;
    if (typeof conn !== "object" || conn === null) return fail("connection", "required: { host, port, user, password, database }");
    const c = conn as Record<string, unknown>;
    for (const key of ["host", "user", "database"]) {
        if (!isUnknown(c[key]) && (typeof c[key] !== "string" || c[key] === "")) fail(`connection.${key}`, "must be a non-empty string");
    }
    if (!isUnknown(c.port) && !(Number.isInteger(c.port) && (c.port as number) > 0 && (c.port as number) < 65536))
        fail("connection.port", "must be a TCP port number");
}

export function checkIdentifier(value: unknown, property: string, fail: (property: string, reason: string) => void): void {
    if (isUnknown(value)) return;
    if (typeof value !== "string" || !IDENTIFIER.test(value))
        fail(property, `must be a lower-case identifier (a-z, 0-9, _), got '${String(value)}'`);
}

export function checkTimeZone(value: unknown, property: string, fail: (property: string, reason: string) => void): void {
    if (isUnknown(value)) return;
    try {
        if (typeof value !== "string" || value === "") throw new Error("not a string");
        new Intl.DateTimeFormat("en-US", { timeZone: value });
    } catch {
        fail(property, `must be an IANA time zone such as UTC or Europe/Berlin, got '${String(value)}'`);
    }
}

export function checkBoolean(value: unknown, property: string, fail: (property: string, reason: string) => void): void {
    if (!isUnknown(value) && typeof value !== "boolean") fail(property, `must be true or false, got '${String(value)}'`);
}

/**
 * Connection keys that point at another database: a change means the work has
 * to be done there (an update).
 */
const TARGET_KEYS = ["host", "port", "database"] as const;
/**
 * How we log in: a change does nothing in the database, but must reach the state,
 * or a later refresh or delete would log in with the old password (an update that
 * only stores the new value where the resource allows).
 */
export const CREDENTIAL_KEYS = ["user", "password", "sslmode"] as const;

/** `connection.<key>` entries for a changed target or credential; never a replacement. */
export function diffConnection(olds: unknown, news: unknown, into: Record<string, PropertyDiff>): void {
    const o = (olds ?? {}) as Record<string, unknown>;
    const n = isUnknown(news) ? undefined : ((news ?? {}) as Record<string, unknown>);
    for (const key of [...TARGET_KEYS, ...CREDENTIAL_KEYS]) {
        if (n !== undefined && !isUnknown(n[key]) && o[key] === n[key]) continue;
        // An unknown credential during preview is usually unchanged (a secret resolved at up): say nothing.
        if ((CREDENTIAL_KEYS as readonly string[]).includes(key) && (n === undefined || isUnknown(n[key]))) continue;
        into[`connection.${key}`] = { kind: "update", inputDiff: true };
    }
}

/** `key` entries for each input whose value differs (deep, order-insensitive for objects). */
export function diffValues(
    olds: Record<string, unknown>,
    news: Record<string, unknown>,
    keys: readonly string[],
    into: Record<string, PropertyDiff>,
): void {
    for (const key of keys) {
        if (!isUnknown(news[key]) && canonical(olds[key]) === canonical(news[key])) continue;
        into[key] = { kind: olds[key] === undefined ? "add" : news[key] === undefined ? "delete" : "update", inputDiff: true };
    }
}

function canonical(v: unknown): string {
    return v === undefined ? "undefined" : JSON.stringify(sortedKeys(v));
}

/** `v` with every object's keys in order, at any depth (arrays keep theirs). */
function sortedKeys(v: unknown): unknown {
    if (Array.isArray(v)) return v.map(sortedKeys);
    if (v && typeof v === "object") {
        return Object.fromEntries(
            Object.entries(v)
                .sort(([a], [b]) => a.localeCompare(b))
                .map(([k, x]) => [k, sortedKeys(x)]),
        );
    }
    return v;
}

export function resourceDiff(detailedDiff: Record<string, PropertyDiff>): ResourceDiff {
    return { changes: Object.keys(detailedDiff).length > 0, replaces: [], deleteBeforeReplace: false, detailedDiff };
}

/** `host:port/database`: stable across updates, no credentials. */
export function resourceId(connection: ConnectionSpec): string {
    return `${connection.host}:${connection.port}/${connection.database}`;
}
