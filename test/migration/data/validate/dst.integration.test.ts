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
import { renderReport } from "../../../../migration/data/report/report";
import { mapSourceToTarget } from "../../../../migration/data/plan/tableMapping";
import { introspectSource } from "../../../../migration/data/source/introspect";
import { clientConfig } from "../../../../migration/postgres/connection";
import { writeBackTable } from "../../../../migration/rollback/writeBack";
import { TARGET_TABLES } from "../../../../migration/schema/tables";
import { createMigrationFixture, tableReport, type MigrationFixture } from "../../../support/migrationFixture";

/** A wall clock in the hour each zone's 2025 fall-back repeats. */
const REPEATED = { "America/Denver": "2025-11-02 01:30:00.000000", "Europe/Berlin": "2025-10-26 02:30:00.000000" } as const;
/** One pool's sightings across the change, in the order written: the wall clock drops once, between the passes. */
const ACROSS = {
    "America/Denver": [
        ["2025-11-02 01:10:00.000000", "07:10"],
        ["2025-11-02 01:40:00.000000", "07:40"],
        ["2025-11-02 01:05:00.000000", "08:05"],
        ["2025-11-02 01:50:00.000000", "08:50"],
    ],
    "Europe/Berlin": [
        ["2025-10-26 02:10:00.000000", "00:10"],
        ["2025-10-26 02:40:00.000000", "00:40"],
        ["2025-10-26 02:05:00.000000", "01:05"],
        ["2025-10-26 02:50:00.000000", "01:50"],
    ],
} as const;

describe.each(["America/Denver", "Europe/Berlin"] as const)("a collector file across both DST changes in %s", (zone) => {
    let fx: MigrationFixture;
    let source: string;
    let undecidedId: bigint;
    let acrossPool: string;

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
        const sighting = (pool: string, at: string) =>
            db
                .prepare(
                    `INSERT INTO new_pools_history (${others}, collected_at) SELECT ${others.replace('"pool_id"', "?")}, ? FROM new_pools_history ORDER BY id LIMIT 1`,
                )
                .run(pool, at).lastInsertRowid as bigint;
        // A pool seen once, in the repeated hour: nothing around it says which pass it was.
        const alone = db
            .prepare("SELECT id FROM pools WHERE id NOT IN (SELECT pool_id FROM new_pools_history) ORDER BY id LIMIT 1")
            .pluck()
            .get() as string;
        undecidedId = sighting(alone, REPEATED[zone]);
        // A pool seen before the change and then four times across it.
        acrossPool = db
            .prepare(
                "SELECT pool_id FROM new_pools_history GROUP BY pool_id HAVING max(collected_at) < '2025-10-20' ORDER BY pool_id LIMIT 1",
            )
            .pluck()
            .get() as string;
        for (const [at] of ACROSS[zone]) sighting(acrossPool, at);
        db.close();
    });
    afterAll(async () => fx?.dispose());

    it("stores every candle at the instant its epoch names, the repeated hour decided by the row's epoch", async () => {
        const report = await fx.migrate(source, { sourceTimeZone: zone, allowQuarantine: true, convertWorkers: 1 });
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
        // The order of one pool's sightings decides its run across the change (in the convert worker too).
        expect(tableReport(report, "new_pools_history").conversionWarnings?.["collected_at: dst-resolved-by-order"]).toBe(4);
        const across = await fx.query<{ utc: string }>(
            "SELECT to_char(collected_at AT TIME ZONE 'UTC', 'HH24:MI') AS utc FROM new_pools_history WHERE pool_id = $1 AND collected_at >= $2 ORDER BY id",
            [acrossPool, "2025-10-25"],
        );
        expect(across.map((r) => r.utc)).toEqual(ACROSS[zone].map(([, utc]) => utc));
        // The report names how each was decided, with example keys.
        const ids = await fx.query<{ id: string }>(
            "SELECT id::text AS id FROM new_pools_history WHERE pool_id = $1 AND collected_at >= $2 ORDER BY id",
            [acrossPool, "2025-10-25"],
        );
        const examples = tableReport(report, "new_pools_history").conversionWarningExamples?.["collected_at: dst-resolved-by-order"];
        expect(examples).toEqual(ids.slice(0, 3).map((r) => JSON.stringify({ id: r.id })));
        expect(tableReport(report, "ohlcv_data").conversionWarningExamples?.["datetime: dst-resolved-by-epoch"]?.length).toBeGreaterThan(0);
        expect(renderReport(report)).toMatch(/new_pools_history\.collected_at: dst-resolved-by-order: 4 \(e\.g\. \{"id":"\d+"\}/);
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
        const sightings = new Map(
            (
                db.prepare("SELECT id, collected_at FROM new_pools_history WHERE pool_id = ?").all(acrossPool) as {
                    id: bigint;
                    collected_at: string;
                }[]
            ).map((r) => [String(r.id), r.collected_at]),
        );
        const mappings = mapSourceToTarget(introspectSource(db), TARGET_TABLES).tables;
        const mapping = (table: string) => mappings.find((m) => m.target.name === table)!;
        const conversion = conversionFor({ sourceTimeZone: zone });
        const pg = new Client(clientConfig(fx.target));
        await pg.connect();
        try {
            // The write-back must recreate them, not find them in place.
            db.exec("DELETE FROM ohlcv_data");
            db.prepare("DELETE FROM new_pools_history WHERE pool_id = ?").run(acrossPool);
            const candles = await writeBackTable(
                db,
                pg,
                mapping("ohlcv_data"),
                conversion,
                day.map((x) => x.id),
            );
            expect(candles.inexact).toEqual([]);
            expect(candles.upserted).toBe(day.length);
            // Sightings the order of writes decided: the wall clock names either reading, exactly.
            const pools = await writeBackTable(db, pg, mapping("new_pools_history"), conversion, [...sightings.keys()]);
            expect(pools.inexact).toEqual([]);
            expect(pools.upserted).toBe(sightings.size);
        } finally {
            await pg.end();
        }
        const after = db.prepare("SELECT id, datetime FROM ohlcv_data").all() as { id: bigint; datetime: string }[];
        const sightingsAfter = db.prepare("SELECT id, collected_at FROM new_pools_history WHERE pool_id = ?").all(acrossPool) as {
            id: bigint;
            collected_at: string;
        }[];
        db.close();
        expect(after.length).toBe(day.length);
        for (const row of after) expect(row.datetime, `candle ${row.id}`).toBe(before.get(String(row.id)));
        expect(sightingsAfter.map((r) => r.collected_at).sort()).toEqual([...sightings.values()].sort());
    });
});
