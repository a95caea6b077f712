/**
 * The collector's database configuration (the migration plan's phase 4): the
 * `database:` block of its config.yaml and the environment lines it reads, for the
 * database it is pointed at. Before the cutover that is the SQLite file, after it
 * PostgreSQL; the SQLite file stays named as the fallback a rollback returns to.
 * Pure: the caller decides whether the password is shown (never in logs).
 */
import { connectionUrl, type ConnectionSpec } from "../postgres/connection";

export type CollectorDatabase = "sqlite" | "postgresql";
export const COLLECTOR_DATABASES: readonly CollectorDatabase[] = ["sqlite", "postgresql"];

/** The plan's pool sizing for the collector's SQLAlchemy engine on PostgreSQL. */
export const COLLECTOR_POOL = { poolSize: 20, maxOverflow: 30, timeoutSeconds: 30 } as const;

/** What stands in for the password when it is not to be shown. */
export const HIDDEN_PASSWORD = "********";

export interface CollectorConfigInput {
    readonly database: CollectorDatabase;
    /** The collector's SQLite file: the database before the cutover, the fallback after it. */
    readonly sqlitePath?: string;
    /** The collector's own role on PostgreSQL (not the admin); needed for postgresql. */
    readonly postgres?: Omit<ConnectionSpec, "password">;
    /** Undefined: the password is shown as HIDDEN_PASSWORD. */
    readonly password?: string;
}

export interface CollectorConfig {
    readonly database: CollectorDatabase;
    /** The URL the collector connects with (`postgresql://`: its PostgreSQL code path). */
    readonly url: string;
    /** `sqlite:///<path>` to return to on rollback, when the SQLite file is known. */
    readonly fallbackUrl?: string;
    /** config.yaml's `database:` block. */
    readonly yaml: string;
    /** The environment the collector reads instead of config.yaml, in order. */
    readonly env: readonly (readonly [name: string, value: string])[];
}

/** SQLAlchemy's SQLite URL: three slashes, then the path (a fourth for an absolute one). */
export function sqliteUrl(path: string): string {
    return `sqlite:///${path}`;
}

export function collectorConfig(input: CollectorConfigInput): CollectorConfig {
    const fallbackUrl = input.sqlitePath ? sqliteUrl(input.sqlitePath) : undefined;
    if (input.database === "sqlite") {
        if (!fallbackUrl) throw new Error("collector config: the sqlite database needs the SQLite file's path");
        return { database: "sqlite", url: fallbackUrl, yaml: yamlBlock(fallbackUrl, [], undefined), env: [["GECKO_DB_URL", fallbackUrl]] };
    }
    const p = input.postgres;
    if (!p) throw new Error("collector config: the postgresql database needs its host, port, database and the collector's role");
    const password = input.password ?? HIDDEN_PASSWORD;
    const url = connectionUrl({ ...p, password }); // the placeholder's `*` needs no percent-encoding
    const pool: [string, number][] = [
        ["pool_size", COLLECTOR_POOL.poolSize],
        ["max_overflow", COLLECTOR_POOL.maxOverflow],
        ["timeout", COLLECTOR_POOL.timeoutSeconds],
    ];
    const env: [string, string][] = [
        ["GECKO_DB_URL", url],
        ["GECKO_DB_POOL_SIZE", String(COLLECTOR_POOL.poolSize)],
        ["GECKO_DB_MAX_OVERFLOW", String(COLLECTOR_POOL.maxOverflow)],
        ["GECKO_DB_TIMEOUT", String(COLLECTOR_POOL.timeoutSeconds)],
        ["POSTGRES_HOST", p.host],
        ["POSTGRES_PORT", String(p.port)],
        ["POSTGRES_DB", p.database],
        ["POSTGRES_USER", p.user],
        ["POSTGRES_PASSWORD", password],
    ];
    return { database: "postgresql", url, fallbackUrl, yaml: yamlBlock(url, pool, fallbackUrl), env };
}

/** `database:` with the URL double-quoted (YAML escapes for `"` and `\`), the pool, and the fallback as a comment. */
function yamlBlock(url: string, pool: readonly [string, number][], fallbackUrl: string | undefined): string {
    const lines = ["database:", `  url: ${JSON.stringify(url)}`, ...pool.map(([k, v]) => `  ${k}: ${v}`)];
    if (fallbackUrl) lines.push(`  # rollback: url: ${JSON.stringify(fallbackUrl)}`);
    return lines.join("\n") + "\n";
}

/** `NAME='value'` lines for a shell or an env file (single quotes, `'` written as '\''). */
export function renderEnv(env: CollectorConfig["env"]): string {
    return env.map(([name, value]) => `${name}='${value.replace(/'/g, `'\\''`)}'`).join("\n") + "\n";
}
