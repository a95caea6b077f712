/**
 * The run's report without PostgreSQL (migration/data/run/buildReport.ts):
 * baseTableReport over mappings of a real SQLite file in the collector's shape
 * (drifted dexes, old watchlist, collection_metadata without the id PostgreSQL adds,
 * an extra table, an absent table), and buildReport over a hand-built stand-in for
 * the RunContext (it reads only phase, options, start time, timings, workers and the
 * snapshot's path and fingerprint) with the clock frozen. quarantineSummary and
 * saveReport query PostgreSQL: the runMigration integration tests cover them.
 */
import Database from "better-sqlite3";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { DEFAULT_OPTIONS, type MigrationOptions } from "../../../../migration/data/options";
import { planChunks } from "../../../../migration/data/plan/chunkPlan";
import { mapSourceToTarget, type MappingResult, type TableMapping } from "../../../../migration/data/plan/tableMapping";
import type { QuarantineSummary, TableReport } from "../../../../migration/data/report/report";
import { baseTableReport, buildReport, type RunFindings } from "../../../../migration/data/run/buildReport";
import type { RunContext } from "../../../../migration/data/run/context";
import type { TablePlan } from "../../../../migration/data/run/tablePlans";
import { introspectSource, type SourceSchema } from "../../../../migration/data/source/introspect";
import { openReadOnly } from "../../../../migration/data/source/snapshot";
import type { TableValidation } from "../../../../migration/data/validate/tableChecks";
import { TARGET_TABLES } from "../../../../migration/schema/tables";
import { CURRENT_TABLE_ITEMS, renderCreateTable } from "../../../../scripts/generator/ddl";
import { findTable, layoutFor } from "../../../../scripts/generator/variants";

let dir: string;
let source: SourceSchema;
let mapping: MappingResult;

beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "gecko-build-report-"));
    const file = path.join(dir, "collector.db");
    const w = new Database(file);
    w.exec(renderCreateTable("dexes", [...CURRENT_TABLE_ITEMS.dexes.slice(0, -1), "chain_id INTEGER", "logo BLOB", "PRIMARY KEY (id)"]));
    w.exec(renderCreateTable("watchlist", findTable(layoutFor("old"), "watchlist")!.createItems));
    w.exec(renderCreateTable("collection_metadata", CURRENT_TABLE_ITEMS.collection_metadata));
    w.exec("CREATE TABLE collector_notes (id INTEGER PRIMARY KEY, note TEXT)");
    w.exec(
        "INSERT INTO dexes (id, name, network) VALUES ('raydium', 'Raydium', 'solana'), ('orca', 'Orca', 'solana'), ('meteora', 'Meteora', 'solana')",
    );
    w.exec("INSERT INTO collector_notes (note) VALUES ('a')");
    w.close();
    const db = openReadOnly(file);
    try {
        source = introspectSource(db);
    } finally {
        db.close();
    }
    mapping = mapSourceToTarget(source, TARGET_TABLES, { includeExtraTables: true });
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function mappingOf(table: string): TableMapping {
    const m = mapping.tables.find((t) => t.target.name === table);
    if (!m) throw new Error(`test setup: no mapping for ${table}`);
    return m;
}

/** A table plan as planTables makes it; baseTableReport reads only the mapping and the chunks. */
function planOf(table: string, done: readonly boolean[] = []): TablePlan {
    const m = mappingOf(table);
    const chunks = m.source
        ? planChunks({ table, rowCount: m.source.rowCount, minRowid: m.source.minRowid, maxRowid: m.source.maxRowid, chunkRows: 1 }).chunks
        : [];
    return {
        mapping: m,
        encoder: undefined as never,
        chunks: chunks.map((c, i) => ({ ...c, done: done[i] ?? false })),
        columnsChanged: false,
    };
}

describe("baseTableReport", () => {
    it("reports a drifted collector table before any copy: chunks already done, fills, extra and skipped columns", () => {
        expect(baseTableReport(planOf("dexes", [true, false, true]))).toEqual({
            table: "dexes",
            sourceRows: 3,
            inSource: true,
            extra: false,
            chunks: { total: 3, copiedThisRun: 0, alreadyDone: 2 },
            rowsCopiedThisRun: 0,
            rowsQuarantinedThisRun: 0,
            rowsRecoveredThisRun: 0,
            rowsFilledThisRun: 0,
            copySeconds: 0,
            missingColumns: ["created_at"],
            fills: { created_at: null },
            generatedColumns: [],
            renamedColumns: [],
            skippedColumns: [{ name: "logo", declaredType: "BLOB" }],
            extraColumns: ["chain_id"],
        });
    });

    it("gives each filled column the application's default, and a renamed column is not an extra one", () => {
        const r = baseTableReport(planOf("watchlist"));
        expect(r.fills).toEqual({ updated_at: null, metadata_json: "{}" });
        expect(r.missingColumns).toEqual(["updated_at", "metadata_json"]);
        expect(r.renamedColumns).toEqual([{ from: "added_at", to: "created_at" }]);
        expect(r.extraColumns).toEqual([]);
        expect(r.chunks).toEqual({ total: 0, copiedThisRun: 0, alreadyDone: 0 }); // an empty table has no chunks
    });

    it("lists an identity the source lacks as generated, not as a fill", () => {
        const r = baseTableReport(planOf("collection_metadata"));
        expect(r.generatedColumns).toEqual(["id"]);
        expect(r.fills).not.toHaveProperty("id");
        expect(r.missingColumns).not.toContain("id");
    });

    it("calls no column of an extra table extra: the whole table is", () => {
        const r = baseTableReport(planOf("collector_notes", [true]));
        expect(r).toMatchObject({ table: "collector_notes", extra: true, inSource: true, sourceRows: 1, extraColumns: [], fills: {} });
        expect(r.chunks).toEqual({ total: 1, copiedThisRun: 0, alreadyDone: 1 });
    });

    it("reports a table the source lacks as absent, with no rows and no chunks", () => {
        const r = baseTableReport(planOf("tokens"));
        expect(r).toMatchObject({ table: "tokens", inSource: false, extra: false, sourceRows: 0, missingColumns: [], extraColumns: [] });
        expect(r.chunks).toEqual({ total: 0, copiedThisRun: 0, alreadyDone: 0 });
    });
});

describe("buildReport", () => {
    const PASSWORD = "pw-not-for-reports";
    const started = new Date("2025-01-01T00:00:00.000Z");
    const options: MigrationOptions = {
        ...DEFAULT_OPTIONS,
        sqlitePath: "/data/gecko.db",
        target: { host: "db.internal", port: 5432, user: "admin", password: PASSWORD, database: "gecko" },
        sourceTimeZone: "America/Chicago",
    };

    function run(opts: MigrationOptions = options, workers?: { size: number }): RunContext {
        return {
            phase: "migrate",
            opts,
            startedAt: started,
            timings: { copy: 1.5 },
            workers,
            snapshot: { path: "/data/gecko.db", fingerprint: "0123456789abcdef" },
        } as unknown as RunContext;
    }

    const validation: TableValidation = {
        table: "dexes",
        sourceRows: 3,
        targetRows: 3,
        quarantinedRows: 0,
        placeholderRows: 0,
        countsMatch: true,
        buckets: 1,
        mismatchedBuckets: [],
        differences: [],
        sampleCompared: 3,
        sampleMismatches: [],
        checksumSource: "copy",
        seconds: 0.1,
    };
    const quarantine = (total: number): QuarantineSummary => ({ total, location: "gecko_quarantine.rows", byTable: {}, examples: [] });

    function findings(tables: readonly TableReport[], overrides: Partial<RunFindings> = {}): RunFindings {
        return {
            source,
            mapping,
            warnings: ["a warning"],
            clockChecks: [],
            tables,
            orphans: [],
            quarantine: quarantine(0),
            schema: { ok: true, problems: [] },
            groundTruths: [],
            ...overrides,
        };
    }

    afterEach(() => vi.useRealTimers());

    it("is ok with every table validated, records the finish time and total seconds, and names the target without its password", () => {
        vi.useFakeTimers({ now: new Date("2025-01-01T00:01:30.250Z") });
        const ctx = run();
        const dexes = { ...baseTableReport(planOf("dexes")), validation };
        const report = buildReport(ctx, findings([dexes]));
        expect(report).toMatchObject({
            tool: "gecko-pg",
            reportVersion: 1,
            ok: true,
            failures: [],
            warnings: ["a warning"],
            startedAt: "2025-01-01T00:00:00.000Z",
            finishedAt: "2025-01-01T00:01:30.250Z",
            source: { path: "/data/gecko.db", fingerprint: "0123456789abcdef", journalMode: "delete", sqliteVersion: source.sqliteVersion },
            target: "admin@db.internal:5432/gecko",
            tables: [dexes],
            timings: { copy: 1.5, total: 90.25 },
        });
        expect(ctx.timings.total).toBe(90.25); // recorded in the run's own timings as well
        expect(JSON.stringify(report)).not.toContain(PASSWORD);
    });

    it("records the options that shaped the run, with defaults for what was not given", () => {
        vi.useFakeTimers({ now: started });
        const report = buildReport(run(options, { size: 3 }), findings([]));
        expect(report.options).toEqual({
            phase: "migrate",
            ownerRole: "gecko_owner",
            appRole: "gecko_collector",
            sourceTimeZone: "America/Chicago",
            clockOverrides: {},
            orphanPolicy: "quarantine",
            chunkRows: 50_000,
            copyLanes: 2,
            convertWorkers: 3, // the workers that actually started
            allowQuarantine: false,
            sampleRows: 200,
            retrySeconds: 60,
            repairs: ["python-repr"], // every repair unless told otherwise
            ambiguousTime: "quarantine",
        });
        expect(buildReport(run({ ...options, clockOverrides: { "pools.last_updated": "local" } }), findings([])).options).toMatchObject({
            clockOverrides: { "pools.last_updated": "local" },
            convertWorkers: 0,
        });
    });

    it("passes the mapping's absent and skipped tables through", () => {
        const skippedTables = [{ name: "kv_cache", reason: "WITHOUT ROWID table (chunking needs rowids)" }];
        const report = buildReport(run(), findings([], { mapping: { ...mapping, skippedTables } }));
        expect(report.missingTables).toEqual(mapping.missingTables);
        expect(report.missingTables).toContain("tokens");
        expect(report.skippedTables).toEqual(skippedTables);
    });

    it("fails on an unvalidated table and on quarantined rows unless the operator accepts them", () => {
        const dexes = { ...baseTableReport(planOf("dexes")), validation };
        const unvalidated = buildReport(run(), findings([dexes, baseTableReport(planOf("watchlist"))]));
        expect(unvalidated.ok).toBe(false);
        expect(unvalidated.failures).toEqual(["watchlist: not validated"]);

        const quarantined = buildReport(run(), findings([dexes], { quarantine: quarantine(3) }));
        expect(quarantined.ok).toBe(false);
        expect(quarantined.failures).toEqual([
            "3 rows quarantined in gecko_quarantine.rows (accept with allowQuarantine / --allow-quarantine after review)",
        ]);
        const accepted = buildReport(run({ ...options, allowQuarantine: true }), findings([dexes], { quarantine: quarantine(3) }));
        expect(accepted.ok).toBe(true);
        expect(accepted.options.allowQuarantine).toBe(true);
    });
});
