/**
 * The run's report (migration/data/report/report.ts) from a MigrationReport built
 * by hand: the short summary the Pulumi resource outputs, and the text people
 * read, with its per-table grid and the drift, orphan, quarantine, validation,
 * schema, warning and failure sections.
 */
import { describe, expect, it } from "vitest";
import { renderReport, summarize } from "../../../../migration/data/report/report";
import { report, tableReport, validation } from "../../../support/reportFixtures";

/** A run with something in every section. */
const eventful = report({
    ok: false,
    failures: ["watchlist: 1 checksum bucket differs"],
    warnings: ["ohlcv_data.datetime: clock check disagrees with the policy"],
    missingTables: ["pools"],
    skippedTables: [{ name: "raw_payloads", reason: "no column has an obvious PostgreSQL type" }],
    tables: [
        tableReport("dexes", {
            sourceRows: 3,
            rowsCopiedThisRun: 3,
            copySeconds: 1.24,
            missingColumns: ["created_at"],
            fills: { created_at: null },
            extraColumns: ["chain_id"],
            skippedColumns: [{ name: "logo", declaredType: "" }],
            validation: validation("dexes", { sourceRows: 3 }),
        }),
        tableReport("pools", { inSource: false, chunks: { total: 0, copiedThisRun: 0, alreadyDone: 0 } }),
        tableReport("collection_metadata", {
            sourceRows: 2,
            rowsCopiedThisRun: 2,
            copySeconds: 0.06,
            generatedColumns: ["id"],
            validation: validation("collection_metadata", { sourceRows: 2 }),
        }),
        tableReport("watchlist", {
            sourceRows: 10,
            chunks: { total: 3, copiedThisRun: 2, alreadyDone: 1 },
            rowsCopiedThisRun: 6,
            rowsQuarantinedThisRun: 2,
            copySeconds: 0.5,
            missingColumns: ["metadata_json"],
            fills: { metadata_json: "{}" },
            renamedColumns: [{ from: "added_at", to: "created_at" }],
            validation: validation("watchlist", {
                sourceRows: 10,
                targetRows: 8,
                quarantinedRows: 2,
                buckets: 4,
                mismatchedBuckets: [2],
                differences: [{ key: "id=3", issue: "missing in target", chunkNo: 0 }],
                sampleCompared: 5,
                sampleMismatches: [
                    { key: "id=9", issue: "values differ", columns: [{ column: "token_name", source: "Gecko", target: "Geck0" }] },
                ],
            }),
        }),
        tableReport("alembic_version", {
            extra: true,
            sourceRows: 1,
            rowsCopiedThisRun: 1,
            copySeconds: 0.01,
            validation: validation("alembic_version", { sourceRows: 1 }),
        }),
    ],
    orphans: [
        {
            table: "watchlist",
            foreignKey: "watchlist_pool_id_fkey",
            parent: "pools",
            rows: 2,
            action: "quarantine",
            examples: ["id=3", "id=4", "id=5"],
        },
    ],
    quarantine: {
        total: 2,
        location: "gecko_migration.quarantine",
        byTable: { watchlist: { orphan: 2 } },
        examples: [{ table: "watchlist", key: "id=3", column: "pool_id", rawValue: "solana_gone", reason: "no parent row in pools" }],
    },
    schema: { ok: false, problems: ["pools: index idx_pools_dex_id missing"] },
    timings: { copy: 1.234, validate: 0.5, total: 2.5 },
});

describe("summarize", () => {
    it("adds up rows over the tables, counting a table without validation as 0 target rows", () => {
        expect(summarize(eventful)).toEqual({
            ok: false,
            failures: ["watchlist: 1 checksum bucket differs"],
            warnings: 1,
            tables: 5,
            rowsSource: 16, // 3 + 0 + 2 + 10 + 1
            rowsTarget: 14, // 3 + (none) + 2 + 8 + 1
            rowsQuarantined: 2,
            finishedAt: "2024-05-01T10:00:02.500Z",
            seconds: 2.5,
        });
    });

    it("reports 0 seconds when the total was not timed", () => {
        expect(summarize(report({ timings: { copy: 3 } })).seconds).toBe(0);
        expect(summarize(report())).toMatchObject({ ok: true, tables: 0, rowsSource: 0, rowsTarget: 0, rowsQuarantined: 0 });
    });
});

describe("renderReport", () => {
    it("renders a clean run as the header, the grid and the timings", () => {
        const clean = report({
            tables: [
                tableReport("tokens", {
                    sourceRows: 5,
                    rowsCopiedThisRun: 5,
                    copySeconds: 0.06,
                    validation: validation("tokens", { sourceRows: 5 }),
                }),
            ],
            timings: { total: 0.416 },
        });
        expect(renderReport(clean).split("\n")).toEqual([
            "gecko-pg migration OK  (2024-05-01T10:00:00.000Z -> 2024-05-01T10:00:02.500Z)",
            "source  /data/gecko.db  [journal wal, fingerprint sha256:ab12]",
            "target  postgresql://gecko_owner@db.internal:5432/gecko",
            "",
            "table   source  target  quarantined  copied now  chunks  checksum  sample  copy s",
            "tokens       5       5            0           5     1/1      ok 1    ok 5     0.1",
            "",
            "timings: total 0.42s",
        ]);
    });

    it("renders every section of an eventful run", () => {
        expect(renderReport(eventful).split("\n")).toEqual([
            "gecko-pg migration FAILED  (2024-05-01T10:00:00.000Z -> 2024-05-01T10:00:02.500Z)",
            "source  /data/gecko.db  [journal wal, fingerprint sha256:ab12]",
            "target  postgresql://gecko_owner@db.internal:5432/gecko",
            "",
            "table                    source  target  quarantined  copied now  chunks      checksum      sample  copy s",
            "dexes                         3       3            0           3     1/1          ok 1        ok 3     1.2",
            "pools (absent)                0       -            -           0     0/0             -           -     0.0",
            "collection_metadata           2       2            0           2     1/1          ok 1        ok 2     0.1",
            "watchlist                    10       8            2           6     2/3  MISMATCH 1/4  MISMATCH 1     0.5",
            "alembic_version (extra)       1       1            0           1     1/1          ok 1        ok 1     0.0",
            "",
            "schema drift:",
            "  tables absent from the source (created empty): pools",
            "  table raw_payloads not copied: no column has an obvious PostgreSQL type",
            "  dexes: columns absent in source, filled: created_at = NULL",
            "  dexes: extra source columns copied: chain_id",
            "  dexes: column logo (no type) not copied: no obvious PostgreSQL type",
            "  collection_metadata: columns absent in source, numbered by the target: id",
            "  watchlist: columns absent in source, filled: metadata_json = '{}'",
            "  watchlist: added_at copied into created_at",
            "",
            "orphans (foreign key without parent):",
            "  watchlist.watchlist_pool_id_fkey -> pools: 2 rows quarantined (e.g. id=3, id=4)",
            "",
            "quarantine: 2 rows in gecko_migration.quarantine",
            "  watchlist: 2 orphan",
            '  - watchlist id=3 pool_id="solana_gone": no parent row in pools',
            "",
            "rows that differ (the first 20 per table, then sampled rows):",
            "  watchlist id=3: missing in target (chunk 0)",
            "  watchlist id=9: values differ token_name: Gecko != Geck0",
            "",
            "schema checks:",
            "  - pools: index idx_pools_dex_id missing",
            "",
            "warnings:",
            "  - ohlcv_data.datetime: clock check disagrees with the policy",
            "",
            "FAILED:",
            "  - watchlist: 1 checksum bucket differs",
            "",
            "timings: copy 1.23s, validate 0.50s, total 2.50s",
        ]);
    });

    it("words each orphan policy's outcome", () => {
        const orphan = { table: "trades", foreignKey: "trades_pool_id_fkey", parent: "pools", rows: 4, examples: ["id=a"] };
        const text = renderReport(
            report({
                orphans: [
                    { ...orphan, action: "quarantine" },
                    { ...orphan, action: "placeholder" },
                    { ...orphan, action: "fail" },
                ],
            }),
        );
        expect(text).toContain("  trades.trades_pool_id_fkey -> pools: 4 rows quarantined (e.g. id=a)\n");
        expect(text).toContain("  trades.trades_pool_id_fkey -> pools: 4 rows got placeholder parents (e.g. id=a)\n");
        expect(text).toContain("  trades.trades_pool_id_fkey -> pools: 4 rows found (e.g. id=a)\n");
    });

    it("leaves out the sections with nothing to say", () => {
        const text = renderReport(report({ tables: [tableReport("tokens", { sourceRows: 1 })] }));
        for (const heading of ["schema drift:", "orphans", "quarantine:", "schema checks:", "warnings:", "FAILED:"]) {
            expect(text).not.toContain(heading);
        }
    });
});
