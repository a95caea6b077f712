import { describe, expect, it } from "vitest";
import { adminUrl, createScratchDatabase, withClient } from "../../support/db";

describe("local PostgreSQL harness", () => {
    it("serves a reachable superuser connection and scratch databases", async () => {
        const db = await createScratchDatabase("harness");
        try {
            const row = await withClient(db.url, (c) =>
                c.query("select current_database() db, current_setting('is_superuser') su").then((r) => r.rows[0]),
            );
            expect(row).toEqual({ db: db.name, su: "on" });
        } finally {
            await db.drop();
        }
        const gone = await withClient(adminUrl(), (c) => c.query("select 1 from pg_database where datname = $1", [db.name]));
        expect(gone.rowCount).toBe(0);
    });
});
