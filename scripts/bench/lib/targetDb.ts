/** Fresh databases per contender, row counts, and source row counts. */
import Database from "better-sqlite3";
import { Client } from "pg";
import { clientConfig, type ConnectionSpec } from "../../../migration/postgres/connection";
import { ident, sqliteIdent } from "../../../migration/postgres/sql";

export async function withClient<T>(spec: ConnectionSpec, fn: (c: Client) => Promise<T>): Promise<T> {
    const c = new Client(clientConfig(spec, { application_name: "gecko-pg bench" }));
    await c.connect();
    try {
        return await fn(c);
    } finally {
        await c.end().catch(() => undefined);
    }
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
