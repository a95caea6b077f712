/**
 * Server settings (ALTER SYSTEM) as a pure plan: the defaults, value parsing
 * with PostgreSQL's units, validation against a catalog (a small local table
 * for `pulumi preview`, the server's `pg_settings` at apply time), the memory
 * cap, the per-setting diff and the SQL text. Imports neither `pg` nor `@pulumi/*`.
 */
import { literal } from "../postgres/sql";

/** How to make postmaster-context settings take effect. */
export type RestartStrategy =
    { readonly kind: "docker"; readonly containerName: string; readonly dockerHost?: string } | { readonly kind: "none" };

/**
 * How the settings reach the server. `apply`: ALTER SYSTEM (superuser, or a server granting
 * ALTER SYSTEM). `report`: nothing is changed; the desired values are compared with the
 * values in effect and every difference is listed for the operator to set where the server
 * takes settings (a managed service's parameter group), since a managed server refuses
 * ALTER SYSTEM and pg_file_settings to its admin.
 */
export type SettingsMode = "apply" | "report";
export const SETTINGS_MODES: readonly SettingsMode[] = ["apply", "report"];

/** A setting whose value in effect differs from the desired one (report mode). */
export interface SettingDrift {
    readonly name: string;
    readonly desired: string;
    /** SHOW-formatted value in effect, or null when the server does not know the setting. */
    readonly actual: string | null;
    /** The value is changed but waits for a restart of the server. */
    readonly pendingRestart: boolean;
}

/** Desired settings that differ from the values in effect, by name (units compared, '4GB' = '4096MB'). */
export function settingsDrift(
    desired: Readonly<Record<string, string>>,
    effective: Readonly<Record<string, string>>,
    pendingRestart: readonly string[],
    catalog: SettingsCatalog = localCatalog,
): SettingDrift[] {
    return Object.keys(desired)
        .sort()
        .flatMap((name) => {
            const actual = effective[name];
            if (actual !== undefined && sameSettingValue(actual, desired[name], catalog(name))) return [];
            return [{ name, desired: desired[name], actual: actual ?? null, pendingRestart: pendingRestart.includes(name) }];
        });
}

/** One row of `pg_settings`, as far as validation needs it. */
export interface SettingInfo {
    readonly name: string;
    readonly vartype: "bool" | "integer" | "real" | "string" | "enum";
    /** Base unit of the stored value, e.g. `8kB`, `kB`, `MB`, `ms`, `s`; null when unitless. */
    readonly unit: string | null;
    /** `postmaster` needs a restart; `internal` is read-only; the rest apply on reload. */
    readonly context: string;
    readonly min?: number | null;
    readonly max?: number | null;
    readonly enumvals?: readonly string[] | null;
}

export type SettingsCatalog = (name: string) => SettingInfo | undefined;

/** The tuning this project applies unless overridden (sized for a small dedicated server). */
export const DEFAULT_SETTINGS: Readonly<Record<string, string>> = Object.freeze({
    shared_buffers: "256MB",
    effective_cache_size: "1GB",
    maintenance_work_mem: "64MB",
    checkpoint_completion_target: "0.9",
    wal_buffers: "16MB",
    default_statistics_target: "100",
    random_page_cost: "1.1",
    effective_io_concurrency: "200",
});

/**
 * The memory cap, applied when `serverMemoryMb` is declared: shared_buffers may use at most
 * 40% of it (the rest is for work_mem, maintenance, the OS page cache and other processes),
 * and effective_cache_size (a planner hint of shared_buffers + page cache) may not exceed it.
 */
export const MEMORY_CAP = Object.freeze({ sharedBuffersFraction: 0.4, effectiveCacheSizeFraction: 1 });

type Meta = Omit<SettingInfo, "name">;
const INT_MAX = 2147483647;
const num = (vartype: "integer" | "real", unit: string | null, context: string, min: number, max: number): Meta => ({
    vartype,
    unit,
    context,
    min,
    max,
});
const other = (vartype: "bool" | "string" | "enum", context: string, enumvals?: readonly string[]): Meta => ({
    vartype,
    unit: null,
    context,
    enumvals,
});

/**
 * PostgreSQL 15-17 metadata of common tuning settings, so `check` and `diff` work without a
 * server (preview). The server's pg_settings stays authoritative at apply time; names missing
 * here are only checked there.
 */
const KNOWN: Record<string, Meta> = {
    shared_buffers: num("integer", "8kB", "postmaster", 16, 1073741823),
    wal_buffers: num("integer", "8kB", "postmaster", -1, 262143),
    effective_cache_size: num("integer", "8kB", "user", 1, INT_MAX),
    temp_buffers: num("integer", "8kB", "user", 100, 1073741823),
    maintenance_work_mem: num("integer", "kB", "user", 64, INT_MAX),
    work_mem: num("integer", "kB", "user", 64, INT_MAX),
    max_wal_size: num("integer", "MB", "sighup", 2, INT_MAX),
    min_wal_size: num("integer", "MB", "sighup", 2, INT_MAX),
    checkpoint_timeout: num("integer", "s", "sighup", 30, 86400),
    checkpoint_completion_target: num("real", null, "sighup", 0, 1),
    default_statistics_target: num("integer", null, "user", 1, 10000),
    random_page_cost: num("real", null, "user", 0, 1.79769e308),
    seq_page_cost: num("real", null, "user", 0, 1.79769e308),
    effective_io_concurrency: num("integer", null, "user", 0, 1000),
    max_connections: num("integer", null, "postmaster", 1, 262143),
    max_worker_processes: num("integer", null, "postmaster", 0, 262143),
    max_wal_senders: num("integer", null, "postmaster", 0, 262143),
    max_parallel_workers: num("integer", null, "user", 0, 1024),
    max_parallel_workers_per_gather: num("integer", null, "user", 0, 1024),
    huge_pages: other("enum", "postmaster", ["off", "on", "try"]),
    wal_level: other("enum", "postmaster", ["minimal", "replica", "logical"]),
    shared_preload_libraries: other("string", "postmaster"),
    listen_addresses: other("string", "postmaster"),
    jit: other("bool", "user"),
};

export const KNOWN_SETTINGS: ReadonlyMap<string, SettingInfo> = new Map(
    Object.entries(KNOWN).map(([name, meta]) => [name, { ...meta, name }]),
);

/** Settings that need a server restart, known without a server (context = postmaster). */
export const POSTMASTER_SETTINGS: ReadonlySet<string> = new Set(
    [...KNOWN_SETTINGS.values()].filter((s) => s.context === "postmaster").map((s) => s.name),
);

export const localCatalog: SettingsCatalog = (name) => KNOWN_SETTINGS.get(name);

/** A problem with one setting (or with `serverMemoryMb`), reported together with all others. */
export interface SettingProblem {
    /** Setting name, or an input name such as `serverMemoryMb`. */
    readonly setting: string;
    readonly value?: string;
    readonly message: string;
}

/** Thrown before anything is applied when any setting is invalid; lists every problem. */
export class SettingsValidationError extends Error {
    constructor(
        readonly problems: readonly SettingProblem[],
        where = "",
    ) {
        super(
            `invalid server settings${where ? ` for ${where}` : ""} (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n` +
                problems.map((p) => `  - ${describeProblem(p)}`).join("\n"),
        );
        this.name = "SettingsValidationError";
    }
}

export function describeProblem(p: SettingProblem): string {
    return p.value === undefined ? `${p.setting}: ${p.message}` : `${p.setting} = '${p.value}': ${p.message}`;
}

// GUC names: identifiers, optionally one `prefix.` for extension settings (e.g. pg_stat_statements.max).
const NAME_RE = /^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)?$/;

export function isSafeSettingName(name: string): boolean {
    return name.length <= 63 && NAME_RE.test(name);
}

/** Defaults with the overrides on top; names lower-cased (PostgreSQL matches them case-insensitively). */
export function resolveDesired(overrides: Readonly<Record<string, string>> = {}): {
    settings: Record<string, string>;
    problems: SettingProblem[];
} {
    const merged: Record<string, string> = { ...DEFAULT_SETTINGS };
    const problems: SettingProblem[] = [];
    const seen = new Map<string, string>();
    for (const [raw, given] of Object.entries(overrides)) {
        const name = raw.trim().toLowerCase();
        // YAML stack config turns `max_connections: 200` into a number; PostgreSQL takes the text.
        const value = typeof given === "number" || typeof given === "boolean" ? String(given) : given;
        const earlier = seen.get(name);
        if (earlier !== undefined) problems.push({ setting: raw, message: `given twice (also as '${earlier}')` });
        seen.set(name, raw);
        merged[name] = value;
    }
    return {
        settings: Object.fromEntries(
            Object.keys(merged)
                .sort()
                .map((k) => [k, merged[k]]),
        ),
        problems,
    };
}

const MEMORY_UNITS: Record<string, number> = { B: 1, kB: 1024, MB: 1024 ** 2, GB: 1024 ** 3, TB: 1024 ** 4 };
const TIME_UNITS: Record<string, number> = { us: 1, ms: 1e3, s: 1e6, min: 6e7, h: 3.6e9, d: 8.64e10 };

/** `8kB` -> { family: memory, size: 8192 }; PostgreSQL's base units for unit-carrying settings. */
export function baseUnit(unit: string): { family: "memory" | "time"; size: number } | undefined {
    const m = /^(\d*)(B|kB|MB|GB|TB|us|ms|s|min|h|d)$/.exec(unit);
    if (!m) return undefined;
    const factor = m[1] ? Number(m[1]) : 1;
    return m[2] in MEMORY_UNITS
        ? { family: "memory", size: factor * MEMORY_UNITS[m[2]] }
        : { family: "time", size: factor * TIME_UNITS[m[2]] };
}

export type Parsed = { ok: true; value: number | string } | { ok: false; message: string };

const NUMBER_RE = /^\s*([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)\s*([A-Za-z]*)\s*$/;
const BOOLS: Record<string, string> = { on: "on", true: "on", yes: "on", "1": "on", off: "off", false: "off", no: "off", "0": "off" };

/**
 * A value as PostgreSQL would store it: numbers in the setting's base unit (integers rounded
 * like the server does), booleans as on/off, enums lower-cased. Units are case-sensitive.
 */
export function parseSettingValue(value: string, info: SettingInfo): Parsed {
    if (value.includes("\0")) return { ok: false, message: "contains a NUL byte" };
    switch (info.vartype) {
        case "bool": {
            const b = BOOLS[value.trim().toLowerCase()];
            return b ? { ok: true, value: b } : { ok: false, message: "not a boolean (on/off, true/false, yes/no, 1/0)" };
        }
        case "enum": {
            const v = value.trim().toLowerCase();
            const allowed = info.enumvals ?? [];
            return allowed.some((e) => e.toLowerCase() === v)
                ? { ok: true, value: v }
                : { ok: false, message: `not one of ${allowed.join(", ")}` };
        }
        case "string":
            return { ok: true, value };
        default:
            return parseNumber(value, info);
    }
}

function parseNumber(value: string, info: SettingInfo): Parsed {
    const m = NUMBER_RE.exec(value);
    if (!m) return { ok: false, message: `not a number${info.unit ? ` with an optional unit` : ""}` };
    const [, num, unit] = m;
    const base = info.unit ? baseUnit(info.unit) : undefined;
    let n = Number(num);
    if (unit) {
        const units = base?.family === "memory" ? MEMORY_UNITS : base?.family === "time" ? TIME_UNITS : undefined;
        if (!base || !units) return { ok: false, message: `takes no unit, got '${unit}'` };
        if (!(unit in units)) {
            return {
                ok: false,
                message: `bad unit '${unit}': valid ${base.family} units are ${Object.keys(units).join(", ")} (case-sensitive)`,
            };
        }
        n = (n * units[unit]) / base.size;
    }
    if (info.vartype === "integer") n = Math.round(n);
    if (!Number.isFinite(n)) return { ok: false, message: "out of range" };
    if (info.min != null && n < info.min) return { ok: false, message: `below the minimum ${formatBase(info.min, info.unit)}` };
    if (info.max != null && n > info.max) return { ok: false, message: `above the maximum ${formatBase(info.max, info.unit)}` };
    return { ok: true, value: n };
}

function formatBase(n: number, unit: string | null): string {
    return unit ? `${n} x ${unit}` : String(n);
}

/** Bytes a memory setting's value stands for, or undefined when it cannot be computed. */
export function memoryBytes(value: string, info: SettingInfo | undefined): number | undefined {
    const base = info?.unit ? baseUnit(info.unit) : undefined;
    if (!info || base?.family !== "memory") return undefined;
    const p = parseSettingValue(value, info);
    return p.ok && typeof p.value === "number" ? p.value * base.size : undefined;
}

export interface ValidateOptions {
    readonly serverMemoryMb?: number;
    /** Reject names the catalog does not know (true against the server's pg_settings). */
    readonly requireKnown: boolean;
}

/** Every problem with a desired settings map; empty means it can be applied. */
export function validateSettings(
    settings: Readonly<Record<string, string>>,
    catalog: SettingsCatalog,
    options: ValidateOptions,
): SettingProblem[] {
    const problems: SettingProblem[] = [];
    for (const [name, value] of Object.entries(settings)) {
        if (!isSafeSettingName(name)) {
            problems.push({ setting: name, value, message: "not a valid setting name (lower-case identifier, optionally prefix.name)" });
            continue;
        }
        if (typeof value !== "string") {
            problems.push({ setting: name, message: `value must be a string, got ${typeof value}` });
            continue;
        }
        const info = catalog(name);
        if (!info) {
            if (options.requireKnown) problems.push({ setting: name, value, message: "unknown setting (not in pg_settings)" });
            continue;
        }
        if (info.context === "internal") {
            problems.push({ setting: name, value, message: "read-only (internal) setting" });
            continue;
        }
        const parsed = parseSettingValue(value, info);
        if (!parsed.ok) problems.push({ setting: name, value, message: parsed.message });
    }
    return [...problems, ...memoryCapProblems(settings, catalog, options.serverMemoryMb)];
}

/** The MEMORY_CAP rule; nothing to check when serverMemoryMb is not declared. */
export function memoryCapProblems(
    settings: Readonly<Record<string, string>>,
    catalog: SettingsCatalog,
    serverMemoryMb: number | undefined,
): SettingProblem[] {
    if (serverMemoryMb === undefined) return [];
    if (!Number.isFinite(serverMemoryMb) || serverMemoryMb <= 0) {
        return [{ setting: "serverMemoryMb", message: `must be a positive number of MB, got ${serverMemoryMb}` }];
    }
    const total = serverMemoryMb * MEMORY_UNITS.MB;
    const caps: Array<[string, number, string]> = [
        ["shared_buffers", MEMORY_CAP.sharedBuffersFraction, "40% of"],
        ["effective_cache_size", MEMORY_CAP.effectiveCacheSizeFraction, "the"],
    ];
    const problems: SettingProblem[] = [];
    for (const [name, fraction, label] of caps) {
        const value = settings[name];
        const bytes = value === undefined ? undefined : memoryBytes(value, catalog(name));
        if (bytes !== undefined && bytes > total * fraction) {
            const limitMb = Math.floor((total * fraction) / MEMORY_UNITS.MB);
            problems.push({
                setting: name,
                value,
                message: `exceeds ${label} declared serverMemoryMb ${serverMemoryMb} (at most ${limitMb}MB)`,
            });
        }
    }
    return problems;
}

/** Whether two values mean the same to the server ('256MB' vs '32768' with unit 8kB). */
export function sameSettingValue(a: string, b: string, info: SettingInfo | undefined): boolean {
    if (a === b) return true;
    if (!info) return false;
    const pa = parseSettingValue(a, info);
    const pb = parseSettingValue(b, info);
    return pa.ok && pb.ok && pa.value === pb.value;
}

/** One row of a settings diff. */
export interface SettingChange {
    readonly name: string;
    readonly action: "set" | "reset" | "unchanged";
    readonly from?: string;
    readonly to?: string;
    /** Takes effect only after a server restart (context = postmaster). */
    readonly restart: boolean;
}

/** Per-setting changes from `olds` (what was applied) to `news` (what is desired), sorted by name. */
export function diffSettings(
    olds: Readonly<Record<string, string>>,
    news: Readonly<Record<string, string>>,
    catalog: SettingsCatalog = localCatalog,
): SettingChange[] {
    const names = [...new Set([...Object.keys(olds), ...Object.keys(news)])].sort();
    return names.map((name) => {
        const from = olds[name];
        const to = news[name];
        const info = catalog(name);
        const restart = info ? info.context === "postmaster" : POSTMASTER_SETTINGS.has(name);
        if (to === undefined) return { name, action: "reset", from, restart };
        if (from !== undefined && sameSettingValue(from, to, info)) return { name, action: "unchanged", from, to, restart: false };
        return { name, action: "set", from, to, restart };
    });
}

/** The ALTER SYSTEM steps: SET every desired setting (idempotent), RESET what was managed and no longer is. */
export type ApplyStep = { readonly name: string; readonly value: string } | { readonly name: string; readonly value?: undefined };

export function planApply(desired: Readonly<Record<string, string>>, previouslyManaged: readonly string[] = []): ApplyStep[] {
    const sets = Object.keys(desired)
        .sort()
        .map((name) => ({ name, value: desired[name] }));
    const resets = [...new Set(previouslyManaged)]
        .filter((n) => !(n in desired))
        .sort()
        .map((name) => ({ name }));
    return [...sets, ...resets];
}

/** `"name"`; throws on anything but a safe setting name (names are never interpolated unchecked). */
export function quoteSettingName(name: string): string {
    if (!isSafeSettingName(name)) throw new Error(`refusing unsafe setting name '${name}'`);
    return name
        .split(".")
        .map((part) => `"${part}"`)
        .join(".");
}

export function alterSystemSql(step: ApplyStep): string {
    return step.value === undefined
        ? `ALTER SYSTEM RESET ${quoteSettingName(step.name)}`
        : `ALTER SYSTEM SET ${quoteSettingName(step.name)} = ${literal(step.value)}`;
}
