/**
 * Collector files whose span crosses both DST changes of the host's zone, in two zones: every
 * OHLCV candle lands on its true instant (the repeated hour of the fall-back decided by the
 * row's own epoch, which the collector derived the wall clock from), the ground truths hold,
 * and the sync pass and a rollback's write-back follow the same rule.
 */
import * as fs from "node:fs";
import Database from "better-sqlite3";
import { Client } from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { conversionFor } from "../../../../migration/data/plan/conversion";
import { mapSourceToTarget } from "../../../../migration/data/plan/tableMapping";
import { introspectSource } from "../../../../migration/data/source/introspect";
import { clientConfig } from "../../../../migration/postgres/connection";
import { writeBackTable } from "../../../../migration/rollback/writeBack";
import { TARGET_TABLES } from "../../../../migration/schema/tables";
import { createMigrationFixture, tableReport, type MigrationFixture } from "../../../support/migrationFixture";

/** A wall clock in the hour each zone's 2025 fall-back repeats. */
const REPEATED = { "America/Denver": "2025-11-02 01:30:00.000000", "Europe/Berlin": "2025-10-26 02:30:00.000000" } as const;

describe.each(["America/Denver", "Europe/Berlin"] as const)("a collector file across both DST changes in %s", (zone) => {
    let fx: MigrationFixture;
    let source: string;
    let undecidedId: bigint;

    beforeAll(async () => {
        fx = await createMigrationFixture("dst");
        ({ path: source } = fx.generate("dst", { rows: 20000, seed: 4, hostTimeZone: zone, endAt: "2025-11-20T00:00:00Z", months: 10 }));
        // A new-pool sighting in the repeated hour: its row holds nothing that says which of the two it was.
        const db = new Database(source);
        db.defaultSafeIntegers(true);
        const others = (
            db
                .prepare("SELECT name FROM pragma_table_info('new_pools_history') WHERE name NOT IN ('id', 'collected_at')")
                .pluck()
                .all() as string[]
        )
            .map((c) => `"${c}"`)
            .join(", ");
        undecidedId = db
            .prepare(
                `INSERT INTO new_pools_history (${others}, collected_at) SELECT ${others}, ? FROM new_pools_history ORDER BY id LIMIT 1`,
            )
            .run(REPEATED[zone]).lastInsertRowid as bigint;
        db.close();
    });
    afterAll(async () => fx?.dispose());

    it("stores every candle at the instant its epoch names, the repeated hour decided by the row's epoch", async () => {
        const report = await fx.migrate(source, { sourceTimeZone: zone, allowQuarantine: true });
        expect(report.failures).toEqual([]);
        const ohlcv = tableReport(report, "ohlcv_data");
        // The repeated hour holds candles, and each was decided by its epoch: none read as the later instant.
        expect(ohlcv.conversionWarnings?.["datetime: dst-resolved-by-epoch"]).toBeGreaterThan(0);
        expect(ohlcv.conversionWarnings?.["datetime: dst-ambiguous"]).toBeUndefined();
        const off = await fx.query<{ n: string }>("SELECT count(*) AS n FROM ohlcv_data WHERE datetime <> to_timestamp(timestamp)");
        expect(off[0].n).toBe("0");
        expect(report.groundTruths?.map((g) => [g.table, g.mismatches])).toEqual([
            ["ohlcv_data", 0],
            ["trades", 0],
        ]);
        // A local time nothing in its row decides is set aside by default, never silently an hour off.
        const undecided = await fx.query<{ table_name: string; column_name: string; raw_value: string; reason: string }>(
            "SELECT table_name, column_name, raw_value, reason FROM gecko_quarantine.rows WHERE reason LIKE '%DST%'",
        );
        expect(undecided.map((q) => [q.table_name, q.column_name, q.raw_value])).toEqual([
            ["new_pools_history", "collected_at", REPEATED[zone]],
        ]);
        for (const q of undecided) {
            expect(q.reason).toMatch(
                /names two instants \(a DST fall-back repeats it\) .* nothing in the row decides it \(--ambiguous-time earlier\|later chooses\)/,
            );
        }
        expect(report.quarantine.total).toBe(undecided.length);
    });

    it("takes the reading the operator chooses: a rerun with --ambiguous-time earlier copies the set-aside row at the earlier instant", async () => {
        const report = await fx.migrate(source, { sourceTimeZone: zone, ambiguousTime: "earlier" });
        expect(report.failures).toEqual([]);
        expect(report.quarantine.total).toBe(0);
        expect(tableReport(report, "new_pools_history").rowsRecoveredThisRun).toBe(1);
        const [at] = await fx.query<{ utc: string }>(
            "SELECT to_char(collected_at AT TIME ZONE 'UTC', 'HH24:MI') AS utc FROM new_pools_history WHERE id = $1",
            [undecidedId],
        );
        expect(at.utc).toBe(zone === "America/Denver" ? "07:30" : "00:30"); // 01:30 MDT; 02:30 CEST
    });

    it("writes the repeated hour back as the wall clock the collector wrote (rollback), each value exact", async () => {
        const copy = `${source}.rollback-copy.db`;
        fs.copyFileSync(source, copy);
        const db = new Database(copy);
        db.defaultSafeIntegers(true);
        const before = new Map(
            (db.prepare("SELECT id, datetime FROM ohlcv_data").all() as { id: bigint; datetime: string }[]).map((r) => [
                String(r.id),
                r.datetime,
            ]),
        );
        // Every candle of the day of the fall-back: the repeated hour's both passes among them.
        const day = await fx.query<{ id: string }>(
            "SELECT id::text AS id FROM ohlcv_data WHERE datetime BETWEEN to_timestamp($1) AND to_timestamp($2)",
            [Date.parse("2025-10-25T00:00:00Z") / 1000, Date.parse("2025-11-04T00:00:00Z") / 1000],
        );
        const mapping = mapSourceToTarget(introspectSource(db), TARGET_TABLES).tables.find((m) => m.target.name === "ohlcv_data")!;
        const conversion = conversionFor({ sourceTimeZone: zone });
        const pg = new Client(clientConfig(fx.target));
        await pg.connect();
        try {
            db.exec("DELETE FROM ohlcv_data"); // the write-back must recreate them, not find them in place
            const r = await writeBackTable(
                db,
                pg,
                mapping,
                conversion,
                day.map((x) => x.id),
            );
            expect(r.inexact).toEqual([]);
            expect(r.upserted).toBe(day.length);
        } finally {
            await pg.end();
        }
        const after = db.prepare("SELECT id, datetime FROM ohlcv_data").all() as { id: bigint; datetime: string }[];
        db.close();
        expect(after.length).toBe(day.length);
        for (const row of after) expect(row.datetime, `candle ${row.id}`).toBe(before.get(String(row.id)));
    });
});
