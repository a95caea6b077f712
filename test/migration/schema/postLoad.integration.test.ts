/**
 * Post-load's sequence reset (migration/schema/postLoad.ts) on a real server: an
 * identity sequence ends past the largest id in the table AND among the rows the
 * migration set aside, so neither a repaired row nor the collector's next insert
 * collides with an id a quarantined row holds.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureCheckpointSchema } from "../../../migration/data/copy/checkpointStore";
import { applySchema } from "../../../migration/schema/applySchema";
import { resetSequences } from "../../../migration/schema/postLoad";
import { TARGET_TABLES } from "../../../migration/schema/tables";
import { createSchemaFixture, type SchemaFixture } from "../../support/schemaFixtures";

describe("resetSequences", () => {
    let f: SchemaFixture;
    const watchlist = TARGET_TABLES.filter((t) => t.name === "watchlist");
    const quarantine = (id: string) =>
        f.admin.query(
            `INSERT INTO gecko_quarantine.rows (table_name, row_key, stage, reason, row_data, source_rowid)
             VALUES ('watchlist', jsonb_build_object('id', $1::text), 'convert', 'test: set aside', '{}', 1)`,
            [id],
        );

    beforeAll(async () => {
        f = await createSchemaFixture("seq");
        const opts = { ownerRole: f.ownerRole, appRole: f.appRole };
        await applySchema(f.admin, "tables", opts);
        await f.admin
            .query(`INSERT INTO pools (id, dex_id, name, address) VALUES ('p1', 'd', 'n', 'a'), ('p2', 'd', 'n', 'b')`)
            .catch(() => undefined);
        await ensureCheckpointSchema(f.admin, f.ownerRole);
    });
    afterAll(async () => f?.cleanup());

    it("ends past the largest id of the table, and of its quarantined rows", async () => {
        await f.admin.query("INSERT INTO watchlist (id, pool_id) OVERRIDING SYSTEM VALUE VALUES (5, 'p1')");
        const [plain] = await resetSequences(f.admin, watchlist);
        expect(plain).toMatchObject({ table: "watchlist", column: "id", maxId: "5", lastValue: "5" });

        await quarantine("41");
        await quarantine("not-a-number"); // a key that failed to convert cannot hold a sequence value
        const [past] = await resetSequences(f.admin, watchlist);
        expect(past).toMatchObject({ maxId: "5", lastValue: "41" });
        const next = await f.admin.query<{ id: string }>("INSERT INTO watchlist (pool_id) VALUES ('p2') RETURNING id");
        expect(next.rows[0].id).toBe("42");
    });
});
