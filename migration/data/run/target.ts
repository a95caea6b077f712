/**
 * The run's schema steps: before the copy, the collector tables (versioned, see
 * migration/schema) with partitions for the source's span, plus what this source
 * brings beyond them (extra columns and tables with an obvious mapping); after
 * the copy, the post-load phase.
 */
import type Database from "better-sqlite3";
import type { ClientBase } from "pg";
import { asRoleInTransaction } from "../../postgres/session";
import { sqliteIdent } from "../../postgres/sql";
import { applySchema, type PartitionSpan } from "../../schema/applySchema";
import { columnSql, createTableSql, grantSql, qualified } from "../../schema/ddl";
import { TARGET_TABLES } from "../../schema/tables";
import { logChanges, refuseConflictingTarget, type SchemaRoles } from "../../schema/target";
import type { MigrationLogger } from "../options";
import type { TableMapping } from "../plan/tableMapping";

/**
 * Before the copy: the preflight (a target object of another shape than the plan's stops the
 * run before anything is created), collector tables with PK/UNIQUE and partitions for the
 * source's span, then extras.
 */
export async function prepareTarget(
    pg: ClientBase,
    sqlite: Database.Database,
    mappings: readonly TableMapping[],
    o: SchemaRoles,
    logger: MigrationLogger,
): Promise<{ readonly changes: string[]; readonly preflightNotes: readonly string[] }> {
    const planned = mappings.map((m) => m.target);
    const notes = await refuseConflictingTarget(pg, planned, o.ownerRole);
    for (const note of notes) logger.info(`preflight: ${note}`);
    const span = ohlcvSpan(sqlite, mappings);
    const result = await applySchema(pg, "tables", {
        ownerRole: o.ownerRole,
        appRole: o.appRole,
        timeZone: o.timeZone,
        partitionSpan: span,
    });
    const changes = [...result.changes];
    changes.push(...(await ensureExtras(pg, mappings, o)));
    logChanges(logger, "schema", changes);
    return { changes, preflightNotes: notes };
}

/** After the copy: indexes, foreign keys, sequences, ANALYZE, grants; per-table work spread over `extraConnections` too. */
export async function finishTarget(
    pg: ClientBase,
    o: SchemaRoles,
    logger: MigrationLogger,
    extraConnections: readonly ClientBase[] = [],
): Promise<string[]> {
    // Nobody writes to the target during its migration: plain builds (one scan each) are enough.
    const result = await applySchema(pg, "post-load", {
        ownerRole: o.ownerRole,
        appRole: o.appRole,
        timeZone: o.timeZone,
        concurrentIndexes: false,
        extraConnections,
    });
    logChanges(logger, "post-load", result.changes);
    return [...result.changes];
}

/** Min/max of the source's integer ohlcv_data.timestamp, for the partitions. */
function ohlcvSpan(sqlite: Database.Database, mappings: readonly TableMapping[]): PartitionSpan | undefined {
    const m = mappings.find((x) => x.target.name === "ohlcv_data");
    const col = m?.columns.find((c) => c.target.name === "timestamp")?.source;
    if (!m?.source || col?.kind !== "column") return undefined;
    const r = sqlite
        .prepare(
            `SELECT min(${sqliteIdent(col.name)}) AS lo, max(${sqliteIdent(col.name)}) AS hi FROM ${sqliteIdent(m.source.name)} WHERE typeof(${sqliteIdent(col.name)}) = 'integer'`,
        )
        .get() as { lo: bigint | null; hi: bigint | null };
    if (r.lo === null || r.hi === null) return undefined;
    return { fromEpoch: Number(r.lo), toEpoch: Number(r.hi) };
}

/** Extra source columns on collector tables and extra source tables, created as the owner role in one transaction. */
async function ensureExtras(pg: ClientBase, mappings: readonly TableMapping[], o: SchemaRoles): Promise<string[]> {
    return asRoleInTransaction(pg, o.ownerRole, async () => {
        const changes: string[] = [];
        for (const m of mappings) changes.push(...(m.extra ? await ensureExtraTable(pg, m) : await ensureExtraColumns(pg, m)));
        for (const sql of grantSql("public", o.appRole)) await pg.query(sql);
        return changes;
    });
}

async function ensureExtraTable(pg: ClientBase, m: TableMapping): Promise<string[]> {
    const exists = await pg.query("SELECT to_regclass($1) IS NOT NULL AS e", [qualified(m.target.name)]);
    if (exists.rows[0].e) return [];
    await pg.query(createTableSql(m.target));
    return [`created extra table ${m.target.name}`];
}

/** Source columns a collector table does not plan (drift the collector's models do not know). */
async function ensureExtraColumns(pg: ClientBase, m: TableMapping): Promise<string[]> {
    const known = TARGET_TABLES.find((t) => t.name === m.target.name);
    const changes: string[] = [];
    for (const c of m.target.columns) {
        if (known?.columns.some((k) => k.name === c.name)) continue;
        const r = await pg.query(
            "SELECT 1 FROM information_schema.columns WHERE table_schema = 'public' AND table_name = $1 AND column_name = $2",
            [m.target.name, c.name],
        );
        if (r.rowCount) continue;
        await pg.query(`ALTER TABLE ${qualified(m.target.name)} ADD COLUMN ${columnSql(c)}`);
        changes.push(`added extra column ${m.target.name}.${c.name}`);
    }
    return changes;
}
