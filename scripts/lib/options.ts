/**
 * Flags and environment -> library options, shared by the scripts.
 * Passwords are taken from the environment only: a password on a command
 * line is visible to every user of the machine (ps) and lands in shell history.
 */
import { parseConnectionUrl, type ConnectionSpec, type SslMode } from "../../migration/postgres/connection";
import {
    DEFAULT_AMBIGUOUS_TIME,
    REPAIRS,
    DEFAULT_REPAIRS,
    type AmbiguousTime,
    type MigrationInput,
    type OrphanPolicy,
    type Repair,
} from "../../migration/data/options";

export class UsageError extends Error {}

export type Flags = Record<string, unknown> & { _: string[] };

export function str(flags: Flags, name: string, env?: string): string | undefined {
    const v = flags[name] ?? (env ? process.env[env] : undefined);
    if (v === undefined || v === false) return undefined;
    if (typeof v !== "string" && typeof v !== "number") throw new UsageError(`--${name} takes one value`);
    return String(v);
}

export function int(flags: Flags, name: string, fallback: number): number {
    const v = str(flags, name);
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new UsageError(`--${name} must be a non-negative integer, got '${v}'`);
    return n;
}

export function list(flags: Flags, name: string): string[] {
    const v = flags[name];
    if (v === undefined) return [];
    return (Array.isArray(v) ? v : [v]).map(String);
}

/**
 * The target: GECKO_TARGET_URL (or DATABASE_URL) from the environment, or
 * --host/--port/--user/--database/--sslmode with PGPASSWORD.
 */
export function targetFrom(flags: Flags): ConnectionSpec {
    const flagUrl = str(flags, "target");
    if (flagUrl) {
        const spec = usage(() => parseConnectionUrl(flagUrl, "--target"));
        if (spec.password)
            throw new UsageError(
                "--target must not contain a password (it would show in ps and shell history): set GECKO_TARGET_URL or PGPASSWORD instead",
            );
        return withFlagOverrides({ ...spec, password: process.env.PGPASSWORD ?? "" }, flags);
    }
    const envName = process.env.GECKO_TARGET_URL ? "GECKO_TARGET_URL" : "DATABASE_URL";
    const envUrl = process.env[envName];
    if (envUrl)
        return withFlagOverrides(
            usage(() => parseConnectionUrl(envUrl, envName)),
            flags,
        );
    const host = str(flags, "host", "PGHOST");
    if (!host)
        throw new UsageError(
            "no target: set GECKO_TARGET_URL=postgresql://user:password@host:port/db, or --host/--user/--database with PGPASSWORD",
        );
    return withFlagOverrides(
        {
            host,
            port: 5432,
            user: process.env.PGUSER ?? "postgres",
            password: process.env.PGPASSWORD ?? "",
            database: "gecko_terminal_collector",
        },
        flags,
    );
}

function withFlagOverrides(spec: ConnectionSpec, flags: Flags): ConnectionSpec {
    const sslmode = str(flags, "sslmode") as SslMode | undefined;
    return {
        ...spec,
        host: str(flags, "host") ?? spec.host,
        port: Number(str(flags, "port") ?? spec.port),
        user: str(flags, "user") ?? spec.user,
        database: str(flags, "database") ?? spec.database,
        ...(sslmode ? { sslmode } : {}),
    };
}

export function sqlitePathFrom(flags: Flags): string {
    const p = str(flags, "sqlite", "GECKO_SQLITE_PATH");
    if (!p) throw new UsageError("no source: pass --sqlite PATH (or set GECKO_SQLITE_PATH) to the collector's gecko_data.db");
    return p;
}

/** `--clock table.column=local` (repeatable). */
export function clockOverridesFrom(flags: Flags): Record<string, "utc" | "local"> {
    const out: Record<string, "utc" | "local"> = {};
    for (const item of list(flags, "clock")) {
        const m = /^([A-Za-z_]\w*\.[A-Za-z_]\w*)=(utc|local)$/.exec(item);
        if (!m) throw new UsageError(`--clock expects table.column=utc|local, got '${item}'`);
        out[m[1]] = m[2] as "utc" | "local";
    }
    return out;
}

export function migrationInputFrom(flags: Flags): MigrationInput {
    const orphans = (str(flags, "orphans") ?? "quarantine") as OrphanPolicy;
    if (!["quarantine", "placeholder", "fail"].includes(orphans))
        throw new UsageError(`--orphans must be quarantine, placeholder or fail, got '${orphans}'`);
    const chunkRows = int(flags, "chunk-rows", 50_000);
    if (chunkRows < 1) throw new UsageError("--chunk-rows must be at least 1");
    return {
        sqlitePath: sqlitePathFrom(flags),
        target: targetFrom(flags),
        ownerRole: str(flags, "owner-role") ?? "gecko_owner",
        appRole: str(flags, "app-role") ?? "gecko_collector",
        sourceTimeZone: str(flags, "source-time-zone", "GECKO_SOURCE_TIME_ZONE") ?? "UTC",
        clockOverrides: clockOverridesFrom(flags),
        orphanPolicy: orphans,
        chunkRows,
        copyLanes: Math.max(1, int(flags, "copy-lanes", 2)),
        convertWorkers: int(flags, "convert-workers", 0),
        allowQuarantine: Boolean(flags["allow-quarantine"]),
        allowMissingTables: Boolean(flags["allow-missing-tables"]),
        includeExtraTables: Boolean(flags["include-extra-tables"]),
        sampleRows: int(flags, "sample-rows", 200),
        databaseTimeZone: str(flags, "database-time-zone") ?? "UTC",
        repairs: repairsFrom(flags),
        ambiguousTime: ambiguousTimeFrom(flags),
        retrySeconds: int(flags, "retry-seconds", 60),
    };
}

function ambiguousTimeFrom(flags: Flags): AmbiguousTime {
    const given = str(flags, "ambiguous-time") ?? DEFAULT_AMBIGUOUS_TIME;
    if (given !== "quarantine" && given !== "earlier" && given !== "later")
        throw new UsageError(`--ambiguous-time must be quarantine, earlier or later, got '${given}'`);
    return given;
}

/** `--repair python-repr,utf8` (a comma list) or `--repair none`; unset: the default repairs (python-repr). */
function repairsFrom(flags: Flags): readonly Repair[] {
    const given = str(flags, "repair");
    if (given === undefined) return DEFAULT_REPAIRS;
    if (given === "none") return [];
    const names = given.split(",").map((s) => s.trim());
    for (const n of names)
        if (!(REPAIRS as readonly string[]).includes(n)) throw new UsageError(`--repair takes ${REPAIRS.join(", ")} or none, got '${n}'`);
    return names as Repair[];
}

/** A bad value the operator gave (flag or environment) is a usage error: exit 2, not 3. */
function usage<T>(fn: () => T): T {
    try {
        return fn();
    } catch (err) {
        throw new UsageError((err as Error).message);
    }
}
