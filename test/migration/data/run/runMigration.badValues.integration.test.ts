/**
 * Bad values cost what they must and no more, and a rerun after the source is fixed converges:
 * - TEXT whose bytes are not UTF-8 is never changed silently: set aside with the byte offset
 *   and its bytes in hex (the row kept), repaired on request only (`--repair utf8`), and two
 *   keys that differ only in bad bytes stay two (both set aside), never merged;
 * - an unparseable value in a nullable column outside every key costs that value: NULL in its
 *   row, the row and its children copied, the value listed in gecko_quarantine.set_aside_values;
 * - a rerun after the source is fixed writes the value into its row and closes the entry, and
 *   validation balances (the chunk's checksum follows the row).
 */
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMigrationFixture, tableReport, type MigrationFixture } from "../../../support/migrationFixture";

describe("bad values", () => {
    let fx: MigrationFixture;
    let source: string;
    let pool: string;
    let dex: string;
    let tokensBefore: number;

    beforeAll(async () => {
        fx = await createMigrationFixture("badvalues");
        ({ path: source } = fx.generate("badvalues", { rows: 3000, seed: 17 }));
        const db = new Database(source);
        pool = db.prepare("SELECT id FROM pools ORDER BY id LIMIT 1").pluck().get() as string;
        dex = db.prepare("SELECT dex_id FROM pools GROUP BY dex_id ORDER BY count(*) DESC LIMIT 1").pluck().get() as string;
        db.prepare("UPDATE pools SET name = CAST(x'fffe41' AS TEXT) WHERE id = ?").run(pool);
        db.prepare("UPDATE dexes SET last_updated = 'yesterday-ish' WHERE id = ?").run(dex);
        // Two token ids that differ only in their invalid bytes: better-sqlite3 reads both as "\uFFFD\uFFFDdup".
        const token = db.prepare("SELECT * FROM tokens LIMIT 1").get() as Record<string, unknown>;
        const cols = Object.keys(token).filter((c) => c !== "id" && c !== "address");
        const insert = db.prepare(
            `INSERT INTO tokens (id, address, ${cols.join(", ")}) VALUES (CAST(? AS TEXT), ?, ${cols.map(() => "?").join(", ")})`,
        );
        insert.run(Buffer.from("fffe647570", "hex"), "dup-a", ...cols.map((c) => token[c]));
        insert.run(Buffer.from("fefe647570", "hex"), "dup-b", ...cols.map((c) => token[c]));
        tokensBefore = db.prepare("SELECT count(*) FROM tokens").pluck().get() as number;
        db.close();
    });
    afterAll(async () => fx?.dispose());

    it("sets aside invalid UTF-8 and an unparseable time as values, keeping their rows and every child", async () => {
        const report = await fx.migrate(source);
        expect(report.ok).toBe(false);
        const values = await fx.query<{ table_name: string; column_name: string; raw_value: string; raw_type: string; reason: string }>(
            "SELECT table_name, column_name, raw_value, raw_type, reason FROM gecko_quarantine.set_aside_values ORDER BY table_name",
        );
        expect(values).toEqual([
            {
                table_name: "dexes",
                column_name: "last_updated",
                raw_value: "yesterday-ish",
                raw_type: "text",
                reason: expect.stringContaining("yesterday-ish"),
            },
            {
                table_name: "pools",
                column_name: "name",
                raw_value: "x'fffe41'",
                raw_type: "text (hex)",
                reason: "invalid UTF-8 at byte 0 (x'fffe41')",
            },
        ]);
        const [p] = await fx.query<{ name: string | null }>("SELECT name FROM pools WHERE id = $1", [pool]);
        expect(p.name).toBeNull();
        // The dex and everything below it stay: no orphan, no quarantined pool, candle or trade.
        expect(await fx.query("SELECT 1 FROM dexes WHERE id = $1", [dex])).toHaveLength(1);
        const quarantined = await fx.query<{ table_name: string; row_key: { id: string }; reason: string }>(
            "SELECT table_name, row_key, reason FROM gecko_quarantine.rows ORDER BY id",
        );
        expect(quarantined.map((q) => q.table_name)).toEqual(["tokens", "tokens"]);
        // The two keys are told apart by their bytes, neither merged into the other.
        expect(quarantined.map((q) => q.row_key.id).sort()).toEqual(["x'fefe647570'", "x'fffe647570'"]);
        for (const q of quarantined) expect(q.reason).toMatch(/^id: invalid UTF-8 at byte 0 \(x'f[ef]fe647570'\)/);
        expect(report.setAsideValues).toMatchObject({ total: 2, byColumn: { "dexes.last_updated": 1, "pools.name": 1 } });
        expect(report.failures.join("\n")).toMatch(/2 values set aside in gecko_quarantine.set_aside_values/);
        for (const t of report.tables) expect(t.validation?.mismatchedBuckets ?? [], t.table).toEqual([]);
        const [{ n }] = await fx.query<{ n: string }>("SELECT count(*) AS n FROM tokens");
        expect(Number(n)).toBe(tokensBefore - 2);
    });

    it("a rerun after the source is fixed writes the values into their rows and validates", async () => {
        const db = new Database(source);
        db.prepare("UPDATE pools SET name = 'Fixed Pool' WHERE id = ?").run(pool);
        db.prepare("UPDATE dexes SET last_updated = '2025-01-02 03:04:05' WHERE id = ?").run(dex);
        db.close();
        const report = await fx.migrate(source, { allowQuarantine: true });
        expect(report.failures).toEqual([]);
        expect(tableReport(report, "pools")).toMatchObject({ valuesRetriedThisRun: 1, valuesRecoveredThisRun: 1 });
        expect(tableReport(report, "dexes")).toMatchObject({ valuesRetriedThisRun: 1, valuesRecoveredThisRun: 1 });
        expect(await fx.query("SELECT 1 FROM gecko_quarantine.set_aside_values")).toEqual([]);
        const [p] = await fx.query<{ name: string }>("SELECT name FROM pools WHERE id = $1", [pool]);
        expect(p.name).toBe("Fixed Pool");
        const [d] = await fx.query<{ t: string }>("SELECT last_updated::text AS t FROM dexes WHERE id = $1", [dex]);
        expect(d.t).toMatch(/^2025-01-02 /);
        // The recorded checksums followed the rows: a full re-read of the source agrees.
        const validation = await fx.validate(source, { allowQuarantine: true });
        expect(validation.failures).toEqual([]);
    });

    it("--repair utf8 stores the text with U+FFFD on request, counted as a repair with the bytes kept; keys are never repaired", async () => {
        const db = new Database(source);
        db.prepare("UPDATE pools SET name = CAST(x'fffe41' AS TEXT) WHERE id = ?").run(pool);
        db.close();
        const fresh = await createMigrationFixture("badvaluesutf8");
        try {
            const report = await fresh.migrate(source, { repairs: ["python-repr", "utf8"], allowQuarantine: true });
            expect(report.setAsideValues?.total).toBe(0);
            const [p] = await fresh.query<{ name: string }>("SELECT name FROM pools WHERE id = $1", [pool]);
            expect(p.name).toBe("\uFFFD\uFFFDA");
            const repairs = await fresh.query(
                "SELECT column_name, kind, raw_value FROM gecko_quarantine.repairs WHERE table_name = 'pools'",
            );
            expect(repairs).toEqual([{ column_name: "name", kind: "utf8-replaced", raw_value: "x'fffe41'" }]);
            // The token keys stay set aside: repairing them would merge two keys into one.
            const keys = await fresh.query("SELECT 1 FROM gecko_quarantine.rows WHERE table_name = 'tokens'");
            expect(keys).toHaveLength(2);
            for (const t of report.tables) expect(t.validation?.mismatchedBuckets ?? [], t.table).toEqual([]);
        } finally {
            await fresh.dispose();
        }
    });

    it("a quarantined row that comes back with a value still bad keeps that value set aside, never a silent NULL", async () => {
        const fresh = await createMigrationFixture("badvaluesback");
        try {
            const { path: file } = fresh.generate("back", { rows: 600, seed: 3 });
            const db = new Database(file);
            const id = db.prepare("SELECT id FROM dexes ORDER BY rowid LIMIT 1").pluck().get() as string;
            const setName = db.prepare("UPDATE dexes SET name = ? WHERE id = ?");
            setName.run("n".repeat(300), id); // NOT NULL: the row is quarantined
            db.prepare("UPDATE dexes SET last_updated = 'soon' WHERE id = ?").run(id);
            db.close();
            const first = await fresh.migrate(file, { allowQuarantine: true });
            expect(first.quarantine.examples[0]).toMatchObject({ table: "dexes", column: "name" });
            const fixing = new Database(file);
            fixing.prepare("UPDATE dexes SET name = 'Fixed' WHERE id = ?").run(id);
            fixing.close();
            const second = await fresh.migrate(file, { allowQuarantine: true });
            expect(tableReport(second, "dexes").rowsRecoveredThisRun).toBe(1);
            expect(await fresh.query("SELECT name, last_updated FROM dexes WHERE id = $1", [id])).toEqual([
                { name: "Fixed", last_updated: null },
            ]);
            expect(await fresh.query("SELECT column_name, raw_value FROM gecko_quarantine.set_aside_values")).toEqual([
                { column_name: "last_updated", raw_value: "soon" },
            ]);
            expect(second.setAsideValues?.total).toBe(1);
        } finally {
            await fresh.dispose();
        }
    });
});
