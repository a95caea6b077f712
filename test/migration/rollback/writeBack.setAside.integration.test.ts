/**
 * A rollback writes back what the copy set aside as the file held it: a row the collector
 * changed in PostgreSQL goes back with its new values, and where PostgreSQL still holds the
 * NULL of a set-aside value, the file gets its raw value again (TEXT that is not UTF-8 as its
 * bytes, an overflowing REAL as the REAL, a 'NaN' text as the text), not a NULL.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import Database from "better-sqlite3";
import { Client } from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { conversionFor } from "../../../migration/data/plan/conversion";
import { mapSourceToTarget } from "../../../migration/data/plan/tableMapping";
import { introspectSource } from "../../../migration/data/source/introspect";
import { clientConfig } from "../../../migration/postgres/connection";
import { writeBackTable } from "../../../migration/rollback/writeBack";
import { TARGET_TABLES } from "../../../migration/schema/tables";
import { createMigrationFixture, HOST_ZONE, type MigrationFixture } from "../../support/migrationFixture";

describe("rollback of set-aside values", () => {
    let fx: MigrationFixture;
    let source: string;
    let pools: [string, string];
    let trade: string;

    beforeAll(async () => {
        fx = await createMigrationFixture("rbaside");
        ({ path: source } = fx.generate("rbaside", { rows: 600, seed: 5 }));
        const db = new Database(source);
        pools = db.prepare("SELECT id FROM pools ORDER BY rowid LIMIT 2").pluck().all() as [string, string];
        trade = db.prepare("SELECT id FROM trades ORDER BY rowid LIMIT 1").pluck().get() as string;
        db.prepare("UPDATE pools SET name = CAST(x'4100ff' AS TEXT) WHERE id = ?").run(pools[0]);
        db.prepare("UPDATE pools SET reserve_usd = 'NaN' WHERE id = ?").run(pools[1]);
        db.prepare("UPDATE trades SET volume_usd = 1e40 WHERE id = ?").run(trade);
        db.close();
        const report = await fx.migrate(source, { allowQuarantine: true });
        expect(report.setAsideValues?.total).toBe(3);
        // The collector changes other columns of those rows after the cutover.
        await fx.query("UPDATE pools SET dex_id = dex_id, address = 'moved' WHERE id = ANY($1)", [pools]);
        await fx.query("UPDATE trades SET side = 'sell-after' WHERE id = $1", [trade]);
    });
    afterAll(async () => fx?.dispose());

    it("writes the changed rows back with the raw values the copy set aside", async () => {
        const copy = path.join(fx.dir, "rollback-into.db");
        fs.copyFileSync(source, copy);
        const db = new Database(copy);
        db.defaultSafeIntegers(true);
        const { tables } = mapSourceToTarget(introspectSource(db), TARGET_TABLES);
        const mapping = (t: string) => tables.find((m) => m.target.name === t)!;
        const conversion = conversionFor({ sourceTimeZone: HOST_ZONE });
        const pg = new Client(clientConfig(fx.target));
        await pg.connect();
        try {
            db.exec("BEGIN");
            const p = await writeBackTable(db, pg, mapping("pools"), conversion, pools);
            const t = await writeBackTable(db, pg, mapping("trades"), conversion, [trade]);
            db.exec("COMMIT");
            expect([...p.inexact, ...t.inexact]).toEqual([]);
            expect(p.upserted + t.upserted).toBe(3);
        } finally {
            await pg.end();
        }
        const row = (sql: string, ...params: unknown[]) => db.prepare(sql).get(...params);
        expect(row("SELECT typeof(name) AS t, hex(CAST(name AS BLOB)) AS h, address FROM pools WHERE id = ?", pools[0])).toEqual({
            t: "text",
            h: "4100FF",
            address: "moved",
        });
        expect(row("SELECT typeof(reserve_usd) AS t, reserve_usd AS v FROM pools WHERE id = ?", pools[1])).toEqual({ t: "text", v: "NaN" });
        expect(row("SELECT typeof(volume_usd) AS t, volume_usd AS v, side FROM trades WHERE id = ?", trade)).toEqual({
            t: "real",
            v: 1e40,
            side: "sell-after",
        });
        db.close();
    });
});
