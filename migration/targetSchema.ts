/**
 * The target schema steps of a run: the collector tables (versioned, see
 * migration/schema), plus what this source brings beyond them (extra columns
 * and tables with an obvious mapping), and the post-load checks.
 */
import type Database from "better-sqlite3";
import type { ClientBase } from "pg";
import type { MigrationLogger, MigrationOptions } from "./options";
import type { TableMapping } from "./plan/tableMapping";
import { applySchema, type PartitionSpan } from "./schema/applySchema";
import { columnSql, createTableSql, grantSql, ident, leafRelationsSql, qualified, TARGET_SCHEMA, targetRegclassSql } from "./schema/ddl";
import { inspectSchema } from "./schema/inspect";
import { TARGET_TABLES } from "./schema/tables";
import { quoteIdent } from "./source/introspect";

type Roles = Pick<MigrationOptions, "ownerRole" | "appRole"> & { readonly timeZone?: string };

/** Before the copy: collector tables with PK/UNIQUE and partitions for the source's span, then extras. */
export async function prepareTarget(pg: ClientBase, sqlite: Database.Database, mappings: readonly TableMapping[], o: Roles, logger: MigrationLogger): Promise<string[]> {
    const span = ohlcvSpan(sqlite, mappings);
    const result = await applySchema(pg, "tables", { ownerRole: o.ownerRole, appRole: o.appRole, timeZone: o.timeZone, partitionSpan: span });
    const changes = [...result.changes];
    changes.push(...(await ensureExtras(pg, mappings, o)));
    logChanges(logger, "schema", changes);
    return changes;
}

/** After the copy: indexes, foreign keys, sequences, ANALYZE, grants; per-table work spread over `extraConnections` too. */
export async function finishTarget(pg: ClientBase, o: Roles, logger: MigrationLogger, extraConnections: readonly ClientBase[] = []): Promise<string[]> {
    // Nobody writes to the target during its migration: plain builds (one scan each) are enough.
    const result = await applySchema(pg, "post-load", { ownerRole: o.ownerRole, appRole: o.appRole, timeZone: o.timeZone, concurrentIndexes: false, extraConnections });
    logChanges(logger, "post-load", result.changes);
    return [...result.changes];
}

/** What `upgradeTarget` did. */
export interface SchemaUpgrade {
    /** Schema versions recorded before, oldest first (empty: nothing was migrated here). */
    readonly before: readonly number[];
    readonly version: number;
    readonly changes: readonly string[];
}

/**
 * Brings a target an earlier gecko-pg migrated to this schema version in place, without
 * the source and without re-copying: columns and keys by ALTERs that rewrite no big table
 * (schema/upgrade.ts), then new indexes built CONCURRENTLY and retired ones dropped, so a
 * collector already writing is not blocked. Idempotent; refuses an empty database.
 */
export async function upgradeTarget(pg: ClientBase, o: Roles, logger: MigrationLogger): Promise<SchemaUpgrade> {
    const before = await recordedVersions(pg);
    if (before.length === 0) throw new Error("upgrade: no gecko-pg schema version is recorded in this database (gecko_migration.schema_version); run migrate, or pulumi up, to create the schema");
    const options = { ownerRole: o.ownerRole, appRole: o.appRole, timeZone: o.timeZone };
    const tables = await applySchema(pg, "tables", options);
    logChanges(logger, "upgrade", tables.changes);
    const post = await applySchema(pg, "post-load", { ...options, concurrentIndexes: true });
    logChanges(logger, "upgrade post-load", post.changes);
    return { before, version: tables.version, changes: [...tables.changes, ...post.changes] };
}

/**
 * Autovacuum off on the tables (every partition) while the migration copies and builds
 * indexes: inserts past its threshold make it vacuum a table mid-copy, taking a core from
 * the copy (measured: one worker busy 8 s of a 2 M-row copy). `resume` resets it to the
 * server's setting after post-load; a run that stops before leaves it off until a rerun
 * completes, and checkTargetSchema reports it meanwhile.
 */
export async function pauseAutovacuum(pg: ClientBase, tables: readonly string[], action: "pause" | "resume"): Promise<void> {
    const leaves = await pg.query<{ rel: string }>(
        `SELECT l.relid::regclass::text AS rel FROM unnest($1::text[]) AS t(name), LATERAL (${leafRelationsSql(targetRegclassSql("t.name"))}) l`,
        [tables],
    );
    const change = action === "pause" ? "SET (autovacuum_enabled = false)" : "RESET (autovacuum_enabled)";
    for (const { rel } of leaves.rows) await pg.query(`ALTER TABLE ${rel} ${change}`);
}

/** Every planned index and constraint present and valid, sequences past the largest id, ownership, autovacuum on. */
export async function checkTargetSchema(pg: ClientBase, o: Roles): Promise<{ ok: boolean; problems: string[] }> {
    const s = await inspectSchema(pg, { ownerRole: o.ownerRole });
    const problems: string[] = [];
    for (const t of s.tables) if (!t.present) problems.push(`table ${t.name} missing`);
    for (const i of s.indexes) {
        if (!i.present) problems.push(`index ${i.name} on ${i.table} missing`);
        else if (!i.valid) problems.push(`index ${i.name} on ${i.table} is not valid`);
        for (const p of i.partitions) if (!p.index || !p.valid) problems.push(`index ${i.name}: partition ${p.partition} lacks a valid attached index`);
    }
    for (const c of s.constraints) {
        if (!c.present) problems.push(`${c.kind} constraint ${c.name} on ${c.table} missing`);
        else if (!c.validated) problems.push(`${c.kind} constraint ${c.name} on ${c.table} not validated`);
    }
    for (const q of s.sequences) if (!q.ok) problems.push(`sequence of ${q.table}.${q.column} at ${q.lastValue ?? "none"} is not past max(id) ${q.maxId}`);
    for (const f of s.foreignOwned) problems.push(`${f.kind} ${f.name} is owned by ${f.owner}, not ${o.ownerRole}`);
    const paused = await pg.query<{ rel: string }>(
        `SELECT c.oid::regclass::text AS rel FROM pg_class c WHERE c.relnamespace = to_regnamespace($1) AND c.reloptions @> ARRAY['autovacuum_enabled=false'] ORDER BY 1`,
        [TARGET_SCHEMA],
    );
    for (const { rel } of paused.rows) problems.push(`autovacuum is off on ${rel} (left by a migration that did not finish; a completed migrate turns it back on)`);
    return { ok: problems.length === 0, problems };
}

/** Schema versions recorded in the target, oldest first; empty when none (or no bookkeeping schema). */
async function recordedVersions(pg: ClientBase): Promise<number[]> {
    const exists = await pg.query<{ ok: boolean }>(`SELECT to_regclass('gecko_migration.schema_version') IS NOT NULL AS ok`);
    if (!exists.rows[0].ok) return [];
    return (await pg.query<{ version: number }>("SELECT version FROM gecko_migration.schema_version ORDER BY version")).rows.map((r) => r.version);
}

/** One line per kind of change ("created partition x 25"), not one per object. */
function logChanges(logger: MigrationLogger, phase: string, changes: readonly string[]): void {
    if (changes.length === 0) return logger.info(`${phase}: up to date`);
    const kinds = new Map<string, number>();
    for (const c of changes) {
        const kind = c.split(" ").slice(0, 2).join(" ");
        kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
    }
    logger.info(`${phase}: ${[...kinds].map(([k, n]) => (n > 1 ? `${k} x${n}` : k)).join(", ")}`);
}

/** Min/max of the source's integer ohlcv_data.timestamp, for the partitions. */
function ohlcvSpan(sqlite: Database.Database, mappings: readonly TableMapping[]): PartitionSpan | undefined {
    const m = mappings.find((x) => x.target.name === "ohlcv_data");
    const col = m?.columns.find((c) => c.target.name === "timestamp")?.source;
    if (!m?.source || col?.kind !== "column") return undefined;
    const r = sqlite
        .prepare(`SELECT min(${quoteIdent(col.name)}) AS lo, max(${quoteIdent(col.name)}) AS hi FROM ${quoteIdent(m.source.name)} WHERE typeof(${quoteIdent(col.name)}) = 'integer'`)
        .get() as { lo: bigint | null; hi: bigint | null };
    if (r.lo === null || r.hi === null) return undefined;
    return { fromEpoch: Number(r.lo), toEpoch: Number(r.hi) };
}

/** Extra source columns on collector tables and extra source tables, created as the owner role. */
async function ensureExtras(pg: ClientBase, mappings: readonly TableMapping[], o: Roles): Promise<string[]> {
    const changes: string[] = [];
    await pg.query("BEGIN");
    try {
        await pg.query(`SET LOCAL ROLE ${ident(o.ownerRole)}`);
        for (const m of mappings) {
            if (m.extra) {
                const exists = await pg.query("SELECT to_regclass($1) IS NOT NULL AS e", [qualified(m.target.name)]);
                if (!exists.rows[0].e) {
                    await pg.query(createTableSql(m.target));
                    changes.push(`created extra table ${m.target.name}`);
                }
                continue;
            }
            const known = TARGET_TABLES.find((t) => t.name === m.target.name);
            for (const c of m.target.columns) {
                if (known?.columns.some((k) => k.name === c.name)) continue;
                const r = await pg.query("SELECT 1 FROM information_schema.columns WHERE table_schema = 'public' AND table_name = $1 AND column_name = $2", [m.target.name, c.name]);
                if (r.rowCount) continue;
                await pg.query(`ALTER TABLE ${qualified(m.target.name)} ADD COLUMN ${columnSql(c)}`);
                changes.push(`added extra column ${m.target.name}.${c.name}`);
            }
        }
        for (const sql of grantSql("public", o.appRole)) await pg.query(sql);
        await pg.query("COMMIT");
    } catch (err) {
        await pg.query("ROLLBACK");
        throw err;
    }
    return changes;
}
