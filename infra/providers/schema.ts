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
import { describeConnection, type ConnectionSpec } from "../../migration/postgres/connection";
import { pgMessage, withSession } from "../../migration/postgres/session";
import { applySchema, type ApplySchemaOptions } from "../../migration/schema/applySchema";
import { schemaChecksum } from "../../migration/schema/ddl";
import { dropCollectorSchema, presentTables } from "../../migration/schema/dropSchema";
import { SCHEMA_VERSION, TARGET_TABLES } from "../../migration/schema/tables";
import {
    checkBoolean,
    checkConnection,
    checkIdentifier,
    checkTimeZone,
    diffConnection,
    diffValues,
    isUnknown,
    resourceDiff,
    resourceId,
    type CheckFailure,
    type CheckResult,
    type PropertyDiff,
    type ResourceDiff,
} from "./kit";

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
            throw new Error(
                `schema delete: dropping the collector tables in ${describeConnection(props.connection)} failed: ${pgMessage(cause)}`,
                { cause },
            );
        }
    });
}

async function applyInputs(inputs: SchemaInputs): Promise<SchemaState> {
    if (inputs.version !== SCHEMA_VERSION || inputs.checksum !== schemaChecksum(TARGET_TABLES)) {
        // check ran with other code than this update: never apply a version the plan did not show.
        throw new Error(
            `schema: planned version ${inputs.version} (${inputs.checksum.slice(0, 12)}) but this code has version ${SCHEMA_VERSION}; run pulumi up again`,
        );
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
