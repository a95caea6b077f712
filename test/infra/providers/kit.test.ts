/**
 * The dynamic providers' shared kit (infra/providers/kit.ts): preview's unknown
 * placeholder passes every check, the checks' refusals, and the diffs: a target
 * key change is an update, a credential change an update that an unknown
 * (preview) credential never reports, never a replacement.
 */
import { describe, expect, it } from "vitest";
import {
    CREDENTIAL_KEYS,
    UNKNOWN,
    checkBoolean,
    checkConnection,
    checkIdentifier,
    checkTimeZone,
    diffConnection,
    diffValues,
    isUnknown,
    resourceDiff,
    resourceId,
    type CheckFailure,
    type PropertyDiff,
} from "../../../infra/providers/kit";

/** Runs one check and returns what it failed. */
function failuresOf(check: (fail: (property: string, reason: string) => void) => void): CheckFailure[] {
    const failures: CheckFailure[] = [];
    check((property, reason) => failures.push({ property, reason }));
    return failures;
}

const conn = { host: "db.internal", port: 5432, user: "gecko_owner", password: "s3cret", database: "gecko" };
const UPDATE: PropertyDiff = { kind: "update", inputDiff: true };

describe("isUnknown", () => {
    it("is Pulumi's placeholder and nothing else", () => {
        expect(isUnknown(UNKNOWN)).toBe(true);
        expect(isUnknown(undefined)).toBe(false);
        expect(isUnknown("")).toBe(false);
        expect(isUnknown(UNKNOWN.toUpperCase())).toBe(false);
    });
});

describe("checkConnection", () => {
    it("accepts a complete connection, and unknown values anywhere during preview", () => {
        expect(failuresOf((fail) => checkConnection(conn, fail))).toEqual([]);
        expect(failuresOf((fail) => checkConnection(UNKNOWN, fail))).toEqual([]);
        const unknowns = { host: UNKNOWN, port: UNKNOWN, user: UNKNOWN, password: UNKNOWN, database: UNKNOWN };
        expect(failuresOf((fail) => checkConnection(unknowns, fail))).toEqual([]);
    });

    it("refuses a missing connection as one failure", () => {
        const required = [{ property: "connection", reason: "required: { host, port, user, password, database }" }];
        expect(failuresOf((fail) => checkConnection(undefined, fail))).toEqual(required);
        expect(failuresOf((fail) => checkConnection(null, fail))).toEqual(required);
        expect(failuresOf((fail) => checkConnection("postgresql://db/gecko", fail))).toEqual(required);
    });

    it("names each bad field", () => {
        expect(failuresOf((fail) => checkConnection({}, fail))).toEqual([
            { property: "connection.host", reason: "must be a non-empty string" },
            { property: "connection.user", reason: "must be a non-empty string" },
            { property: "connection.database", reason: "must be a non-empty string" },
            { property: "connection.port", reason: "must be a TCP port number" },
        ]);
        expect(failuresOf((fail) => checkConnection({ ...conn, host: "", user: 7 }, fail)).map((f) => f.property)).toEqual([
            "connection.host",
            "connection.user",
        ]);
    });

    it("takes ports 1..65535 as integers only", () => {
        const portFailures = (port: unknown) => failuresOf((fail) => checkConnection({ ...conn, port }, fail)).length;
        expect([1, 5432, 65535].map(portFailures)).toEqual([0, 0, 0]);
        expect([0, -1, 65536, 5432.5, "5432", NaN].map(portFailures)).toEqual([1, 1, 1, 1, 1, 1]);
    });
});

describe("checkIdentifier", () => {
    const check = (value: unknown) => failuresOf((fail) => checkIdentifier(value, "ownerRole", fail));

    it("accepts lower-case identifiers up to 63 characters, and the unknown placeholder", () => {
        expect(check("gecko_owner")).toEqual([]);
        expect(check("_a1")).toEqual([]);
        expect(check("a".repeat(63))).toEqual([]);
        expect(check(UNKNOWN)).toEqual([]);
    });

    it("refuses anything else, naming the property and the value", () => {
        expect(check("Gecko")).toEqual([{ property: "ownerRole", reason: "must be a lower-case identifier (a-z, 0-9, _), got 'Gecko'" }]);
        for (const bad of ["", "1role", "gecko-owner", "gecko owner", 'a"b', "a".repeat(64), 42, undefined]) {
            expect(check(bad), String(bad)).toHaveLength(1);
        }
    });
});

describe("checkTimeZone", () => {
    const check = (value: unknown) => failuresOf((fail) => checkTimeZone(value, "sourceTimeZone", fail));

    it("accepts IANA zones and the unknown placeholder", () => {
        expect(check("UTC")).toEqual([]);
        expect(check("Europe/Berlin")).toEqual([]);
        expect(check("America/Argentina/Buenos_Aires")).toEqual([]);
        expect(check(UNKNOWN)).toEqual([]);
    });

    it("refuses unknown zones, empty strings and non-strings", () => {
        expect(check("Mars/Olympus_Mons")).toEqual([
            { property: "sourceTimeZone", reason: "must be an IANA time zone such as UTC or Europe/Berlin, got 'Mars/Olympus_Mons'" },
        ]);
        expect(check("")).toHaveLength(1);
        expect(check(1)).toHaveLength(1);
        expect(check(undefined)).toHaveLength(1);
    });
});

describe("checkBoolean", () => {
    const check = (value: unknown) => failuresOf((fail) => checkBoolean(value, "dropOnDelete", fail));

    it("accepts true, false and the unknown placeholder; refuses look-alikes and a missing value", () => {
        expect([true, false, UNKNOWN].map(check)).toEqual([[], [], []]);
        expect(check("true")).toEqual([{ property: "dropOnDelete", reason: "must be true or false, got 'true'" }]);
        expect(check(1)).toHaveLength(1);
        expect(check(undefined)).toHaveLength(1);
    });
});

describe("diffConnection", () => {
    const diff = (olds: unknown, news: unknown) => {
        const into: Record<string, PropertyDiff> = {};
        diffConnection(olds, news, into);
        return into;
    };

    it("reports nothing for the same connection", () => {
        expect(diff(conn, { ...conn })).toEqual({});
        expect(diff({ ...conn, sslmode: "require" }, { ...conn, sslmode: "require" })).toEqual({});
    });

    it("reports each changed target key and credential as an update, never a replacement", () => {
        expect(diff(conn, { ...conn, host: "db2.internal", database: "gecko2" })).toEqual({
            "connection.host": UPDATE,
            "connection.database": UPDATE,
        });
        expect(diff(conn, { ...conn, port: 6432, password: "rotated" })).toEqual({
            "connection.port": UPDATE,
            "connection.password": UPDATE,
        });
        expect(diff(conn, { ...conn, user: "gecko_admin", sslmode: "require" })).toEqual({
            "connection.user": UPDATE,
            "connection.sslmode": UPDATE,
        });
        // Dropping sslmode is a change too.
        expect(diff({ ...conn, sslmode: "verify-full" }, conn)).toEqual({ "connection.sslmode": UPDATE });
    });

    it("says nothing about an unknown credential, but reports an unknown target key", () => {
        expect(diff(conn, { ...conn, password: UNKNOWN, user: UNKNOWN })).toEqual({});
        expect(diff(conn, { ...conn, host: UNKNOWN })).toEqual({ "connection.host": UPDATE });
    });

    it("reports every target key, and no credential, when the whole connection is unknown", () => {
        expect(diff(conn, UNKNOWN)).toEqual({
            "connection.host": UPDATE,
            "connection.port": UPDATE,
            "connection.database": UPDATE,
        });
    });

    it("reports every given key against no old connection", () => {
        expect(Object.keys(diff(undefined, conn))).toEqual([
            "connection.host",
            "connection.port",
            "connection.database",
            "connection.user",
            "connection.password",
        ]);
    });

    it("names each credential key as the updater looks it up (connection.<key>)", () => {
        // updateMigration stores a change of exactly these entries without rerunning the migration.
        for (const key of CREDENTIAL_KEYS) expect(diff(conn, { ...conn, [key]: "changed" })).toEqual({ [`connection.${key}`]: UPDATE });
    });
});

describe("diffValues", () => {
    const diff = (olds: Record<string, unknown>, news: Record<string, unknown>, keys: string[]) => {
        const into: Record<string, PropertyDiff> = {};
        diffValues(olds, news, keys, into);
        return into;
    };

    it("classifies changes as add, update or delete, and only for the keys asked about", () => {
        const olds = { chunkRows: 50000, reportPath: "/tmp/r.json", ownerRole: "gecko_owner", ignored: 1 };
        const news = { chunkRows: 10000, appRole: "gecko_app", ownerRole: "gecko_owner", ignored: 2 };
        expect(diff(olds, news, ["chunkRows", "appRole", "reportPath", "ownerRole"])).toEqual({
            chunkRows: { kind: "update", inputDiff: true },
            appRole: { kind: "add", inputDiff: true },
            reportPath: { kind: "delete", inputDiff: true },
        });
    });

    it("compares objects regardless of key order, arrays in order", () => {
        const olds = { clockOverrides: { "ohlcv_data.datetime": "local", "trades.block_timestamp": "utc" }, list: [1, 2] };
        const news = { clockOverrides: { "trades.block_timestamp": "utc", "ohlcv_data.datetime": "local" }, list: [1, 2] };
        expect(diff(olds, news, ["clockOverrides", "list"])).toEqual({});
        expect(diff(olds, { ...news, list: [2, 1] }, ["list"])).toEqual({ list: { kind: "update", inputDiff: true } });
        expect(
            diff(olds, { clockOverrides: { "ohlcv_data.datetime": "utc", "trades.block_timestamp": "utc" } }, ["clockOverrides"]),
        ).toEqual({ clockOverrides: { kind: "update", inputDiff: true } });
    });

    it("tells values of different types apart", () => {
        expect(diff({ chunkRows: 1000 }, { chunkRows: "1000" }, ["chunkRows"])).toEqual({ chunkRows: { kind: "update", inputDiff: true } });
        expect(diff({ reportPath: null }, {}, ["reportPath"])).toEqual({ reportPath: { kind: "delete", inputDiff: true } });
    });

    it("reports an unknown new value even when it may turn out the same", () => {
        expect(diff({ sourceFingerprint: "abc" }, { sourceFingerprint: UNKNOWN }, ["sourceFingerprint"])).toEqual({
            sourceFingerprint: { kind: "update", inputDiff: true },
        });
        expect(diff({}, { sourceFingerprint: UNKNOWN }, ["sourceFingerprint"])).toEqual({
            sourceFingerprint: { kind: "add", inputDiff: true },
        });
    });
});

describe("resourceDiff and resourceId", () => {
    it("has changes exactly when a property differs, and never replaces", () => {
        expect(resourceDiff({})).toEqual({ changes: false, replaces: [], deleteBeforeReplace: false, detailedDiff: {} });
        const detailedDiff = { "connection.host": UPDATE };
        expect(resourceDiff(detailedDiff)).toEqual({ changes: true, replaces: [], deleteBeforeReplace: false, detailedDiff });
    });

    it("is host:port/database, without credentials", () => {
        expect(resourceId({ ...conn, sslmode: "require" })).toBe("db.internal:5432/gecko");
    });
});

describe("diffValues at depth", () => {
    it("ignores key order in nested objects too, and still sees a nested change", () => {
        const into: Record<string, PropertyDiff> = {};
        diffValues(
            { restart: { kind: "docker", opts: { a: 1, b: 2 } } },
            { restart: { opts: { b: 2, a: 1 }, kind: "docker" } },
            ["restart"],
            into,
        );
        expect(into).toEqual({});
        diffValues(
            { restart: { kind: "docker", opts: { a: 1, b: 2 } } },
            { restart: { kind: "docker", opts: { a: 1, b: 3 } } },
            ["restart"],
            into,
        );
        expect(into).toEqual({ restart: { kind: "update", inputDiff: true } });
    });
});
