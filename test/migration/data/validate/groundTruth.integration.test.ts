/**
 * The ground truths catch a wrong conversion rule that the checksums cannot: here the row's
 * evidence is switched off (the rule before: an ambiguous local time is the later instant),
 * so both sides of every checksum use the same wrong rule and agree, and only the truths
 * (ohlcv_data.datetime against its own epoch) fail the run, naming the rows; a candle whose
 * datetime the file itself got wrong is told apart (a warning, kept as written).
 */
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createMigrationFixture, tableReport, type MigrationFixture } from "../../../support/migrationFixture";

vi.mock("../../../../migration/data/convert/evidence", async (actual) => ({
    ...(await actual<typeof import("../../../../migration/data/convert/evidence")>()),
    withEvidence: (c: unknown) => c, // the wrong rule: evidence ignored
}));

describe("a wrong rule for ambiguous local times", () => {
    let fx: MigrationFixture;
    let source: string;
    const zone = "America/Denver";
    let defect: bigint;

    beforeAll(async () => {
        fx = await createMigrationFixture("truth");
        ({ path: source } = fx.generate("truth", { rows: 6000, seed: 4, hostTimeZone: zone, endAt: "2025-11-20T00:00:00Z", months: 1 }));
        // A defect in the file, not a wrong rule: a candle whose datetime disagrees with its own epoch.
        const db = new Database(source);
        defect = db.prepare("SELECT id FROM ohlcv_data WHERE datetime < '2025-11-01' ORDER BY id LIMIT 1").pluck().get() as bigint;
        db.prepare("UPDATE ohlcv_data SET datetime = '2025-10-30 23:59:59.000000' WHERE id = ?").run(defect);
        db.close();
    });
    afterAll(async () => fx?.dispose());

    it("passes the checksums but fails the ground truth, naming the rows an hour off", async () => {
        // The rule before the evidence: an ambiguous local time is read as the later instant.
        const report = await fx.migrate(source, { sourceTimeZone: zone, allowQuarantine: true, ambiguousTime: "later" });
        const ohlcv = tableReport(report, "ohlcv_data");
        expect(ohlcv.validation!.mismatchedBuckets).toEqual([]);
        expect(ohlcv.validation!.sampleMismatches).toEqual([]);
        const wrong = ohlcv.conversionWarnings?.["datetime: dst-ambiguous"] ?? 0;
        expect(wrong).toBeGreaterThan(0);
        // The later instant is right for the repeated hour's second pass and an hour late for its first.
        const late = await fx.query<{ n: string }>(
            "SELECT count(*) AS n FROM ohlcv_data WHERE datetime - to_timestamp(timestamp) = interval '1 hour' AND id <> $1",
            [defect],
        );
        const faults = Number(late[0].n);
        expect(faults).toBeGreaterThan(0);
        expect(faults).toBeLessThanOrEqual(wrong);
        const truth = report.groundTruths!.find((g) => g.table === "ohlcv_data")!;
        expect(truth).toMatchObject({ mismatches: faults + 1, conversionFaults: faults, sourceDisagrees: 1, notLookedUp: 0 });
        expect(report.ok).toBe(false);
        expect(report.warnings.join("\n")).toMatch(/ohlcv_data.datetime = to_timestamp\(timestamp\): 1 rows of the source disagree/);
        expect(truth.examples.some((e) => e.key === String(defect) && !e.fault)).toBe(true);
        expect(report.failures.join("\n")).toMatch(
            new RegExp(
                `ohlcv_data.datetime = to_timestamp\\(timestamp\\): ${faults} rows converted to another instant.*e\\.g\\. ohlcv_data key \\d+`,
            ),
        );
    });
});
