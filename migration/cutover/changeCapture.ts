/**
 * What the collector writes to PostgreSQL after the cutover, captured for a rollback: a row
 * trigger on every collector table appends (table, operation, key) to gecko_migration.changes
 * in the writing transaction. Armed in the cutover's record step (same transaction as the
 * record, so no write after the switch escapes it), disarmed by a rollback or a finalize.
 * The trigger function is SECURITY DEFINER (owned by the owner role): the collector's role
 * needs no privilege on the bookkeeping schema.
 */
import type { ClientBase } from "pg";
import { ident, literal } from "../postgres/sql";
import { TARGET_TABLES } from "../schema/tables";

export const CAPTURE_TRIGGER = "gecko_capture_change";

const CAPTURE_DDL = `
CREATE TABLE IF NOT EXISTS gecko_migration.changes (
    seq        bigserial PRIMARY KEY,
    table_name text NOT NULL,
    op         text NOT NULL CHECK (op IN ('I', 'U', 'D')),
    row_key    text NOT NULL,
    -- the row before an update or delete: the first one per key is the row as the cutover left it
    old_row    jsonb,
    changed_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
ALTER TABLE gecko_migration.changes ADD COLUMN IF NOT EXISTS old_row jsonb;
-- TG_ARGV: the collector table's name (a partition's trigger sees the partition's) and its key column.
CREATE OR REPLACE FUNCTION gecko_migration.capture_change() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        INSERT INTO gecko_migration.changes (table_name, op, row_key, old_row) VALUES (TG_ARGV[0], 'D', to_jsonb(OLD) ->> TG_ARGV[1], to_jsonb(OLD));
        RETURN OLD;
    END IF;
    IF TG_OP = 'UPDATE' AND (to_jsonb(OLD) ->> TG_ARGV[1]) IS DISTINCT FROM (to_jsonb(NEW) ->> TG_ARGV[1]) THEN
        INSERT INTO gecko_migration.changes (table_name, op, row_key, old_row) VALUES (TG_ARGV[0], 'D', to_jsonb(OLD) ->> TG_ARGV[1], to_jsonb(OLD));
        INSERT INTO gecko_migration.changes (table_name, op, row_key) VALUES (TG_ARGV[0], 'I', to_jsonb(NEW) ->> TG_ARGV[1]);
        RETURN NEW;
    END IF;
    INSERT INTO gecko_migration.changes (table_name, op, row_key, old_row)
    VALUES (TG_ARGV[0], left(TG_OP, 1), to_jsonb(NEW) ->> TG_ARGV[1], CASE WHEN TG_OP = 'UPDATE' THEN to_jsonb(OLD) END);
    RETURN NEW;
END
$$;`;

/** The collector tables this database holds, with their key column. */
async function presentCollectorTables(pg: ClientBase): Promise<{ name: string; key: string }[]> {
    const r = await pg.query<{ name: string }>(
        "SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND c.relname = ANY($1)",
        [TARGET_TABLES.map((t) => t.name)],
    );
    const present = new Set(r.rows.map((x) => x.name));
    return TARGET_TABLES.filter((t) => present.has(t.name)).map((t) => ({ name: t.name, key: t.rowKey[0] }));
}

/** Creates the change log and the triggers (idempotent); run inside the caller's transaction as the owner role. */
export async function armChangeCapture(pg: ClientBase): Promise<string[]> {
    await pg.query(CAPTURE_DDL);
    const tables = await presentCollectorTables(pg);
    for (const t of tables) {
        await pg.query(`DROP TRIGGER IF EXISTS ${CAPTURE_TRIGGER} ON ${ident(t.name)}`);
        await pg.query(
            `CREATE TRIGGER ${CAPTURE_TRIGGER} AFTER INSERT OR UPDATE OR DELETE ON ${ident(t.name)} FOR EACH ROW EXECUTE FUNCTION gecko_migration.capture_change(${literal(t.name)}, ${literal(t.key)})`,
        );
    }
    return tables.map((t) => t.name);
}

/** Drops the triggers (the change log stays, as history). */
export async function disarmChangeCapture(pg: ClientBase): Promise<void> {
    for (const t of await presentCollectorTables(pg)) await pg.query(`DROP TRIGGER IF EXISTS ${CAPTURE_TRIGGER} ON ${ident(t.name)}`);
}
