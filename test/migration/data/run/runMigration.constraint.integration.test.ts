/**
 * Rows the converters accept but the target's constraints refuse: two source
 * rows that SQLite keeps apart (different text) become the same key once
 * converted. The chunk falls back to row-by-row inserts, exactly the refused
 * row is quarantined (stage `constraint`), and validation still balances.
 */
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMigrationFixture, tableReport, type MigrationFixture } from "../../../support/migrationFixture";

describe.each([0, 2])("a unique key that only collides after conversion (convert workers: %i)", (convertWorkers) => {
    let fx: MigrationFixture;
    let source: string;
    let twin: { id: number; pool_id: string; collected_at: string };

    beforeAll(async () => {
        fx = await createMigrationFixture("uniq");
        ({ path: source } = fx.generate("uniq", { rows: 1500, seed: 11 }));
        const db = new Database(source);
        const row = db
            .prepare("SELECT id, pool_id, collected_at FROM new_pools_history WHERE collected_at LIKE '% %' ORDER BY id LIMIT 1")
            .get() as typeof twin;
        // The same instant written with a T separator: a distinct string for SQLite's UNIQUE, equal as timestamptz.
        const sameInstant = row.collected_at.replace(" ", "T");
        const max = (db.prepare("SELECT max(id) AS m FROM new_pools_history").get() as { m: number }).m;
        db.prepare("INSERT INTO new_pools_history (id, pool_id, collected_at) VALUES (?, ?, ?)").run(max + 1, row.pool_id, sameInstant);
        db.close();
        twin = { id: max + 1, pool_id: row.pool_id, collected_at: sameInstant };
    });
    afterAll(async () => fx?.dispose());

    it("quarantines exactly the refused row with the constraint named, and the counts and checksums balance", async () => {
        const report = await fx.migrate(source, { allowQuarantine: true, convertWorkers });
        const t = tableReport(report, "new_pools_history");
        expect(t.validation!.countsMatch).toBe(true);
        expect(t.validation!.mismatchedBuckets).toEqual([]);
        expect(t.validation!.quarantinedRows).toBe(1);
        expect(report.ok).toBe(true);
        const q = await fx.query<{ stage: string; source_rowid: string; reason: string; row_data: Record<string, string> }>(
            "SELECT stage, source_rowid::text, reason, row_data FROM gecko_quarantine.rows WHERE table_name = 'new_pools_history'",
        );
        expect(q).toHaveLength(1);
        expect(q[0].stage).toBe("constraint");
        expect(q[0].source_rowid).toBe(String(twin.id));
        expect(q[0].reason).toContain("uq_new_pools_history_pool_collected");
        expect(q[0].row_data.collected_at).toBe(twin.collected_at);
        const kept = await fx.query<{ n: string }>("SELECT count(*) AS n FROM new_pools_history WHERE pool_id = $1 AND id = $2", [
            twin.pool_id,
            twin.id,
        ]);
        expect(kept[0].n).toBe("0");
    });

    it("is refused (not ok) without allowQuarantine, and validation agrees after a rescan", async () => {
        const v = await fx.validate(source);
        expect(tableReport(v, "new_pools_history").validation!.countsMatch).toBe(true);
        expect(tableReport(v, "new_pools_history").validation!.mismatchedBuckets).toEqual([]);
        expect(v.ok).toBe(false);
        expect(v.failures.join("\n")).toMatch(/1 rows quarantined/);
    });
});

describe("two token ids for one (network, address): the PostgreSQL model's uq_tokens_network_address", () => {
    let fx: MigrationFixture;
    let source: string;
    let kept: { id: string; network: string; address: string };
    let twinId: string;

    beforeAll(async () => {
        fx = await createMigrationFixture("uqtok");
        ({ path: source } = fx.generate("uqtok", { rows: 1500, seed: 12 }));
        const db = new Database(source);
        kept = db.prepare("SELECT id, network, address FROM tokens ORDER BY rowid LIMIT 1").get() as typeof kept;
        // The doubled-prefix id some real files carry, for the same token.
        twinId = `${kept.network}_${kept.id}`;
        db.prepare("INSERT INTO tokens (id, address, name, symbol, network) VALUES (?, ?, 'twin', 'TWN', ?)").run(
            twinId,
            kept.address,
            kept.network,
        );
        db.close();
    });
    afterAll(async () => fx?.dispose());

    it("keeps the first id in rowid order, sets the other aside naming the constraint, and balances", async () => {
        const report = await fx.migrate(source, { allowQuarantine: true });
        const t = tableReport(report, "tokens");
        expect(t.validation!.countsMatch).toBe(true);
        expect(t.validation!.mismatchedBuckets).toEqual([]);
        expect(report.ok).toBe(true);
        const q = await fx.query<{ stage: string; key: string; reason: string }>(
            "SELECT stage, row_key->>'id' AS key, reason FROM gecko_quarantine.rows WHERE table_name = 'tokens'",
        );
        expect(q).toEqual([{ stage: "constraint", key: twinId, reason: expect.stringContaining("uq_tokens_network_address") }]);
        const rows = await fx.query<{ id: string }>("SELECT id FROM tokens WHERE network = $1 AND address = $2", [
            kept.network,
            kept.address,
        ]);
        expect(rows).toEqual([{ id: kept.id }]);
    });
});

describe("a rerun after the source is fixed", () => {
    let fx: MigrationFixture;
    let source: string;
    let dex: string;

    beforeAll(async () => {
        fx = await createMigrationFixture("fixed");
        ({ path: source } = fx.generate("fixed", { rows: 1500, seed: 13 }));
        const db = new Database(source);
        dex = (db.prepare("SELECT id FROM dexes ORDER BY rowid LIMIT 1").get() as { id: string }).id;
        // name is NOT NULL: a value it cannot hold sets the whole row aside (a nullable one would cost only the value).
        db.prepare("UPDATE dexes SET name = ? WHERE id = ?").run("d".repeat(201), dex);
        db.close();
    });
    afterAll(async () => fx?.dispose());

    it("copies the set-aside row once its value converts, leaving quarantine empty, and validates", async () => {
        const first = await fx.migrate(source);
        expect(first.ok).toBe(false);
        expect(first.quarantine.examples.map((e) => [e.table, e.column])).toContainEqual(["dexes", "name"]);
        // Its pools were orphans then: set aside too.
        const orphans = Number(
            (await fx.query<{ n: string }>("SELECT count(*) AS n FROM gecko_quarantine.rows WHERE stage = 'orphan'"))[0].n,
        );
        expect(orphans).toBeGreaterThan(0);
        // The report says what the dex took with it: its pools, and their candles, trades and watchlist rows.
        const byTable = await fx.query<{ table_name: string }>(
            "SELECT DISTINCT table_name FROM gecko_quarantine.rows WHERE stage = 'orphan'",
        );
        expect(byTable.map((r) => r.table_name)).toEqual(expect.arrayContaining(["pools", "trades"]));
        expect(first.quarantine.examples.find((e) => e.table === "dexes")?.descendants).toBe(orphans);

        const db = new Database(source);
        db.prepare("UPDATE dexes SET name = 'Fixed Dex' WHERE id = ?").run(dex);
        db.close();
        const second = await fx.migrate(source);
        expect(second.failures).toEqual([]);
        expect(tableReport(second, "dexes").rowsRecoveredThisRun).toBe(1);
        expect(second.quarantine.total).toBe(0);
        expect(await fx.query("SELECT name FROM dexes WHERE id = $1", [dex])).toEqual([{ name: "Fixed Dex" }]);
        const v = await fx.validate(source);
        expect(v.failures).toEqual([]);
    });
});
