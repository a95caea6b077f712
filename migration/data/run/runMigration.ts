/**
 * The migration stage as one pipeline:
 * snapshot -> introspect -> map -> plan -> schema (tables) -> copy -> orphans
 * -> schema (post-load: indexes, foreign keys, sequences) -> validate -> report.
 *
 * Throws only for failures of the run itself (cannot connect, another run
 * holds the lock, orphan policy `fail`); data problems end up in the report,
 * whose `ok` says whether the run succeeded.
 */
import { ident } from "../../postgres/sql";
import { Client } from "pg";
import { ensureCheckpointSchema, loadOrSavePlan } from "../copy/checkpointStore";
import { copyTable } from "../copy/copyTable";
import { ConvertWorkers } from "../copy/convertWorkers";
import { localPageSource, type PageSource } from "../copy/pageEncoder";
import { handleOrphans, type OrphanOutcome } from "../copy/orphans";
import { retryQuarantined } from "../copy/retryQuarantine";
import { RowEncoder } from "../copy/rowEncoder";
import { DEFAULT_OPTIONS, silentLogger, type MigrationOptions, type MigrationInput, type MigrationLogger } from "../options";
import { planChunks, type Chunk } from "../plan/chunkPlan";
import { inCopyOrder, mapSourceToTarget, type TableMapping } from "../plan/tableMapping";
import { clientConfig, describeConnection } from "../../postgres/connection";
import { renderReport, type MigrationReport, type TableReport } from "../report/report";
import { openSharedSnapshot, openSourceSnapshot, type SourceSnapshot } from "../source/snapshot";
import { introspectSource } from "../source/introspect";
import { bucketCountFor } from "../checksum/checksum";
import { validateTable } from "../validate/tableChecks";
import { ProgressMeter } from "../report/progress";
import { conversionFor } from "../plan/conversion";
import { checkTargetSchema, pauseAutovacuum } from "../../schema/target";
import { finishTarget, prepareTarget } from "./target";
import { TARGET_TABLES } from "../../schema/tables";

export interface RunHooks {
    /** Test hook: called before each chunk commits (throw to simulate a crash). */
    readonly beforeChunkCommit?: (chunk: Chunk) => void | Promise<void>;
}

export type Phase = "migrate" | "validate";

/** The whole stage: schema, copy and validation. */
export async function runMigration(
    options: MigrationInput,
    logger: MigrationLogger = silentLogger,
    hooks: RunHooks = {},
): Promise<MigrationReport> {
    return run("migrate", options, logger, hooks);
}

/** Validation only, re-reading the source for the checksums. */
export async function runValidation(options: MigrationInput, logger: MigrationLogger = silentLogger): Promise<MigrationReport> {
    return run("validate", options, logger, {});
}

async function run(phase: Phase, options: MigrationInput, logger: MigrationLogger, hooks: RunHooks): Promise<MigrationReport> {
    const startedAt = new Date();
    const timings: Record<string, number> = {};
    const time = async <T>(name: string, fn: () => Promise<T> | T): Promise<T> => {
        const t0 = Date.now();
        try {
            return await fn();
        } finally {
            timings[name] = (timings[name] ?? 0) + (Date.now() - t0) / 1000;
        }
    };
    const opts: MigrationOptions = { ...DEFAULT_OPTIONS, ...options };
    const workers = phase === "migrate" ? await startConvertWorkers(opts, logger) : undefined;
    let snapshot: SourceSnapshot;
    try {
        snapshot = workers ? await openSharedSnapshot(opts.sqlitePath, workers) : openSourceSnapshot(opts.sqlitePath);
    } catch (err) {
        await workers?.close();
        throw err;
    }
    const pg = new Client(clientConfig(opts.target, { application_name: "gecko-pg migrate" }));
    const lanes: Client[] = [];
    try {
        const source = await time("introspect", () => introspectSource(snapshot.db));
        const mapping = mapSourceToTarget(source, TARGET_TABLES);
        const conversion = conversionFor(opts);
        const warnings: string[] = [];
        const clockChecks = await time("clockCheck", () => conversion.checkClocks(snapshot.db, warnings));
        await pg.connect();
        await lockRun(pg);
        await pg.query("SET TimeZone = 'UTC'");
        // The server's clock: rows quarantined before it were set aside by an earlier run.
        const serverStart = (await pg.query<{ t: Date }>("SELECT clock_timestamp() AS t")).rows[0].t;
        // Safe: every chunk's checkpoint commits with its rows, so a lost commit is just redone.
        await pg.query("SET synchronous_commit = off");

        const ordered = inCopyOrder(mapping.tables);
        const roles = { ownerRole: opts.ownerRole, appRole: opts.appRole, timeZone: opts.databaseTimeZone };
        if (phase === "migrate") await time("schema", () => prepareTarget(pg, snapshot.db, ordered, roles, logger));
        await ensureCheckpointSchema(pg, opts.ownerRole);
        // Rows, quarantine and checkpoints are written as the owner role.
        await pg.query(`SET ROLE ${ident(opts.ownerRole)}`);

        const plans = new Map<string, { encoder: RowEncoder; chunks: readonly (Chunk & { done: boolean })[]; columnsChanged: boolean }>();
        for (const m of ordered) {
            let chunks: readonly (Chunk & { done: boolean })[] = [];
            let buckets = bucketCountFor(m.source?.rowCount ?? 0);
            let columnsChanged = false;
            if (m.source) {
                const facts = {
                    buckets,
                    rowCount: m.source.rowCount,
                    minRowid: m.source.minRowid,
                    maxRowid: m.source.maxRowid,
                    columns: m.columns.map((c) => c.target.name),
                };
                const planned = planChunks({ table: m.target.name, ...facts, chunkRows: opts.chunkRows });
                const persisted = await loadOrSavePlan(pg, m.target.name, planned.chunks, facts);
                chunks = persisted.chunks;
                buckets = persisted.buckets;
                columnsChanged = persisted.columnsChanged;
            }
            plans.set(m.target.name, {
                encoder: new RowEncoder(m, (c) => conversion.converterFor(m.target.name, c), buckets),
                chunks,
                columnsChanged,
            });
            if (workers && m.source) await workers.addTable(m, buckets);
        }
        // Each lane converts in its own worker, or in this thread with encoders of its own (they count warnings per lane).
        const pageSources: PageSource[] = Array.from({ length: opts.copyLanes }, (_, i) =>
            workers
                ? workers.pageSource(i)
                : localPageSource(
                      snapshot.db,
                      new Map(
                          [...plans].map(([t, p]) => [
                              t,
                              new RowEncoder(p.encoder.mapping, (c) => conversion.converterFor(t, c), p.encoder.buckets),
                          ]),
                      ),
                  ),
        );

        // Extra connections for the copy lanes, set up like the main one.
        for (let i = 1; i < opts.copyLanes; i++) {
            const lane = new Client(clientConfig(opts.target, { application_name: `gecko-pg migrate lane ${i}` }));
            lanes.push(lane);
            await lane.connect();
            await lane.query(`SET TimeZone = 'UTC'; SET synchronous_commit = off; SET ROLE ${ident(opts.ownerRole)}`);
        }

        const loaded = ordered.filter((m) => m.source).map((m) => m.target.name);
        if (phase === "migrate") await pauseAutovacuum(pg, loaded, "pause");
        const tableReports: TableReport[] = [];
        for (const m of ordered) {
            const plan = plans.get(m.target.name)!;
            const base = baseTableReport(m, plan.chunks);
            if (phase === "migrate" && m.source) {
                const meter = new ProgressMeter(m.target.name, m.source.rowCount, logger);
                const res = await time("copy", () =>
                    copyTable({
                        sqlite: snapshot.db,
                        lanes: [pg, ...lanes],
                        pageSources,
                        mapping: m,
                        encoder: plan.encoder,
                        chunks: plan.chunks,
                        onChunk: (n) => meter.update(n),
                        beforeCommit: hooks.beforeChunkCommit,
                    }),
                );
                meter.finish(res.rowsRead);
                const retry = await time("copy", () => retryQuarantined(pg, snapshot.db, m, plan.encoder, serverStart));
                if (retry.recovered)
                    logger.info(`${m.target.name}: ${retry.recovered} of ${retry.retried} set-aside rows now convert and were copied`);
                tableReports.push({
                    ...base,
                    chunks: { ...base.chunks, copiedThisRun: res.chunksCopied },
                    rowsRecoveredThisRun: retry.recovered,
                    rowsCopiedThisRun: res.rowsCopied,
                    rowsQuarantinedThisRun: res.rowsQuarantined,
                    rowsFilledThisRun: res.rowsFilled,
                    conversionWarnings: Object.fromEntries(plan.encoder.warnings),
                    copySeconds: res.seconds,
                });
            } else tableReports.push(base);
        }

        let orphans: OrphanOutcome[] = [];
        if (phase === "migrate") {
            const buckets = new Map([...plans].map(([t, p]) => [t, p.encoder.buckets]));
            orphans = await time("orphans", () => handleOrphans(pg, ordered, opts.orphanPolicy, conversion.canonicalSql, buckets));
            await pg.query("RESET ROLE");
            await time("postLoad", () => finishTarget(pg, roles, logger, lanes));
            for (const c of [pg, ...lanes]) await c.query(`SET ROLE ${ident(opts.ownerRole)}`);
            await pauseAutovacuum(pg, loaded, "resume");
        }

        // Tables are validated on every lane's connection at once, largest first: the server hashes them in parallel.
        const validated: TableReport[] = new Array(tableReports.length);
        const queue = tableReports.map((_, i) => i).sort((a, b) => tableReports[b].sourceRows - tableReports[a].sourceRows);
        const validator = async (client: Client) => {
            for (let i = queue.shift(); i !== undefined; i = queue.shift()) {
                const tr = tableReports[i];
                const m = ordered.find((x) => x.target.name === tr.table)!;
                const plan = plans.get(tr.table)!;
                logger.info(`validate ${tr.table}`);
                const validation = await validateTable({
                    sqlite: snapshot.db,
                    pg: client,
                    mapping: m,
                    encoder: plan.encoder,
                    chunks: plan.chunks,
                    canonical: conversion.canonicalSql,
                    rescanSource: phase === "validate" || plan.columnsChanged,
                    sampleRows: opts.sampleRows,
                });
                validated[i] = { ...tr, validation };
            }
        };
        await time("validate", () => Promise.all([pg, ...lanes].map(validator)));
        const schema = await time("validate", () => checkTargetSchema(pg, roles));
        const quarantine = await quarantineSummary(pg);
        const failures: string[] = [];
        for (const t of validated) {
            const v = t.validation!;
            if (!v.countsMatch)
                failures.push(
                    `${t.table}: source ${v.sourceRows} rows != target ${v.targetRows - v.placeholderRows} + quarantined ${v.quarantinedRows}`,
                );
            if (v.mismatchedBuckets.length)
                failures.push(
                    `${t.table}: checksum mismatch in ${v.mismatchedBuckets.length} of ${v.buckets} buckets (${v.differences.length} rows listed)`,
                );
            if (v.sampleMismatches.length) failures.push(`${t.table}: ${v.sampleMismatches.length} sampled rows differ`);
        }
        failures.push(...schema.problems);
        if (quarantine.total > 0 && !opts.allowQuarantine)
            failures.push(
                `${quarantine.total} rows quarantined in ${quarantine.location} (accept with allowQuarantine / --allow-quarantine after review)`,
            );
        timings.total = (Date.now() - startedAt.getTime()) / 1000;
        const report: MigrationReport = {
            tool: "gecko-pg",
            reportVersion: 1,
            ok: failures.length === 0,
            failures,
            warnings,
            startedAt: startedAt.toISOString(),
            finishedAt: new Date().toISOString(),
            source: {
                path: snapshot.path,
                fingerprint: snapshot.fingerprint,
                journalMode: source.journalMode,
                sqliteVersion: source.sqliteVersion,
            },
            target: describeConnection(opts.target),
            options: {
                phase,
                ownerRole: opts.ownerRole,
                appRole: opts.appRole,
                sourceTimeZone: opts.sourceTimeZone,
                clockOverrides: opts.clockOverrides ?? {},
                orphanPolicy: opts.orphanPolicy,
                chunkRows: opts.chunkRows,
                copyLanes: opts.copyLanes,
                convertWorkers: workers?.size ?? 0,
                allowQuarantine: opts.allowQuarantine,
                sampleRows: opts.sampleRows,
            },
            missingTables: mapping.missingTables,
            skippedTables: mapping.skippedTables,
            tables: validated,
            orphans,
            quarantine,
            schema,
            clockChecks,
            timings,
        };
        await saveReport(pg, report);
        return report;
    } finally {
        await workers?.close();
        snapshot.close();
        for (const c of [pg, ...lanes]) await c.end().catch(() => undefined);
    }
}

/** The convert workers asked for, or undefined to convert in this thread. */
async function startConvertWorkers(opts: MigrationOptions, logger: MigrationLogger): Promise<ConvertWorkers | undefined> {
    const count = opts.convertWorkers ?? 0;
    if (count <= 0) return undefined;
    try {
        return await ConvertWorkers.start(count, {
            sqlitePath: opts.sqlitePath,
            conversion: { sourceTimeZone: opts.sourceTimeZone, clockOverrides: opts.clockOverrides },
        });
    } catch (err) {
        // Only speed is lost: the same conversion runs in this thread.
        logger.warn(`convert workers could not start (${(err as Error).message}); converting in the main thread`);
        return undefined;
    }
}

function baseTableReport(m: TableMapping, chunks: readonly (Chunk & { done: boolean })[]): TableReport {
    const known = new Set(m.columns.filter((c) => c.source.kind === "column").map((c) => c.target.name));
    return {
        table: m.target.name,
        sourceRows: m.source?.rowCount ?? 0,
        inSource: Boolean(m.source),
        extra: m.extra,
        chunks: { total: chunks.length, copiedThisRun: 0, alreadyDone: chunks.filter((c) => c.done).length },
        rowsCopiedThisRun: 0,
        rowsQuarantinedThisRun: 0,
        rowsRecoveredThisRun: 0,
        rowsFilledThisRun: 0,
        copySeconds: 0,
        missingColumns: m.missingColumns,
        fills: Object.fromEntries(m.columns.flatMap((c) => (c.source.kind === "fill" ? [[c.target.name, c.source.value]] : []))),
        generatedColumns: m.generatedColumns,
        renamedColumns: m.renamedColumns,
        skippedColumns: m.skippedColumns,
        extraColumns: m.extra
            ? []
            : m.target.columns
                  .filter(
                      (c) =>
                          known.has(c.name) && !TARGET_TABLES.find((t) => t.name === m.target.name)?.columns.some((x) => x.name === c.name),
                  )
                  .map((c) => c.name),
    };
}

/** Fails fast when another run is copying into the same database. */
async function lockRun(pg: Client): Promise<void> {
    const r = await pg.query<{ ok: boolean }>("SELECT pg_try_advisory_lock(hashtext('gecko-pg migration')) AS ok");
    if (!r.rows[0].ok) throw new Error("another gecko-pg migration is running against this database (advisory lock held)");
}

async function quarantineSummary(pg: Client): Promise<MigrationReport["quarantine"]> {
    const by = await pg.query<{ table_name: string; stage: string; n: string }>(
        "SELECT table_name, stage, count(*) AS n FROM gecko_quarantine.rows GROUP BY 1, 2 ORDER BY 1, 2",
    );
    const byTable: Record<string, Record<string, number>> = {};
    let total = 0;
    for (const r of by.rows) {
        (byTable[r.table_name] ??= {})[r.stage] = Number(r.n);
        total += Number(r.n);
    }
    const ex = await pg.query<{ table_name: string; k: string; column_name: string | null; raw_value: string | null; reason: string }>(
        "SELECT table_name, row_key::text AS k, column_name, raw_value, reason FROM gecko_quarantine.rows ORDER BY id LIMIT 10",
    );
    return {
        total,
        location: "gecko_quarantine.rows",
        byTable,
        examples: ex.rows.map((r) => ({ table: r.table_name, key: r.k, column: r.column_name, rawValue: r.raw_value, reason: r.reason })),
    };
}

async function saveReport(pg: Client, report: MigrationReport): Promise<void> {
    await pg.query("INSERT INTO gecko_migration.runs (ok, report) VALUES ($1, $2)", [report.ok, JSON.stringify(report)]);
}

export { renderReport };
