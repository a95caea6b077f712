#!/usr/bin/env -S npx tsx
/**
 * Version benchmark: the migration of THIS checkout (head, uncommitted changes
 * included) against an earlier commit's (base, its tree from git), on the same
 * generated SQLite file, each run into a fresh database of one PostgreSQL
 * server, side by side in one run, through each version's own CLI
 * (scripts/migrate.ts migrate). Prints the figures and head/base ratios; the
 * timings are never asserted. Orchestration only: the server, databases,
 * roles, measuring and tables are the throughput benchmark's (scripts/bench/lib).
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { planAccess } from "../../migration/setup/accessPlan";
import { applyAccess } from "../../migration/setup/applyAccess";
import { connectionUrl, parseConnectionUrl, type ConnectionSpec } from "../../migration/postgres/connection";
import { redactUrl, startLocalPostgres, type LocalPostgres } from "../../migration/postgres/localServer";
import type { MigrationReport } from "../../migration/data/report/report";
import { generateCollectorDb } from "../generator/collectorDb";
import { parseFlags, runMain } from "../lib/cli";
import { commitHasFile, exportCommit, resolveCommit, workingTree, REPO_ROOT, type WorkingTree } from "../lib/gitTree";
import { int, str, UsageError, type Flags } from "../lib/options";
import { $, chalk, fs, which } from "../lib/zx";
import { GNU_TIME, runMeasured } from "./lib/measure";
import { findPostmasterPid } from "./lib/serverCpu";
import { fmtRate, fmtRows } from "./lib/summary";
import { renderTable, type Cell } from "./lib/table";
import { applyStackSettings, createDatabase, dropDatabase, withClient } from "./lib/targetDb";
import type { ProcessUsage } from "./lib/types";

const HELP = `Usage: node --import tsx scripts/bench/versions.ts --base COMMIT [options]

Measures the migration of this checkout (head: the working tree, uncommitted changes included)
against an earlier commit's (base: its tree from git, run with this checkout's node_modules).
Generates ONE collector SQLite file (no defects) and migrates it --repeat rounds; each round runs
base and head, each into a fresh database of ONE PostgreSQL server (embedded PostgreSQL 17, or
DATABASE_URL), provisioned as the throughput bench does (owner + app role, grants), each through
its own CLI: scripts/migrate.ts migrate ... --report FILE. The order alternates every round
(base first in odd rounds, head first in even ones) so that drift of the machine cancels out.
Before every run: sync (the kernel's dirty pages) and CHECKPOINT (the server's).

Prints, per version, the best of the rounds for copy, postLoad, validate and the report's total
(each phase's own fastest round: noise from other work only adds time), every round's values,
and head/base for copy (the figure that matters), total and the other phases, also round by
round. Timings are informational: they never change the exit status.

  --base COMMIT         the earlier version (commit id, tag or other revision) (required)
  --rows N              rows to generate (default 500000)
  --repeat R            rounds (default 3)
  --seed S              generator seed (default 1)
  --host-time-zone Z    zone of the generated collector host, and --source-time-zone of both runs
                        (default America/Chicago)
  --wait-idle S         before each run, wait up to S seconds (default 60; 0: not at all) for the machine's
                        CPUs to be idle (other work under a quarter of a CPU); runs during which other work
                        took over 5% of the migration's CPU time are named in the warnings
  --json PATH           write every figure as JSON
  --keep                keep the work directory and the databases (DATABASE_URL servers only)
  -h, --help            this help

Passwords only via the environment (DATABASE_URL); each run gets its target in GECKO_TARGET_URL.
Human table on stdout, progress on stderr. Exit status: 0 every run ok; 1 a run failed or its
report was not ok (counts, checksums, samples, schema checks, or any row set aside); 2 usage
(unknown commit, missing tools); 3 run error.
`;

type Version = "base" | "head";

/** What the CLI runs: head's code is these paths of the working tree (with node_modules, the same for both versions). */
const CLI_PATHS = ["migration", "scripts/migrate.ts", "scripts/lib", "package.json", "package-lock.json", "tsconfig.json"];

/** The figures compared, from the report's `timings` (seconds). */
const PHASES = ["copy", "postLoad", "validate", "total"] as const;
type Phase = (typeof PHASES)[number];

interface VersionRun {
    readonly version: Version;
    readonly round: number;
    /** 1 = ran first in its round. */
    readonly position: number;
    readonly database: string;
    readonly ok: boolean;
    readonly error?: string;
    /** The report's timings for PHASES (0 when absent). */
    readonly seconds: Readonly<Record<Phase, number>>;
    /** Every timing of the report (introspect, schema, orphans, ...). */
    readonly timings: Readonly<Record<string, number>>;
    /** The report's copy seconds per table (tables copy on parallel lanes: they overlap). */
    readonly copySecondsPerTable: Readonly<Record<string, number>>;
    readonly sourceRows: number;
    readonly targetRows: number;
    readonly quarantined: number;
    /** Versions recorded in gecko_migration.schema_version by the run. */
    readonly schemaVersions: readonly number[];
    /** Child process: wall time (node + tsx start-up included), CPU, peak RSS. */
    readonly usage: ProcessUsage;
    readonly loadAvgBefore: number;
    /** CPUs busy over the second before the run, the benchmark idle (other work on the machine). */
    readonly busyCpusBefore: number;
    /**
     * CPU seconds the machine spent during the run beyond the CLI's process tree, the server
     * and this harness: other processes and kernel threads (the server's writeback among them).
     * Null where it cannot be measured (no /proc, a remote server).
     */
    readonly otherCpuSeconds: number | null;
    /** CPU seconds the hypervisor gave to others during the run, all CPUs (virtual machines); null where unknown. */
    readonly stealSeconds: number | null;
    /** head runs: the working tree's digest when the run started. */
    readonly treeDigest?: string;
}

/** The run as the flags ask for it. */
interface VersionsOptions {
    /** --base as given (a commit id, tag or other revision). */
    readonly baseRev: string;
    readonly rows: number;
    readonly repeat: number;
    readonly seed: number;
    readonly hostZone: string;
    readonly waitIdleSeconds: number;
    readonly keep: boolean;
    readonly jsonPath?: string;
}

function parseOptions(flags: Flags): VersionsOptions {
    const baseRev = str(flags, "base");
    if (!baseRev) throw new UsageError("--base COMMIT is required (see --help)");
    const rows = int(flags, "rows", 500_000);
    const repeat = int(flags, "repeat", 3);
    if (rows < 1) throw new UsageError(`--rows takes a positive integer, got ${rows}`);
    if (repeat < 1) throw new UsageError(`--repeat takes a positive integer, got ${repeat}`);
    return {
        baseRev,
        rows,
        repeat,
        seed: int(flags, "seed", 1),
        hostZone: str(flags, "host-time-zone") ?? "America/Chicago",
        jsonPath: str(flags, "json"),
        keep: Boolean(flags.keep),
        waitIdleSeconds: int(flags, "wait-idle", 60),
    };
}

/** The generated SQLite file both versions migrate. */
interface Source {
    readonly path: string;
    readonly rows: number;
    readonly totalRows: number;
    readonly tables: Record<string, number>;
    readonly seconds: number;
}

/** The two versions compared. */
interface Versions {
    readonly baseCommit: string;
    readonly headTree: WorkingTree;
    /** Where each version's CLI runs from. */
    readonly dirs: Readonly<Record<Version, string>>;
}

/** The server both versions migrate into. */
interface ServerInfo {
    readonly engine: LocalPostgres["engine"];
    readonly version: string;
    readonly postmasterPid: number | null;
    /** What was done to its settings. */
    readonly settings: string;
}

/** What every run of this benchmark shares. */
interface Bench {
    readonly options: VersionsOptions;
    readonly admin: ConnectionSpec;
    readonly suffix: string;
    readonly roles: { readonly ownerRole: string; readonly appRole: string };
    readonly source: Source;
    readonly versions: Versions;
    readonly workDir: string;
    readonly postmasterPid: number | null;
    /** Databases created so far (dropped at the end on DATABASE_URL servers). */
    readonly databases: string[];
    readonly log: (line: string) => void;
    readonly warn: (line: string) => void;
}

async function main(argv: string[]): Promise<number> {
    const flags = parseFlags(argv, {
        boolean: ["keep"],
        string: ["base", "rows", "repeat", "seed", "host-time-zone", "wait-idle", "json"],
    });
    if (flags.help) {
        process.stdout.write(HELP);
        return 0;
    }
    const options = parseOptions(flags);
    const t0 = Date.now();
    const log = (line: string) => process.stderr.write(chalk.dim(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(6)}s] ${line}`) + "\n");
    const warnings: string[] = [];
    const warn = (line: string) => {
        warnings.push(line);
        log(chalk.yellow(`warning: ${line}`));
    };

    const { baseCommit, headTree } = await preflight(options.baseRev);
    log(`base ${describeBase(baseCommit, options.baseRev)}; head ${describeHead(headTree)}`);
    const workDir = await fs.mkdtemp(path.join(os.tmpdir(), "gecko-pg-versions-"));
    log(`work dir ${workDir}`);
    const baseTree = exportCommit(baseCommit);
    log(`base tree exported to ${baseTree.dir}`);
    const versions: Versions = { baseCommit, headTree, dirs: { base: baseTree.dir, head: REPO_ROOT } };

    const suffix = randomBytes(3).toString("hex");
    const roles = { ownerRole: `gecko_owner_v${suffix}`, appRole: `gecko_collector_v${suffix}` };
    const databases: string[] = [];
    let server: LocalPostgres | undefined;
    let admin: ConnectionSpec | undefined;
    try {
        log("starting PostgreSQL ...");
        server = await startLocalPostgres();
        admin = parseConnectionUrl(server.url);
        log(`PostgreSQL ${server.engine} at ${redactUrl(server.url)}`);
        const serverInfo = await prepareServer(server, admin, log);
        const source = generateSource(workDir, options, log);
        const bench: Bench = {
            options,
            admin,
            suffix,
            roles,
            source,
            versions,
            workDir,
            postmasterPid: serverInfo.postmasterPid,
            databases,
            log,
            warn,
        };
        const runs = await runRounds(bench);
        const headAtEnd = checkHeadUnchanged(runs, warn);
        const failures = runs.filter((r) => !r.ok);
        const summary = summarize(runs);
        const out = renderRun({ options, versions, serverInfo, source, runs, summary });
        if (failures.length) out.push("", chalk.red("FAILED:"), ...failures.map((f) => `  ${f.version} round ${f.round}: ${f.error}`));
        if (warnings.length) out.push("", "warnings:", ...warnings.map((w) => `  - ${w}`));
        process.stdout.write(out.join("\n") + "\n");

        const exitCode = failures.length || runs.length < 2 * options.repeat ? 1 : 0;
        if (options.jsonPath) {
            await fs.ensureDir(path.dirname(path.resolve(options.jsonPath)));
            const json = runJson({ startedAt: t0, options, versions, headAtEnd, serverInfo, source, summary, runs, warnings, exitCode });
            await fs.writeFile(options.jsonPath, JSON.stringify(json, null, 2) + "\n");
            log(`JSON written to ${options.jsonPath}`);
        }
        process.stderr.write(
            `${exitCode ? chalk.red("FAILED") : chalk.green("OK")}: ${runs.length - failures.length} of ${2 * options.repeat} runs ok\n`,
        );
        return exitCode;
    } finally {
        if (server?.engine === "external" && admin && !options.keep) {
            await cleanupExternal(admin, databases, roles).catch((e: Error) => log(`cleanup: ${e.message}`));
        }
        await server?.stop();
        baseTree.remove();
        if (!options.keep) await fs.remove(workDir);
    }
}

/** The server with the stack's settings, and what the report says of it. */
async function prepareServer(server: LocalPostgres, admin: ConnectionSpec, log: (line: string) => void): Promise<ServerInfo> {
    const settings = await applyStackSettings(server, admin, log);
    return withClient(admin, async (c) => ({
        engine: server.engine,
        version: (await c.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0].v,
        postmasterPid: await findPostmasterPid(c),
        settings,
    }));
}

/** ONE collector SQLite file, no defects, for every run. */
function generateSource(workDir: string, options: VersionsOptions, log: (line: string) => void): Source {
    const { rows, seed } = options;
    const sqlitePath = path.join(workDir, `collector-${rows}.db`);
    const g0 = Date.now();
    log(`generating ${fmtRows(rows)} rows (seed ${seed}, no defects) -> ${sqlitePath}`);
    const generated = generateCollectorDb({ path: sqlitePath, rows, seed, hostTimeZone: options.hostZone });
    const source = {
        path: sqlitePath,
        rows,
        totalRows: generated.totalRows,
        tables: generated.tables as Record<string, number>,
        seconds: (Date.now() - g0) / 1000,
    };
    log(`generated ${generated.totalRows.toLocaleString("en-US")} rows in ${source.seconds.toFixed(1)}s`);
    return source;
}

/** `--repeat` rounds of base and head, the order alternating (odd rounds base first); stops at the first failed run. */
async function runRounds(bench: Bench): Promise<VersionRun[]> {
    const runs: VersionRun[] = [];
    for (let round = 1; round <= bench.options.repeat && runs.every((r) => r.ok); round++) {
        const order: Version[] = round % 2 === 1 ? ["base", "head"] : ["head", "base"];
        for (const [i, version] of order.entries()) {
            const r = await runVersion(bench, version, round, i + 1);
            runs.push(r);
            if (!r.ok) break; // both must be ok: a failed version's figures compare nothing
        }
    }
    return runs;
}

/** One version's migration into a fresh database (dropped afterwards unless --keep), on a machine as idle as it gets. */
async function runVersion(bench: Bench, version: Version, round: number, position: number): Promise<VersionRun> {
    const { admin, log, warn } = bench;
    const database = `bench_${bench.suffix}_${version}_r${round}`;
    const treeDigest = version === "head" ? workingTree(REPO_ROOT, CLI_PATHS).digest : undefined;
    await settle(admin);
    await createDatabase(admin, database);
    bench.databases.push(database);
    // The load average still holds the previous run (ours), so ask the CPUs too, while nothing of ours runs.
    const loadAvgBefore = os.loadavg()[0];
    const busyBefore = await waitIdle(bench.options.waitIdleSeconds, log);
    if (busyBefore > OTHER_WORK_CPUS)
        warn(
            `${busyBefore.toFixed(2)} of ${os.cpus().length} CPUs busy with other work before ${version} round ${round} (load average ${loadAvgBefore.toFixed(1)}): it skews the figures`,
        );
    log(`round ${round}/${bench.options.repeat}: ${version} (${position === 1 ? "first" : "second"}) into ${database}`);
    let run = await migrateOrFail(bench, version, database);
    run = { ...run, round, position, loadAvgBefore, busyCpusBefore: busyBefore, ...(treeDigest ? { treeDigest } : {}) };
    const ownCpu = run.usage.cpuSeconds + (run.usage.serverCpuSeconds ?? 0);
    if (run.otherCpuSeconds !== null && run.otherCpuSeconds > OTHER_WORK_SHARE * ownCpu) {
        warn(
            `other work took ${run.otherCpuSeconds.toFixed(1)} CPU s during ${version} round ${round} (${((run.otherCpuSeconds / ownCpu) * 100).toFixed(0)}% of the CLI's and the server's ${ownCpu.toFixed(1)}): its figures are skewed`,
        );
    }
    if (run.ok && run.sourceRows !== bench.source.totalRows)
        run = { ...run, ok: false, error: `read ${run.sourceRows} source rows, the file has ${bench.source.totalRows}` };
    const s = run.seconds;
    log(
        `${version} round ${round}: ${run.ok ? chalk.green("ok") : chalk.red(`FAILED: ${run.error}`)}; copy ${s.copy.toFixed(2)}s, postLoad ${s.postLoad.toFixed(2)}s, validate ${s.validate.toFixed(2)}s, total ${s.total.toFixed(2)}s`,
    );
    if (!bench.options.keep) await dropDatabase(admin, database);
    return run;
}

/** migrateWith; a thrown error becomes a failed run naming it and its first cause. */
async function migrateOrFail(bench: Bench, version: Version, database: string): Promise<VersionRun> {
    try {
        return await migrateWith(version, bench.versions.dirs[version], {
            admin: bench.admin,
            database,
            sqlitePath: bench.source.path,
            hostZone: bench.options.hostZone,
            roles: bench.roles,
            workDir: bench.workDir,
            postmasterPid: bench.postmasterPid,
            log: bench.log,
        });
    } catch (err) {
        const cause = (err as Error).cause ? ` (caused by: ${((err as Error).cause as Error).message})` : "";
        return failedRun(version, database, `${(err as Error).message}${cause}`);
    }
}

/** Warns when the CLI's code in the working tree changed while head's rounds ran; the tree as it is at the end. */
function checkHeadUnchanged(runs: readonly VersionRun[], warn: (line: string) => void): WorkingTree {
    const headDigests = [...new Set(runs.filter((r) => r.version === "head").map((r) => r.treeDigest))];
    const headAtEnd = workingTree(REPO_ROOT, CLI_PATHS);
    if (headDigests.length > 1 || (headDigests.length === 1 && headDigests[0] !== headAtEnd.digest)) {
        warn(
            `the CLI's code in the working tree changed during the benchmark (digests ${[...headDigests, headAtEnd.digest].join(" -> ")}): head's rounds may have run different code`,
        );
    }
    return headAtEnd;
}

/** What the run is, then the tables: best per version, every round, copy per table, head/base ratios. */
function renderRun(run: {
    readonly options: VersionsOptions;
    readonly versions: Versions;
    readonly serverInfo: ServerInfo;
    readonly source: Source;
    readonly runs: readonly VersionRun[];
    readonly summary: Summary;
}): string[] {
    const { options, versions, serverInfo, source, runs, summary } = run;
    const { rows, seed, repeat } = options;
    return [
        "",
        `Migration, base vs head: ${fmtRows(rows)} generated rows (${source.totalRows.toLocaleString("en-US")} in all tables, seed ${seed}, no defects), PostgreSQL ${serverInfo.version} (${serverInfo.engine}), ${os.cpus().length} CPUs, ${Math.round(os.totalmem() / 2 ** 30)} GiB`,
        `base  ${describeBase(versions.baseCommit, options.baseRev)}  (its tree from git)`,
        `head  ${describeHead(versions.headTree)}  (this checkout)`,
        `each version: its best of ${repeat} round${repeat > 1 ? "s" : ""} per phase (the report's timings); order alternates (odd rounds base first, even rounds head first)`,
        "copy = convert + checksum + COPY (PK/UNIQUE maintained); postLoad = indexes, FKs, sequences, ANALYZE, grants; total = runMigration's own total; wall = the CLI process (node + tsx start-up included)",
        "",
        renderBest(summary, source.totalRows),
        "",
        "every round, in the order run (seconds; head/base of the round's pair). other CPU s: what the machine spent meanwhile beyond the CLI, the server and\nthis harness (other processes, kernel threads); steal s: CPU the hypervisor gave to others; load average and busy CPUs: just before the run:",
        renderRounds(runs),
        "",
        "copy seconds per table, each version's best round (tables copy on parallel lanes, so they overlap):",
        renderTables(runs, source.tables),
        "",
        ...renderRatios(summary),
    ];
}

/** Every figure of the run, for --json. */
function runJson(run: {
    readonly startedAt: number;
    readonly options: VersionsOptions;
    readonly versions: Versions;
    readonly headAtEnd: WorkingTree;
    readonly serverInfo: ServerInfo;
    readonly source: Source;
    readonly summary: Summary;
    readonly runs: readonly VersionRun[];
    readonly warnings: readonly string[];
    readonly exitCode: number;
}): Record<string, unknown> {
    const { options, versions, serverInfo } = run;
    return {
        tool: "gecko-pg version benchmark",
        startedAt: new Date(run.startedAt).toISOString(),
        finishedAt: new Date().toISOString(),
        machine: { cpus: os.cpus().length, memoryGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version },
        server: { engine: serverInfo.engine, version: serverInfo.version, settings: serverInfo.settings },
        options: { base: options.baseRev, rows: options.rows, repeat: options.repeat, seed: options.seed, hostTimeZone: options.hostZone },
        versions: {
            base: { commit: versions.baseCommit, revision: options.baseRev },
            head: { ...versions.headTree, digestAtEnd: run.headAtEnd.digest },
        },
        source: run.source,
        best: run.summary.best,
        ratios: run.summary.ratios,
        runs: run.runs,
        warnings: run.warnings,
        exitCode: run.exitCode,
    };
}

function describeBase(baseCommit: string, baseRev: string): string {
    return `${baseCommit}${baseRev === baseCommit ? "" : ` (${baseRev})`}`;
}

/** git and GNU time present, the base commit known and holding the CLI; what head is. */
async function preflight(baseRev: string): Promise<{ baseCommit: string; headTree: WorkingTree }> {
    const missing: string[] = [];
    if (!(await which("git", { nothrow: true }))) missing.push("  git: apt-get install -y git");
    if (!(await which(GNU_TIME, { nothrow: true }))) missing.push(`  ${GNU_TIME}: apt-get install -y time`);
    if (missing.length) throw new UsageError(`missing tools:\n${missing.join("\n")}`);
    let baseCommit: string;
    let headTree: WorkingTree;
    try {
        baseCommit = resolveCommit(baseRev);
        headTree = workingTree(REPO_ROOT, CLI_PATHS);
    } catch (err) {
        throw new UsageError((err as Error).message);
    }
    if (!commitHasFile(baseCommit, "scripts/migrate.ts"))
        throw new UsageError(`commit ${baseCommit} has no scripts/migrate.ts: it predates the CLI this benchmark drives`);
    return { baseCommit, headTree };
}

function describeHead(t: WorkingTree): string {
    return `${t.head}${t.changedFiles ? ` + ${t.changedFiles} changed file${t.changedFiles === 1 ? "" : "s"}` : ""} (digest ${t.digest} of the CLI's code: ${t.paths.join(", ")})`;
}

/**
 * Before every run: the kernel's dirty pages (the generated file, the previous run's writes)
 * and the server's, so that no run pays for another's writeback. The previous run's database
 * is dropped by then, so autovacuum has nothing of it left to do.
 */
async function settle(admin: ConnectionSpec): Promise<void> {
    await $`sync`;
    await withClient(admin, (c) => c.query("CHECKPOINT"));
}

/** Busy CPUs (of all) before a run above which other work on the machine is worth a warning. */
const OTHER_WORK_CPUS = 0.25;
/** CPU time of other work during a run, as a share of the CLI's and the server's, above which the run is named as skewed. */
const OTHER_WORK_SHARE = 0.05;

/** Waits up to `seconds` for the machine to be idle (see OTHER_WORK_CPUS); returns the CPUs busy over the last second. */
async function waitIdle(seconds: number, log: (line: string) => void): Promise<number> {
    const until = Date.now() + seconds * 1000;
    let busy = await busyCpus(1000);
    if (busy > OTHER_WORK_CPUS && seconds > 0)
        log(`${busy.toFixed(2)} CPUs busy with other work: waiting up to ${seconds}s for them to be idle ...`);
    while (busy > OTHER_WORK_CPUS && Date.now() < until) busy = await busyCpus(1000);
    return busy;
}

/**
 * CPU seconds of the machine so far, all CPUs: busy (running anything: not idle, not waiting for
 * I/O, not stolen), stolen (a virtual machine's CPUs running someone else's work) and in all;
 * null where /proc/stat cannot be read.
 */
function machineCpu(): { busy: number; steal: number; total: number } | null {
    let stat: string;
    try {
        stat = readFileSync("/proc/stat", "utf8");
    } catch {
        return null; // not Linux
    }
    const ticks = stat.split("\n")[0].trim().split(/\s+/).slice(1, 9).map(Number); // user nice system idle iowait irq softirq steal
    const total = ticks.reduce((a, b) => a + b, 0) / USER_HZ;
    const steal = ticks[7] / USER_HZ;
    return { busy: total - (ticks[3] + ticks[4]) / USER_HZ - steal, steal, total };
}
const USER_HZ = 100;

/** CPUs busy on average over the next `ms` (0 where it cannot be read). */
async function busyCpus(ms: number): Promise<number> {
    const a = machineCpu();
    await new Promise((r) => setTimeout(r, ms));
    const b = machineCpu();
    return a && b && b.total > a.total ? Math.max(0, ((b.busy - a.busy) / (b.total - a.total)) * os.cpus().length) : 0;
}

interface RunContext {
    readonly admin: ConnectionSpec;
    readonly database: string;
    readonly sqlitePath: string;
    readonly hostZone: string;
    readonly roles: { readonly ownerRole: string; readonly appRole: string };
    readonly workDir: string;
    readonly postmasterPid: number | null;
    readonly log: (line: string) => void;
}

/**
 * One migration by the version in `dir`, through its own CLI: the database provisioned as the
 * throughput bench does for gecko-pg (access plan: owner + app role, grants, default privileges),
 * then `scripts/migrate.ts migrate` with the target in the environment only.
 */
async function migrateWith(version: Version, dir: string, ctx: RunContext): Promise<VersionRun> {
    const plan = planAccess({ database: ctx.database, ownerRole: ctx.roles.ownerRole, appRole: ctx.roles.appRole, timezone: "UTC" });
    await applyAccess(ctx.admin, plan, randomBytes(18).toString("base64url"));
    const target = { ...ctx.admin, database: ctx.database };
    const reportFile = path.join(ctx.workDir, `${ctx.database}.report.json`);
    const args = [
        "--import",
        "tsx",
        "scripts/migrate.ts",
        "migrate",
        "--sqlite",
        ctx.sqlitePath,
        "--source-time-zone",
        ctx.hostZone,
        "--owner-role",
        ctx.roles.ownerRole,
        "--app-role",
        ctx.roles.appRole,
        "--allow-quarantine",
        "--quiet",
        "--json",
        "--report",
        reportFile,
    ];
    const cpu0 = machineCpu();
    const harness0 = process.cpuUsage();
    const run = await runMeasured(process.execPath, args, {
        cwd: dir,
        env: { ...process.env, GECKO_TARGET_URL: connectionUrl(target), FORCE_COLOR: "0" },
        timeFile: path.join(ctx.workDir, `${ctx.database}.time`),
        postmasterPid: ctx.postmasterPid,
        onStderrLine: (l) => ctx.log(`${version}: ${l.trim()}`),
    });
    const cpu1 = machineCpu();
    const harness = process.cpuUsage(harness0);
    // What the machine spent beyond the CLI's process tree, the server and this harness (sampling RSS): other processes and kernel threads (writeback included).
    const otherCpuSeconds =
        cpu0 && cpu1 && run.usage.serverCpuSeconds !== null
            ? cpu1.busy - cpu0.busy - run.usage.cpuSeconds - run.usage.serverCpuSeconds - (harness.user + harness.system) / 1e6
            : null;
    const stealSeconds = cpu0 && cpu1 ? cpu1.steal - cpu0.steal : null;
    const report = (await fs.pathExists(reportFile)) ? (JSON.parse(await fs.readFile(reportFile, "utf8")) as MigrationReport) : undefined;
    if (!report)
        return {
            ...failedRun(version, ctx.database, `CLI exited ${run.code} without a report: ${run.stderrTail.slice(-2000).trim()}`),
            usage: run.usage,
            otherCpuSeconds,
            stealSeconds,
        };
    const schemaVersions = await withClient(target, async (c) =>
        (await c.query<{ version: number }>("SELECT version FROM gecko_migration.schema_version ORDER BY 1")).rows.map((r) =>
            Number(r.version),
        ),
    ).catch(() => []);
    const problems = reportProblems(report);
    if (run.code !== 0) problems.unshift(`CLI exited ${run.code}`);
    return {
        version,
        round: 0,
        position: 0,
        database: ctx.database,
        ok: problems.length === 0,
        ...(problems.length ? { error: problems.join("; ") } : {}),
        seconds: phaseSeconds(report.timings),
        timings: report.timings,
        copySecondsPerTable: Object.fromEntries(report.tables.map((t) => [t.table, t.copySeconds])),
        sourceRows: report.tables.reduce((a, t) => a + t.sourceRows, 0),
        targetRows: report.tables.reduce((a, t) => a + (t.validation?.targetRows ?? 0), 0),
        quarantined: report.quarantine.total,
        schemaVersions,
        usage: run.usage,
        loadAvgBefore: 0,
        busyCpusBefore: 0,
        otherCpuSeconds,
        stealSeconds,
    };
}

/** Why a run does not count: the report not ok, a table unvalidated or off in counts, checksums or samples, rows set aside. */
function reportProblems(report: MigrationReport): string[] {
    const problems = report.ok ? [] : [`report not ok: ${report.failures.join("; ")}`];
    for (const t of report.tables.filter((x) => x.inSource)) {
        const v = t.validation;
        if (!v) problems.push(`${t.table}: not validated`);
        else if (!v.countsMatch || v.mismatchedBuckets.length || v.sampleMismatches.length)
            problems.push(
                `${t.table}: counts ${v.countsMatch ? "ok" : "differ"}, ${v.mismatchedBuckets.length} checksum buckets differ, ${v.sampleMismatches.length} sample rows differ`,
            );
    }
    // No defects were planted: a row set aside means the two versions did not copy the same rows.
    if (report.quarantine.total) problems.push(`${report.quarantine.total} rows quarantined from a file without defects`);
    return problems;
}

function phaseSeconds(timings: Readonly<Record<string, number>>): Record<Phase, number> {
    return Object.fromEntries(PHASES.map((p) => [p, timings[p] ?? 0])) as Record<Phase, number>;
}

function failedRun(version: Version, database: string, error: string): VersionRun {
    const usage: ProcessUsage = { wallSeconds: 0, peakTreeRssMb: 0, maxProcessRssMb: 0, cpuSeconds: 0, serverCpuSeconds: null };
    return {
        version,
        round: 0,
        position: 0,
        database,
        ok: false,
        error,
        seconds: phaseSeconds({}),
        timings: {},
        sourceRows: 0,
        targetRows: 0,
        quarantined: 0,
        schemaVersions: [],
        usage,
        loadAvgBefore: 0,
        busyCpusBefore: 0,
        otherCpuSeconds: null,
        stealSeconds: null,
        copySecondsPerTable: {},
    };
}

interface Best {
    readonly rounds: number;
    /** Each phase's smallest value over the ok rounds, and the wall time's. */
    readonly seconds: Readonly<Record<Phase | "wall", number>>;
    /** The round each came from. */
    readonly fromRound: Readonly<Record<Phase | "wall", number>>;
    readonly peakRssMb: number;
    readonly schemaVersions: readonly number[];
}

interface Summary {
    readonly best: Partial<Record<Version, Best>>;
    /** head/base of the best values, and of each round's pair (both ok). */
    readonly ratios: {
        readonly best: Partial<Record<Phase | "wall", number>>;
        readonly perRound: readonly { readonly round: number; readonly ratios: Readonly<Record<Phase | "wall", number>> }[];
        readonly medianPerRound: Partial<Record<Phase | "wall", number>>;
    };
}

const FIGURES = [...PHASES, "wall"] as const;
type Figure = (typeof FIGURES)[number];
const figure = (r: VersionRun, f: Figure) => (f === "wall" ? r.usage.wallSeconds : r.seconds[f]);

function summarize(runs: readonly VersionRun[]): Summary {
    const best: Partial<Record<Version, Best>> = {};
    for (const version of ["base", "head"] as const) {
        const ok = runs.filter((r) => r.version === version && r.ok);
        if (!ok.length) continue;
        const pick = (f: Figure) => ok.reduce((a, b) => (figure(b, f) < figure(a, f) ? b : a));
        best[version] = {
            rounds: ok.length,
            seconds: Object.fromEntries(FIGURES.map((f) => [f, figure(pick(f), f)])) as Record<Figure, number>,
            fromRound: Object.fromEntries(FIGURES.map((f) => [f, pick(f).round])) as Record<Figure, number>,
            peakRssMb: Math.max(...ok.map((r) => r.usage.peakTreeRssMb)),
            schemaVersions: ok[0].schemaVersions,
        };
    }
    const ratio = (h: number, b: number) => (b > 0 ? h / b : NaN);
    const bestRatios: Partial<Record<Figure, number>> = {};
    const { base, head } = best;
    if (base && head) for (const f of FIGURES) bestRatios[f] = ratio(head.seconds[f], base.seconds[f]);
    const perRound = [...new Set(runs.map((r) => r.round))].flatMap((round) => {
        const b = runs.find((r) => r.round === round && r.version === "base" && r.ok);
        const h = runs.find((r) => r.round === round && r.version === "head" && r.ok);
        return b && h
            ? [{ round, ratios: Object.fromEntries(FIGURES.map((f) => [f, ratio(figure(h, f), figure(b, f))])) as Record<Figure, number> }]
            : [];
    });
    const medianPerRound: Partial<Record<Figure, number>> = {};
    if (perRound.length) for (const f of FIGURES) medianPerRound[f] = median(perRound.map((p) => p.ratios[f]));
    return { best, ratios: { best: bestRatios, perRound, medianPerRound } };
}

function median(xs: readonly number[]): number {
    const s = [...xs].sort((a, b) => a - b);
    const m = Math.floor(s.length / 2);
    return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const secs = (s: number | undefined): Cell => (s === undefined ? undefined : s.toFixed(2));
const times = (r: number | undefined): Cell => (r === undefined || !Number.isFinite(r) ? undefined : r.toFixed(3));

function renderBest(s: Summary, sourceRows: number): string {
    const right = (header: string) => ({ header, align: "right" as const });
    const columns = [
        { header: "version" },
        right("schema"),
        ...FIGURES.map((f) => right(`${f} s`)),
        right("copy rows/s"),
        right("peak RSS MB"),
        right("rounds ok"),
    ];
    const rows: Cell[][] = (["base", "head"] as const).map((v) => {
        const b = s.best[v];
        if (!b) return [v, undefined, ...FIGURES.map(() => undefined), undefined, undefined, "0"];
        return [
            v,
            b.schemaVersions.join(",") || "?",
            ...FIGURES.map((f) => secs(b.seconds[f])),
            fmtRate(sourceRows / b.seconds.copy),
            b.peakRssMb.toFixed(0),
            String(b.rounds),
        ];
    });
    rows.push([
        "head/base",
        undefined,
        ...FIGURES.map((f) => times(s.ratios.best[f])),
        times(s.best.base && s.best.head ? s.best.base.seconds.copy / s.best.head.seconds.copy : undefined),
        times(s.best.base && s.best.head ? s.best.head.peakRssMb / s.best.base.peakRssMb : undefined),
        undefined,
    ]);
    return renderTable(columns, rows);
}

function renderRounds(runs: readonly VersionRun[]): string {
    const right = (header: string) => ({ header, align: "right" as const });
    const columns = [
        right("round"),
        { header: "run" },
        ...FIGURES.map((f) => right(`${f} s`)),
        right("CLI CPU s"),
        right("server CPU s"),
        right("other CPU s"),
        right("steal s"),
        right("load avg"),
        right("busy CPUs"),
        { header: "ok" },
    ];
    const rows = [...new Set(runs.map((r) => r.round))].flatMap((round): Cell[][] => {
        const inRound = runs.filter((r) => r.round === round).sort((a, b) => a.position - b.position);
        const lines = inRound.map((r): Cell[] => [
            String(round),
            `${r.position}. ${r.version}`,
            ...FIGURES.map((f) => secs(r.ok ? figure(r, f) : undefined)),
            secs(r.usage.cpuSeconds),
            secs(r.usage.serverCpuSeconds ?? undefined),
            secs(r.otherCpuSeconds ?? undefined),
            secs(r.stealSeconds ?? undefined),
            r.loadAvgBefore.toFixed(1),
            r.busyCpusBefore.toFixed(2),
            r.ok ? "yes" : "NO",
        ]);
        const b = inRound.find((r) => r.version === "base" && r.ok);
        const h = inRound.find((r) => r.version === "head" && r.ok);
        if (b && h)
            lines.push([
                "",
                "   head/base",
                ...FIGURES.map((f) => times(figure(h, f) / figure(b, f))),
                times(h.usage.cpuSeconds / b.usage.cpuSeconds),
                times(
                    h.usage.serverCpuSeconds !== null && b.usage.serverCpuSeconds
                        ? h.usage.serverCpuSeconds / b.usage.serverCpuSeconds
                        : undefined,
                ),
                "",
                "",
                "",
                "",
                "",
            ]);
        return lines;
    });
    return renderTable(columns, rows);
}

function renderTables(runs: readonly VersionRun[], rows: Readonly<Record<string, number>>): string {
    const best = (v: Version, table: string) => {
        const xs = runs.filter((r) => r.version === v && r.ok && table in r.copySecondsPerTable).map((r) => r.copySecondsPerTable[table]);
        return xs.length ? Math.min(...xs) : undefined;
    };
    const tables = Object.keys(rows).filter((t) => Math.max(best("base", t) ?? 0, best("head", t) ?? 0) >= 0.05);
    const right = (header: string) => ({ header, align: "right" as const });
    return renderTable(
        [{ header: "table" }, right("rows"), right("base s"), right("head s"), right("head/base")],
        tables.map((t) => {
            const [b, h] = [best("base", t), best("head", t)];
            return [t, rows[t], secs(b), secs(h), times(b && h !== undefined ? h / b : undefined)];
        }),
    );
}

function renderRatios(s: Summary): string[] {
    const pct = (r: number) => `${r >= 1 ? "+" : ""}${((r - 1) * 100).toFixed(1)}%`;
    const line = (f: Figure) => {
        const label = `${f}:`.padEnd(10);
        const b = s.ratios.best[f];
        if (b === undefined || !Number.isFinite(b)) return `${label} -`;
        const rounds = s.ratios.perRound.map((p) => p.ratios[f].toFixed(3));
        const med = s.ratios.medianPerRound[f];
        return (
            `${label} ${b.toFixed(3)} (${pct(b)}, best vs best)` +
            (rounds.length > 1 && med !== undefined ? `; round by round ${rounds.join(" / ")}, median ${med.toFixed(3)} (${pct(med)})` : "")
        );
    };
    return [
        "head/base (below 1: head faster). best vs best takes each version's luckiest moment; where the machine drifts, the round-by-round",
        "median compares runs made next to each other:",
        ...(["copy", "total", "postLoad", "validate", "wall"] as const).map((f) => `  ${line(f)}`),
    ];
}

async function cleanupExternal(
    admin: ConnectionSpec,
    databases: readonly string[],
    roles: { readonly ownerRole: string; readonly appRole: string },
): Promise<void> {
    for (const db of databases) await dropDatabase(admin, db);
    await withClient(admin, async (c) => {
        for (const role of [roles.appRole, roles.ownerRole]) await c.query(`DROP ROLE IF EXISTS "${role}"`);
    });
}

runMain(main);
