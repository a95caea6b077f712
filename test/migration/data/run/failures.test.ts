import { describe, expect, it } from "vitest";
import { runFailures, type FailureInput } from "../../../../migration/data/run/failures";
import type { RowDifference, TableValidation } from "../../../../migration/data/validate/tableChecks";
import { tableReport, validation as tableValidation } from "../../../support/reportFixtures";

const difference: RowDifference = { key: "1", issue: "values differ", columns: [{ column: "price", source: "1.5", target: "1.4" }] };

const validation = (over: Partial<TableValidation> = {}) =>
    tableValidation("pools", { sourceRows: 10, targetRows: 10, buckets: 16, ...over });
const table = (name: string, v: TableValidation | undefined) => tableReport(name, v ? { sourceRows: v.sourceRows, validation: v } : {});

const clean: FailureInput = {
    tables: [table("pools", validation()), table("tokens", validation({ table: "tokens" }))],
    schema: { ok: true, problems: [] },
    quarantine: { total: 0, location: "gecko_quarantine.rows" },
    allowQuarantine: false,
};

describe("runFailures", () => {
    it("is empty when every count, checksum and sample agrees and nothing is set aside", () => {
        expect(runFailures(clean)).toEqual([]);
    });

    it("names the table and the numbers for a count mismatch, net of placeholders", () => {
        const v = validation({ sourceRows: 12, targetRows: 11, placeholderRows: 2, quarantinedRows: 1, countsMatch: false });
        expect(runFailures({ ...clean, tables: [table("pools", v)] })).toEqual(["pools: source 12 rows != target 9 + quarantined 1"]);
    });

    it("counts mismatched buckets and listed rows, and differing samples, one line each, in table order", () => {
        const pools = validation({ mismatchedBuckets: [3, 7], differences: [difference] });
        const tokens = validation({ table: "tokens", sampleMismatches: [difference, difference] });
        expect(runFailures({ ...clean, tables: [table("pools", pools), table("tokens", tokens)] })).toEqual([
            "pools: checksum mismatch in 2 of 16 buckets (1 rows listed)",
            "tokens: 2 sampled rows differ",
        ]);
    });

    it("adds the schema check's problems after the tables'", () => {
        const v = validation({ countsMatch: false, targetRows: 9 });
        const schema = { ok: false, problems: ["index idx_pools_dex_id on pools missing"] };
        expect(runFailures({ ...clean, tables: [table("pools", v)], schema })).toEqual([
            "pools: source 10 rows != target 9 + quarantined 0",
            "index idx_pools_dex_id on pools missing",
        ]);
    });

    it("fails on quarantined rows unless the operator accepted them", () => {
        const quarantine = { total: 3, location: "gecko_quarantine.rows" };
        expect(runFailures({ ...clean, quarantine })).toEqual([
            "3 rows quarantined in gecko_quarantine.rows (accept with allowQuarantine / --allow-quarantine after review)",
        ]);
        expect(runFailures({ ...clean, quarantine, allowQuarantine: true })).toEqual([]);
    });

    it("reports a table that was never validated instead of passing it", () => {
        expect(runFailures({ ...clean, tables: [table("pools", undefined)] })).toEqual(["pools: not validated"]);
    });
});
