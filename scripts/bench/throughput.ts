#!/usr/bin/env -S npx tsx
/**
 * Migration throughput benchmark (issue 4): this project's runMigration vs
 * pgloader vs the sqlite3 | psql \copy ceiling, on the same generated SQLite
 * file, each into a fresh database of one PostgreSQL server, side by side in
 * one run. Orchestration only: contenders in scripts/bench/contenders, shared
 * measuring and printing in scripts/bench/lib.
 */
import { readdirSync, statSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { randomBytes } from "node:crypto";
import { Client } from "pg";
import { clientConfig, parseConnectionUrl, type ConnectionSpec } from "../../migration/postgres/connection";
import { redactUrl, startLocalPostgres, type LocalPostgres } from "../../migration/postgres/localServer";
import { generateCollectorDb } from "../generator/collectorDb";
import { int, str, UsageError, type Flags } from "../lib/options";
import { $, chalk, fs, which } from "../lib/zx";
import { runCeiling } from "./contenders/ceiling";
import { runGeckoPg, type GeckoPgOptions } from "./contenders/geckoPg";
import { runPgloader } from "./contenders/pgloader";
import { renderProfileSummary, summarizeCpuProfile, type ProfileSummary } from "./lib/cpuProfile";
import { GNU_TIME } from "./lib/measure";
import { findPostmasterPid } from "./lib/serverCpu";
import { evaluateTargets, fmtRows, renderResults, renderTargets, type Target } from "./lib/summary";
import { applyStackSettings, createDatabase, dropDatabase, withClient } from "./lib/targetDb";
import type { ContenderContext, ContenderResult } from "./lib/types";
import { parseFlags, runMain } from "../lib/cli";

const HELP = `Usage: npx tsx scripts/bench/throughput.ts [options]

Generates a collector SQLite database and loads the SAME file, each into a fresh database
on ONE PostgreSQL server (embedded PostgreSQL 17, or DATABASE_URL), with:
  gecko-pg      runMigration (roles/database provisioned as scripts/demo.ts does), in a child process
  pgloader      Debian's pgloader, SQLite defaults (drop, create tables, create indexes, reset sequences)
  ceiling-seq   sqlite3 -csv | psql \\copy per table into bare typed tables, then PK/UNIQUE + the same
                indexes, foreign keys and ANALYZE; ceiling-par2: the same with two load lanes
runs gecko-pg at each other --scales size for its peak RSS (first: they also take the fresh
server's slow first minutes), and prints the issue-4 targets.
Peak RSS covers each contender's own process tree (node / pgloader / sqlite3 + psql), never the
PostgreSQL server's memory; "server CPU s" is what the server's processes spent meanwhile.

  --rows N              rows of the main comparison (default 2000000)
  --scales LIST         gecko-pg RSS scales, comma-separated (default 500000,1000000,2000000)
  --skip-pgloader       do not run pgloader (required when it is not installed)
  --no-ceiling-par      skip the two-lane ceiling variant
  --no-workers          skip gecko-pg-2-workers (gecko-pg with --convert-workers 2, to show what convert
                        worker threads are worth on this machine)
  --repeat N            rounds of the main comparison (default 1): every contender runs once per round,
                        in turn, and keeps its fastest round (noise from other work only adds time)
  --seed N              generator seed (default 1)
  --host-time-zone Z    zone of the generated collector host (default America/Chicago)
  --cpu-prof DIR        one extra gecko-pg run at --rows with node --cpu-prof into DIR (not in the table);
                        prints the top self-time functions
  --json PATH           write every figure as JSON
  --keep                keep the work directory and the databases (DATABASE_URL servers only)
  -h, --help            this help

Human table on stdout, progress on stderr. The targets' PASS/FAIL is informational: the exit
status is 0 unless a contender failed or gecko-pg's report was not ok (1); 2 usage or missing
tools; 3 run error.
`;

/** The run as the flags ask for it. */
interface BenchOptions {
    /** Rows of the main comparison. */
    readonly rows: number;
    /** gecko-pg's RSS scales. */
    readonly scales: readonly number[];
    readonly seed: number;
    readonly repeat: number;
    readonly hostZone: string;
    readonly skipPgloader: boolean;
    readonly ceilingPar: boolean;
    readonly workers: boolean;
    readonly keep: boolean;
    readonly cpuProfDir?: string;
    readonly jsonPath?: string;
}

function parseOptions(flags: Flags): BenchOptions {
    const rows = int(flags, "rows", 2_000_000);
    const scales = (str(flags, "scales") ?? "500000,1000000,2000000").split(",").map((s) => {
        const n = Number(s.trim());
        if (!Number.isInteger(n) || n <= 0) throw new UsageError(`--scales takes positive integers, got '${s}'`);
        return n;
    });
    const seed = int(flags, "seed", 1);
    const repeat = int(flags, "repeat", 1);
    if (repeat < 1) throw new UsageError(`--repeat takes a positive integer, got ${repeat}`);
    return {
        rows,
        scales,
        seed,
        repeat,
        hostZone: str(flags, "host-time-zone") ?? "America/Chicago",
        skipPgloader: Boolean(flags["skip-pgloader"]),
        ceilingPar: Boolean(flags["ceiling-par"]),
        workers: Boolean(flags.workers),
        keep: Boolean(flags.keep),
        cpuProfDir: str(flags, "cpu-prof"),
        jsonPath: str(flags, "json"),
    };
}

/** A generated SQLite file of one scale. */
interface Source {
    readonly path: string;
    readonly totalRows: number;
    readonly tables: Record<string, number>;
    readonly seconds: number;
}

/** The server the contenders load into, as the report states it. */
interface ServerInfo {
    readonly engine: LocalPostgres["engine"];
    readonly version: string;
    readonly postmasterPid: number | null;
    readonly maintenanceWorkMem: string;
    readonly maxParallelMaintenanceWorkers: string;
    /** What was done to its settings. */
    readonly settings: string;
}

/** What every contender run of this benchmark shares. */
interface Bench {
    readonly admin: ConnectionSpec;
    /** Random, in every database and role name of this run. */
    readonly suffix: string;
    readonly sources: ReadonlyMap<number, Source>;
    readonly workDir: string;
    readonly postmasterPid: number | null;
    readonly keep: boolean;
    /** Databases created so far (dropped at the end on DATABASE_URL servers). */
    readonly databases: string[];
    readonly log: (line: string) => void;
}

type Contender = (ctx: ContenderContext) => Promise<ContenderResult>;

/** The figures of a run: the main comparison (a contender each) and gecko-pg at each RSS scale. */
interface Results {
    readonly main: readonly ContenderResult[];
    readonly byScale: readonly ContenderResult[];
    readonly profile?: ProfileSummary;
}

async function main(argv: string[]): Promise<number> {
    const flags = parseFlags(argv, {
        boolean: ["skip-pgloader", "ceiling-par", "workers", "keep"],
        string: ["rows", "scales", "seed", "repeat", "host-time-zone", "cpu-prof", "json"],
        default: { "ceiling-par": true, workers: true },
    });
    if (flags.help) {
        process.stdout.write(HELP);
        return 0;
    }
    const options = parseOptions(flags);
    const t0 = Date.now();
    const log = (line: string) => process.stderr.write(chalk.dim(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(6)}s] ${line}`) + "\n");

    const tools = await preflight(options.skipPgloader);
    const workDir = await fs.mkdtemp(path.join(os.tmpdir(), "gecko-pg-bench-"));
    await fs.chmod(workDir, 0o755); // pgloader and psql read files here; the server never does
    log(`work dir ${workDir}`);
    let server: LocalPostgres | undefined;
    const suffix = randomBytes(3).toString("hex");
    const roles: GeckoPgOptions = {
        ownerRole: `gecko_owner_b${suffix}`,
        appRole: `gecko_collector_b${suffix}`,
        sourceTimeZone: options.hostZone,
    };
    const databases: string[] = [];
    let admin: ConnectionSpec | undefined;
    try {
        log("starting PostgreSQL ...");
        server = await startLocalPostgres();
        admin = parseConnectionUrl(server.url);
        log(`PostgreSQL ${server.engine} at ${redactUrl(server.url)}`);
        const serverInfo = await prepareServer(server, admin, log);
        const sources = generateSources(workDir, options, log);
        const bench: Bench = {
            admin,
            suffix,
            sources,
            workDir,
            postmasterPid: serverInfo.postmasterPid,
            keep: options.keep,
            databases,
            log,
        };
        const results = await runContenders(bench, options, roles);
        const targets = evaluateTargets(results.main, results.byScale);
        process.stdout.write(renderRun(options, serverInfo, results, targets).join("\n") + "\n");

        const ourFailures = [...results.main, ...results.byScale].filter((r) => r.contender.startsWith("gecko-pg") && !r.ok);
        const failures = [...results.main, ...results.byScale].filter((r) => !r.ok);
        const exitCode = failures.length ? 1 : 0;
        if (options.jsonPath) {
            const json = runJson({ startedAt: t0, options, serverInfo, tools, sources, results, targets, ourFailures, exitCode });
            await fs.ensureDir(path.dirname(path.resolve(options.jsonPath)));
            await fs.writeFile(options.jsonPath, JSON.stringify(json, null, 2));
            log(`JSON written to ${options.jsonPath}`);
        }
        const n = results.main.length + results.byScale.filter((r) => !results.main.includes(r)).length;
        process.stderr.write(
            `${failures.length ? chalk.red("FAILED") : chalk.green("OK")}: ${n - failures.length} runs ok, ${failures.length} failed${ourFailures.length ? " (gecko-pg report not ok)" : ""}\n`,
        );
        return exitCode;
    } finally {
        if (server?.engine === "external" && admin && !options.keep)
            await cleanupExternal(admin, databases, roles).catch((e: Error) => log(`cleanup: ${e.message}`));
        await server?.stop();
        if (!options.keep) await fs.remove(workDir);
    }
}

/** The server with the stack's settings, and what the report says of it. */
async function prepareServer(server: LocalPostgres, admin: ConnectionSpec, log: (line: string) => void): Promise<ServerInfo> {
    const settings = await applyStackSettings(server, admin, log);
    const setting = async (c: Client, name: string) => (await c.query<{ v: string }>("SELECT current_setting($1) AS v", [name])).rows[0].v;
    return withClient(admin, async (c) => ({
        engine: server.engine,
        version: await setting(c, "server_version"),
        postmasterPid: await findPostmasterPid(c as Client),
        maintenanceWorkMem: await setting(c, "maintenance_work_mem"),
        maxParallelMaintenanceWorkers: await setting(c, "max_parallel_maintenance_workers"),
        settings,
    }));
}

/** One collector SQLite file per scale (the main comparison's rows and every RSS scale), smallest first. */
function generateSources(workDir: string, options: BenchOptions, log: (line: string) => void): Map<number, Source> {
    const sources = new Map<number, Source>();
    for (const scale of [...new Set([options.rows, ...options.scales])].sort((a, b) => a - b)) {
        const file = path.join(workDir, `collector-${scale}.db`);
        const g0 = Date.now();
        log(`generating ${fmtRows(scale)} rows -> ${file}`);
        const m = generateCollectorDb({ path: file, rows: scale, seed: options.seed, hostTimeZone: options.hostZone });
        sources.set(scale, {
            path: file,
            totalRows: m.totalRows,
            tables: m.tables as Record<string, number>,
            seconds: (Date.now() - g0) / 1000,
        });
        log(`generated ${m.totalRows.toLocaleString("en-US")} rows in ${((Date.now() - g0) / 1000).toFixed(1)}s`);
    }
    return sources;
}

/**
 * The other RSS scales first: the first runs on a fresh server after the generator's writes
 * were the slowest in every run (the whole run, validation included), and were always ours.
 * These take that instead of the main comparison's first round. Then the main comparison,
 * `--repeat` rounds of every contender in turn: time-dependent noise (other tenants of the
 * host) spreads over all of them, and each keeps its fastest round. Then the profiled run.
 */
async function runContenders(bench: Bench, options: BenchOptions, roles: GeckoPgOptions): Promise<Results> {
    const otherScales = new Map<number, ContenderResult>();
    for (const scale of [...new Set(options.scales)].filter((s) => s !== options.rows).sort((a, b) => a - b)) {
        otherScales.set(scale, await runContender(bench, "gecko-pg", scale, (ctx) => runGeckoPg(ctx, roles)));
    }
    const lineup = contenderLineup(options, roles);
    const rounds: ContenderResult[][] = lineup.map(() => []);
    for (let rep = 1; rep <= options.repeat; rep++) {
        for (const [i, [name, fn]] of lineup.entries()) {
            if (rounds[i].some((r) => !r.ok)) continue;
            rounds[i].push(await runContender(bench, name, options.rows, fn, rep));
        }
    }
    const main = rounds.map(fastestRound);
    const byScale = [...new Set(options.scales)]
        .sort((a, b) => a - b)
        .map((scale) => (scale === options.rows ? main[0] : otherScales.get(scale)!));
    const profile = options.cpuProfDir ? await profileGeckoPg(bench, options.rows, options.cpuProfDir, roles) : undefined;
    return { main, byScale, profile };
}

/** The main comparison's contenders, in the order they run in every round. */
function contenderLineup(options: BenchOptions, roles: GeckoPgOptions): [string, Contender][] {
    const lineup: [string, Contender][] = [["gecko-pg", (ctx) => runGeckoPg(ctx, roles)]];
    // The same run with a convert worker per lane: what they are worth here, side by side.
    if (options.workers)
        lineup.push(["gecko-pg-2-workers", (ctx) => runGeckoPg(ctx, { ...roles, convertWorkers: 2, label: "gecko-pg-2-workers" })]);
    if (!options.skipPgloader) lineup.push(["pgloader", runPgloader]);
    lineup.push(["ceiling-seq", (ctx) => runCeiling(ctx, "seq")]);
    if (options.ceilingPar) lineup.push(["ceiling-par2", (ctx) => runCeiling(ctx, "par2")]);
    return lineup;
}

/** One contender at one scale into a fresh database (dropped afterwards unless --keep); a thrown error becomes a failed result. */
async function runContender(bench: Bench, name: string, scale: number, fn: Contender, rep = 1): Promise<ContenderResult> {
    const database = `bench_${bench.suffix}_${name.replace(/[^a-z0-9]/g, "_")}_${scale}${rep > 1 ? `_r${rep}` : ""}`;
    await settle(bench.admin, bench.log);
    await createDatabase(bench.admin, database);
    bench.databases.push(database);
    const ctx: ContenderContext = {
        admin: bench.admin,
        sqlitePath: bench.sources.get(scale)!.path,
        scale,
        database,
        workDir: bench.workDir,
        log: bench.log,
        postmasterPid: bench.postmasterPid,
    };
    const loadBefore = os.loadavg()[0];
    if (loadBefore > os.cpus().length)
        bench.log(
            chalk.yellow(
                `warning: load average ${loadBefore.toFixed(1)} on ${os.cpus().length} CPUs before ${name}: other work on this machine skews the figures`,
            ),
        );
    let result: ContenderResult;
    try {
        result = await fn(ctx);
    } catch (err) {
        result = thrownResult(name, scale, database, err as Error);
    }
    result = { ...result, hostLoadAvg: { before: loadBefore, after: os.loadavg()[0] } };
    bench.log(
        `${name} @ ${fmtRows(scale)}: ${result.ok ? chalk.green("ok") : chalk.red(`FAILED: ${result.error}`)} in ${result.totalSeconds.toFixed(1)}s`,
    );
    if (!bench.keep) await dropDatabase(bench.admin, database); // no autovacuum of finished contenders during the next one
    return result;
}

/** A contender that threw: failed, with the error and its first cause. */
function thrownResult(contender: string, scale: number, database: string, err: Error): ContenderResult {
    const cause = err.cause ? ` (caused by: ${(err.cause as Error).message})` : "";
    return {
        contender,
        scale,
        database,
        ok: false,
        error: err.message + cause,
        sourceRows: 0,
        loadedRows: 0,
        phases: {},
        totalSeconds: 0,
        loadRowsPerSecond: 0,
        totalRowsPerSecond: 0,
        notes: [],
    };
}

/** One extra gecko-pg run under node --cpu-prof (not in the table); its main thread's top self-time functions. */
async function profileGeckoPg(bench: Bench, rows: number, cpuProfDir: string, roles: GeckoPgOptions): Promise<ProfileSummary | undefined> {
    await fs.ensureDir(cpuProfDir);
    const before = new Set(readdirSync(cpuProfDir));
    const r = await runContender(bench, "gecko-pg-profiled", rows, (ctx) =>
        runGeckoPg(ctx, { ...roles, cpuProfDir: path.resolve(cpuProfDir), label: "gecko-pg-profiled" }),
    );
    // `--import tsx` runs its loader on a second thread, which writes its own (small) profile: take the main thread's.
    const file = readdirSync(cpuProfDir)
        .filter((f) => f.endsWith(".cpuprofile") && !before.has(f))
        .sort((a, b) => statSync(path.join(cpuProfDir, b)).size - statSync(path.join(cpuProfDir, a)).size)[0];
    if (r.ok && file) return summarizeCpuProfile(path.join(cpuProfDir, file));
    bench.log(`cpu profile not produced (${r.error ?? "no .cpuprofile written"})`);
    return undefined;
}

/** The human report (stdout). */
function renderRun(options: BenchOptions, serverInfo: ServerInfo, results: Results, targets: readonly Target[]): string[] {
    const { main, byScale, profile } = results;
    const out = [
        "",
        `Migration throughput, ${fmtRows(options.rows)} generated rows (seed ${options.seed}), PostgreSQL ${serverInfo.version} (${serverInfo.engine}), ${os.cpus().length} CPUs, ${Math.round(os.totalmem() / 2 ** 30)} GiB`,
        "load = copy (gecko-pg: convert + checksum + COPY, PK/UNIQUE maintained; pgloader: its COPY phase; ceiling: sqlite3|psql \\copy into bare tables)",
        "index = gecko-pg: orphan sweep + postLoad (indexes, FKs, sequences, ANALYZE); pgloader: index/PK/FK steps; ceiling: PK/UNIQUE + indexes + FKs + ANALYZE",
        "peak RSS = contender's process tree (PostgreSQL server not counted); max proc = largest single process (GNU time)",
        "",
        renderResults(main),
        ...(options.repeat > 1 ? renderRounds(main, options.repeat) : []),
        "",
        `gecko-pg at ${options.scales.length} scales (RSS):`,
        renderResults(byScale),
        "",
        "Targets (informational):",
        renderTargets(targets),
    ];
    if (profile) out.push("", renderProfileSummary(profile));
    return out;
}

/** Every round's total per contender (--repeat above 1). */
function renderRounds(main: readonly ContenderResult[], repeat: number): string[] {
    return [
        "",
        `each contender: its fastest of ${repeat} rounds, run in turn; every round's total s:`,
        ...main.map(
            (r) =>
                `  ${r.contender.padEnd(20)} ${((r.details?.rounds ?? []) as { totalSeconds: number }[]).map((x) => x.totalSeconds.toFixed(1)).join(" / ")}`,
        ),
    ];
}

/** Every figure of the run, for --json. */
function runJson(run: {
    readonly startedAt: number;
    readonly options: BenchOptions;
    readonly serverInfo: ServerInfo;
    readonly tools: Record<string, string>;
    readonly sources: ReadonlyMap<number, Source>;
    readonly results: Results;
    readonly targets: readonly Target[];
    readonly ourFailures: readonly ContenderResult[];
    readonly exitCode: number;
}): Record<string, unknown> {
    const { options, serverInfo, results } = run;
    const strip = (r: ContenderResult) => Object.fromEntries(Object.entries(r).filter(([k]) => k !== "report"));
    return {
        tool: "gecko-pg throughput benchmark",
        startedAt: new Date(run.startedAt).toISOString(),
        finishedAt: new Date().toISOString(),
        machine: { cpus: os.cpus().length, memoryGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version },
        server: {
            engine: serverInfo.engine,
            version: serverInfo.version,
            settings: serverInfo.settings,
            maintenanceWorkMem: serverInfo.maintenanceWorkMem,
            maxParallelMaintenanceWorkers: serverInfo.maxParallelMaintenanceWorkers,
            memoryCounted: false,
        },
        tools: run.tools,
        options: {
            rows: options.rows,
            scales: options.scales,
            seed: options.seed,
            repeat: options.repeat,
            hostTimeZone: options.hostZone,
            skipPgloader: options.skipPgloader,
            ceilingPar: options.ceilingPar,
        },
        sources: Object.fromEntries([...run.sources].map(([k, v]) => [String(k), v])),
        results: results.main.map(strip),
        rssScales: results.byScale.map(strip),
        targets: run.targets,
        ...(results.profile ? { profile: results.profile } : {}),
        ourReportsOk: run.ourFailures.length === 0,
        exitCode: run.exitCode,
    };
}

/** Tools on PATH and their versions; says how to install what is missing. */
async function preflight(skipPgloader: boolean): Promise<Record<string, string>> {
    const need: [string, string][] = [
        [GNU_TIME, "apt-get install -y time"],
        ["sqlite3", "apt-get install -y sqlite3"],
        ["psql", "apt-get install -y postgresql-client"],
        ["bash", "apt-get install -y bash"],
    ];
    if (!skipPgloader) need.push(["pgloader", "apt-get update && apt-get install -y pgloader   (or pass --skip-pgloader)"]);
    const missing = [];
    for (const [tool, install] of need) if (!(await which(tool, { nothrow: true }))) missing.push(`  ${tool}: ${install}`);
    if (missing.length) throw new UsageError(`missing tools:\n${missing.join("\n")}`);
    const version = async (cmd: string, args: string[]) =>
        (await $({ quiet: true, nothrow: true })`${cmd} ${args}`).stdout.split("\n")[0].trim();
    return {
        sqlite3: await version("sqlite3", ["--version"]),
        psql: await version("psql", ["--version"]),
        ...(skipPgloader ? {} : { pgloader: await version("pgloader", ["--version"]) }),
    };
}

/** A contender's fastest round (a failed one if any failed), with every round's times in its details. */
function fastestRound(runs: readonly ContenderResult[]): ContenderResult {
    const failed = runs.find((r) => !r.ok);
    if (failed || runs.length === 1) return failed ?? runs[0];
    const best = runs.reduce((a, b) => (b.totalSeconds < a.totalSeconds ? b : a));
    const rounds = runs.map((r) => ({ totalSeconds: r.totalSeconds, phases: r.phases }));
    return {
        ...best,
        details: { ...best.details, rounds },
        notes: [...best.notes, `fastest of ${runs.length} rounds (totals ${runs.map((r) => r.totalSeconds.toFixed(1)).join(" / ")} s)`],
    };
}

/** Between contenders: flush dirty buffers (the kernel's and the server's) and let autovacuum finish, so nobody inherits another's work. */
async function settle(admin: ConnectionSpec, log: (l: string) => void): Promise<void> {
    // The kernel's dirty pages too (the generated files, the last contender's writes): else the
    // next contender pays their writeback, which cost the first one up to a fifth of its copy.
    await $`sync`;
    await withClient(admin, async (c) => {
        await c.query("CHECKPOINT");
        for (let i = 0; i < 240; i++) {
            const r = await c.query<{ n: string }>("SELECT count(*) AS n FROM pg_stat_activity WHERE backend_type = 'autovacuum worker'");
            if (Number(r.rows[0].n) === 0) return;
            if (i === 0) log("waiting for autovacuum to finish ...");
            await new Promise((res) => setTimeout(res, 500));
        }
    });
}

async function cleanupExternal(admin: ConnectionSpec, databases: readonly string[], roles: GeckoPgOptions): Promise<void> {
    for (const db of databases) await dropDatabase(admin, db);
    const c = new Client(clientConfig(admin));
    await c.connect();
    try {
        for (const role of [roles.appRole, roles.ownerRole]) await c.query(`DROP ROLE IF EXISTS "${role}"`);
    } finally {
        await c.end();
    }
}

runMain(main);
