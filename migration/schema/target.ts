/**
 * The target database's schema as a whole, with no source at hand: compare what
 * exists with the plan before anything is created (preflightTarget), bring it to
 * this version in place (upgradeTarget), check it is complete (checkTargetSchema),
 * and pause autovacuum around a bulk load.
 */
import type { ClientBase } from "pg";
import { applySchema } from "./applySchema";
import { leafRelationsSql, TARGET_SCHEMA, targetRegclassSql } from "./ddl";
import { inspectSchema, readTargetCatalog, recordedVersions } from "./inspect";
import { comparePlanWithTarget, TargetConflictError, type PreflightFindings } from "./preflight";
import type { TargetTable } from "./types";

/** The roles the schema is made for, and the database's TimeZone. */
export interface SchemaRoles {
    readonly ownerRole: string;
    readonly appRole: string;
    readonly timeZone?: string;
}

/** Where schema steps say what they did (a MigrationLogger fits). */
export interface SchemaLog {
    info(message: string): void;
}

/** What `upgradeTarget` did. */
export interface SchemaUpgrade {
    /** Schema versions recorded before, oldest first (empty: nothing was migrated here). */
    readonly before: readonly number[];
    readonly version: number;
    readonly changes: readonly string[];
}

/** What exists in the target against the tables a run as `ownerRole` would create (read-only; see preflight.ts). */
export async function preflightTarget(pg: ClientBase, planned: readonly TargetTable[], ownerRole: string): Promise<PreflightFindings> {
    return comparePlanWithTarget(await readTargetCatalog(pg, ownerRole), planned);
}

/** preflightTarget, throwing TargetConflictError when anything conflicts; returns the notes. */
export async function refuseConflictingTarget(
    pg: ClientBase,
    planned: readonly TargetTable[],
    ownerRole: string,
): Promise<readonly string[]> {
    const findings = await preflightTarget(pg, planned, ownerRole);
    if (findings.conflicts.length) throw new TargetConflictError(findings.conflicts);
    return findings.notes;
}

/**
 * Brings a target an earlier gecko-pg migrated to this schema version in place, without
 * the source and without re-copying: columns and keys by ALTERs that rewrite no big table
 * (schema/upgrade.ts), then new indexes built CONCURRENTLY and retired ones dropped, so a
 * collector already writing is not blocked. Idempotent; refuses an empty database.
 */
export async function upgradeTarget(pg: ClientBase, o: SchemaRoles, logger: SchemaLog): Promise<SchemaUpgrade> {
    const before = (await recordedVersions(pg)).map((v) => v.version);
    if (before.length === 0)
        throw new Error(
            "upgrade: no gecko-pg schema version is recorded in this database (gecko_migration.schema_version); run migrate, or pulumi up, to create the schema",
        );
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

/**
 * Every planned index and constraint present and valid, sequences past the largest id, ownership, autovacuum on;
 * with the tables a run planned, also each shape the preflight would refuse (a column type changed after the copy,
 * say), so validation names it instead of only its checksum mismatches.
 */
export async function checkTargetSchema(
    pg: ClientBase,
    o: SchemaRoles,
    planned?: readonly TargetTable[],
): Promise<{ ok: boolean; problems: string[] }> {
    const s = await inspectSchema(pg, { ownerRole: o.ownerRole });
    const problems: string[] = [];
    for (const t of s.tables) if (!t.present) problems.push(`table ${t.name} missing`);
    for (const i of s.indexes) {
        if (!i.present) problems.push(`index ${i.name} on ${i.table} missing`);
        else if (!i.valid) problems.push(`index ${i.name} on ${i.table} is not valid`);
        for (const p of i.partitions)
            if (!p.index || !p.valid) problems.push(`index ${i.name}: partition ${p.partition} lacks a valid attached index`);
    }
    for (const c of s.constraints) {
        if (!c.present) problems.push(`${c.kind} constraint ${c.name} on ${c.table} missing`);
        else if (!c.validated) problems.push(`${c.kind} constraint ${c.name} on ${c.table} not validated`);
    }
    for (const q of s.sequences)
        if (!q.ok) problems.push(`sequence of ${q.table}.${q.column} at ${q.lastValue ?? "none"} is not past max(id) ${q.maxId}`);
    for (const f of s.foreignOwned) problems.push(`${f.kind} ${f.name} is owned by ${f.owner}, not ${o.ownerRole}`);
    const paused = await pg.query<{ rel: string }>(
        `SELECT c.oid::regclass::text AS rel FROM pg_class c WHERE c.relnamespace = to_regnamespace($1) AND c.reloptions @> ARRAY['autovacuum_enabled=false'] ORDER BY 1`,
        [TARGET_SCHEMA],
    );
    for (const { rel } of paused.rows)
        problems.push(`autovacuum is off on ${rel} (left by a migration that did not finish; a completed migrate turns it back on)`);
    // Read without the owner role: owners are the check above's.
    if (planned) problems.push(...comparePlanWithTarget(await readTargetCatalog(pg), planned).conflicts);
    return { ok: problems.length === 0, problems };
}

/** One line per kind of change ("created partition x 25"), not one per object. */
export function logChanges(logger: SchemaLog, phase: string, changes: readonly string[]): void {
    if (changes.length === 0) return logger.info(`${phase}: up to date`);
    const kinds = new Map<string, number>();
    for (const c of changes) {
        const kind = c.split(" ").slice(0, 2).join(" ");
        kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
    }
    logger.info(`${phase}: ${[...kinds].map(([k, n]) => (n > 1 ? `${k} x${n}` : k)).join(", ")}`);
}
