/**
 * Applies the target schema in two phases (pg):
 *
 * - `tables`, before the bulk load: schema-version bookkeeping, database TimeZone,
 *   tables with primary keys and unique constraints (needed for correctness while
 *   loading), partitions, grants.
 * - `post-load`, after it: secondary indexes (concurrently), foreign keys
 *   (NOT VALID + VALIDATE), identity sequences past the largest id, ANALYZE, grants.
 *   Building indexes and checking keys once over loaded data is faster than
 *   maintaining them row by row during COPY.
 *
 * DDL runs under `SET ROLE ownerRole`, so every object is owned by the owner role.
 * Both phases are idempotent: a rerun changes nothing (`changes` is empty). The
 * connecting user must be able to SET ROLE to the owner role; the client must be
 * in autocommit mode (no open transaction).
 */
import type { ClientBase } from "pg";
import {
    analyzeSql,
    createTableSql,
    grantSql,
    leafRelationsSql,
    MIGRATION_SCHEMA,
    qualified,
    schemaChecksum,
    schemaVersionSql,
    setDatabaseTimeZoneSql,
    setRoleTimeZoneSql,
    TARGET_SCHEMA,
    targetRegclassSql,
} from "./ddl";
import { ident } from "../postgres/sql";
import { monthsAfter, ensurePartitions, type PartitionChange } from "./partitionMaintenance";
import { dropRetiredIndexes, ensureForeignKeys, ensureIndexes, resetSequences, type SequencePosition } from "./postLoad";
import { applyTableUpgrade } from "./upgrade";
import { SCHEMA_VERSION, TARGET_TABLES } from "./tables";
import type { TargetTable } from "./types";
import { asRoleInTransaction } from "../postgres/session";

export type SchemaPhase = "tables" | "post-load";

/** Epoch seconds (inclusive) the partitions must cover, usually min/max of the source's ohlcv_data.timestamp. */
export interface PartitionSpan {
    readonly fromEpoch: number;
    readonly toEpoch: number;
}

export interface ApplySchemaOptions {
    /** Owns every object (NOLOGIN); the connecting user must be a member. */
    readonly ownerRole: string;
    /** The collector's role: gets SELECT/INSERT/UPDATE/DELETE and sequence usage. */
    readonly appRole: string;
    /** Database TimeZone for new sessions. Default `UTC`. */
    readonly timeZone?: string;
    /** Data span for partitions (`tables` phase). Partitions always extend from now's month to `monthsAhead` months ahead too. */
    readonly partitionSpan?: PartitionSpan;
    /** Future months to create (`tables` phase). Default 3. */
    readonly monthsAhead?: number;
    /** Clock for "now" (tests). */
    readonly now?: Date;
    /** Defaults to TARGET_TABLES. */
    readonly tables?: readonly TargetTable[];
    /**
     * `post-load`: build indexes CONCURRENTLY (default true), so a collector already
     * writing is never blocked. The migration turns it off for its fresh target.
     */
    readonly concurrentIndexes?: boolean;
    /**
     * `post-load`: more connections (same user, autocommit, idle) over which the
     * per-table work (index builds, foreign keys, ANALYZE) is spread, largest table
     * first. Each is SET ROLE to the owner while used and RESET after.
     */
    readonly extraConnections?: readonly ClientBase[];
}

export interface ApplySchemaResult {
    readonly phase: SchemaPhase;
    readonly version: number;
    /** What was created, altered or validated; empty on a rerun. */
    readonly changes: readonly string[];
    readonly partitions: readonly PartitionChange[];
    readonly sequences: readonly SequencePosition[];
}

/** Arbitrary key of the session advisory lock that serialises schema changes. */
const LOCK_KEY = 0x6765636b; // "geck"
const DEFAULT_MONTHS_AHEAD = 3;

/** Applies one phase; see the file comment. Throws with the failing step in the message, keeping the cause. */
export async function applySchema(client: ClientBase, phase: SchemaPhase, options: ApplySchemaOptions): Promise<ApplySchemaResult> {
    const tables = options.tables ?? TARGET_TABLES;
    await checkRoles(client, options);
    const locked = await client.query<{ ok: boolean }>("SELECT pg_try_advisory_lock($1) AS ok", [LOCK_KEY]);
    if (!locked.rows[0].ok) throw new Error("applySchema: another session is changing the schema (advisory lock held)");
    try {
        return phase === "tables" ? await tablesPhase(client, options, tables) : await postLoadPhase(client, options, tables);
    } finally {
        // Fails too inside an aborted transaction: never hide the error that aborted it.
        await client.query("SELECT pg_advisory_unlock($1)", [LOCK_KEY]).catch(() => undefined);
    }
}

async function checkRoles(client: ClientBase, o: ApplySchemaOptions): Promise<void> {
    const r = await client.query<{ owner: boolean; app: boolean; member: boolean | null; create: boolean | null }>(
        `SELECT to_regrole($1) IS NOT NULL AS owner, to_regrole($2) IS NOT NULL AS app,
                CASE WHEN to_regrole($1) IS NOT NULL THEN pg_has_role(session_user, $3, 'MEMBER') END AS member,
                CASE WHEN to_regrole($1) IS NOT NULL THEN has_schema_privilege($3, $4, 'CREATE') END AS create`,
        [ident(o.ownerRole), ident(o.appRole), o.ownerRole, TARGET_SCHEMA],
    );
    const s = r.rows[0];
    if (!s.owner) throw new Error(`applySchema: owner role '${o.ownerRole}' does not exist`);
    if (!s.app) throw new Error(`applySchema: app role '${o.appRole}' does not exist`);
    if (!s.member) throw new Error(`applySchema: the connecting user cannot SET ROLE ${o.ownerRole} (GRANT ${o.ownerRole} TO <admin>)`);
    if (!s.create) throw new Error(`applySchema: role '${o.ownerRole}' lacks CREATE on schema ${TARGET_SCHEMA}`);
}

async function step<T>(name: string, fn: () => Promise<T>): Promise<T> {
    try {
        return await fn();
    } catch (cause) {
        throw new Error(`applySchema ${name}: ${(cause as Error).message}`, { cause });
    }
}

async function tablesPhase(client: ClientBase, o: ApplySchemaOptions, tables: readonly TargetTable[]): Promise<ApplySchemaResult> {
    const changes: string[] = [];
    const checksum = schemaChecksum(tables);
    await step("tables", async () => {
        await client.query("BEGIN");
        try {
            // As the connecting user: ALTER DATABASE needs the database owner or a superuser.
            const tz = o.timeZone ?? "UTC";
            const before = await databaseTimeZone(client);
            if (before !== tz) {
                await client.query(setDatabaseTimeZoneSql(tz));
                changes.push(`set database TimeZone to ${tz}`);
            }
            // The app role's too: the collector never sets a session TimeZone, whatever database it reaches.
            if ((await roleTimeZone(client, o.appRole)) !== tz) {
                await client.query(setRoleTimeZoneSql(o.appRole, tz));
                changes.push(`set ${o.appRole} TimeZone to ${tz}`);
            }
            if (!(await exists(client, qualified("schema_version", MIGRATION_SCHEMA))))
                changes.push(`created ${MIGRATION_SCHEMA}.schema_version`);
            const [schemaSql, versionTableSql] = schemaVersionSql(o.ownerRole);
            await client.query(schemaSql);
            await client.query(`SET LOCAL ROLE ${ident(o.ownerRole)}`);
            await client.query(versionTableSql);
            const recorded = await client.query<{ checksum: string }>(
                `SELECT checksum FROM ${qualified("schema_version", MIGRATION_SCHEMA)} WHERE version = $1`,
                [SCHEMA_VERSION],
            );
            if (recorded.rows[0] && recorded.rows[0].checksum !== checksum) {
                throw new Error(
                    `schema version ${SCHEMA_VERSION} was applied with checksum ${recorded.rows[0].checksum}, this DDL has ${checksum}: bump SCHEMA_VERSION`,
                );
            }
            // The first application of this version brings existing tables up to it, in place: those an
            // earlier version made, and any made by hand (a difference no safe ALTER covers stops it, named).
            const firstApplication = !recorded.rows[0];
            const earlier = firstApplication ? await latestVersion(client) : null;
            const upgraded: string[] = [];
            for (const t of tables) {
                if (await exists(client, qualified(t.name))) {
                    if (firstApplication) upgraded.push(...(await applyTableUpgrade(client, t)));
                    continue;
                }
                await client.query(createTableSql(t));
                changes.push(`created table ${t.name}`);
            }
            changes.push(...upgraded);
            if (!recorded.rows[0]) {
                const description = earlier === null ? "collector schema" : `collector schema, upgraded in place from version ${earlier}`;
                await client.query(
                    `INSERT INTO ${qualified("schema_version", MIGRATION_SCHEMA)} (version, checksum, description) VALUES ($1, $2, $3)`,
                    [SCHEMA_VERSION, checksum, description],
                );
                changes.push(`recorded schema version ${SCHEMA_VERSION}${earlier === null ? "" : ` (upgraded from ${earlier})`}`);
            }
            await client.query("COMMIT");
        } catch (e) {
            await client.query("ROLLBACK");
            throw e;
        }
    });
    const partitions: PartitionChange[] = [];
    const now = o.now ?? new Date();
    for (const t of tables.filter((x) => x.partitioning)) {
        const from = Math.min(o.partitionSpan?.fromEpoch ?? Infinity, monthsAfter(now, 0));
        const to = Math.max(o.partitionSpan?.toEpoch ?? -Infinity, monthsAfter(now, o.monthsAhead ?? DEFAULT_MONTHS_AHEAD));
        const made = await step(`partitions of ${t.name}`, () => ensurePartitions(client, t.name, from, to, { ownerRole: o.ownerRole }));
        partitions.push(...made);
        changes.push(...made.filter((p) => p.action === "created").map((p) => `created partition ${p.partition}`));
    }
    await step("grants", () => grant(client, o));
    return { phase: "tables", version: SCHEMA_VERSION, changes, partitions, sequences: [] };
}

async function postLoadPhase(client: ClientBase, o: ApplySchemaOptions, tables: readonly TargetTable[]): Promise<ApplySchemaResult> {
    const checksum = schemaChecksum(tables);
    const versionTable = qualified("schema_version", MIGRATION_SCHEMA);
    const recorded = (await exists(client, versionTable))
        ? await client.query<{ checksum: string }>(`SELECT checksum FROM ${versionTable} WHERE version = $1`, [SCHEMA_VERSION])
        : undefined;
    if (!recorded?.rows[0])
        throw new Error(`applySchema post-load: schema version ${SCHEMA_VERSION} not recorded; run the tables phase first`);
    if (recorded.rows[0].checksum !== checksum)
        throw new Error(
            `applySchema post-load: schema version ${SCHEMA_VERSION} was applied with another DDL (checksum ${recorded.rows[0].checksum})`,
        );

    const changes: string[] = [];
    const connections = [client, ...(o.extraConnections ?? [])];
    try {
        for (const c of connections) await c.query(`SET ROLE ${ident(o.ownerRole)}`);
        const build = { concurrently: o.concurrentIndexes ?? true };
        const order = await largestFirst(client, tables);
        changes.push(...(await step("indexes", () => eachTable(connections, tables, order, (c, t) => ensureIndexes(c, [t], build)))));
        // Only once their replacements exist, so the collector's queries always have an index.
        changes.push(...(await step("retired indexes", () => dropRetiredIndexes(client, tables, build))));
        // After every index: a foreign key waits for a build on its parent table anyway.
        changes.push(...(await step("foreign keys", () => eachTable(connections, tables, order, (c, t) => ensureForeignKeys(c, [t])))));
        const sequences = await step("sequences", () => resetSequences(client, tables));
        await step("analyze", () => eachTable(connections, tables, order, async (c, t) => (await c.query(analyzeSql(t)), [])));
        await step("grants", () => grant(client, o));
        const done = await client.query(`UPDATE ${versionTable} SET post_load_at = now() WHERE version = $1 AND post_load_at IS NULL`, [
            SCHEMA_VERSION,
        ]);
        if (done.rowCount) changes.push(`recorded post-load of schema version ${SCHEMA_VERSION}`);
        return { phase: "post-load", version: SCHEMA_VERSION, changes, partitions: [], sequences };
    } finally {
        // Fails too inside an aborted transaction: never hide the error that aborted it.
        for (const c of connections) await c.query("RESET ROLE").catch(() => undefined);
    }
}

/** Indexes into `tables` by on-disk size (partitions summed), largest first: the longest work starts first. */
async function largestFirst(client: ClientBase, tables: readonly TargetTable[]): Promise<number[]> {
    const r = await client.query<{ name: string; bytes: string | null }>(
        `SELECT t.name, (SELECT sum(pg_relation_size(l.relid)) FROM (${leafRelationsSql(targetRegclassSql("t.name"))}) l)::text AS bytes
           FROM unnest($1::text[]) AS t(name)`,
        [tables.map((t) => t.name)],
    );
    const size = new Map(r.rows.map((x) => [x.name, Number(x.bytes ?? 0)]));
    return tables.map((_, i) => i).sort((a, b) => (size.get(tables[b].name) ?? 0) - (size.get(tables[a].name) ?? 0));
}

/**
 * Runs `work` for every table in `order`, each connection taking the next table when
 * it is free. The first failure stops new work; running work finishes before it is
 * thrown. The changes come back in the order of `tables`, whatever connection did them.
 */
async function eachTable(
    connections: readonly ClientBase[],
    tables: readonly TargetTable[],
    order: readonly number[],
    work: (c: ClientBase, t: TargetTable) => Promise<string[]>,
): Promise<string[]> {
    const results: string[][] = new Array(tables.length);
    let next = 0;
    let failure: unknown;
    await Promise.all(
        connections.map(async (c) => {
            while (failure === undefined && next < order.length) {
                const i = order[next++];
                try {
                    results[i] = await work(c, tables[i]);
                } catch (err) {
                    failure ??= err;
                }
            }
        }),
    );
    if (failure !== undefined) throw failure;
    return results.flat();
}

async function grant(client: ClientBase, o: ApplySchemaOptions): Promise<void> {
    // As the owner, so the owner is the grantor (as with the default privileges).
    await asRoleInTransaction(client, o.ownerRole, async () => {
        for (const sql of grantSql(TARGET_SCHEMA, o.appRole)) await client.query(sql);
    });
}

/** The newest schema version recorded before this one, or null on a database none was applied to. */
async function latestVersion(client: ClientBase): Promise<number | null> {
    const r = await client.query<{ v: number | null }>(
        `SELECT max(version) AS v FROM ${qualified("schema_version", MIGRATION_SCHEMA)} WHERE version < $1`,
        [SCHEMA_VERSION],
    );
    return r.rows[0].v;
}

async function exists(client: ClientBase, qualifiedName: string): Promise<boolean> {
    const r = await client.query<{ ok: boolean }>("SELECT to_regclass($1) IS NOT NULL AS ok", [qualifiedName]);
    return r.rows[0].ok;
}

/** The TimeZone set on a role in every database (ALTER ROLE ... SET), or null. */
function roleTimeZone(client: ClientBase, role: string): Promise<string | null> {
    return configuredTimeZone(client, "d.setrole = to_regrole($1) AND d.setdatabase = 0", [ident(role)]);
}

/** The TimeZone set on the current database (ALTER DATABASE ... SET), or null. */
function databaseTimeZone(client: ClientBase): Promise<string | null> {
    return configuredTimeZone(
        client,
        "d.setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database()) AND d.setrole = 0",
        [],
    );
}

/** The `timezone` entry of the pg_db_role_setting row `where` picks, or null. */
async function configuredTimeZone(client: ClientBase, where: string, params: unknown[]): Promise<string | null> {
    const r = await client.query<{ tz: string | null }>(
        `SELECT (SELECT substr(s, length('timezone=') + 1) FROM unnest(d.setconfig) s WHERE lower(s) LIKE 'timezone=%') AS tz
           FROM pg_db_role_setting d WHERE ${where}`,
        params,
    );
    return r.rows[0]?.tz ?? null;
}
