/**
 * pgloader (Debian package) loading the same SQLite file with its defaults for
 * SQLite: drop, create tables, create indexes, reset sequences, and a smaller
 * prefetch (PREFETCH_ROWS) so it fits its heap. Its type mapping
 * is its own (DATETIME -> timestamptz as stored, NUMERIC -> numeric without
 * typmod, no partitioning, no clock conversion): a throughput peer, not a
 * correctness peer. Its row counts are checked against the source's.
 *
 * The password goes through PGPASSWORD, never the command file or the command line.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { runMeasured } from "../lib/measure";
import { compareCounts, countSourceRows, countTargetRows } from "../lib/targetDb";
import type { ContenderContext, ContenderResult } from "../lib/types";

/**
 * Rows each reader queues ahead (pgloader's default is 100000). Debian's pgloader
 * runs in a fixed 1 GiB SBCL heap and dies with "Heap exhausted" on the collector's
 * ~1M-row tables at the default; 10000 is what pgloader's documentation suggests
 * for memory-bound loads.
 */
export const PREFETCH_ROWS = 10_000;

/** pgloader's summary rows we turn into phases (seconds, summed). */
const PHASE_ROWS: Readonly<Record<string, readonly string[]>> = {
    load: ["COPY Threads Completion"],
    index: ["Create Indexes", "Index Build Completion", "Primary Keys", "Create Foreign Keys"],
    schema: [
        "fetch meta data",
        "Create Schemas",
        "Create SQL Types",
        "Create tables",
        "Set Table OIDs",
        "Drop Foreign Keys",
        "Drop Indexes",
    ],
    other: ["Reset Sequences", "Create Triggers", "Install Comments", "Set Search Path"],
};

export async function runPgloader(ctx: ContenderContext): Promise<ContenderResult> {
    const target = { ...ctx.admin, database: ctx.database };
    const sourceCounts = countSourceRows(ctx.sqlitePath);
    const sourceRows = Object.values(sourceCounts).reduce((a, b) => a + b, 0);
    const commandFile = writeCommandFile(ctx);
    ctx.log(`pgloader: loading ${sourceRows.toLocaleString("en-US")} rows`);
    const run = await runMeasured(
        "pgloader",
        ["--root-dir", path.join(ctx.workDir, "pgloader"), "--no-ssl-cert-verification", commandFile],
        {
            env: { ...process.env, PGPASSWORD: target.password },
            timeFile: path.join(ctx.workDir, "pgloader.time"),
            postmasterPid: ctx.postmasterPid,
            onStderrLine: (l) => {
                if (/ERROR|FATAL|WARNING/.test(l)) ctx.log(`pgloader: ${l.trim()}`);
            },
        },
    );
    const summary = parsePgloaderSummary(run.stdout + "\n" + run.stderrTail);
    const phases = summaryPhases(summary);
    const notes = [
        "phases from pgloader's own summary: load = 'COPY Threads Completion'; index = create indexes + index build + primary keys + foreign keys (pgloader builds indexes while other tables still load)",
        `prefetch rows = ${PREFETCH_ROWS} (default 100000 exhausts Debian pgloader's 1 GiB heap at ~2M rows)`,
    ];
    if (run.code !== 0) {
        return {
            contender: "pgloader",
            scale: ctx.scale,
            database: ctx.database,
            ok: false,
            error: `pgloader exited ${run.code}: ${run.stderrTail.slice(-2000)}`,
            sourceRows,
            loadedRows: 0,
            phases,
            totalSeconds: run.usage.wallSeconds,
            loadRowsPerSecond: 0,
            totalRowsPerSecond: 0,
            usage: run.usage,
            notes,
        };
    }
    const counts = compareCounts(sourceCounts, await countTargetRows(target));
    const loadedRows = Object.values(counts).reduce((a, c) => a + (c.target ?? 0), 0);
    const differ = Object.entries(counts).filter(([, c]) => c.target !== c.source);
    if (differ.length) notes.push(`row counts differ: ${differ.map(([t, c]) => `${t} ${c.target ?? "missing"}/${c.source}`).join(", ")}`);
    if (summary.errors > 0) notes.push(`pgloader reported ${summary.errors} errors`);
    const load = phases.load ?? run.usage.wallSeconds;
    return {
        contender: "pgloader",
        scale: ctx.scale,
        database: ctx.database,
        ok: differ.length === 0,
        ...(differ.length ? { error: `row counts differ from the source (${loadedRows}/${sourceRows})` } : {}),
        sourceRows,
        loadedRows,
        phases: { ...phases, pgloaderTotal: summary.totalSeconds ?? run.usage.wallSeconds },
        totalSeconds: run.usage.wallSeconds,
        loadRowsPerSecond: sourceRows / load,
        totalRowsPerSecond: sourceRows / run.usage.wallSeconds,
        usage: run.usage,
        details: { counts, summarySteps: summary.steps, summaryErrors: summary.errors },
        notes,
    };
}

/** pgloader's command file in the work dir: the target without its password (that goes through PGPASSWORD). */
function writeCommandFile(ctx: ContenderContext): string {
    const target = { ...ctx.admin, database: ctx.database };
    const commandFile = path.join(ctx.workDir, "pgloader.load");
    const user = encodeURIComponent(target.user);
    fs.writeFileSync(
        commandFile,
        [
            "LOAD DATABASE",
            `    FROM sqlite://${path.resolve(ctx.sqlitePath)}`,
            `    INTO postgresql://${user}@${target.host}:${target.port}/${encodeURIComponent(target.database)}`,
            "    WITH include drop, create tables, create indexes, reset sequences,",
            `         prefetch rows = ${PREFETCH_ROWS}`,
            ";",
            "",
        ].join("\n"),
    );
    return commandFile;
}

/** Seconds per phase (PHASE_ROWS) from pgloader's summary; phases none of whose rows it printed are left out. */
function summaryPhases(summary: PgloaderSummary): Record<string, number> {
    const phases: Record<string, number> = {};
    for (const [phase, rows] of Object.entries(PHASE_ROWS)) {
        const found = rows.filter((r) => r in summary.steps);
        if (found.length) phases[phase] = found.reduce((a, r) => a + summary.steps[r], 0);
    }
    return phases;
}

export interface PgloaderSummary {
    /** Summary row label -> seconds. */
    readonly steps: Record<string, number>;
    readonly totalSeconds?: number;
    readonly errors: number;
}

/**
 * pgloader's closing table, e.g. `COPY Threads Completion    0    4    1.203s`
 * or `Total import time    ✓    2000000    200.3 MB    1m5.203s`.
 */
export function parsePgloaderSummary(text: string): PgloaderSummary {
    const steps: Record<string, number> = {};
    let totalSeconds: number | undefined;
    let errors = 0;
    for (const line of text.split("\n")) {
        const m = /^\s*(.+?)\s{2,}(\S+)\s+.*?\s((?:\d+h)?(?:\d+m)?[\d.]+s)\s*$/.exec(line);
        if (!m) continue;
        const label = m[1].trim();
        const seconds = durationSeconds(m[3]);
        if (label === "Total import time") totalSeconds = seconds;
        else if (label.includes(".") || /^[a-z_]+$/.test(label))
            errors += Number(m[2]) || 0; // per-table rows: table name / schema.table
        else {
            steps[label] = (steps[label] ?? 0) + seconds;
            errors += Number(m[2]) || 0;
        }
    }
    return { steps, totalSeconds, errors };
}

function durationSeconds(s: string): number {
    const m = /^(?:(\d+)h)?(?:(\d+)m)?([\d.]+)s$/.exec(s);
    return m ? Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3]) : 0;
}
