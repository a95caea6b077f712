/**
 * Cells as the collector sees them: a SQLite value through the migration's converter (numerics at
 * the declared scale, naive timestamps in their column's clock, 0/1 booleans, the NOT NULL fill),
 * PostgreSQL's output text brought to the same form; and parameters bound per dialect.
 */
import { describe, expect, it } from "vitest";
import { mappedColumns } from "../../../migration/compare/columns";
import {
    approximatelyEqual,
    countColumn,
    normaliserFor,
    REJECTED_PREFIX,
    secondsBetween,
    utcTimestamp,
    type OutputColumn,
} from "../../../migration/compare/normalise";
import { at, bindParams, postgresPlaceholders, wallClockText } from "../../../migration/compare/query";
import { zoneOf as zoneOf_ } from "../../../migration/data/convert/timezonePolicy";
import { conversionFor } from "../../../migration/data/plan/conversion";
import type { TableMapping } from "../../../migration/data/plan/tableMapping";
import { targetTable } from "../../../migration/schema/tables";

const CHICAGO = "America/Chicago";
const conversion = conversionFor({ sourceTimeZone: CHICAGO });
const column = (table: string, name: string): OutputColumn => ({
    name,
    kind: "value",
    table,
    column: targetTable(table).columns.find((c) => c.name === name)!,
});
const cell = (table: string, name: string) => normaliserFor(column(table, name), conversion.converterFor);

describe("normaliserFor", () => {
    it("reads a REAL with float noise at the column's declared scale, as the copy stored it", () => {
        const n = normaliserFor(
            {
                name: "p",
                kind: "value",
                table: "t",
                column: { name: "p", type: { kind: "numeric", precision: 20, scale: 8 }, nullable: true },
            },
            conversion.converterFor,
        );
        expect(n.sqlite(379.28646677651693)).toBe("379.28646678");
        expect(n.postgres("379.28646678")).toBe("379.28646678");
        expect(cell("ohlcv_data", "close_price").sqlite(7.30913705748706e-8)).toBe("0.000000073091370575");
    });

    it("reads a naive timestamp in its column's clock: ohlcv_data.datetime local, trades.block_timestamp UTC", () => {
        // 2025-03-09: Chicago springs forward at 08:00 UTC (02:00 CST -> 03:00 CDT).
        expect(cell("ohlcv_data", "datetime").sqlite("2025-03-09 01:00:00.000000")).toBe("2025-03-09 07:00:00+00");
        expect(cell("ohlcv_data", "datetime").sqlite("2025-03-09 03:00:00.000000")).toBe("2025-03-09 08:00:00+00");
        expect(cell("trades", "block_timestamp").sqlite("2025-03-09 03:00:00.000000")).toBe("2025-03-09 03:00:00+00");
    });

    it("brings PostgreSQL's timestamptz text in any session TimeZone to UTC", () => {
        const ts = cell("trades", "block_timestamp");
        expect(ts.postgres("2025-03-09 03:00:00+00")).toBe("2025-03-09 03:00:00+00");
        expect(ts.postgres("2025-03-08 21:00:00.25-06")).toBe("2025-03-09 03:00:00.25+00");
        expect(utcTimestamp("2025-03-09 08:30:00+05:30")).toBe("2025-03-09 03:00:00+00");
        expect(utcTimestamp("infinity")).toBe("infinity");
    });

    it("reads 0/1 and t/f as booleans, and fills a NULL in a NOT NULL column as the copy does", () => {
        const active = cell("watchlist", "is_active");
        expect(active.sqlite(1n)).toBe("true");
        expect(active.postgres("t")).toBe("true");
        expect(active.postgres("f")).toBe("false");
        // Old files allow NULL here; the copy stores false (SQLite's `is_active = 1` never matched those rows).
        expect(active.sqlite(null)).toBe("false");
    });

    it("marks a value the migration's converter refuses, so it never equals a PostgreSQL value", () => {
        expect(cell("trades", "volume_usd").sqlite("not a number")).toMatch(new RegExp(`^${REJECTED_PREFIX}`));
    });

    it("counts as integers, a column the file lacks as the value the migration filled", () => {
        const n = normaliserFor(countColumn("n"), conversion.converterFor);
        expect([n.sqlite(12n), n.postgres("12")]).toEqual(["12", "12"]);
        const fill = normaliserFor({ name: "metadata_json", kind: "fill", value: "{}", type: { kind: "jsonb" } }, conversion.converterFor);
        expect([fill.sqlite(null), fill.postgres("{}")]).toEqual(["{}", "{}"]);
    });

    it("takes SUM/AVG as equal within the inputs' rounding plus the doubles' own error", () => {
        expect(approximatelyEqual("10.004", "10.0", { op: "avg", scale: 2, rows: 1000 })).toBe(true);
        expect(approximatelyEqual("10.006", "10.0", { op: "avg", scale: 2, rows: 1000 })).toBe(false);
        expect(approximatelyEqual("10.4", "10.0", { op: "sum", scale: 2, rows: 100 })).toBe(true);
        expect(approximatelyEqual(null, null, { op: "sum", scale: 2, rows: 1 })).toBe(true);
        expect(approximatelyEqual(null, "0", { op: "sum", scale: 2, rows: 1 })).toBe(false);
    });
});

describe("binding parameters", () => {
    const zone = (table: string, col: string) => (conversion.policy.clocks[`${table}.${col}`] === "local" ? CHICAGO : "UTC");
    const dstChange = { epochSeconds: Date.UTC(2025, 2, 9, 8) / 1000, micros: 0 };

    it("writes an instant as the collector writes its column: local wall clock or UTC, six fraction digits", () => {
        expect(wallClockText(dstChange, CHICAGO)).toBe("2025-03-09 03:00:00.000000");
        expect(wallClockText({ epochSeconds: dstChange.epochSeconds - 1, micros: 5 }, CHICAGO)).toBe("2025-03-09 01:59:59.000005");
        expect(
            bindParams(["p", at(dstChange, "ohlcv_data", "datetime"), at(dstChange, "trades", "block_timestamp")], "sqlite", zone),
        ).toEqual(["p", "2025-03-09 03:00:00.000000", "2025-03-09 08:00:00.000000"]);
    });

    it("gives PostgreSQL the instant in UTC, bigints as text, and a LIMIT last (none: -1 / NULL)", () => {
        expect(bindParams([at(dstChange, "ohlcv_data", "datetime"), 7n], "postgres", zone, { limit: 20 })).toEqual([
            "2025-03-09 08:00:00+00",
            "7",
            20,
        ]);
        expect(bindParams([], "sqlite", zone, {})).toEqual([-1]);
        expect(bindParams([], "postgres", zone, {})).toEqual([null]);
    });

    it("numbers the placeholders for PostgreSQL", () => {
        expect(postgresPlaceholders("a = ? AND b IN (?, ?) LIMIT ?")).toBe("a = $1 AND b IN ($2, $3) LIMIT $4");
    });
});

describe("mappedColumns", () => {
    it("selects every column of either model: a renamed one under its old name, a missing one as the migration's fill", () => {
        const target = targetTable("watchlist");
        const mapping: TableMapping = {
            target,
            columns: target.columns.map((c) =>
                c.name === "created_at"
                    ? { target: c, source: { kind: "column", name: "added_at", declaredType: "DATETIME" } }
                    : c.name === "metadata_json"
                      ? { target: c, source: { kind: "fill", value: "{}" } }
                      : { target: c, source: { kind: "column", name: c.name, declaredType: "" } },
            ),
            missingColumns: ["metadata_json"],
            generatedColumns: [],
            renamedColumns: [{ from: "added_at", to: "created_at" }],
            skippedColumns: [],
            extra: false,
        };
        const cols = mappedColumns(mapping);
        expect(cols.map((c) => c.sqlite)).toContain('"added_at" AS "created_at"');
        expect(cols.map((c) => c.sqlite)).toContain('NULL AS "metadata_json"');
        expect(cols.map((c) => c.postgres)).toEqual(target.columns.map((c) => `"${c.name}"`));
        expect(cols.find((c) => c.output.name === "metadata_json")!.output).toMatchObject({ kind: "fill", value: "{}" });
    });
});

describe("a local-clock timestamp", () => {
    const local = conversionFor({ sourceTimeZone: "America/Denver" });
    const zoneOf = (table: string, column: string) => zoneOf_(local.policy, table, column);
    const n = normaliserFor(column("ohlcv_data", "datetime"), local.converterFor, zoneOf);

    it("is compared as its wall clock: either instant of the repeated hour matches the file's text", () => {
        expect(n.sqlite("2025-11-02 01:30:00.000000")).toBe("2025-11-02 01:30:00.000000 local");
        expect(n.postgres("2025-11-02 07:30:00+00")).toBe("2025-11-02 01:30:00.000000 local"); // the first 01:30 (MDT)
        expect(n.postgres("2025-11-02 08:30:00+00")).toBe("2025-11-02 01:30:00.000000 local"); // the second (MST)
        expect(n.postgres("2025-11-02 09:30:00+00")).toBe("2025-11-02 02:30:00.000000 local");
        expect(secondsBetween(n.sqlite("2025-07-01 12:00:00"), n.postgres("2025-07-01 19:00:00+00"))).toBe(3600);
    });

    it("stays an instant in a UTC column", () => {
        const utc = normaliserFor(column("trades", "block_timestamp"), local.converterFor, zoneOf);
        expect(utc.sqlite("2025-11-02 01:30:00")).toBe("2025-11-02 01:30:00+00");
    });
});
