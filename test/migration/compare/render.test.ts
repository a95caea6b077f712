/** The text report: the summary line, a row per query run with both timings, and each query that is not plainly equal, explained. */
import { describe, expect, it } from "vitest";
import { renderCompareReport } from "../../../migration/compare/render";
import { exitStatusOf, summarise, type CompareReport, type QueryResult } from "../../../migration/compare/report";

const run = (over: Partial<QueryResult>): QueryResult => ({
    id: "ohlcv.window",
    label: "busy pool, 1h, DST change 2025-03-09",
    title: "",
    origin: "collector-facts 2",
    verdict: "equal",
    rows: { sqlite: 5, postgres: 5 },
    ms: { sqlite: 0.25, postgres: 1.5 },
    runs: 1,
    sql: { sqlite: "", postgres: "" },
    params: { sqlite: [], postgres: [] },
    differences: [],
    ...over,
});

const reportOf = (results: QueryResult[]): CompareReport => {
    const skipped = [{ id: "history.top_signal", reason: "the source file has no column new_pools_history.signal_score" }];
    return {
        ok: exitStatusOf({ results }) === 0,
        startedAt: "",
        finishedAt: "",
        totalSeconds: 1.2,
        source: "/srv/gecko_data.db",
        target: "admin@db:5432/gecko_terminal_collector",
        hostTimeZone: "America/Chicago",
        sessionTimeZone: "UTC",
        parameters: { windows: [], pools: {}, timeframes: {}, sampledKeys: {}, notes: [] },
        summary: summarise(results, skipped),
        results,
        skipped,
    };
};

describe("renderCompareReport", () => {
    it("shows every run with its verdict and both timings, then what is not equal and why, then what was skipped", () => {
        const text = renderCompareReport(
            reportOf([
                run({}),
                run({ id: "discovery.ranking", label: "", verdict: "null-order", reason: "equal once NULLs ..." }),
                run({
                    verdict: "different",
                    reason: "1 changed, 0 missing in PostgreSQL, 0 extra in PostgreSQL",
                    differences: [
                        {
                            kind: "changed",
                            key: { id: "42" },
                            columns: [
                                {
                                    column: "datetime",
                                    sqlite: "2025-03-09 07:00:00+00",
                                    postgres: "2025-03-09 08:00:00+00",
                                    note: "PostgreSQL is 1 h later",
                                },
                            ],
                        },
                    ],
                }),
                run({ id: "orm.trades", verdict: "different", error: 'PostgreSQL: column "metadata_json" does not exist' }),
            ]),
        );
        const lines = text.split("\n");
        expect(lines[0]).toBe("gecko-pg compare DIFFERENT: 1 equal, 1 null-order, 0 unstable, 2 different, 1 skipped  (1.2 s)");
        expect(lines).toContain("clocks  local columns in America/Chicago; PostgreSQL session TimeZone UTC");
        expect(text).toMatch(/^query +parameters +verdict +rows SQLite\/PG +SQLite ms +PG ms$/m);
        expect(text).toMatch(/^ohlcv\.window +busy pool, 1h, DST change 2025-03-09 +equal +5\/5 +0\.25 +1\.50$/m);
        expect(text).toMatch(/^orm\.trades .* different +5\/5 +- +-$/m);
        expect(text).toContain("      changed id=42: datetime 2025-03-09 07:00:00+00 -> 2025-03-09 08:00:00+00 (PostgreSQL is 1 h later)");
        expect(text).toContain(
            '  different  orm.trades (busy pool, 1h, DST change 2025-03-09): PostgreSQL: column "metadata_json" does not exist',
        );
        expect(text).toContain("  null-order discovery.ranking: equal once NULLs ...");
        expect(text.endsWith("Skipped\n  history.top_signal: the source file has no column new_pools_history.signal_score")).toBe(true);
    });

    it("exits 0 when every run is equal, null-order or unstable, 1 when one differs", () => {
        expect(exitStatusOf({ results: [run({}), run({ verdict: "null-order" }), run({ verdict: "unstable" })] })).toBe(0);
        expect(exitStatusOf({ results: [run({}), run({ verdict: "different" })] })).toBe(1);
    });
});
