/**
 * What the concurrency benchmark measured (the shapes of its JSON) and its plain-text
 * report. Pure: scripts/bench/concurrency.ts runs the measurements.
 */
import { chalk } from "../../lib/zx";
import { formatNumber, renderTable } from "../lib/table";
import { OP_NAMES, type MixOptions } from "./ops";
import type { PgStatementMode } from "./protocol";
import type { PostgresPlan, Timing } from "./reads";
import type { WriteRunFigures } from "./runWriters";

export interface ReadResult {
    readonly id: string;
    readonly title: string;
    readonly sqlite: Timing & { readonly plan: string };
    readonly postgres: Timing & {
        readonly plan: PostgresPlan;
        readonly planUsesPlannedIndex: boolean | null;
        readonly partitionsScanned?: number;
        readonly partitionsTotal?: number;
    };
    /** PostgreSQL median / SQLite median. */
    readonly ratio: number;
    /** PostgreSQL's statements x the measured `SELECT 1` round trip: what the query costs before any work. */
    readonly roundTripFloorMs: number;
    readonly rowsMatch: boolean;
}

export interface WriteResult extends WriteRunFigures {
    readonly store: "sqlite" | "postgres";
    /** e.g. "busy_timeout 20000 ms" */
    readonly variant: string;
    /** PostgreSQL only: how statements were sent. */
    readonly statements?: PgStatementMode;
    /** PostgreSQL only: share of pg_stat_activity samples of the writers' backends per state during the window. */
    readonly backendStates?: Record<string, number>;
    readonly seconds: number;
    readonly timeoutMs: number;
    /** 1-minute load average when the run started (the machine is shared). */
    readonly loadAverage: number;
}

/** A write run that could not produce figures (a writer crashed or overran). */
export interface FailedRun {
    readonly store: "sqlite" | "postgres";
    readonly variant: string;
    readonly writers: number;
    readonly error: string;
}

export interface Target {
    readonly id: string;
    readonly description: string;
    /** null: not measured in this run. */
    readonly pass: boolean | null;
    readonly detail: string;
}

export interface ReadFigures {
    readonly results: ReadResult[];
    /** Median `SELECT 1` round trip on the read connection. */
    readonly roundTripMs: number;
}

/** The run's options the report states. */
export interface ReportOptions {
    readonly runs: number;
    readonly judgedStatements: PgStatementMode;
    readonly plans: boolean;
    readonly seconds: number;
    readonly warmupSeconds: number;
    readonly slowMs: number;
    readonly mix: MixOptions;
}

const ms = (v: number) => (Number.isFinite(v) ? formatNumber(v) : "-");
const pct = (s: { p50: number; p95: number; p99: number }) => `${ms(s.p50)} / ${ms(s.p95)} / ${ms(s.p99)}`;

export function renderAll(
    env: Record<string, unknown>,
    readFigures: ReadFigures,
    writes: readonly WriteResult[],
    targets: readonly Target[],
    config: ReportOptions,
): string {
    const out: string[] = [
        chalk.bold(
            `Environment: ${env.cpus} cores, ${env.memoryGiB} GiB, Node ${env.node}, SQLite ${env.sqliteVersion}, ${String(env.postgres).split(" on ")[0]} (${env.postgresEngine})`,
        ),
    ];
    if (readFigures.results.length) out.push(...renderReads(readFigures, config));
    if (writes.length) out.push(...renderWrites(writes, Number(env.cpus), config));
    out.push("", chalk.bold("Targets (informational)"));
    out.push(
        renderTable(
            ["", "target", "detail"],
            targets.map((t) => [t.pass === null ? "n/a" : t.pass ? chalk.green("PASS") : chalk.red("FAIL"), t.description, t.detail]),
        ),
    );
    return out.join("\n");
}

/** The read queries' timings side by side, SQLite's plans, and PostgreSQL's plans of 2 and 2ts (all with --plans). */
function renderReads(readFigures: ReadFigures, config: ReportOptions): string[] {
    const reads = readFigures.results;
    const out = [
        "",
        chalk.bold(
            `Reads: median of ${config.runs} runs (ms, client side, after 1 warm-up; PostgreSQL statements sent as ${config.judgedStatements}, one round trip (SELECT 1) = ${ms(readFigures.roundTripMs)} ms)`,
        ),
        renderTable(
            [
                "query",
                "what",
                "SQLite ms",
                "PG ms",
                "PG/SQLite",
                "rows",
                "PG trips x RTT ms",
                "PG plan / exec / serialize ms",
                "PG plan: indexes (partitions)",
            ],
            reads.map((r) => [
                r.id,
                r.title,
                r.sqlite.medianMs,
                r.postgres.medianMs,
                r.ratio.toFixed(2) + (r.ratio <= 1 ? "" : " !"),
                r.rowsMatch ? r.sqlite.rows : `${r.sqlite.rows} vs ${r.postgres.rows}`,
                `${r.postgres.statements} x = ${ms(r.roundTripFloorMs)}`,
                `${ms(r.postgres.plan.planningMs)} / ${ms(r.postgres.plan.executionMs)} / ${r.postgres.plan.serializeMs === null ? "-" : ms(r.postgres.plan.serializeMs)}`,
                planSummary(r),
            ]),
        ),
        "",
        chalk.bold("SQLite plans (EXPLAIN QUERY PLAN)"),
        renderTable(
            ["query", "plan"],
            reads.map((r) => [r.id, r.sqlite.plan]),
        ),
    ];
    for (const r of reads.filter((x) => config.plans || x.id === "2" || x.id === "2ts")) {
        out.push("", chalk.bold(`PostgreSQL EXPLAIN (ANALYZE, BUFFERS) of ${r.id}: ${r.title}`), r.postgres.plan.text);
    }
    return out;
}

/** The indexes PostgreSQL's plan used (else its scans), the partitions it scanned, and whether the planned index is among them. */
function planSummary(r: ReadResult): string {
    return (
        `${[...new Set(r.postgres.plan.indexes.map(shortIndex))].join(", ") || r.postgres.plan.nodes.filter((n) => /Scan/.test(n)).join(", ")}` +
        (r.postgres.partitionsScanned !== undefined ? ` (${r.postgres.partitionsScanned}/${r.postgres.partitionsTotal} partitions)` : "") +
        (r.postgres.planUsesPlannedIndex === false ? " [planned index NOT used]" : "")
    );
}

/** The write runs: throughput, CPU, the PostgreSQL backends' states, latency per operation, error samples. */
function renderWrites(writes: readonly WriteResult[], cpus: number, config: ReportOptions): string[] {
    const out = [
        "",
        chalk.bold(
            `Writes: ${config.seconds}s measured per run after ${config.warmupSeconds}s warm-up; mix trade_ingest:ohlcv_upsert:pool_update = ${OP_NAMES.map((n) => config.mix.weights[n]).join(":")}, ${config.mix.tradeBatch} trades per batch (${Math.round(config.mix.knownShare * 100)}% already stored), OHLCV ${config.mix.ohlcvPerCommit === 1 ? "one row per commit" : `${config.mix.ohlcvPerCommit} rows per commit`}${config.mix.inTxnMs ? `, ${config.mix.inTxnMs} ms of client time in the transaction after each write` : ""}`,
        ),
        renderWriteThroughput(writes, config.slowMs),
        "",
        chalk.bold(
            "Write CPU: ms of CPU per operation (writers = client processes, SQLite's engine included; server = PostgreSQL, all its processes); busy cores of the machine, of the server (in SQLite runs: PostgreSQL's background work), other (the kernel's I/O threads, other programs)",
        ),
        renderWriteCpu(writes, cpus),
        ...renderBackendStates(writes),
        "",
        chalk.bold("Write latency per operation type: p50 / p95 / p99 ms (count)"),
        renderTable(
            ["store", "config", "N", ...OP_NAMES],
            writes.map((w) => [
                w.store,
                w.variant,
                w.writers,
                ...OP_NAMES.map((n) => `${pct(w.perOp[n])} (${w.perOp[n].count}${errorsSuffix(w.perOp[n].errors)})`),
            ]),
        ),
    ];
    const samples = [...new Set(writes.flatMap((w) => w.errorSamples.map((s) => `${w.store} N=${w.writers}: ${s}`)))].slice(0, 10);
    if (samples.length) out.push("", chalk.bold("Error samples"), ...samples);
    return out;
}

function renderWriteThroughput(writes: readonly WriteResult[], slowMs: number): string {
    return renderTable(
        [
            "store",
            "config",
            "N",
            "ops/s",
            "rows/s",
            "ops",
            "p50 ms",
            "p99 ms",
            "max ms",
            `>${slowMs}ms`,
            "lock/timeout errors",
            "other errors",
            "load avg",
        ],
        writes.map((w) => {
            const lockish =
                (w.errors.locked ?? 0) +
                (w.errors.lock_timeout ?? 0) +
                (w.errors.statement_timeout ?? 0) +
                (w.errors.deadlock ?? 0) +
                (w.errors.serialization ?? 0);
            return [
                w.store,
                w.variant,
                w.writers,
                w.opsPerSecond,
                w.rowsPerSecond,
                w.ops,
                w.all.p50,
                w.all.p99,
                w.all.max,
                w.slow,
                lockish,
                w.errors.other ?? 0,
                w.loadAverage.toFixed(1),
            ];
        }),
    );
}

function renderWriteCpu(writes: readonly WriteResult[], cpus: number): string {
    return renderTable(
        [
            "store",
            "config",
            "N",
            "writers ms/op",
            "server ms/op",
            "total ms/op",
            "CPU-bound ceiling ops/s",
            "busy cores",
            "server cores",
            "other cores",
        ],
        writes.map((w) => {
            const total = w.cpu.clientMsPerOp + (w.cpu.serverMsPerOp ?? 0);
            return [
                w.store,
                w.variant,
                w.writers,
                w.cpu.clientMsPerOp,
                w.cpu.serverMsPerOp ?? "-",
                total,
                (cpus * 1000) / total,
                w.cpu.machineBusyCores ?? "-",
                w.cpu.serverBusyCores ?? "-",
                w.cpu.otherBusyCores ?? "-",
            ];
        }),
    );
}

/** The sampled PostgreSQL runs' backend states: the states that matter most across the runs, the rest summed. */
function renderBackendStates(writes: readonly WriteResult[]): string[] {
    const sampled = writes.filter((w) => w.backendStates);
    if (!sampled.length) return [];
    const weight = new Map<string, number>();
    for (const w of sampled) for (const [k, v] of Object.entries(w.backendStates!)) weight.set(k, (weight.get(k) ?? 0) + v);
    const top = [...weight]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 7)
        .map(([k]) => k);
    return [
        "",
        chalk.bold(
            "PostgreSQL writers' backends, share of pg_stat_activity samples (every 20 ms) per state: where the server-side time goes",
        ),
        renderTable(
            ["config", "N", ...top, "other"],
            sampled.map((w) => {
                const s = w.backendStates!;
                const rest = Object.entries(s)
                    .filter(([k]) => !top.includes(k))
                    .reduce((a, [, v]) => a + v, 0);
                return [w.variant, w.writers, ...top.map((k) => `${Math.round((s[k] ?? 0) * 100)}%`), `${Math.round(rest * 100)}%`];
            }),
        ),
    ];
}

function errorsSuffix(errors: Partial<Record<string, number>>): string {
    const n = Object.values(errors).reduce((a: number, b) => a + (b ?? 0), 0);
    return n ? `, ${n} failed` : "";
}

/** Partition-level index names shortened to the parent's pattern (ohlcv_data_p202405_pool_..._idx -> ohlcv_data_p*_pool_..._idx). */
function shortIndex(name: string): string {
    return name.replace(/^ohlcv_data_(p\d{6}|default)_/, "ohlcv_data_<part>_");
}
