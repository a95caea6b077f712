/** MigrationReport pieces built by hand, with every field at its quiet value unless overridden. */
import type { MigrationReport, TableReport } from "../../migration/data/report/report";
import type { TableValidation } from "../../migration/data/validate/tableChecks";

export function validation(table: string, over: Partial<TableValidation> = {}): TableValidation {
    const rows = over.targetRows ?? over.sourceRows ?? 0;
    return {
        table,
        sourceRows: rows,
        targetRows: rows,
        quarantinedRows: 0,
        placeholderRows: 0,
        countsMatch: true,
        buckets: 1,
        mismatchedBuckets: [],
        differences: [],
        sampleCompared: rows,
        sampleMismatches: [],
        checksumSource: "copy",
        seconds: 0.1,
        ...over,
    };
}

export function tableReport(table: string, over: Partial<TableReport> = {}): TableReport {
    return {
        table,
        sourceRows: 0,
        inSource: true,
        extra: false,
        chunks: { total: 1, copiedThisRun: 1, alreadyDone: 0 },
        rowsCopiedThisRun: 0,
        rowsQuarantinedThisRun: 0,
        rowsRecoveredThisRun: 0,
        rowsFilledThisRun: 0,
        copySeconds: 0,
        missingColumns: [],
        fills: {},
        generatedColumns: [],
        renamedColumns: [],
        skippedColumns: [],
        extraColumns: [],
        ...over,
    };
}

export function report(over: Partial<MigrationReport> = {}): MigrationReport {
    return {
        tool: "gecko-pg",
        reportVersion: 1,
        ok: true,
        status: "ok",
        failures: [],
        warnings: [],
        startedAt: "2024-05-01T10:00:00.000Z",
        finishedAt: "2024-05-01T10:00:02.500Z",
        source: { path: "/data/gecko.db", fingerprint: "sha256:ab12", journalMode: "wal", sqliteVersion: "3.45.1" },
        target: "postgresql://gecko_owner@db.internal:5432/gecko",
        options: { chunkRows: 50000 },
        missingTables: [],
        skippedTables: [],
        tables: [],
        orphans: [],
        quarantine: { total: 0, location: "gecko_migration.quarantine", byTable: {}, examples: [] },
        schema: { ok: true, problems: [] },
        clockChecks: [],
        timings: {},
        ...over,
    };
}
