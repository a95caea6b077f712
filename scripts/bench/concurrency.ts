#!/usr/bin/env -S npx tsx
/**
 * SQLite vs the migrated PostgreSQL under the collector's load (issue 4, part 2).
 * Orchestration only: the operations are in load/, the statistics in lib/.
 *
 * Setup: generate a collector SQLite file, start a throwaway PostgreSQL with the stack's
 * roles and settings, migrate the file into it. Then reads (both stores hold the same
 * data), then writes: N separate writer processes per store (SQLite on a copy of the file).
 */
import Database from "better-sqlite3";
import { randomBytes } from "node:crypto";
import * as os from "node:os";
import * as path from "node:path";
import { Client } from "pg";
import { planAccess } from "../../migration/setup/accessPlan";
import { applyAccess } from "../../migration/setup/applyAccess";
import { clientConfig, parseConnectionUrl, type ConnectionSpec } from "../../migration/postgres/connection";
import { startLocalPostgres, type LocalPostgres } from "../../migration/postgres/localServer";
import type { MigrationReport } from "../../migration/data/report/report";
import { runMigration } from "../../migration/data/run/runMigration";
import { applySettings } from "../../migration/setup/applySettings";
import { DEFAULT_SETTINGS } from "../../migration/setup/settingsPlan";
import { generateCollectorDb } from "../generator/collectorDb";
import { int, str, UsageError, type Flags } from "../lib/options";
import { terminalLogger } from "../lib/terminal";
import { chalk, fs } from "../lib/zx";
import { formatNumber } from "./lib/table";
import { DEFAULT_MIX, type MixOptions, type Workload } from "./load/ops";
import { PG_STATEMENT_MODES, type PgStatementMode, type StoreTarget, type WriterConfig } from "./load/protocol";
import { findPostmasterPid, serverCpuSeconds } from "./lib/serverCpu";
import { explainPostgres, explainSqlite, postgresRunner, readQueries, roundTripMs, sqliteRunner, timeQuery } from "./load/reads";
import { runWriters } from "./load/runWriters";
import { renderAll, type FailedRun, type ReadFigures, type ReadResult, type Target, type WriteResult } from "./load/report";
import { createWaitSampler } from "./load/waitSampler";
import { pickWorkload, type ReadParams } from "./load/workload";
import { parseFlags, runMain, type FlagSpec } from "../lib/cli";

const HELP = `Usage: npx tsx scripts/bench/concurrency.ts [options]

Benchmarks the collector's workload on its SQLite file and on the migrated PostgreSQL:
  reads   the collector's read queries (facts items 1, 2, 3, 7, 8, 9, 11), median of --runs,
          PostgreSQL/SQLite ratio, round trips x the SELECT 1 round trip, EXPLAIN (ANALYZE,
          BUFFERS, SERIALIZE) with planning, execution, serialization, indexes and partitions used
  writes  N concurrent collectors (separate processes, one connection each) doing the write mix:
          trade ingest (SELECT id IN (...) + multi-row INSERT ... ON CONFLICT DO NOTHING),
          OHLCV upsert (one row per commit), UPDATE pools ... last_updated (the hot spot);
          throughput, latency, errors, CPU per operation of writers and server, and the states
          of the writers' PostgreSQL backends (pg_stat_activity, sampled)

Starts its own throwaway PostgreSQL (embedded 17; GECKO_PG_ENGINE=debian for Debian's 15; DATABASE_URL
is ignored: the run needs a fresh server with the stack's settings), on 127.0.0.1 only.

  --rows N            rows to generate (default 2000000; 200000 for a quick run)
  --sqlite PATH       benchmark this collector database instead of a generated one (copied, never written)
  --source-time-zone  zone of the collector host for --sqlite's local-clock columns (default UTC)
  --writers LIST      concurrent writers per run (default 1,4,8,16)
  --seconds S         measured duration of each write run (default 20)
  --warmup S          unmeasured seconds before each write run's window (default 1)
  --pg-statements LIST  how PostgreSQL writers send statements, one run per mode (default psycopg2):
                      psycopg2  literals inlined on the client, simple query protocol (what the collector sends)
                      extended  $n parameters, unnamed Parse/Bind/Execute per statement
                      prepared  named server-side prepared statements (NOT what psycopg2 does)
                      targets are judged on psycopg2
  --pg-settings JSON  server settings on top of the stack's defaults, as the stack's serverSettings
                      config takes them, e.g. '{"commit_delay":"20"}' (validated the same way)
  --runs K            timed runs per read query, after one warm-up (default 5)
  --trade-batch N     trades per ingest batch (default ${DEFAULT_MIX.tradeBatch}; the collector sends up to 500)
  --ohlcv-per-commit N  OHLCV upserts per transaction (default 1: the collector commits row by row;
                      N > 1: one series' N consecutive candles, oldest first, per commit)
  --in-txn-ms MS      client time inside the open write transaction after each write statement
                      (default 0): models a collector that keeps its transaction open while it works
  --hot-pools N       pools the writers update (the watchlist's first N active pools; default 50)
  --slow-ms MS        an operation slower than this counts as "waited" (default 1000)
  --busy-timeout MS   SQLite busy_timeout of the bounded run (default: min(30000, --seconds * 1000))
  --no-collector-timeout  skip the extra SQLite run with the collector's real busy_timeout of 30000 ms
  --no-reads, --no-writes  skip a phase
  --plans             print every PostgreSQL plan (items 2 and 2ts are always printed)
  --json PATH         write all figures as JSON
  --seed N            seed of the generated data and the write mix (default 1)
  --end-at ISO|now    where the generated data ends (default now: a live collector's file ends at the
                      migration, so its partitions are its span plus 3 months ahead; an old end date adds
                      an empty partition per month of the gap, which every query without the partition
                      key plans)
  --quiet             no progress on stderr
  -h, --help          this help

Exit status: 0 when the benchmark ran (targets are informational), 2 usage error, 3 run error.
`;

const COLLECTOR_BUSY_TIMEOUT_MS = 30_000;
const DATABASE = "gecko_terminal_collector";

interface Config {
    readonly rows: number;
    readonly sqlite?: string;
    readonly sourceTimeZone: string;
    readonly writers: readonly number[];
    readonly seconds: number;
    readonly warmupSeconds: number;
    readonly pgStatements: readonly PgStatementMode[];
    /** The mode the targets are judged on and the reads are sent with (psycopg2 unless not run). */
    readonly judgedStatements: PgStatementMode;
    /** The stack's DEFAULT_SETTINGS with --pg-settings on top. */
    readonly pgSettings: Readonly<Record<string, string>>;
    readonly runs: number;
    readonly hotPools: number;
    readonly slowMs: number;
    readonly busyTimeoutMs: number;
    readonly collectorTimeoutRun: boolean;
    readonly reads: boolean;
    readonly writes: boolean;
    readonly plans: boolean;
    readonly json?: string;
    readonly seed: number;
    /** End of the generated data's span. */
    readonly endAt: Date;
    readonly mix: MixOptions;
}

function parseConfig(flags: Flags): Config {
    const writers = (str(flags, "writers") ?? "1,4,8,16").split(",").map((s) => Number(s.trim()));
    if (!writers.length || writers.some((n) => !Number.isInteger(n) || n < 1 || n > 64))
        throw new UsageError(`--writers expects a list of integers 1..64, got '${str(flags, "writers")}'`);
    const seconds = Number(str(flags, "seconds") ?? 20);
    if (!(seconds > 0 && seconds <= 600)) throw new UsageError(`--seconds must be in (0, 600], got ${seconds}`);
    const warmupSeconds = Number(str(flags, "warmup") ?? 1);
    if (!(warmupSeconds >= 0 && warmupSeconds <= 60)) throw new UsageError(`--warmup must be in [0, 60], got ${warmupSeconds}`);
    const pgStatements = (str(flags, "pg-statements") ?? "psycopg2").split(",").map((m) => m.trim());
    const unknownMode = pgStatements.find((m) => !(PG_STATEMENT_MODES as readonly string[]).includes(m));
    if (unknownMode !== undefined || !pgStatements.length)
        throw new UsageError(`--pg-statements expects a list of ${PG_STATEMENT_MODES.join(", ")}, got '${str(flags, "pg-statements")}'`);
    const runs = int(flags, "runs", 5);
    let overrides: unknown;
    try {
        overrides = JSON.parse(str(flags, "pg-settings") ?? "{}");
    } catch (err) {
        throw new UsageError(`--pg-settings is not JSON: ${(err as Error).message}`);
    }
    if (
        !overrides ||
        typeof overrides !== "object" ||
        Array.isArray(overrides) ||
        Object.values(overrides).some((v) => typeof v !== "string")
    ) {
        throw new UsageError(`--pg-settings expects a JSON object of setting -> string value`);
    }
    if (runs < 1 || runs > 100) throw new UsageError("--runs must be 1..100");
    const tradeBatch = int(flags, "trade-batch", DEFAULT_MIX.tradeBatch);
    if (tradeBatch < 1 || tradeBatch > 500) throw new UsageError("--trade-batch must be 1..500");
    const ohlcvPerCommit = int(flags, "ohlcv-per-commit", DEFAULT_MIX.ohlcvPerCommit);
    if (ohlcvPerCommit < 1 || ohlcvPerCommit > 1000) throw new UsageError("--ohlcv-per-commit must be 1..1000");
    const inTxnMs = Number(str(flags, "in-txn-ms") ?? DEFAULT_MIX.inTxnMs);
    if (!(inTxnMs >= 0 && inTxnMs <= 10_000)) throw new UsageError(`--in-txn-ms must be in [0, 10000], got ${str(flags, "in-txn-ms")}`);
    const busyTimeoutMs = int(flags, "busy-timeout", Math.min(COLLECTOR_BUSY_TIMEOUT_MS, Math.round(seconds * 1000)));
    const endAtText = str(flags, "end-at") ?? "now";
    // Whole seconds: the generator's timestamps are derived from it.
    const endAt = new Date(Math.floor((endAtText === "now" ? Date.now() : Date.parse(endAtText)) / 1000) * 1000);
    if (Number.isNaN(endAt.getTime())) throw new UsageError(`--end-at expects an ISO date or 'now', got '${endAtText}'`);
    return {
        rows: int(flags, "rows", 2_000_000),
        sqlite: str(flags, "sqlite"),
        sourceTimeZone: str(flags, "source-time-zone") ?? "UTC",
        writers: [...new Set(writers)].sort((a, b) => a - b),
        seconds,
        warmupSeconds,
        pgStatements: [...new Set(pgStatements as PgStatementMode[])],
        judgedStatements: pgStatements.includes("psycopg2") ? "psycopg2" : (pgStatements[0] as PgStatementMode),
        pgSettings: { ...DEFAULT_SETTINGS, ...(overrides as Record<string, string>) },
        runs,
        hotPools: Math.max(1, int(flags, "hot-pools", 50)),
        slowMs: int(flags, "slow-ms", 1000),
        busyTimeoutMs,
        collectorTimeoutRun: flags["collector-timeout"] !== false && busyTimeoutMs !== COLLECTOR_BUSY_TIMEOUT_MS,
        reads: flags.reads !== false,
        writes: flags.writes !== false,
        plans: Boolean(flags.plans),
        json: str(flags, "json"),
        seed: int(flags, "seed", 1),
        endAt,
        mix: { ...DEFAULT_MIX, tradeBatch, ohlcvPerCommit, inTxnMs },
    };
}

type Logger = ReturnType<typeof terminalLogger>;

/** The benchmark's PostgreSQL, provisioned as the stack does: the superuser, the collector's database as it, and as the app role. */
interface Provisioned {
    readonly admin: ConnectionSpec;
    readonly target: ConnectionSpec;
    readonly app: ConnectionSpec;
}

/** The collector SQLite file both stores start from, and how it came about. */
interface Source {
    readonly path: string;
    /** Rows per table when generated; undefined for --sqlite. */
    readonly generated?: Record<string, number>;
    readonly seconds: number;
}

/** The migrated PostgreSQL copy of the source. */
interface Migrated {
    readonly report: MigrationReport;
    readonly seconds: number;
}

const FLAGS: FlagSpec = {
    boolean: ["quiet", "plans", "reads", "writes", "collector-timeout"],
    string: [
        "rows",
        "sqlite",
        "source-time-zone",
        "writers",
        "seconds",
        "warmup",
        "pg-statements",
        "pg-settings",
        "runs",
        "trade-batch",
        "ohlcv-per-commit",
        "in-txn-ms",
        "hot-pools",
        "slow-ms",
        "busy-timeout",
        "json",
        "seed",
        "end-at",
    ],
    default: { reads: true, writes: true, "collector-timeout": true },
};

async function main(argv: string[]): Promise<number> {
    const flags = parseFlags(argv, FLAGS);
    if (flags.help) {
        process.stdout.write(HELP);
        return 0;
    }
    const config = parseConfig(flags);
    const quiet = Boolean(flags.quiet);
    const logger = terminalLogger({ quiet });
    if (config.sqlite && !(await fs.pathExists(config.sqlite))) throw new UsageError(`--sqlite: ${config.sqlite} not found`);
    if (!(await fs.pathExists(path.join(__dirname, "load", "writer.ts")))) throw new Error("scripts/bench/load/writer.ts is missing");
    const startedAt = new Date();
    const loadBefore = os.loadavg();
    if (loadBefore[0] > os.cpus().length * 0.5)
        logger.warn(
            `load average ${loadBefore[0].toFixed(1)} on ${os.cpus().length} cores before the run: other work on this machine skews the figures`,
        );

    const workDir = await fs.mkdtemp(path.join(os.tmpdir(), "gecko-bench-"));
    logger.info("starting PostgreSQL ...");
    const server = await startLocalPostgres({ ignoreDatabaseUrl: true });
    try {
        // ---- setup ----
        const { admin, target, app } = await provisionServer(server, config, logger);
        const source = await prepareSource(workDir, config, logger);
        const migrated = await migrateSource(source.path, target, config, logger, quiet);
        const picked = pickWorkload(source.path, config.hotPools);
        const postgresVersion = await withClient(app, async (c) => (await c.query("SELECT version() AS v")).rows[0].v as string);

        // ---- reads (before any write: both stores hold the same data) ----
        const readFigures = config.reads
            ? await benchReads(source.path, app, picked.reads, config, logger)
            : { results: [], roundTripMs: Number.NaN };

        // ---- writes ----
        const { results: writes, failures: failedRuns } = config.writes
            ? await benchWrites(source.path, workDir, admin, app, picked.workload, config, logger)
            : { results: [], failures: [] };

        const targets = evaluateTargets(readFigures.results, writes, config);
        const output = runOutput({
            startedAt,
            config,
            loadBefore,
            postgresVersion,
            server,
            source,
            migrated,
            picked,
            readFigures,
            writes,
            failedRuns,
            targets,
        });
        process.stdout.write(renderAll(output.environment, readFigures, writes, targets, config) + "\n");
        if (config.json) {
            await fs.ensureDir(path.dirname(path.resolve(config.json)));
            await fs.writeFile(config.json, JSON.stringify(output, null, 2));
            logger.info(`figures written to ${config.json}`);
        }
        return reportOutcome(targets, failedRuns);
    } finally {
        await server.stop();
        await fs.remove(workDir);
    }
}

/** The stack's database, roles, grants and settings (--pg-settings on top) on the throwaway server. */
async function provisionServer(server: LocalPostgres, config: Config, logger: Logger): Promise<Provisioned> {
    const admin = parseConnectionUrl(server.url);
    const appPassword = randomBytes(18).toString("base64url");
    await applyAccess(
        admin,
        planAccess({ database: DATABASE, ownerRole: "gecko_owner", appRole: "gecko_collector", timezone: "UTC" }),
        appPassword,
    );
    const settings = await applySettings({ connection: admin, desired: config.pgSettings, restart: { kind: "none" } });
    if (settings.pendingRestart.length) await server.restart();
    const target: ConnectionSpec = { ...admin, database: DATABASE };
    const app: ConnectionSpec = { ...target, user: "gecko_collector", password: appPassword };
    logger.info(`PostgreSQL ${server.engine} ${server.major} on 127.0.0.1:${server.port}, database ${DATABASE}, stack settings applied`);
    return { admin, target, app };
}

/** The collector file in the work dir: a copy of --sqlite, or a generated one. */
async function prepareSource(workDir: string, config: Config, logger: Logger): Promise<Source> {
    const sourcePath = path.join(workDir, "gecko_data.db");
    const t0 = Date.now();
    let generated: Record<string, number> | undefined;
    if (config.sqlite) {
        // The backup API takes the -wal file's pages too (copying the .db alone loses them).
        const src = new Database(config.sqlite, { readonly: true, fileMustExist: true });
        try {
            await src.backup(sourcePath);
        } finally {
            src.close();
        }
        const db = new Database(sourcePath);
        db.pragma("journal_mode = WAL");
        db.close();
        logger.info(`copied ${config.sqlite} in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
    } else {
        logger.info(`generating a collector database of ~${config.rows.toLocaleString("en-US")} rows ...`);
        // Host zone UTC: every clock agrees, so a time window selects the same rows in both stores.
        const m = generateCollectorDb({
            path: sourcePath,
            rows: config.rows,
            seed: config.seed,
            variant: "extended",
            hostTimeZone: "UTC",
            endAt: config.endAt,
        });
        generated = m.tables as Record<string, number>;
        logger.info(`generated ${m.totalRows.toLocaleString("en-US")} rows (${m.variant}) in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
    }
    return { path: sourcePath, generated, seconds: (Date.now() - t0) / 1000 };
}

/** runMigration into the stack's database (throws unless its report is ok), then what autovacuum would do soon after. */
async function migrateSource(
    sourcePath: string,
    target: ConnectionSpec,
    config: Config,
    logger: Logger,
    quiet: boolean,
): Promise<Migrated> {
    const t1 = Date.now();
    logger.info("migrating into PostgreSQL ...");
    const report = await runMigration(
        { sqlitePath: sourcePath, target, sourceTimeZone: config.sqlite ? config.sourceTimeZone : "UTC" },
        quiet ? undefined : logger,
    );
    const seconds = (Date.now() - t1) / 1000;
    if (!report.ok) throw new Error(`migration failed: ${report.failures.join("; ")}`);
    logger.info(`migrated ${report.tables.reduce((a, t) => a + t.sourceRows, 0).toLocaleString("en-US")} rows in ${seconds.toFixed(1)}s`);

    // What autovacuum does within minutes of the load (visibility map for index-only scans,
    // hint bits), done now so it neither runs during a measurement nor is missing from it.
    const tv = Date.now();
    await withClient(target, (c) => c.query("VACUUM (ANALYZE)"));
    logger.info(`VACUUM (ANALYZE) in ${((Date.now() - tv) / 1000).toFixed(1)}s`);
    return { report, seconds };
}

/** Everything the run measured, as --json writes it (its environment also heads the printed report). */
function runOutput(run: {
    readonly startedAt: Date;
    readonly config: Config;
    readonly loadBefore: number[];
    readonly postgresVersion: string;
    readonly server: LocalPostgres;
    readonly source: Source;
    readonly migrated: Migrated;
    readonly picked: ReturnType<typeof pickWorkload>;
    readonly readFigures: ReadFigures;
    readonly writes: readonly WriteResult[];
    readonly failedRuns: readonly FailedRun[];
    readonly targets: readonly Target[];
}) {
    const { config, migrated, picked } = run;
    return {
        tool: "gecko-pg bench/concurrency",
        version: 1,
        startedAt: run.startedAt.toISOString(),
        finishedAt: new Date().toISOString(),
        config: { ...config, json: undefined },
        environment: {
            node: process.version,
            cpus: os.cpus().length,
            memoryGiB: Math.round(os.totalmem() / 2 ** 30),
            loadAverageBefore: run.loadBefore,
            loadAverageAfter: os.loadavg(),
            sqliteVersion: sqliteVersion(),
            postgres: run.postgresVersion,
            postgresEngine: run.server.engine,
            postgresSettings: config.pgSettings,
        },
        setup: {
            sourceTables: run.source.generated,
            generateSeconds: run.source.seconds,
            migrateSeconds: migrated.seconds,
            migrationOk: migrated.report.ok,
            migrationWarnings: migrated.report.warnings.length,
        },
        sqliteConfig: {
            journalMode: "WAL",
            busyTimeoutMs: [config.busyTimeoutMs, ...(config.collectorTimeoutRun ? [COLLECTOR_BUSY_TIMEOUT_MS] : [])],
            synchronous: "FULL",
            foreignKeys: false,
        },
        workload: {
            hotPools: picked.workload.hotPools.length,
            ohlcvSeries: picked.workload.ohlcvSeries.length,
            knownTradeIds: picked.workload.knownTradeIds.length,
            mix: config.mix,
        },
        readParams: picked.reads,
        readRoundTripMs: run.readFigures.roundTripMs,
        reads: run.readFigures.results,
        writes: run.writes,
        failedRuns: run.failedRuns,
        targets: run.targets,
    };
}

/** Targets passed and failed (stderr); exit status 3 when a write run failed, else 0. */
function reportOutcome(targets: readonly Target[], failedRuns: readonly FailedRun[]): number {
    const passed = targets.filter((t) => t.pass === true).length;
    const failed = targets.filter((t) => t.pass === false).length;
    process.stderr.write(`${passed} targets passed, ${failed} failed, ${targets.length - passed - failed} not measured\n`);
    if (failedRuns.length) {
        process.stderr.write(
            chalk.red(`${failedRuns.length} write runs failed: ${failedRuns.map((f) => `${f.store} N=${f.writers}`).join(", ")}`) + "\n",
        );
        return 3;
    }
    return 0;
}

function sqliteVersion(): string {
    const db = new Database(":memory:");
    try {
        return db.prepare("SELECT sqlite_version()").pluck().get() as string;
    } finally {
        db.close();
    }
}

async function withClient<T>(spec: ConnectionSpec, fn: (c: Client) => Promise<T>): Promise<T> {
    const c = new Client(clientConfig(spec, { application_name: "gecko-bench" }));
    await c.connect();
    try {
        return await fn(c);
    } finally {
        await c.end();
    }
}

/** SQLite opened as the collector opens it: WAL, busy_timeout 30 s, foreign keys off. */
function openCollectorSqlite(file: string): Database.Database {
    const db = new Database(file, { timeout: COLLECTOR_BUSY_TIMEOUT_MS });
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = FULL");
    db.pragma("foreign_keys = OFF");
    return db;
}

async function benchReads(
    sourcePath: string,
    app: ConnectionSpec,
    params: ReadParams,
    config: Config,
    logger: ReturnType<typeof terminalLogger>,
): Promise<ReadFigures> {
    const queries = readQueries(params);
    const db = openCollectorSqlite(sourcePath);
    const results: ReadResult[] = [];
    let rtt = Number.NaN;
    try {
        await withClient(app, async (pg) => {
            rtt = await roundTripMs(pg, config.judgedStatements);
            const serialize = Number((await pg.query("SHOW server_version_num")).rows[0].server_version_num) >= 170000;
            const partitionsTotal = Number(
                (await pg.query("SELECT count(*) AS n FROM pg_inherits WHERE inhparent = 'ohlcv_data'::regclass")).rows[0].n,
            );
            const sqlite = sqliteRunner(db);
            const postgres = postgresRunner(pg, config.judgedStatements);
            for (const q of queries) {
                logger.info(`read ${q.id}: ${q.title}`);
                const s = await timeQuery(sqlite, q, config.runs);
                const p = await timeQuery(postgres, q, config.runs);
                const plan = await explainPostgres(pg, q, config.judgedStatements, serialize);
                const partitions = plan.relations.filter((r) => r.startsWith("ohlcv_data_"));
                results.push({
                    id: q.id,
                    title: q.title,
                    sqlite: { ...s, plan: explainSqlite(db, q) },
                    postgres: {
                        ...p,
                        plan,
                        planUsesPlannedIndex: q.plannedIndexes
                            ? q.plannedIndexes.every((re) => plan.indexes.some((i) => new RegExp(re).test(i)))
                            : null,
                        ...(partitions.length ? { partitionsScanned: partitions.length, partitionsTotal } : {}),
                    },
                    ratio: p.medianMs / s.medianMs,
                    roundTripFloorMs: p.statements * rtt,
                    rowsMatch: s.rows === p.rows,
                });
            }
        });
    } finally {
        db.close();
    }
    return { results, roundTripMs: rtt };
}

async function benchWrites(
    sourcePath: string,
    workDir: string,
    admin: ConnectionSpec,
    app: ConnectionSpec,
    workload: Workload,
    config: Config,
    logger: ReturnType<typeof terminalLogger>,
): Promise<{ results: WriteResult[]; failures: FailedRun[] }> {
    const writePath = path.join(workDir, "write.db");
    await fs.copyFile(sourcePath, writePath);
    const sqliteVariants = [config.busyTimeoutMs, ...(config.collectorTimeoutRun ? [COLLECTOR_BUSY_TIMEOUT_MS] : [])];
    const results: WriteResult[] = [];
    const failures: FailedRun[] = [];
    const postmaster = await withClient(admin, (c) => findPostmasterPid(c));
    const run = async (target: StoreTarget, timeoutMs: number, writers: number, variant: string, tag: string) => {
        const configs: WriterConfig[] = Array.from({ length: writers }, (_, worker) => ({
            target,
            workload,
            mix: config.mix,
            tag,
            worker,
            seed: config.seed,
            slowMs: config.slowMs,
            maxOps: 5_000_000,
        }));
        logger.info(`write ${target.store} N=${writers} (${variant}): ${config.seconds}s ...`);
        const loadAverage = os.loadavg()[0];
        const sampler = target.store === "postgres" ? await createWaitSampler(admin, "gecko-bench writer") : undefined;
        try {
            const figures = await runWriters(configs, {
                window: sampler,
                seconds: config.seconds,
                warmupSeconds: config.warmupSeconds,
                graceMs: timeoutMs + 30_000,
                serverCpuSeconds: () => serverCpuSeconds(postmaster),
                serverIsStore: target.store === "postgres",
            });
            logger.info(
                `  ${formatNumber(figures.opsPerSecond)} ops/s, ${figures.errorCount} errors, ${figures.slow} waited > ${config.slowMs} ms`,
            );
            const backendStates = await sampler?.finish();
            results.push({
                ...figures,
                ...(backendStates ? { backendStates } : {}),
                store: target.store,
                variant,
                ...(target.store === "postgres" ? { statements: target.statements } : {}),
                seconds: config.seconds,
                timeoutMs,
                loadAverage,
            });
        } catch (err) {
            await sampler?.finish().catch(() => undefined);
            // One broken run must not throw away the others' figures; the exit status says it.
            logger.warn(`write ${target.store} N=${writers} (${variant}) failed: ${(err as Error).message}`);
            failures.push({ store: target.store, variant, writers, error: (err as Error).message });
        }
    };
    for (const n of config.writers) {
        for (const busy of sqliteVariants) {
            checkpointSqlite(writePath);
            const label = busy === COLLECTOR_BUSY_TIMEOUT_MS ? `busy_timeout ${busy} ms (collector)` : `busy_timeout ${busy} ms`;
            await run({ store: "sqlite", path: writePath, busyTimeoutMs: busy, synchronous: "FULL" }, busy, n, label, `s${busy}n${n}`);
        }
        for (const statements of config.pgStatements) {
            await withClient(admin, (c) => c.query("CHECKPOINT"));
            // lock_timeout: the same bound on a lock wait as the bounded SQLite run's busy_timeout.
            await run(
                { store: "postgres", connection: app, lockTimeoutMs: config.busyTimeoutMs, statements },
                config.busyTimeoutMs,
                n,
                `${statements}, lock_timeout ${config.busyTimeoutMs} ms`,
                `pg${statements[0]}n${n}`,
            );
        }
    }
    return { results, failures };
}

/** Same start for every run: the WAL folded back into the file. */
function checkpointSqlite(file: string): void {
    const db = openCollectorSqlite(file);
    try {
        db.pragma("wal_checkpoint(TRUNCATE)");
    } finally {
        db.close();
    }
}

function evaluateTargets(reads: readonly ReadResult[], writes: readonly WriteResult[], config: Config): Target[] {
    const targets: Target[] = [];
    // Judged on what the collector's driver sends; the other statement modes are for comparison.
    const judged = config.judgedStatements;
    const pgAt = (n: number) => writes.find((w) => w.store === "postgres" && w.statements === judged && w.writers === n);
    const maxN = Math.max(...config.writers);
    const lockN = config.writers.includes(16) ? 16 : maxN;
    const pg16 = pgAt(lockN);
    targets.push({
        id: "pg-zero-lock-errors",
        description: `PostgreSQL zero lock errors at N=${lockN}${lockN !== 16 ? " (16 not run)" : ""}`,
        pass: pg16 ? pg16.errorCount === 0 : null,
        detail: pg16
            ? `${pg16.errorCount} errors (${describeErrors(pg16.errors)}), ${pg16.slow} ops waited > ${config.slowMs} ms`
            : "no PostgreSQL write run",
    });
    const tputN = config.writers.includes(8) ? 8 : maxN;
    const pg8 = pgAt(tputN);
    const sqlite8 = writes.filter((w) => w.store === "sqlite" && w.writers === tputN).sort((a, b) => b.opsPerSecond - a.opsPerSecond)[0];
    const ratio = pg8 && sqlite8 ? pg8.opsPerSecond / sqlite8.opsPerSecond : Number.NaN;
    targets.push({
        id: "pg-write-throughput-5x",
        description: `PostgreSQL (${judged}) write throughput at N=${tputN}${tputN !== 8 ? " (8 not run)" : ""} >= 5x SQLite's`,
        pass: Number.isFinite(ratio) ? ratio >= 5 : null,
        detail: Number.isFinite(ratio)
            ? `${formatNumber(pg8!.opsPerSecond)} vs ${formatNumber(sqlite8!.opsPerSecond)} ops/s (best SQLite run) = ${ratio.toFixed(2)}x; rows/s ${(pg8!.rowsPerSecond / sqlite8!.rowsPerSecond).toFixed(2)}x`
            : "not measured",
    });
    const slower = reads.filter((r) => !(r.ratio <= 1));
    targets.push({
        id: "pg-reads-not-slower",
        description: "every read query no slower on PostgreSQL (ratio <= 1.0)",
        pass: reads.length ? slower.length === 0 : null,
        detail: reads.length
            ? slower.length
                ? `slower: ${slower.map((r) => `${r.id} (${r.ratio.toFixed(2)}x)`).join(", ")}`
                : `all ${reads.length} queries <= 1.0`
            : "reads not run",
    });
    return targets;
}

function describeErrors(errors: Partial<Record<string, number>>): string {
    const parts = Object.entries(errors)
        .filter(([, v]) => v)
        .map(([k, v]) => `${k} ${v}`);
    return parts.length ? parts.join(", ") : "none";
}

runMain(main);
