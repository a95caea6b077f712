/**
 * The collector's configuration (migration/cutover/collectorConfig.ts), read back the
 * way the collector's side reads it: the YAML block by a YAML parser, the environment
 * lines by bash, the URL by SQLAlchemy's own make_url (Debian's python3-sqlalchemy).
 */
import { spawnSync } from "node:child_process";
import * as jsYaml from "js-yaml";
import { describe, expect, it } from "vitest";
import { parseConnectionUrl } from "../../../migration/postgres/connection";
import {
    collectorConfig,
    COLLECTOR_POOL,
    HIDDEN_PASSWORD,
    renderEnv,
    sqliteUrl,
    type CollectorConfig,
} from "../../../migration/cutover/collectorConfig";

const POSTGRES = { host: "db.internal", port: 6432, user: "gecko_collector", database: "gecko_terminal_collector" };
const PASSWORD = `it's "odd" \\ p@ss/wörd?#%`;

const yamlOf = (c: CollectorConfig) => jsYaml.load(c.yaml) as { database: Record<string, unknown> };

/** The environment bash sees after `set -a; . <lines>`. */
function bashEnv(lines: string): Record<string, string> {
    const r = spawnSync("bash", ["-c", `set -a; eval "$LINES"; env -0`], {
        env: { PATH: process.env.PATH, LINES: lines },
        encoding: "utf8",
    });
    if (r.status !== 0) throw new Error(r.stderr);
    return Object.fromEntries(
        r.stdout
            .split("\0")
            .filter(Boolean)
            .map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]),
    );
}

/** SQLAlchemy's reading of a URL: what the collector's create_engine gets. */
function sqlalchemyUrl(url: string): {
    drivername: string;
    username: string;
    password: string;
    host: string;
    port: number;
    database: string;
} {
    const script =
        "import json,sys; from sqlalchemy.engine import make_url; u=make_url(sys.argv[1]); print(json.dumps({k: getattr(u, k) for k in ('drivername','username','password','host','port','database')}))";
    const r = spawnSync("/usr/bin/python3", ["-c", script, url], { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`python3 with sqlalchemy is needed (apt-get install python3-sqlalchemy): ${r.stderr}`);
    return JSON.parse(r.stdout);
}

describe("collectorConfig, PostgreSQL", () => {
    const c = collectorConfig({ database: "postgresql", sqlitePath: "/srv/gecko/gecko_data.db", postgres: POSTGRES, password: PASSWORD });

    it("gives config.yaml's database block: the URL exactly, the plan's pool, the SQLite file as the rollback", () => {
        expect(yamlOf(c)).toEqual({ database: { url: c.url, pool_size: 20, max_overflow: 30, timeout: 30 } });
        expect(c.yaml).toContain('  # rollback: url: "sqlite:////srv/gecko/gecko_data.db"\n');
        expect(parseConnectionUrl(c.url)).toMatchObject({ ...POSTGRES, password: PASSWORD });
    });

    it("is a postgresql:// URL SQLAlchemy reads to the same user, password, host, port and database", () => {
        expect(c.url.startsWith("postgresql://")).toBe(true); // the collector's PostgreSQL code path
        expect(sqlalchemyUrl(c.url)).toEqual({
            drivername: "postgresql",
            username: POSTGRES.user,
            password: PASSWORD,
            host: POSTGRES.host,
            port: POSTGRES.port,
            database: POSTGRES.database,
        });
    });

    it("gives the environment lines a shell reads back exactly", () => {
        expect(bashEnv(renderEnv(c.env))).toMatchObject({
            GECKO_DB_URL: c.url,
            GECKO_DB_POOL_SIZE: String(COLLECTOR_POOL.poolSize),
            GECKO_DB_MAX_OVERFLOW: String(COLLECTOR_POOL.maxOverflow),
            GECKO_DB_TIMEOUT: String(COLLECTOR_POOL.timeoutSeconds),
            POSTGRES_HOST: "db.internal",
            POSTGRES_PORT: "6432",
            POSTGRES_DB: "gecko_terminal_collector",
            POSTGRES_USER: "gecko_collector",
            POSTGRES_PASSWORD: PASSWORD,
        });
    });

    it("shows no password unless given one", () => {
        const hidden = collectorConfig({ database: "postgresql", postgres: POSTGRES });
        expect(hidden.url).toBe(`postgresql://gecko_collector:${HIDDEN_PASSWORD}@db.internal:6432/gecko_terminal_collector`);
        expect(Object.fromEntries(hidden.env).POSTGRES_PASSWORD).toBe(HIDDEN_PASSWORD);
        expect(hidden.fallbackUrl).toBeUndefined();
        expect(hidden.yaml).not.toContain("rollback");
    });
});

describe("collectorConfig, SQLite (before the cutover, and after a rollback)", () => {
    it("points at the file with SQLAlchemy's URL: a fourth slash for an absolute path", () => {
        const c = collectorConfig({ database: "sqlite", sqlitePath: "/srv/gecko/gecko_data.db", postgres: POSTGRES, password: PASSWORD });
        expect(c.url).toBe("sqlite:////srv/gecko/gecko_data.db");
        expect(sqlalchemyUrl(c.url)).toMatchObject({ drivername: "sqlite", database: "/srv/gecko/gecko_data.db" });
        expect(yamlOf(c)).toEqual({ database: { url: "sqlite:////srv/gecko/gecko_data.db" } });
        expect(c.env).toEqual([["GECKO_DB_URL", "sqlite:////srv/gecko/gecko_data.db"]]);
        expect(JSON.stringify(c)).not.toContain("p@ss");
        expect(sqliteUrl("gecko_data.db")).toBe("sqlite:///gecko_data.db");
    });

    it("refuses the sqlite database without the file", () => {
        expect(() => collectorConfig({ database: "sqlite", postgres: POSTGRES })).toThrow(/needs the SQLite file's path/);
    });
});
