/**
 * Starts N writer processes, waits until all are connected, starts them together,
 * collects their results and aggregates them. Every process is ended by its own pid
 * if it overruns the hard limit.
 */
// fork, not zx: the writers are long-lived node processes driven over the IPC channel (init, go,
// close; results back), which zx's `$` (a command run through a shell) does not give.
import { fork, type ChildProcess } from "node:child_process";
import * as path from "node:path";
import { summarize, type LatencySummary } from "../lib/stats";
import { machineCpu, type MachineCpu } from "./machineCpu";
import { OP_NAMES, type OpName } from "./ops";
import type { ErrorKind, FromWriter, ToWriter, WriterConfig, WriterResult } from "./protocol";

const WRITER_SCRIPT = path.join(__dirname, "writer.ts");

export interface RunOptions {
    /** Measured duration, after the warm-up. */
    readonly seconds: number;
    /** Unmeasured run time first, so every connection has its caches and code warm (default 1). */
    readonly warmupSeconds?: number;
    /** CPU seconds the database server has used so far (null: not readable); sampled at both ends of the window. */
    readonly serverCpuSeconds?: () => number | null;
    /**
     * The server is the store under test (PostgreSQL runs): its CPU is reported per operation.
     * False (SQLite runs): its CPU (autovacuum after an earlier run, checkpoints) is only kept
     * out of "other work".
     */
    readonly serverIsStore?: boolean;
    /** Called when the measured window starts and when every writer has reported. */
    readonly window?: { readonly start: () => void; readonly end: () => void };
    /** Extra time allowed after the deadline for in-flight operations (e.g. a 30 s busy wait) before the writers are killed. */
    readonly graceMs: number;
    /** Time allowed for all writers to start and connect. */
    readonly startTimeoutMs?: number;
}

export interface OpFigures extends LatencySummary {
    readonly rows: number;
    /** Successful operations slower than the run's `slowMs`. */
    readonly slow: number;
    /** Failed operations by kind. */
    readonly errors: Partial<Record<ErrorKind, number>>;
}

/** Where the CPU went during the measured window. */
export interface CpuFigures {
    /** Writer processes' CPU (the SQLite engine included) per operation started, ms. */
    readonly clientMsPerOp: number;
    /** Database server's CPU per operation, ms; null for SQLite (in-process) or when unreadable. */
    readonly serverMsPerOp: number | null;
    /** Average number of busy cores on the machine during the window (all processes). */
    readonly machineBusyCores: number | null;
    /** Busy cores not accounted for by the writers or the server: other work on the machine (the kernel's I/O threads included). */
    readonly otherBusyCores: number | null;
    /** Cores the database server used in the window; in SQLite runs, PostgreSQL's background work. */
    readonly serverBusyCores: number | null;
}

export interface WriteRunFigures {
    readonly writers: number;
    /** The measured window: from the end of the warm-up to the deadline. */
    readonly elapsedSeconds: number;
    /** Successful operations completed in the window (the throughput count). */
    readonly ops: number;
    readonly rows: number;
    /** Operations run during the warm-up, not counted. */
    readonly warmupOps: number;
    readonly cpu: CpuFigures;
    readonly opsPerSecond: number;
    readonly rowsPerSecond: number;
    readonly errors: Partial<Record<ErrorKind, number>>;
    readonly errorCount: number;
    readonly slow: number;
    readonly perOp: Record<OpName, OpFigures>;
    /** All operations together. */
    readonly all: LatencySummary;
    readonly errorSamples: readonly string[];
}

/** Runs `configs.length` writers for `options.seconds` and returns the aggregate. */
export async function runWriters(configs: readonly WriterConfig[], options: RunOptions): Promise<WriteRunFigures> {
    const children: ChildProcess[] = [];
    const results: WriterResult[] = [];
    const failures: string[] = [];
    let killTimer: NodeJS.Timeout | undefined;
    try {
        const ready = new Set<number>();
        const warmupMs = (options.warmupSeconds ?? 1) * 1000;
        let measureFrom = 0;
        let deadline = 0;
        const samples: { start?: WindowSample; end?: WindowSample } = {};
        let reported = 0;
        const closeWhenAllReported = () => {
            if (reported < configs.length) return;
            // Sampled while every backend is still connected: none of their CPU is in flight to the postmaster's reaped-children total.
            samples.end = sampleWindow(options, "end");
            for (const c of children) if (c.connected) c.send({ type: "close" } satisfies ToWriter);
        };
        const done = new Promise<void>((resolve, reject) => {
            let settled = 0;
            const settle = () => {
                if (++settled === configs.length) resolve();
            };
            for (const config of configs) {
                // Inherits tsx's loader flags from process.execArgv, so the child runs TypeScript too.
                const child = fork(WRITER_SCRIPT, [], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
                children.push(child);
                let finished = false;
                child.on("message", (m: FromWriter) => {
                    if (m.type === "ready") {
                        ready.add(m.worker);
                        if (ready.size === configs.length) {
                            measureFrom = Date.now() + warmupMs;
                            deadline = measureFrom + options.seconds * 1000;
                            for (const c of children) c.send({ type: "go", measureFrom, deadline } satisfies ToWriter);
                            setTimeout(() => (samples.start = sampleWindow(options, "start")), warmupMs).unref();
                            killTimer = setTimeout(
                                () => {
                                    for (const c of children) if (c.exitCode === null && c.pid) c.kill("SIGKILL");
                                },
                                options.seconds * 1000 + options.graceMs,
                            );
                        }
                    } else if (m.type === "result") {
                        finished = true;
                        results.push(m.result);
                        reported++;
                        closeWhenAllReported();
                    } else if (m.type === "failed") {
                        finished = true;
                        failures.push(`writer ${m.worker}: ${m.message}`);
                        reported++;
                        closeWhenAllReported();
                    }
                });
                child.on("error", (err) => reject(new Error(`writer ${config.worker}: ${err.message}`, { cause: err })));
                // "close", not "exit": it comes after the IPC channel has delivered every message.
                child.on("close", (code, signal) => {
                    if (!finished) failures.push(`writer ${config.worker} exited (${signal ?? code}) without a result`);
                    settle();
                });
                child.send({ type: "init", config } satisfies ToWriter);
            }
        });
        const startTimeout = options.startTimeoutMs ?? 120_000;
        const startGuard = setTimeout(() => {
            if (ready.size < configs.length) for (const c of children) if (c.exitCode === null && c.pid) c.kill("SIGKILL");
        }, startTimeout);
        await done;
        clearTimeout(startGuard);
        if (failures.length) throw new Error(`${failures.length} of ${configs.length} writers failed: ${failures.slice(0, 3).join("; ")}`);
        return aggregate(results, (deadline - measureFrom) / 1000, cpuWindow(samples.start, samples.end), options.serverIsStore ?? true);
    } finally {
        if (killTimer) clearTimeout(killTimer);
        for (const c of children) if (c.exitCode === null && c.signalCode === null && c.pid) c.kill("SIGKILL");
    }
}

function addErrors(into: Partial<Record<ErrorKind, number>>, from: Partial<Record<ErrorKind, number>>): void {
    for (const [k, v] of Object.entries(from) as [ErrorKind, number][]) into[k] = (into[k] ?? 0) + v;
}

interface WindowSample {
    readonly at: number;
    readonly server: number | null;
    readonly machine: MachineCpu | null;
}

function sampleWindow(options: RunOptions, edge: "start" | "end"): WindowSample {
    options.window?.[edge]();
    return { at: Date.now(), server: options.serverCpuSeconds?.() ?? null, machine: machineCpu() };
}

/** Server CPU seconds and machine busy core-seconds between two samples; null parts when unmeasured. */
export interface CpuWindow {
    readonly seconds: number;
    readonly serverCpuSeconds: number | null;
    readonly machineBusySeconds: number | null;
}

function cpuWindow(start: WindowSample | undefined, end: WindowSample | undefined): CpuWindow | null {
    if (!start || !end || end.at <= start.at) return null;
    return {
        seconds: (end.at - start.at) / 1000,
        serverCpuSeconds: start.server !== null && end.server !== null ? end.server - start.server : null,
        machineBusySeconds: start.machine && end.machine ? end.machine.busySeconds - start.machine.busySeconds : null,
    };
}

/** Sums the writers' results over a measured window of `windowSeconds`. */
export function aggregate(
    results: readonly WriterResult[],
    windowSeconds: number,
    window: CpuWindow | null = null,
    serverIsStore = true,
): WriteRunFigures {
    const elapsedSeconds = Math.max(1e-3, windowSeconds);
    const perOp = {} as Record<OpName, OpFigures>;
    const allLatencies: number[] = [];
    const errors: Partial<Record<ErrorKind, number>> = {};
    let rows = 0;
    let slow = 0;
    let ops = 0;
    for (const name of OP_NAMES) {
        const latencies: number[] = [];
        const opErrors: Partial<Record<ErrorKind, number>> = {};
        let opRows = 0;
        let opSlow = 0;
        for (const r of results) {
            const o = r.ops[name];
            for (const l of o.latenciesMs) latencies.push(l);
            ops += o.completedInWindow;
            opRows += o.rows;
            opSlow += o.slow;
            addErrors(opErrors, o.errors);
        }
        perOp[name] = { ...summarize(latencies), rows: opRows, slow: opSlow, errors: opErrors };
        for (const l of latencies) allLatencies.push(l);
        addErrors(errors, opErrors);
        rows += opRows;
        slow += opSlow;
    }
    const errorCount = Object.values(errors).reduce((a, b) => a + (b ?? 0), 0);
    const opsStarted = results.reduce((a, r) => a + r.opsStarted, 0);
    const clientCpuMs = results.reduce((a, r) => a + r.cpuMs, 0);
    // The CPU window runs from the end of the warm-up to the last writer's last operation,
    // so it is divided by every operation started in it (those finishing after the deadline too).
    const msPerOp = (ms: number) => (opsStarted ? ms / opsStarted : Number.NaN);
    const serverMsPerOp = serverIsStore && window?.serverCpuSeconds != null ? msPerOp(window.serverCpuSeconds * 1000) : null;
    const machineBusyCores = window?.machineBusySeconds != null ? window.machineBusySeconds / window.seconds : null;
    const clientCores = window ? clientCpuMs / 1000 / window.seconds : 0;
    const serverCores = window?.serverCpuSeconds != null ? window.serverCpuSeconds / window.seconds : 0;
    return {
        writers: results.length,
        elapsedSeconds,
        ops,
        rows,
        warmupOps: results.reduce((a, r) => a + r.warmupOps, 0),
        cpu: {
            clientMsPerOp: msPerOp(clientCpuMs),
            serverMsPerOp,
            machineBusyCores,
            otherBusyCores: machineBusyCores === null ? null : Math.max(0, machineBusyCores - clientCores - serverCores),
            serverBusyCores: window?.serverCpuSeconds != null ? serverCores : null,
        },
        opsPerSecond: ops / elapsedSeconds,
        rowsPerSecond: rows / elapsedSeconds,
        errors,
        errorCount,
        slow,
        perOp,
        all: summarize(allLatencies),
        errorSamples: [...new Set(results.flatMap((r) => r.errorSamples))].slice(0, 8),
    };
}
