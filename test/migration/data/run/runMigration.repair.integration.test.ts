/**
 * `--repair`: a Python literal in a JSON column is set aside with `--repair none` (NULL in its
 * row) and recovered by the default; a rerun with the repair on writes the value into its row
 * (the repair recorded then), and validation balances either way.
 */
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMigrationFixture, tableReport, type MigrationFixture } from "../../../support/migrationFixture";

describe("repairs", () => {
    let fx: MigrationFixture;
    let source: string;
    let pool: string;

    beforeAll(async () => {
        fx = await createMigrationFixture("repair");
        ({ path: source } = fx.generate("repair", { rows: 1500, seed: 21 }));
        const db = new Database(source);
        pool = db.prepare("SELECT id FROM pools ORDER BY id LIMIT 1").pluck().get() as string;
        db.prepare("UPDATE pools SET metadata_json = ? WHERE id = ?").run("{'fee_tier': '0.3', 'tags': ('new', None), 'hot': True}", pool);
        db.close();
    });
    afterAll(async () => fx?.dispose());

    it("--repair none sets the literal aside with its key, column and reason", async () => {
        const report = await fx.migrate(source, { repairs: [] });
        expect(report.ok).toBe(false);
        const [q] = await fx.query<{ reason: string; column_name: string }>(
            "SELECT reason, column_name FROM gecko_quarantine.set_aside_values WHERE table_name = 'pools' AND row_key->>'id' = $1",
            [pool],
        );
        expect(q).toMatchObject({ column_name: "metadata_json", reason: expect.stringContaining("is not valid jsonb") });
        expect(await fx.query("SELECT metadata_json FROM pools WHERE id = $1", [pool])).toEqual([{ metadata_json: null }]);
        expect(report.repairs?.total).toBe(0);
    });

    it("a rerun with the repair writes the value into its row: the JSON it means, the raw text kept, validation ok", async () => {
        const report = await fx.migrate(source);
        expect(report.failures).toEqual([]);
        expect(tableReport(report, "pools").valuesRecoveredThisRun).toBe(1);
        const [row] = await fx.query<{ m: unknown }>("SELECT metadata_json AS m FROM pools WHERE id = $1", [pool]);
        expect(row.m).toEqual({ fee_tier: "0.3", tags: ["new", null], hot: true });
        const kept = await fx.query<{ raw_value: string; kind: string }>(
            "SELECT raw_value, kind FROM gecko_quarantine.repairs WHERE table_name = 'pools' AND row_key->>'id' = $1",
            [pool],
        );
        expect(kept).toEqual([{ raw_value: "{'fee_tier': '0.3', 'tags': ('new', None), 'hot': True}", kind: "python-repr-repaired" }]);
        expect(report.repairs?.total).toBe(1);
        expect((await fx.query("SELECT 1 FROM gecko_quarantine.set_aside_values WHERE row_key->>'id' = $1", [pool])).length).toBe(0);
        expect((await fx.validate(source)).failures).toEqual([]);
    });
});
