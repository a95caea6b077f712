/**
 * The `gecko:Schema` dynamic resource's operations (infra/schema.ts calls one
 * function per provider method): the collector tables in the collector
 * database, through `applySchema`.
 *
 * - create/update apply the `tables` phase, then `post-load` unless
 *   `deferPostLoad` (a Migration resource follows and builds indexes and
 *   foreign keys after its bulk load, which is faster). Both phases are
 *   idempotent, so an update is always a full re-apply.
 * - diff: never a replacement. The schema version/checksum (filled in by
 *   `check` from the code), the roles, the TimeZone, `deferPostLoad`,
 *   `dropOnDelete` and the target (host, port, database) are updates; a new
 *   admin user, password or sslmode is an update too (a cheap re-apply that
 *   changes nothing) so the state holds the credentials a later delete needs.
 * - delete leaves the tables (the data!) alone unless `dropOnDelete`; then it
 *   drops the collector tables and the gecko_migration / gecko_quarantine
 *   schemas in one transaction. A failed delete throws (Pulumi keeps the resource).
 */
import { Client } from "pg";
import { clientConfig, describeConnection, type ConnectionSpec } from "../postgres/connection";
import { UNKNOWN } from "../settings/settingsPlan";
import { applySchema, type ApplySchemaOptions } from "./applySchema";
import { ident, MIGRATION_SCHEMA, qualified, schemaChecksum, TARGET_SCHEMA } from "./ddl";
import { SCHEMA_VERSION, TARGET_TABLES } from "./tables";

/** Schema holding the rows a migration could not convert (migration/copy/checkpointStore.ts). */
export const QUARANTINE_SCHEMA = "gecko_quarantine";

/** Inputs of the Schema resource as the provider receives them (after `check`). */
export interface SchemaInputs {
    /** Admin connection to the collector database; kept in state as a secret. */
    readonly connection: ConnectionSpec;
    readonly ownerRole: string;
    readonly appRole: string;
    /** Database TimeZone for new sessions. */
    readonly timeZone: string;
    /** True when a Migration resource follows (it runs the post-load phase after its bulk load). */
    readonly deferPostLoad: boolean;
    /** Drop the collector tables and the migration's schemas on delete. Default false (dev only). */
    readonly dropOnDelete: boolean;
    /** SCHEMA_VERSION of the code that ran `check`, so a new version shows up as a diff. */
    readonly version: number;
    /** schemaChecksum(TARGET_TABLES) of that code. */
    readonly checksum: string;
}

/** Stored state: the inputs plus what the database holds. No credentials beyond `connection`. */
export interface SchemaState extends SchemaInputs {
    /** Collector tables present after the apply, sorted. */
    readonly tables: string[];
    /** Number of changes the last create/update made (0 on an idempotent re-apply). */
    readonly changes: number;
    /** Whether this resource applied the post-load phase or left it to the migration. */
    readonly postLoad: "applied" | "deferred";
}

export interface PropertyDiff {
    readonly kind: "add" | "update" | "delete" | "update-replace";
    readonly inputDiff: boolean;
}

/** Structural twin of pulumi.dynamic.DiffResult plus `detailedDiff`. */
export interface ResourceDiff {
    readonly changes: boolean;
    readonly replaces: string[];
    readonly deleteBeforeReplace: false;
    readonly detailedDiff: Record<string, PropertyDiff>;
}

export interface CheckFailure {
    readonly property: string;
    readonly reason: string;
}

export interface CheckResult {
    readonly inputs: Record<string, unknown>;
    readonly failures: CheckFailure[];
}

// ---- Helpers shared with migration/migrationResource.ts ----

/** The placeholder Pulumi passes for values not known during preview. */
export const isUnknown = (v: unknown): boolean => v === UNKNOWN;

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

/** Validates the connection shape (unknown values pass: they are checked again at create). */
export function checkConnection(conn: unknown, fail: (property: string, reason: string) => void): void {
    if (isUnknown(conn)) return;
    if (typeof conn !== "object" || conn === null) return fail("connection", "required: { host, port, user, password, database }");
    const c = conn as Record<string, unknown>;
    for (const key of ["host", "user", "database"]) {
        if (!isUnknown(c[key]) && (typeof c[key] !== "string" || c[key] === "")) fail(`connection.${key}`, "must be a non-empty string");
    }
    if (!isUnknown(c.port) && !(Number.isInteger(c.port) && (c.port as number) > 0 && (c.port as number) < 65536)) fail("connection.port", "must be a TCP port number");
}

export function checkIdentifier(value: unknown, property: string, fail: (property: string, reason: string) => void): void {
    if (isUnknown(value)) return;
    if (typeof value !== "string" || !IDENTIFIER.test(value)) fail(property, `must be a lower-case identifier (a-z, 0-9, _), got '${String(value)}'`);
}

export function checkTimeZone(value: unknown, property: string, fail: (property: string, reason: string) => void): void {
    if (isUnknown(value)) return;
    try {
        if (typeof value !== "string" || value === "") throw new Error("not a string");
        new Intl.DateTimeFormat("en-US", { timeZone: value });
    } catch {
        fail(property, `must be an IANA time zone such as UTC or Europe/Berlin, got '${String(value)}'`);
    }
}

export function checkBoolean(value: unknown, property: string, fail: (property: string, reason: string) => void): void {
    if (!isUnknown(value) && typeof value !== "boolean") fail(property, `must be true or false, got '${String(value)}'`);
}

/**
 * Connection keys that point at another database: a change means the work has
 * to be done there (an update).
 */
const TARGET_KEYS = ["host", "port", "database"] as const;
/**
 * How we log in: a change does nothing in the database, but must reach the state,
 * or a later refresh or delete would log in with the old password (an update that
 * only stores the new value where the resource allows).
 */
export const CREDENTIAL_KEYS = ["user", "password", "sslmode"] as const;

/** `connection.<key>` entries for a changed target or credential; never a replacement. */
export function diffConnection(olds: unknown, news: unknown, into: Record<string, PropertyDiff>): void {
    const o = (olds ?? {}) as Record<string, unknown>;
    const n = isUnknown(news) ? undefined : ((news ?? {}) as Record<string, unknown>);
    for (const key of [...TARGET_KEYS, ...CREDENTIAL_KEYS]) {
        if (n !== undefined && !isUnknown(n[key]) && o[key] === n[key]) continue;
        // An unknown credential during preview is usually unchanged (a secret resolved at up): say nothing.
        if ((CREDENTIAL_KEYS as readonly string[]).includes(key) && (n === undefined || isUnknown(n[key]))) continue;
        into[`connection.${key}`] = { kind: "update", inputDiff: true };
    }
}

/** `key` entries for each input whose value differs (deep, order-insensitive for objects). */
export function diffValues(olds: Record<string, unknown>, news: Record<string, unknown>, keys: readonly string[], into: Record<string, PropertyDiff>): void {
    for (const key of keys) {
        if (!isUnknown(news[key]) && canonical(olds[key]) === canonical(news[key])) continue;
        into[key] = { kind: olds[key] === undefined ? "add" : news[key] === undefined ? "delete" : "update", inputDiff: true };
    }
}

function canonical(v: unknown): string {
    if (v === undefined) return "undefined";
    if (v && typeof v === "object" && !Array.isArray(v)) {
        return JSON.stringify(Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b))));
    }
    return JSON.stringify(v);
}

export function resourceDiff(detailedDiff: Record<string, PropertyDiff>): ResourceDiff {
    return { changes: Object.keys(detailedDiff).length > 0, replaces: [], deleteBeforeReplace: false, detailedDiff };
}

/** `host:port/database`: stable across updates, no credentials. */
export function resourceId(connection: ConnectionSpec): string {
    return `${connection.host}:${connection.port}/${connection.database}`;
}

/** One autocommit session; a failed connect names the target (never the password) and keeps the cause. */
export async function withSession<T>(what: string, spec: ConnectionSpec, fn: (c: Client) => Promise<T>): Promise<T> {
    const client = new Client(clientConfig(spec, { connectionTimeoutMillis: 10_000, application_name: `gecko-pg ${what}` }));
    try {
        await client.connect();
    } catch (cause) {
        throw new Error(`${what}: cannot connect to ${describeConnection(spec)}: ${(cause as Error).message}`, { cause });
    }
    try {
        return await fn(client);
    } finally {
        await client.end().catch(() => undefined);
    }
}

/** A pg error's message plus its detail (e.g. which view depends on a table). */
export function pgMessage(error: unknown): string {
    const e = error as { message?: string; detail?: string };
    return `${e.message ?? String(error)}${e.detail ? ` (${e.detail.replace(/\n/g, "; ")})` : ""}`;
}

/** Runs `fn` in a transaction as `role` (SET LOCAL ROLE), all or nothing. */
export async function asRoleInTransaction<T>(client: Client, role: string, fn: () => Promise<T>): Promise<T> {
    await client.query("BEGIN");
    try {
        await client.query(`SET LOCAL ROLE ${ident(role)}`);
        const result = await fn();
        await client.query("COMMIT");
        return result;
    } catch (e) {
        await client.query("ROLLBACK").catch(() => undefined);
        throw e;
    }
}

// ---- Provider operations ----

const DIFF_KEYS = ["version", "checksum", "ownerRole", "appRole", "timeZone", "deferPostLoad", "dropOnDelete"] as const;

/** Shape checks, defaults, and the code's schema version/checksum (so preview shows a version bump). */
export function checkSchema(_olds: unknown, news: Record<string, unknown>): CheckResult {
    const failures: CheckFailure[] = [];
    const fail = (property: string, reason: string) => failures.push({ property, reason });
    checkConnection(news.connection, fail);
    checkIdentifier(news.ownerRole, "ownerRole", fail);
    checkIdentifier(news.appRole, "appRole", fail);
    if (!isUnknown(news.ownerRole) && news.ownerRole === news.appRole) fail("appRole", "must differ from ownerRole");
    const inputs: Record<string, unknown> = {
        ...news,
        timeZone: news.timeZone ?? "UTC",
        dropOnDelete: news.dropOnDelete ?? false,
        version: SCHEMA_VERSION,
        checksum: schemaChecksum(TARGET_TABLES),
    };
    checkTimeZone(inputs.timeZone, "timeZone", fail);
    if (news.deferPostLoad === undefined) fail("deferPostLoad", "required: true when a Migration resource follows, false otherwise");
    else checkBoolean(news.deferPostLoad, "deferPostLoad", fail);
    checkBoolean(inputs.dropOnDelete, "dropOnDelete", fail);
    return { inputs, failures };
}

export function diffSchema(olds: Partial<SchemaState>, news: Record<string, unknown>): ResourceDiff {
    const detailedDiff: Record<string, PropertyDiff> = {};
    diffConnection(olds.connection, news.connection, detailedDiff);
    diffValues(olds as Record<string, unknown>, news, DIFF_KEYS, detailedDiff);
    return resourceDiff(detailedDiff);
}

export async function createSchema(inputs: SchemaInputs): Promise<{ id: string; outs: SchemaState }> {
    return { id: resourceId(inputs.connection), outs: await applyInputs(inputs) };
}

/** Re-applies both phases as needed (idempotent: `changes` is 0 when nothing was missing). */
export async function updateSchema(_olds: SchemaState, news: SchemaInputs): Promise<{ outs: SchemaState }> {
    return { outs: await applyInputs(news) };
}

/** Nothing unless `dropOnDelete`; then drops tables and the migration's schemas. Throws on failure. */
export async function deleteSchema(props: SchemaState): Promise<void> {
    if (props.dropOnDelete !== true) return;
    await withSession("schema delete", props.connection, async (client) => {
        try {
            await dropCollectorSchema(client, props.ownerRole);
        } catch (cause) {
            throw new Error(`schema delete: dropping the collector tables in ${describeConnection(props.connection)} failed: ${pgMessage(cause)}`, { cause });
        }
    });
}

/** The collector tables plus gecko_migration and gecko_quarantine, in one transaction as the owner role. */
export async function dropCollectorSchema(client: Client, ownerRole: string): Promise<string[]> {
    return asRoleInTransaction(client, ownerRole, async () => {
        const present = await presentTables(client);
        const dropped: string[] = [];
        // No CASCADE: someone else's view on a collector table makes this fail instead of vanishing silently.
        if (present.length) await client.query(`DROP TABLE ${present.map((t) => qualified(t)).join(", ")}`);
        dropped.push(...present);
        for (const schema of [MIGRATION_SCHEMA, QUARANTINE_SCHEMA]) {
            // Both schemas hold only this project's bookkeeping.
            const r = await client.query("SELECT 1 FROM pg_namespace WHERE nspname = $1", [schema]);
            if (!r.rowCount) continue;
            await client.query(`DROP SCHEMA ${ident(schema)} CASCADE`);
            dropped.push(`schema ${schema}`);
        }
        return dropped;
    });
}

/** Collector tables (TARGET_TABLES) that exist in the target schema, sorted. */
export async function presentTables(client: Client): Promise<string[]> {
    const r = await client.query<{ name: string }>(
        `SELECT c.relname AS name FROM pg_class c
          WHERE c.relnamespace = $1::regnamespace AND c.relkind IN ('r', 'p') AND NOT c.relispartition AND c.relname = ANY($2::text[])
          ORDER BY 1`,
        [TARGET_SCHEMA, TARGET_TABLES.map((t) => t.name)],
    );
    return r.rows.map((x) => x.name);
}

async function applyInputs(inputs: SchemaInputs): Promise<SchemaState> {
    if (inputs.version !== SCHEMA_VERSION || inputs.checksum !== schemaChecksum(TARGET_TABLES)) {
        // check ran with other code than this update: never apply a version the plan did not show.
        throw new Error(`schema: planned version ${inputs.version} (${inputs.checksum.slice(0, 12)}) but this code has version ${SCHEMA_VERSION}; run pulumi up again`);
    }
    const options: ApplySchemaOptions = { ownerRole: inputs.ownerRole, appRole: inputs.appRole, timeZone: inputs.timeZone };
    return withSession("schema", inputs.connection, async (client) => {
        const tables = await applySchema(client, "tables", options);
        const post = inputs.deferPostLoad ? undefined : await applySchema(client, "post-load", options);
        return {
            connection: inputs.connection,
            ownerRole: inputs.ownerRole,
            appRole: inputs.appRole,
            timeZone: inputs.timeZone,
            deferPostLoad: inputs.deferPostLoad,
            dropOnDelete: inputs.dropOnDelete,
            version: tables.version,
            checksum: inputs.checksum,
            tables: await presentTables(client),
            changes: tables.changes.length + (post?.changes.length ?? 0),
            postLoad: post ? "applied" : "deferred",
        };
    });
}
