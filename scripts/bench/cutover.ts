#!/usr/bin/env -S npx tsx
/**
 * The cutover under a busy collector: a simulated collector (scripts/simulate-collector.ts, a
 * child process) writes its mix into the collector file while runCutover moves it to
 * PostgreSQL, N times in one run. Per cutover, side by side: how long the collector's writes
 * waited (the freeze), the final pass's cost and what it found, the collector's write errors,
 * and the committed writes missing from PostgreSQL (checked against the simulator's log of
 * commits); and the sync pass costs the freeze is made of, measured in the same run.
 *
 * Setup: generate the file, start a throwaway PostgreSQL with the stack's roles and settings,
 * migrate, one full sync pass. Between cutovers the bench forgets the cutover it just made
 * (DELETE FROM gecko_migration.cutovers) and puts the collector's configuration back: the
 * next cutover starts from a migrated, synced target as an operator's would.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as os from "node:os";
import * as path from "node:path";
import Database from "better-sqlite3";
import type { Client } from "pg";
import { runCutover, type CutoverReport, type FreezeAttempt } from "../../migration/cutover/cutover";
import { syncPass, type SyncReport } from "../../migration/cutover/sync";
import type { MigrationInput, MigrationLogger } from "../../migration/data/options";
import { runMigration } from "../../migration/data/run/runMigration";
import { parseConnectionUrl, type ConnectionSpec } from "../../migration/postgres/connection";
import { startLocalPostgres, type LocalPostgres } from "../../migration/postgres/localServer";
import { planAccess } from "../../migration/setup/accessPlan";
import { applyAccess } from "../../migration/setup/applyAccess";
import { generateCollectorDb } from "../generator/collectorDb";
import { Rng } from "../generator/prng";
import { expectedRows, LOGGED_KEY_COLUMNS, readCollectorLog } from "../generator/simulatedCollector";
import { parseFlags, runMain } from "../lib/cli";
import { int, str, UsageError, type Flags } from "../lib/options";
import { chalk, fs } from "../lib/zx";
import { median } from "./lib/stats";
import { renderTable, type Cell } from "./lib/table";
import { applyStackSettings, withClient } from "./lib/targetDb";

const HELP = `Usage: npx tsx scripts/bench/cutover.ts [options]

Cuts a busy collector over from its SQLite file to PostgreSQL --cutovers times in one run and prints,
side by side per cutover: freeze attempts, how long the collector's writes waited (the freeze), the
final sync pass (seconds, changes, mode, changed pages, and where its time went), the lock wait, the
collector's write errors, committed writes missing from PostgreSQL, and the time from the command to
the collector writing to PostgreSQL; then median and worst freeze against the budget. Also the sync
pass costs measured in the same run: a pass over an unchanged file, over a file whose fingerprint
moved with no page changed, and after ~1000 changed rows of the collector's mix.

The collector is scripts/simulate-collector.ts as a child process (WAL, busy_timeout 30 s), writing for
--warm-seconds before each cutover; the cutover's stop hook SIGKILLs it (SIGTERM would wait out its
busy timeout behind our lock), the start hook stands in for the collector starting on PostgreSQL (it
inserts a row as the collector's role, rolled back). Starts its own throwaway PostgreSQL (embedded 17;
DATABASE_URL is ignored), with the stack's roles and settings.

  --rows N             rows to generate (default 2000000; 200000 for a quick run)
  --cutovers N         cutovers to run (default 10)
  --warm-seconds S     the collector writes this long before each cutover (default 5)
  --tick-ms MS         the simulated collector's tick, one write each (default 100: a busy collector;
                       20 is five times busier, the integration test's rate)
  --retention-every N  ticks between the simulated collector's retention deletes of a table (default: the
                       simulator's, 20 = every 2 s, a stress schedule; the collector's own runs far less often)
  --freeze-seconds S   the freeze budget: longest the collector's writes may wait (default 2)
  --keep DIR           work in DIR and keep it (collector file, logs, config.yaml, reports)
  --json PATH          write every figure as JSON
  -h, --help           this help

Exit status: 0 when every cutover ran (targets are informational), 1 when a cutover failed, 2 usage
error, 3 run error.
`;

/** The collector host's zone, the same for the generator, the simulator and the migration: not UTC, so local clocks matter. */
const HOST_ZONE = "America/Chicago";
const DATABASE = "gecko_terminal_collector";
const OWNER_ROLE = "gecko_owner";
const APP_ROLE = "gecko_collector";
const REPO_ROOT = path.resolve(__dirname, "..", "..");
const SIMULATOR = path.join(REPO_ROOT, "scripts", "simulate-collector.ts");

interface Config {
    readonly rows: number;
    readonly cutovers: number;
    readonly warmSeconds: number;
    readonly tickMs: number;
    /** Undefined: the simulator's default. */
    readonly retentionEvery?: number;
    readonly freezeSeconds: number;
    readonly keep?: string;
    readonly json?: string;
}

function positive(flags: Flags, name: string, fallback: number, max: number): number {
    const text = str(flags, name);
    const n = text === undefined ? fallback : Number(text);
    if (!(n > 0 && n <= max)) throw new UsageError(`--${name} must be a number in (0, ${max}], got '${text}'`);
    return n;
}

function parseConfig(flags: Flags): Config {
    if (flags._.length) throw new UsageError(`unexpected argument '${flags._[0]}' (see --help)`);
    const rows = int(flags, "rows", 2_000_000);
    if (rows < 1000) throw new UsageError("--rows must be at least 1000");
    const cutovers = int(flags, "cutovers", 10);
    if (cutovers < 1 || cutovers > 100) throw new UsageError("--cutovers must be 1..100");
    return {
        rows,
        cutovers,
        warmSeconds: positive(flags, "warm-seconds", 5, 600),
        tickMs: int(flags, "tick-ms", 100),
        retentionEvery: str(flags, "retention-every") === undefined ? undefined : int(flags, "retention-every", 20),
        freezeSeconds: positive(flags, "freeze-seconds", 2, 600),
        keep: str(flags, "keep"),
        json: str(flags, "json"),
    };
}

type Log = (line: string) => void;

/** Everything the cutovers share. */
interface Bench {
    readonly config: Config;
    readonly dir: string;
    readonly file: string;
    readonly input: MigrationInput;
    readonly target: ConnectionSpec;
    readonly app: ConnectionSpec;
    readonly appPassword: string;
    /** The collector's config.yaml, naming the SQLite file before each cutover. */
    readonly configPath: string;
    readonly log: Log;
    readonly logger: MigrationLogger;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const seconds = (ms: number) => Math.round(ms) / 1000;
const sqliteConfig = (file: string) =>
    `app:\n  name: collector\ndatabase:\n  url: "sqlite:///${file}"\n  pool_size: 5\nlogging:\n  level: INFO\n`;

// ---- setup ----

/** The stack's database, roles, grants and settings on the throwaway server. */
async function provision(server: LocalPostgres, log: Log): Promise<{ target: ConnectionSpec; app: ConnectionSpec; appPassword: string }> {
    const admin = parseConnectionUrl(server.url);
    const appPassword = randomBytes(18).toString("base64url");
    await applyAccess(admin, planAccess({ database: DATABASE, ownerRole: OWNER_ROLE, appRole: APP_ROLE, timezone: "UTC" }), appPassword);
    await applyStackSettings(server, admin, log);
    const target: ConnectionSpec = { ...admin, database: DATABASE };
    log(`PostgreSQL ${server.engine} ${server.major} on 127.0.0.1:${server.port}, database ${DATABASE}`);
    return { target, app: { ...target, user: APP_ROLE, password: appPassword }, appPassword };
}

interface Setup {
    readonly tables: Record<string, number>;
    readonly totalRows: number;
    readonly fileMiB: number;
    readonly generateSeconds: number;
    readonly migrateSeconds: number;
    readonly firstPass: PassCost;
}

/** The collector file (ending now, as a live collector's does), migrated, then the first (full) sync pass. */
async function prepare(b: Bench): Promise<Setup> {
    b.log(`generating a collector database of ~${b.config.rows.toLocaleString("en-US")} rows ...`);
    const t0 = Date.now();
    const endAt = new Date(Math.floor(Date.now() / 1000) * 1000);
    const m = generateCollectorDb({ path: b.file, rows: b.config.rows, hostTimeZone: HOST_ZONE, endAt, overwrite: true });
    const generateSeconds = seconds(Date.now() - t0);
    b.log(`generated ${m.totalRows.toLocaleString("en-US")} rows in ${generateSeconds} s; migrating ...`);
    const t1 = Date.now();
    const report = await runMigration(b.input);
    if (!report.ok) throw new Error(`migration failed: ${report.failures.join("; ")}`);
    const migrateSeconds = seconds(Date.now() - t1);
    b.log(`migrated in ${migrateSeconds} s; first sync pass ...`);
    // --full: a pass over the file as the migration left it would find it unchanged and record no page hashes.
    const firstPass = await measuredPass(b, "first pass after the migration (--full)", true);
    const fileMiB = (fs.statSync(b.file).size + (fs.existsSync(`${b.file}-wal`) ? fs.statSync(`${b.file}-wal`).size : 0)) / 2 ** 20;
    return { tables: m.tables as Record<string, number>, totalRows: m.totalRows, fileMiB, generateSeconds, migrateSeconds, firstPass };
}

// ---- sync pass costs ----

interface PassCost {
    readonly label: string;
    readonly seconds: number;
    readonly mode: SyncReport["mode"];
    readonly fullReason?: string;
    readonly changedPages: number;
    readonly changes: number;
    /** Tables whose deletes needed a census of every key. */
    readonly censusTables: readonly string[];
    readonly timings: Readonly<Record<string, number>>;
}

async function measuredPass(b: Bench, label: string, full = false): Promise<PassCost> {
    const t0 = Date.now();
    const r = await syncPass(b.input, b.logger, { full });
    const cost = {
        label,
        seconds: seconds(Date.now() - t0),
        mode: r.mode,
        ...(r.fullReason ? { fullReason: r.fullReason } : {}),
        changedPages: r.changedPages,
        changes: r.changes,
        censusTables: r.censusTables ?? [],
        timings: r.timings,
    };
    b.log(`pass "${label}": ${cost.seconds} s, ${cost.mode}, ${cost.changedPages} changed pages, ${cost.changes} changes`);
    return cost;
}

/** Which parts of the change mix to write. */
interface MixParts {
    /** 500 trades appended, 400 candles and 50 pools updated in place. */
    readonly writes: boolean;
    /** Retention: the 25 oldest trades and the 25 oldest candles deleted. */
    readonly deletes: boolean;
}

/**
 * About 1000 rows of the collector's mix written straight into the file, as the collector
 * commits them: 500 trades appended (5 commits of 100), 400 OHLCV candles updated in place
 * at random rows all over the table (the worst case for the page scan: ~400 leaves), 50 pool
 * updates, retention deleting the 25 oldest trades and the 25 oldest candles.
 */
function writeChangeMix(file: string, tag: string, rng: Rng, parts: MixParts): number {
    const db = new Database(file, { fileMustExist: true, timeout: 30_000 });
    try {
        db.pragma("journal_mode = WAL");
        const range = (table: string) => db.prepare(`SELECT min(rowid), max(rowid) FROM ${table}`).raw().get() as [number, number];
        const others = (db.prepare("SELECT name FROM pragma_table_info('trades') WHERE name <> 'id'").pluck().all() as string[]).join(", ");
        const copyTrades = db.prepare(
            `INSERT INTO trades (id, ${others}) SELECT ? || id, ${others} FROM trades WHERE rowid <= ? ORDER BY rowid DESC LIMIT 100 OFFSET ?`,
        );
        // The first row at or after a random rowid: rowids have gaps.
        const at = (table: string) => `WHERE rowid = (SELECT rowid FROM ${table} WHERE rowid >= ? ORDER BY rowid LIMIT 1)`;
        const candle = db.prepare(`UPDATE ohlcv_data SET volume_usd = volume_usd + 1 ${at("ohlcv_data")}`);
        const pool = db.prepare(`UPDATE pools SET reserve_usd = ? ${at("pools")}`);
        const oldest = (table: string) =>
            db.prepare(`DELETE FROM ${table} WHERE rowid IN (SELECT rowid FROM ${table} ORDER BY rowid LIMIT 25)`);
        const [, lastTrade] = range("trades");
        const [candleLo, candleHi] = range("ohlcv_data");
        const [poolLo, poolHi] = range("pools");
        let changed = 0;
        const commit = (work: () => number) => (changed += db.transaction(work).immediate());
        const times = (n: number, fn: () => number) => Array.from({ length: n }, fn).reduce((s, x) => s + x, 0);
        if (parts.writes) {
            for (let k = 0; k < 5; k++) commit(() => copyTrades.run(`bench-${tag}-${k}-`, lastTrade, k * 100).changes);
            for (let k = 0; k < 8; k++) commit(() => times(50, () => candle.run(rng.int(candleLo, candleHi)).changes));
            commit(() => times(50, () => pool.run(rng.logRange(1e3, 5e6), rng.int(poolLo, poolHi)).changes));
        }
        if (parts.deletes) commit(() => oldest("trades").run().changes + oldest("ohlcv_data").run().changes);
        return changed;
    } finally {
        db.close();
    }
}

/**
 * The passes a final pass is made of: nothing changed, the fingerprint moved with no page changed,
 * ~1000 rows of the collector's mix changed; and that mix split, without its deletes and deletes only
 * (a delete makes the pass compare every key of the table: syncRanges' census).
 */
async function measurePassCosts(b: Bench): Promise<{ passes: PassCost[]; rowsWritten: number }> {
    const passes = [await measuredPass(b, "unchanged file (same fingerprint)")];
    const now = new Date();
    fs.utimesSync(b.file, now, now); // size and mtime are the fingerprint: it moves, no page changes
    passes.push(await measuredPass(b, "fingerprint moved, no page changed"));
    const rng = new Rng(7);
    const mixes: [string, MixParts][] = [
        ["inserts and updates, no delete", { writes: true, deletes: false }],
        ["deletes only (retention)", { writes: false, deletes: true }],
        ["the whole mix", { writes: true, deletes: true }],
    ];
    let rowsWritten = 0;
    for (const [i, [label, parts]] of mixes.entries()) {
        const rows = writeChangeMix(b.file, `mix${i}`, rng, parts);
        rowsWritten = rows;
        passes.push(await measuredPass(b, `after ${rows} changed rows: ${label}`));
    }
    passes.push(await measuredPass(b, "right after that pass (caught up)"));
    return { passes, rowsWritten };
}

// ---- the simulated collector ----

interface Simulator {
    readonly ready: Promise<void>;
    /** SIGKILL, resolved once the process is gone. */
    kill(): Promise<void>;
}

/** Simulators still running: an interrupted run kills them (a signal skips the `finally` blocks). */
const running = new Set<() => void>();

function startSimulator(file: string, log: string, config: Config, seed: number): Simulator {
    const args = ["--import", "tsx", SIMULATOR, "--file", file, "--log", log, "--host-time-zone", HOST_ZONE, "--seed", String(seed)];
    const retention = config.retentionEvery === undefined ? [] : ["--retention-every", String(config.retentionEvery)];
    const child = spawn(process.execPath, [...args, "--tick-ms", String(config.tickMs), ...retention], {
        cwd: REPO_ROOT,
        stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const killNow = () => void (child.exitCode === null && child.signalCode === null && child.kill("SIGKILL"));
    running.add(killNow);
    const closed = new Promise<void>((resolve) => child.on("close", () => resolve(void running.delete(killNow))));
    const ready = new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error("the simulated collector was not ready within 120 s")), 120_000);
        child.stdout.on("data", (d: Buffer) => {
            stdout += d.toString();
            if (stdout.startsWith("ready\n")) resolve(clearTimeout(timer));
        });
        void closed.then(() => reject(new Error(`the simulated collector exited before "ready": ${stderr.trim()}`)));
    });
    return {
        ready,
        kill: async () => {
            killNow();
            await closed;
        },
    };
}

// ---- one cutover ----

/** A sync pass as its run record tells it. */
interface PassRecord {
    readonly mode: string;
    readonly changedPages?: number;
    readonly changes: number;
    /** The pass's own seconds (snapshot to commit), and its phases. */
    readonly seconds?: number;
    readonly censusTables?: readonly string[];
    readonly timings?: Readonly<Record<string, number>>;
}

interface CutoverResult {
    readonly n: number;
    readonly ok: boolean;
    readonly error?: string;
    readonly attempts: readonly FreezeAttempt[];
    /** How long the successful freeze held the lock (report.freeze.heldSeconds). */
    readonly heldSeconds?: number;
    /** The longest any attempt held it: what the collector's writes waited at worst. */
    readonly worstHoldSeconds: number;
    readonly finalPass?: PassRecord;
    /** The sync passes of the cutover that wrote a run record (catch-up, final; a pass that found the file unchanged writes none). */
    readonly passes: readonly PassRecord[];
    readonly stepSeconds: Readonly<Record<string, number>>;
    readonly rowsLogged: number;
    readonly writeErrors: number;
    /** Logged present, absent from PostgreSQL; null when the cutover failed (nothing to check). */
    readonly missing: number | null;
    /** Logged deleted, still in PostgreSQL. */
    readonly resurrected: number | null;
    /** From the lock taken to the collector's first write on PostgreSQL: no write committed anywhere. */
    readonly writesPausedSeconds?: number;
    /** From the command to the collector's first write on PostgreSQL. */
    readonly toFirstWriteSeconds?: number;
    readonly totalSeconds: number;
    readonly report: CutoverReport;
}

/** The stop and start hooks: kill the simulator; on PostgreSQL, one write as the collector's role (rolled back). */
function collectorHooks(b: Bench, sim: Simulator) {
    const marks: { killedAt?: number; firstWriteAt?: number; restartedOnSqlite?: boolean } = {};
    const stopCollector = async () => {
        await sim.kill();
        marks.killedAt = Date.now();
    };
    const startCollector = async () => {
        if (!fs.readFileSync(b.configPath, "utf8").includes("postgresql://")) {
            marks.restartedOnSqlite = true; // nothing was switched: the collector would go back to the file
            return;
        }
        await withClient(b.app, async (c) => {
            await c.query("BEGIN");
            await c.query("INSERT INTO collection_metadata (collector_type) VALUES ('gecko-bench-probe') RETURNING id");
            await c.query("ROLLBACK"); // proves the role can write; PostgreSQL stays equal to the file for the next cutover
        });
        marks.firstWriteAt = Date.now();
    };
    return { marks, stopCollector, startCollector };
}

async function runOneCutover(b: Bench, n: number): Promise<CutoverResult> {
    const logPath = path.join(b.dir, `collector-${n}.jsonl`);
    fs.rmSync(logPath, { force: true });
    const sim = startSimulator(b.file, logPath, b.config, 100 + n);
    const hooks = collectorHooks(b, sim);
    try {
        await sim.ready;
        await sleep(b.config.warmSeconds * 1000);
        const runsBefore = await lastRunId(b.target);
        const commandAt = Date.now();
        b.log(`cutover ${n}: start (the collector wrote ${b.config.warmSeconds} s)`);
        const report = await runCutover({
            input: b.input,
            freezeBudgetSeconds: b.config.freezeSeconds,
            lockWaitMs: 5000,
            attempts: 5,
            catchUpPasses: 20,
            collectorConfigPath: b.configPath,
            collector: {
                postgres: { host: b.target.host, port: b.target.port, database: DATABASE, user: APP_ROLE },
                password: b.appPassword,
            },
            stopCollector: hooks.stopCollector,
            startCollector: hooks.startCollector,
            logger: b.logger,
        });
        await sim.kill(); // a cutover that failed before the freeze left it running
        const passes = await syncRunsSince(b.target, runsBefore);
        const finalPass = report.ok ? await finalPassOf(b.target, passes, report) : undefined;
        const checked = await checkAgainstLog(b.target, logPath, report.ok);
        const { killedAt, firstWriteAt } = hooks.marks;
        const lockedAt = killedAt !== undefined && report.freeze ? killedAt - report.freeze.heldSeconds * 1000 : undefined;
        return {
            n,
            ok: report.ok,
            ...(report.error ? { error: report.error } : {}),
            attempts: report.attempts,
            heldSeconds: report.freeze?.heldSeconds,
            worstHoldSeconds: Math.max(0, ...report.attempts.map((a) => a.heldSeconds)),
            finalPass,
            passes: passes.map((p) => p.pass),
            stepSeconds: Object.fromEntries(report.steps.map((s) => [s.step, s.seconds])),
            ...checked,
            writesPausedSeconds: firstWriteAt !== undefined && lockedAt !== undefined ? seconds(firstWriteAt - lockedAt) : undefined,
            toFirstWriteSeconds: firstWriteAt !== undefined ? seconds(firstWriteAt - commandAt) : undefined,
            totalSeconds: report.totalSeconds,
            report,
        };
    } finally {
        await sim.kill();
    }
}

const lastRunId = async (target: ConnectionSpec) =>
    withClient(target, async (c) => Number((await c.query("SELECT coalesce(max(id), 0) AS id FROM gecko_migration.runs")).rows[0].id));

/** The sync passes recorded since run `after`, with the fingerprint each saw. */
async function syncRunsSince(target: ConnectionSpec, after: number): Promise<{ pass: PassRecord; fingerprint: string }[]> {
    const runs = await withClient(target, (c) =>
        c.query<{ report: SyncReport }>("SELECT report FROM gecko_migration.runs WHERE id > $1 AND report->>'kind' = 'sync' ORDER BY id", [
            after,
        ]),
    );
    return runs.rows.map(({ report: r }) => ({
        pass: {
            mode: r.mode,
            changedPages: r.changedPages,
            changes: r.changes,
            seconds: (Date.parse(r.finishedAt) - Date.parse(r.startedAt)) / 1000,
            censusTables: r.censusTables ?? [],
            timings: r.timings,
        },
        fingerprint: r.source.fingerprint,
    }));
}

/**
 * The final pass as the cutover recorded it (mode, changes), with its pages and phases from its run
 * record: the cutover's last recorded pass, when it saw the fingerprint the cutover recorded. A final
 * pass that found the file unchanged records no run.
 */
async function finalPassOf(
    target: ConnectionSpec,
    passes: readonly { pass: PassRecord; fingerprint: string }[],
    report: CutoverReport,
): Promise<PassRecord | undefined> {
    const rec = await withClient(target, (c) =>
        c.query<{ final: { mode: string; changes: number } | null }>(
            "SELECT report->'finalPass' AS final FROM gecko_migration.cutovers ORDER BY id DESC LIMIT 1",
        ),
    );
    const final = rec.rows[0]?.final;
    if (!final) return undefined;
    const last = passes.at(-1);
    if (final.mode === "none" || !last || last.fingerprint !== report.cutover?.fingerprint)
        return { mode: final.mode, changes: final.changes };
    return last.pass;
}

/** The simulator's log against PostgreSQL: its write errors, and every logged key in the state its last write left. */
async function checkAgainstLog(
    target: ConnectionSpec,
    logPath: string,
    switched: boolean,
): Promise<{ rowsLogged: number; writeErrors: number; missing: number | null; resurrected: number | null }> {
    const { writes, errors } = readCollectorLog(logPath);
    if (!switched) return { rowsLogged: writes.length, writeErrors: errors.length, missing: null, resurrected: null };
    let missing = 0;
    let resurrected = 0;
    await withClient(target, async (c: Client) => {
        for (const [table, keys] of expectedRows(writes)) {
            const column = LOGGED_KEY_COLUMNS[table];
            const found = await c.query<{ k: string }>(`SELECT ${column}::text AS k FROM ${table} WHERE ${column}::text = ANY($1)`, [
                [...keys.keys()],
            ]);
            const present = new Set(found.rows.map((r) => r.k));
            for (const [key, state] of keys) {
                if (state === "present" && !present.has(key)) missing++;
                if (state === "absent" && present.has(key)) resurrected++;
            }
        }
    });
    return { rowsLogged: writes.length, writeErrors: errors.length, missing, resurrected };
}

/** Bench only: forgets the cutover just made and points the configuration at the file again, so the next one can run. */
async function resetForNextCutover(b: Bench): Promise<void> {
    await withClient(b.target, (c) => c.query("DELETE FROM gecko_migration.cutovers"));
    fs.writeFileSync(b.configPath, sqliteConfig(b.file));
}

// ---- the report ----

interface Target {
    readonly description: string;
    readonly measured: string;
    readonly met: boolean;
}

interface Summary {
    readonly medianFreezeSeconds: number;
    readonly worstFreezeSeconds: number;
    readonly writeErrors: number;
    readonly missing: number;
    readonly failedCutovers: number;
    readonly medianToFirstWriteSeconds: number;
    readonly targets: readonly Target[];
}

const fixed = (v: number | undefined, digits = 2) => (v === undefined || Number.isNaN(v) ? "-" : v.toFixed(digits));

function summarize(results: readonly CutoverResult[], budget: number): Summary {
    // Judged on what the collector's writes waited: the longest hold of any attempt, an overrun included.
    // A cutover that never took the lock (it failed in catch-up) made the collector wait for nothing: not counted.
    const holds = results.filter((r) => r.attempts.some((a) => a.outcome !== "lock-busy")).map((r) => r.worstHoldSeconds);
    const medianFreezeSeconds = median(holds);
    const worstFreezeSeconds = holds.length ? Math.max(...holds) : Number.NaN;
    const writeErrors = results.reduce((s, r) => s + r.writeErrors, 0);
    const missing = results.reduce((s, r) => s + (r.missing ?? 0) + (r.resurrected ?? 0), 0);
    const failedCutovers = results.filter((r) => !r.ok).length;
    const firstWrites = results.flatMap((r) => (r.toFirstWriteSeconds === undefined ? [] : [r.toFirstWriteSeconds]));
    const froze = `${holds.length} of ${results.length} cutovers took the lock`;
    const freeze = (v: number) => (holds.length ? `${fixed(v)} s (${froze})` : `not measured: no cutover took the lock`);
    const targets: Target[] = [
        { description: `median freeze <= ${budget} s`, measured: freeze(medianFreezeSeconds), met: medianFreezeSeconds <= budget },
        { description: `worst freeze <= ${budget} s`, measured: freeze(worstFreezeSeconds), met: worstFreezeSeconds <= budget },
        { description: "0 collector write errors", measured: String(writeErrors), met: writeErrors === 0 },
        {
            description: "0 committed writes missing from PostgreSQL",
            measured: `${missing}${failedCutovers ? ` (${failedCutovers} failed cutovers not checked)` : ""}`,
            met: missing === 0 && failedCutovers === 0,
        },
        {
            description: "every cutover switched",
            measured: `${results.length - failedCutovers} of ${results.length}`,
            met: !failedCutovers,
        },
    ];
    return {
        medianFreezeSeconds,
        worstFreezeSeconds,
        writeErrors,
        missing,
        failedCutovers,
        medianToFirstWriteSeconds: median(firstWrites),
        targets,
    };
}

function attemptsCell(r: CutoverResult): string {
    const failed = r.attempts.filter((a) => a.outcome !== "frozen").map((a) => a.outcome);
    return failed.length ? `${r.attempts.length} (${failed.join(", ")})` : String(r.attempts.length);
}

function renderCutovers(results: readonly CutoverResult[]): string {
    const headers = ["#", "ok", "attempts", "lock wait ms", "freeze s", "worst hold s", "final pass s", "changes", "mode"];
    const more = [
        "pages",
        "passes",
        "pass s median",
        "verify s",
        "rows logged",
        "write errors",
        "missing",
        "writes paused s",
        "to PG write s",
        "total s",
    ];
    const rows = results.map((r): Cell[] => [
        r.n,
        r.ok ? "yes" : "NO",
        attemptsCell(r),
        r.report.freeze?.lockWaitMs,
        fixed(r.heldSeconds),
        fixed(r.worstHoldSeconds),
        fixed(r.report.freeze?.finalPassSeconds),
        r.report.freeze?.finalPassChanges,
        r.finalPass?.mode,
        r.finalPass?.changedPages,
        r.passes.length,
        fixed(median(r.passes.flatMap((p) => (p.seconds === undefined ? [] : [p.seconds])))),
        fixed(r.stepSeconds.verify),
        r.rowsLogged,
        r.writeErrors,
        r.missing === null ? undefined : r.missing + (r.resurrected ?? 0),
        fixed(r.writesPausedSeconds),
        fixed(r.toFirstWriteSeconds),
        fixed(r.totalSeconds),
    ]);
    return renderTable([...headers, ...more], rows);
}

/**
 * A pass's timings as columns: introspection, the page scan, the comparison of the changed tables
 * (`diff:<table>`, the slowest named), the apply, and whatever else the pass spent (opening the
 * snapshot, connecting, the state: `other`, when the pass's own seconds are known).
 */
function phaseCells(t: Readonly<Record<string, number>> | undefined, passSeconds: number | undefined, census?: readonly string[]): Cell[] {
    if (!t) return [undefined, undefined, undefined, undefined, undefined, undefined, undefined];
    const tables = Object.entries(t).filter(([k]) => k.startsWith("diff:"));
    const slowest = [...tables].sort((x, y) => y[1] - x[1])[0];
    // Older passes timed only `diff` (the scan and the comparison together).
    const compare = t.pageScan === undefined && !tables.length ? (t.diff ?? 0) : tables.reduce((sum, [, v]) => sum + v, 0);
    const known = (t.introspect ?? 0) + (t.clockCheck ?? 0) + (t.pageScan ?? 0) + compare + (t.apply ?? 0);
    return [
        fixed(t.introspect, 3),
        fixed(t.pageScan, 3),
        t.diff === undefined ? undefined : fixed(compare, 3),
        slowest ? `${slowest[0].slice(5)} ${slowest[1].toFixed(3)}` : undefined,
        census?.length ? census.join(", ") : undefined,
        fixed(t.apply, 3),
        passSeconds === undefined ? undefined : fixed(passSeconds - known, 3),
    ];
}

const PHASE_HEADERS = ["introspect s", "page scan s", "compare s", "slowest table s", "census", "apply s", "other s"];

/** Where each final pass's time went; for a cutover that never froze, its last catch-up pass. */
function renderFinalPasses(results: readonly CutoverResult[]): string {
    const rows = results.map((r): Cell[] => {
        const pass = r.finalPass ?? r.passes.at(-1);
        const which = r.finalPass ? "final" : pass ? "last catch-up" : undefined;
        const outer = r.finalPass ? fixed(r.report.freeze?.finalPassSeconds) : undefined;
        return [r.n, which, outer, fixed(pass?.seconds), ...phaseCells(pass?.timings, pass?.seconds, pass?.censusTables)];
    });
    return renderTable(["#", "pass", "final pass s", "in the pass s", ...PHASE_HEADERS], rows);
}

function renderPassCosts(passes: readonly PassCost[]): string {
    const rows = passes.map((p): Cell[] => [
        p.label,
        fixed(p.seconds),
        p.mode,
        p.changedPages,
        p.changes,
        ...phaseCells(p.timings, p.seconds, p.censusTables),
    ]);
    return renderTable(["sync pass", "s", "mode", "changed pages", "changes", ...PHASE_HEADERS], rows);
}

interface Environment {
    readonly cpus: number;
    readonly loadAverageBefore: readonly number[];
    readonly node: string;
    readonly postgres: string;
    readonly sqlite: string;
}

function renderAll(
    config: Config,
    env: Environment,
    setup: Setup,
    passes: readonly PassCost[],
    results: readonly CutoverResult[],
    s: Summary,
): string {
    const out = [
        `cutover benchmark: ${setup.totalRows.toLocaleString("en-US")} rows (${setup.fileMiB.toFixed(0)} MiB file), ${config.cutovers} cutovers, ` +
            `collector tick ${config.tickMs} ms (retention every ${config.retentionEvery ?? "20 (default)"} ticks), ` +
            `${config.warmSeconds} s of writes before each, freeze budget ${config.freezeSeconds} s`,
        `machine: ${env.cpus} cores, load ${env.loadAverageBefore.map((l) => l.toFixed(2)).join(" ")} before; node ${env.node}; SQLite ${env.sqlite}; ${env.postgres}`,
        `setup: generated in ${setup.generateSeconds} s, migrated in ${setup.migrateSeconds} s, first sync pass ${setup.firstPass.seconds} s (${setup.firstPass.mode}${setup.firstPass.fullReason ? `: ${setup.firstPass.fullReason}` : ""})`,
        "",
        "sync pass costs (same run, collector stopped):",
        renderPassCosts(passes),
        "",
        "cutovers (freeze = the successful attempt's hold; worst hold = longest any attempt held the lock):",
        renderCutovers(results),
        "",
        "where each cutover's final pass (or, when it never froze, its last catch-up pass) spent its time:",
        renderFinalPasses(results),
        "",
        `freeze (worst hold per cutover): median ${fixed(s.medianFreezeSeconds)} s, worst ${fixed(s.worstFreezeSeconds)} s; ` +
            `write errors ${s.writeErrors}; missing writes ${s.missing}; failed cutovers ${s.failedCutovers}; ` +
            `command to the collector's first write on PostgreSQL: median ${fixed(s.medianToFirstWriteSeconds)} s`,
        renderTable(
            ["target", "measured", ""],
            s.targets.map((t) => [t.description, t.measured, t.met ? "met" : "NOT met"]),
        ),
    ];
    for (const r of results.filter((x) => x.error)) out.push(chalk.red(`cutover ${r.n} failed: ${r.error}`));
    return out.join("\n");
}

// ---- main ----

async function environment(target: ConnectionSpec): Promise<Environment> {
    const db = new Database(":memory:");
    try {
        const pg = await withClient(target, async (c) => (await c.query("SELECT version() AS v")).rows[0].v as string);
        return {
            cpus: os.cpus().length,
            loadAverageBefore: os.loadavg(),
            node: process.version,
            postgres: pg.split(" on ")[0],
            sqlite: db.prepare("SELECT sqlite_version()").pluck().get() as string,
        };
    } finally {
        db.close();
    }
}

function progressLog(): { log: Log; logger: MigrationLogger } {
    const t0 = Date.now();
    const log = (line: string) => process.stderr.write(chalk.dim(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(6)}s] ${line}`) + "\n");
    return { log, logger: { info: log, warn: (m) => log(chalk.yellow(`warning: ${m}`)) } };
}

/** --json, written after each cutover too (`complete: false`): a run stopped halfway keeps what it measured. */
async function writeJson(b: Bench, output: object): Promise<void> {
    if (!b.config.json) return;
    await fs.ensureDir(path.dirname(path.resolve(b.config.json)));
    await fs.writeFile(b.config.json, JSON.stringify(output, null, 2));
}

const progressLine = (r: CutoverResult) =>
    `cutover ${r.n}: ${r.ok ? "ok" : `FAILED (${r.error})`}; attempts ${attemptsCell(r)}, freeze ${fixed(r.heldSeconds)} s, ` +
    `final pass ${fixed(r.report.freeze?.finalPassSeconds)} s, ${r.passes.length} passes, ${r.writeErrors} write errors, ` +
    `${r.missing ?? "-"} missing, total ${fixed(r.totalSeconds)} s`;

async function runBench(b: Bench, server: LocalPostgres): Promise<Summary> {
    const env = await environment(b.target);
    const setup = await prepare(b);
    const { passes, rowsWritten } = await measurePassCosts(b);
    const head = { tool: "gecko-pg bench/cutover", config: b.config, environment: env, engine: server.engine, setup, passCosts: passes };
    const results: CutoverResult[] = [];
    for (let n = 1; n <= b.config.cutovers; n++) {
        const r = await runOneCutover(b, n);
        b.log(progressLine(r));
        results.push(r);
        await resetForNextCutover(b);
        await writeJson(b, { ...head, changeMixRows: rowsWritten, complete: false, cutovers: results });
    }
    const summary = summarize(results, b.config.freezeSeconds);
    process.stdout.write(renderAll(b.config, env, setup, passes, results, summary) + "\n");
    await writeJson(b, { ...head, changeMixRows: rowsWritten, complete: true, cutovers: results, summary });
    if (b.config.json) b.log(`figures written to ${b.config.json}`);
    return summary;
}

async function main(argv: string[]): Promise<number> {
    const flags = parseFlags(argv, {
        string: ["rows", "cutovers", "warm-seconds", "tick-ms", "retention-every", "freeze-seconds", "keep", "json"],
    });
    if (flags.help) {
        process.stdout.write(HELP);
        return 0;
    }
    const config = parseConfig(flags);
    const dir = config.keep ? path.resolve(config.keep) : await fs.mkdtemp(path.join(os.tmpdir(), "gecko-bench-cutover-"));
    await fs.ensureDir(dir);
    const { log, logger } = progressLog();
    log(`work dir ${dir}; starting PostgreSQL ...`);
    const server = await startLocalPostgres({ ignoreDatabaseUrl: true });
    const interrupted = (signal: NodeJS.Signals) => {
        log(`${signal}: stopping the simulated collector and PostgreSQL`);
        for (const kill of running) kill();
        void server.stop().finally(() => {
            if (!config.keep) fs.removeSync(dir);
            process.exit(signal === "SIGINT" ? 130 : 143);
        });
    };
    process.once("SIGINT", interrupted).once("SIGTERM", interrupted);
    try {
        const { target, app, appPassword } = await provision(server, log);
        const file = path.join(dir, "gecko_data.db");
        const input: MigrationInput = {
            sqlitePath: file,
            target,
            ownerRole: OWNER_ROLE,
            appRole: APP_ROLE,
            sourceTimeZone: HOST_ZONE,
            // The data ends now: its span holds a DST fall-back, and the new-pool sightings of the repeated
            // hour have nothing in their rows to decide them. The default would set them aside; the bench
            // measures the cutover, so it takes PostgreSQL's reading.
            ambiguousTime: "later",
        };
        const configPath = path.join(dir, "config.yaml");
        const bench: Bench = { config, dir, file, input, target, app, appPassword, configPath, log, logger };
        fs.writeFileSync(configPath, sqliteConfig(file));
        const summary = await runBench(bench, server);
        return summary.failedCutovers ? 1 : 0;
    } finally {
        await server.stop();
        if (!config.keep) await fs.remove(dir);
    }
}

runMain(main);
