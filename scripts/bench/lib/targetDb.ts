/** Fresh databases per contender, row counts, and source row counts. */
import Database from "better-sqlite3";
import type { Client } from "pg";
import type { ConnectionSpec } from "../../../migration/postgres/connection";
import type { LocalPostgres } from "../../../migration/postgres/localServer";
import { withSession } from "../../../migration/postgres/session";
import { applySettings } from "../../../migration/setup/applySettings";
import { DEFAULT_SETTINGS } from "../../../migration/setup/settingsPlan";
import { ident, sqliteIdent } from "../../../migration/postgres/sql";

/** One session as `spec` (application_name `gecko-pg bench`). */
export function withClient<T>(spec: ConnectionSpec, fn: (c: Client) => Promise<T>): Promise<T> {
    return withSession("bench", spec, fn);
}

/**
 * The stack's DEFAULT_SETTINGS on a server of our own, restarting it when one needs it
 * (a DATABASE_URL server is left as it is); returns what the report says of it.
 */
export async function applyStackSettings(server: LocalPostgres, admin: ConnectionSpec, log: (line: string) => void): Promise<string> {
    if (server.engine === "external") return "server settings left as they are (DATABASE_URL)";
    const s = await applySettings({ connection: admin, desired: DEFAULT_SETTINGS, restart: { kind: "none" } });
    if (s.pendingRestart.length) await server.restart();
    const settings = `DEFAULT_SETTINGS applied (as the stack does): ${Object.entries(DEFAULT_SETTINGS)
        .map(([k, v]) => `${k}=${v}`)
        .join(", ")}`;
    log(settings);
    return settings;
}

export async function createDatabase(admin: ConnectionSpec, name: string): Promise<void> {
    await withClient(admin, (c) => c.query(`CREATE DATABASE ${ident(name)}`));
}

export async function dropDatabase(admin: ConnectionSpec, name: string): Promise<void> {
    await withClient(admin, (c) => c.query(`DROP DATABASE IF EXISTS ${ident(name)} WITH (FORCE)`));
}

/**
 * Exact row count of every ordinary or partitioned table outside the system
 * schemas (partitions are counted through their parent), `schema.table` -> rows.
 */
export async function countTargetRows(spec: ConnectionSpec, skipSchemas: readonly string[] = []): Promise<Record<string, number>> {
    return withClient(spec, async (c) => {
        const r = await c.query<{ schema: string; name: string }>(
            `SELECT n.nspname AS schema, c.relname AS name
               FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
                AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
                AND NOT (n.nspname = ANY($1::text[]))
              ORDER BY 1, 2`,
            [skipSchemas],
        );
        const out: Record<string, number> = {};
        for (const t of r.rows) {
            const n = await c.query<{ n: string }>(`SELECT count(*) AS n FROM ${ident(t.schema)}.${ident(t.name)}`);
            out[`${t.schema}.${t.name}`] = Number(n.rows[0].n);
        }
        return out;
    });
}

/** Row count of every table of the SQLite file (sqlite_* internals excluded). */
export function countSourceRows(sqlitePath: string): Record<string, number> {
    const db = new Database(sqlitePath, { readonly: true, fileMustExist: true });
    try {
        const names = db
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
            .pluck()
            .all() as string[];
        return Object.fromEntries(
            names.map((n) => [
                n,
                Number(
                    db
                        .prepare(`SELECT count(*) FROM ${sqliteIdent(n)}`)
                        .pluck()
                        .get(),
                ),
            ]),
        );
    } finally {
        db.close();
    }
}

/** source table -> { source, target } with target looked up as `public.<name>` (or any schema's `<name>`). */
export function compareCounts(
    source: Record<string, number>,
    target: Record<string, number>,
): Record<string, { source: number; target: number | null }> {
    const out: Record<string, { source: number; target: number | null }> = {};
    for (const [table, n] of Object.entries(source)) {
        const key = `public.${table}` in target ? `public.${table}` : Object.keys(target).find((k) => k.split(".")[1] === table);
        out[table] = { source: n, target: key ? target[key] : null };
    }
    return out;
}
