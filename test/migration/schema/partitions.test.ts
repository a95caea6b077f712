/**
 * Monthly partition planning and its SQL (migration/schema/partitions.ts), pure:
 * UTC month edges in epoch seconds worked out by hand (2024-01-01T00:00:00Z is
 * 1704067200, a day is 86400), leap Februaries, spans before 1970, the 600-month
 * guard, both bound units, the DEFAULT partition and the refusals. The ohlcv_data
 * cases of the schema builders are in ddl.test.ts; partitionMaintenance.ts runs
 * this SQL against PostgreSQL in the integration tests.
 */
import { describe, expect, it } from "vitest";
import {
    boundSql,
    createDefaultPartitionSql,
    createPartitionSql,
    defaultHasRowsSql,
    defaultPartitionName,
    MAX_PLANNED_MONTHS,
    moveDefaultRowsAndCreateSql,
    partitionNameFor,
    partitionRangePredicate,
    planMonthlyPartitions,
} from "../../../migration/schema/partitions";
import { targetTable } from "../../../migration/schema/tables";
import type { TargetTable } from "../../../migration/schema/types";

const DAY = 86_400;
const JAN_2024 = 1_704_067_200; // 2024-01-01T00:00:00Z
const FEB_2024 = JAN_2024 + 31 * DAY; // 1706745600
const MAR_2024 = FEB_2024 + 29 * DAY; // 1709251200 (2024 is a leap year)
const APR_2024 = MAR_2024 + 31 * DAY; // 1711929600

const ohlcv = targetTable("ohlcv_data");

/** A table partitioned on a timestamptz column: bounds become UTC literals. */
const events: TargetTable = {
    name: "events",
    columns: [
        { name: "id", type: { kind: "bigint" }, nullable: false },
        { name: "happened_at", type: { kind: "timestamptz" }, nullable: false },
    ],
    primaryKey: ["id", "happened_at"],
    uniques: [],
    foreignKeys: [],
    indexes: [],
    partitioning: { column: "happened_at", unit: "timestamptz" },
    rowKey: ["id"],
};

describe("partitionNameFor", () => {
    it("names the UTC month holding the epoch, switching exactly at the first second of a month", () => {
        expect(partitionNameFor("ohlcv_data", JAN_2024 - 1)).toBe("ohlcv_data_p202312");
        expect(partitionNameFor("ohlcv_data", JAN_2024 - 0.001)).toBe("ohlcv_data_p202312");
        expect(partitionNameFor("ohlcv_data", JAN_2024)).toBe("ohlcv_data_p202401");
        expect(partitionNameFor("ohlcv_data", FEB_2024 - 1)).toBe("ohlcv_data_p202401");
        expect(partitionNameFor("trades_archive", MAR_2024)).toBe("trades_archive_p202403");
    });

    it("handles the epoch itself and instants before it", () => {
        expect(partitionNameFor("t", 0)).toBe("t_p197001");
        expect(partitionNameFor("t", -1)).toBe("t_p196912");
    });

    it("names the DEFAULT partition <table>_default", () => {
        expect(defaultPartitionName("ohlcv_data")).toBe("ohlcv_data_default");
    });
});

describe("planMonthlyPartitions", () => {
    it("covers a leap February with its 29 days and the month its last instant falls in", () => {
        expect(planMonthlyPartitions(FEB_2024 + 28 * DAY + 12 * 3600, MAR_2024)).toEqual([
            { name: "ohlcv_data_p202402", month: "2024-02", fromEpoch: FEB_2024, toEpoch: MAR_2024 },
            { name: "ohlcv_data_p202403", month: "2024-03", fromEpoch: MAR_2024, toEpoch: APR_2024 },
        ]);
        // 2023-02 has 28 days: 2023-02-01 is 1675209600, 2023-03-01 is 1677628800.
        expect(planMonthlyPartitions(1_675_209_600, 1_675_209_600)).toEqual([
            { name: "ohlcv_data_p202302", month: "2023-02", fromEpoch: 1_675_209_600, toEpoch: 1_675_209_600 + 28 * DAY },
        ]);
    });

    it("plans one month for a single instant and for the whole month, two once the end reaches the next month", () => {
        const january = [{ name: "ohlcv_data_p202401", month: "2024-01", fromEpoch: JAN_2024, toEpoch: FEB_2024 }];
        expect(planMonthlyPartitions(JAN_2024 + 15 * DAY, JAN_2024 + 15 * DAY)).toEqual(january);
        expect(planMonthlyPartitions(JAN_2024, FEB_2024 - 1)).toEqual(january);
        expect(planMonthlyPartitions(JAN_2024, FEB_2024).map((p) => p.name)).toEqual(["ohlcv_data_p202401", "ohlcv_data_p202402"]);
    });

    it("crosses a year boundary from December into January", () => {
        // 2023-12-01T00:00:00Z = 1701388800 (30 November days before 2024-01-01 minus 31 December days).
        expect(planMonthlyPartitions(JAN_2024 - 1, JAN_2024)).toEqual([
            { name: "ohlcv_data_p202312", month: "2023-12", fromEpoch: JAN_2024 - 31 * DAY, toEpoch: JAN_2024 },
            { name: "ohlcv_data_p202401", month: "2024-01", fromEpoch: JAN_2024, toEpoch: FEB_2024 },
        ]);
    });

    it("plans months before 1970 with negative bounds", () => {
        // December 1969 starts 31 days before the epoch; January 1970 has 31 days.
        expect(planMonthlyPartitions(-15 * DAY, 15 * DAY, "t")).toEqual([
            { name: "t_p196912", month: "1969-12", fromEpoch: -31 * DAY, toEpoch: 0 },
            { name: "t_p197001", month: "1970-01", fromEpoch: 0, toEpoch: 31 * DAY },
        ]);
    });

    it("tiles a long span with contiguous months, oldest first, named after the table", () => {
        // 2019-06-10 .. 2025-06-20: June 2019 through June 2025 = 6 * 12 + 1 months.
        const plan = planMonthlyPartitions(Date.UTC(2019, 5, 10) / 1000, Date.UTC(2025, 5, 20) / 1000, "ohlcv_archive");
        expect(plan).toHaveLength(73);
        expect(plan[0]).toEqual({ name: "ohlcv_archive_p201906", month: "2019-06", fromEpoch: 1_559_347_200, toEpoch: 1_561_939_200 });
        expect(plan[72].name).toBe("ohlcv_archive_p202506");
        for (let i = 1; i < plan.length; i++) expect(plan[i].fromEpoch).toBe(plan[i - 1].toEpoch);
        const days = plan.map((p) => (p.toEpoch - p.fromEpoch) / DAY);
        expect(new Set(days)).toEqual(new Set([28, 29, 30, 31]));
        // Februaries of 2020 and 2024 are the two leap ones in the span.
        expect(plan.filter((p) => p.month.endsWith("-02") && (p.toEpoch - p.fromEpoch) / DAY === 29).map((p) => p.month)).toEqual([
            "2020-02",
            "2024-02",
        ]);
    });

    it("accepts exactly MAX_PLANNED_MONTHS months and refuses one more (milliseconds passed as seconds)", () => {
        expect(MAX_PLANNED_MONTHS).toBe(600);
        const from = Date.UTC(2000, 0, 1) / 1000;
        const fifty = planMonthlyPartitions(from, Date.UTC(2050, 0, 1) / 1000 - 1);
        expect(fifty).toHaveLength(600);
        expect(fifty[599].month).toBe("2049-12");
        expect(() => planMonthlyPartitions(from, Date.UTC(2050, 0, 1) / 1000)).toThrow(
            "partition span of 601 months exceeds 600 (epoch milliseconds instead of seconds?)",
        );
    });

    it("refuses a reversed span and non-finite bounds", () => {
        expect(() => planMonthlyPartitions(JAN_2024 + 1, JAN_2024)).toThrow(`partition span is reversed: ${JAN_2024 + 1} > ${JAN_2024}`);
        expect(() => planMonthlyPartitions(0, Number.POSITIVE_INFINITY)).toThrow(
            "partition span must be finite epoch seconds, got 0..Infinity",
        );
        expect(() => planMonthlyPartitions(Number.NaN, 0)).toThrow("partition span must be finite epoch seconds, got NaN..0");
    });
});

describe("bounds and SQL", () => {
    const [feb] = planMonthlyPartitions(FEB_2024, FEB_2024);

    it("writes a bound as the epoch itself or as a UTC timestamptz literal", () => {
        expect(boundSql({ column: "timestamp", unit: "epoch-seconds" }, FEB_2024)).toBe("1706745600");
        expect(boundSql({ column: "happened_at", unit: "timestamptz" }, FEB_2024)).toBe("'2024-02-01 00:00:00+00'");
        expect(boundSql({ column: "happened_at", unit: "timestamptz" }, 0)).toBe("'1970-01-01 00:00:00+00'");
    });

    it("creates a month of a timestamptz-partitioned table with literal bounds", () => {
        expect(createPartitionSql(events, { ...feb, name: "events_p202402" })).toBe(
            'CREATE TABLE IF NOT EXISTS "public"."events_p202402" PARTITION OF "public"."events" ' +
                "FOR VALUES FROM ('2024-02-01 00:00:00+00') TO ('2024-03-01 00:00:00+00')",
        );
        expect(createDefaultPartitionSql(events)).toBe(
            'CREATE TABLE IF NOT EXISTS "public"."events_default" PARTITION OF "public"."events" DEFAULT',
        );
    });

    it("selects a month's rows half-open: from its first second, up to but excluding the next month's", () => {
        expect(partitionRangePredicate(ohlcv, feb)).toBe('"timestamp" >= 1706745600 AND "timestamp" < 1709251200');
        expect(partitionRangePredicate(events, feb)).toBe(
            "\"happened_at\" >= '2024-02-01 00:00:00+00' AND \"happened_at\" < '2024-03-01 00:00:00+00'",
        );
    });

    it("asks whether the DEFAULT partition (or one named by the caller) holds rows of the month", () => {
        expect(defaultHasRowsSql(ohlcv, feb)).toBe(
            'SELECT EXISTS (SELECT 1 FROM "public"."ohlcv_data_default" WHERE "timestamp" >= 1706745600 AND "timestamp" < 1709251200) AS found',
        );
        expect(defaultHasRowsSql(ohlcv, feb, "ohlcv_data_old_default")).toContain('FROM "public"."ohlcv_data_old_default" WHERE');
    });

    it("moves rows out of a DEFAULT partition named by the caller", () => {
        const steps = moveDefaultRowsAndCreateSql(ohlcv, feb, "ohlcv_data_old_default");
        expect(steps).toHaveLength(5);
        expect(steps[2]).toBe(
            'WITH moved AS (DELETE FROM "public"."ohlcv_data_old_default" WHERE "timestamp" >= 1706745600 AND "timestamp" < 1709251200 RETURNING *) ' +
                'INSERT INTO "gecko_move_ohlcv_data_p202402" SELECT * FROM moved',
        );
        expect(steps[3]).toBe(createPartitionSql(ohlcv, feb));
    });

    it("refuses partition SQL for a table that is not partitioned", () => {
        const trades = targetTable("trades");
        expect(() => createPartitionSql(trades, feb)).toThrow("table trades is not partitioned");
        expect(() => createDefaultPartitionSql(trades)).toThrow("table trades is not partitioned");
        expect(() => partitionRangePredicate(trades, feb)).toThrow("table trades is not partitioned");
        expect(() => defaultHasRowsSql(trades, feb)).toThrow("table trades is not partitioned");
    });
});
