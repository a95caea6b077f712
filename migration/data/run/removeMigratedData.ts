/** Undoing a migration's data: the Migration resource's delete with `dropOnDelete`. */
import type { Client } from "pg";
import { asRoleInTransaction } from "../../postgres/session";
import { ident } from "../../postgres/sql";
import { MIGRATION_SCHEMA, qualified, QUARANTINE_SCHEMA } from "../../schema/ddl";
import { presentTables } from "../../schema/dropSchema";

/**
 * Empties the collector tables, drops `extraTables`, clears the checkpoints,
 * placeholders, sync state, cutovers and quarantine (a new migration then starts from scratch), as
 * the owner role in one transaction. Keeps gecko_migration.runs and schema_version.
 */
export async function removeMigratedData(client: Client, ownerRole: string, extraTables: readonly string[]): Promise<string[]> {
    return asRoleInTransaction(client, ownerRole, async () => {
        const done: string[] = [];
        for (const t of extraTables) {
            await client.query(`DROP TABLE IF EXISTS ${qualified(t)}`);
            done.push(`dropped ${t}`);
        }
        const bookkeeping = [
            [MIGRATION_SCHEMA, "tables"],
            [MIGRATION_SCHEMA, "chunks"],
            [MIGRATION_SCHEMA, "placeholders"],
            [MIGRATION_SCHEMA, "sync_state"],
            // Starting over: a recorded cutover would make the next copy refuse.
            [MIGRATION_SCHEMA, "cutovers"],
            [QUARANTINE_SCHEMA, "rows"],
            [QUARANTINE_SCHEMA, "repairs"],
        ] as const;
        const targets = (await presentTables(client)).map((t) => qualified(t));
        for (const [schema, table] of bookkeeping) {
            const r = await client.query<{ ok: boolean }>("SELECT to_regclass($1) IS NOT NULL AS ok", [`${ident(schema)}.${ident(table)}`]);
            if (r.rows[0].ok) targets.push(`${ident(schema)}.${ident(table)}`);
        }
        if (targets.length) {
            await client.query(`TRUNCATE ${targets.join(", ")} RESTART IDENTITY`);
            done.push(`emptied ${targets.join(", ")}`);
        }
        return done;
    });
}
