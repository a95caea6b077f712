/** Removing what gecko-pg created: the Schema resource's delete with `dropOnDelete`. */
import type { Client } from "pg";
import { asRoleInTransaction } from "../postgres/session";
import { ident } from "../postgres/sql";
import { MIGRATION_SCHEMA, qualified, QUARANTINE_SCHEMA, TARGET_SCHEMA } from "./ddl";
import { TARGET_TABLES } from "./tables";

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
