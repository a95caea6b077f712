import { describe, expect, it } from "vitest";
import { redactUrl, withDatabase } from "../migration/postgres/localServer";
import { adminUrl, createScratchDatabase, withClient } from "./support/db";

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

    it("redacts passwords and swaps databases in URLs", () => {
        expect(redactUrl("postgresql://u:s3cr%40t@h:5/db")).toBe("postgresql://u:****@h:5/db");
        expect(withDatabase("postgresql://u:p@h:5/db?sslmode=disable", "other")).toBe("postgresql://u:p@h:5/other?sslmode=disable");
    });
});
