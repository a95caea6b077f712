/**
 * Starts N writer processes, waits until all are connected, starts them together,
 * collects their results and aggregates them. Every process is ended by its own pid
 * if it overruns the hard limit.
 */
import { fork, type ChildProcess } from "node:child_process";
import * as path from "node:path";
import { summarize, type LatencySummary } from "../lib/stats";
import { OP_NAMES, type OpName } from "./ops";
import type { ErrorKind, FromWriter, ToWriter, WriterConfig, WriterResult } from "./protocol";

const WRITER_SCRIPT = path.join(__dirname, "writer.ts");

export interface RunOptions {
    readonly seconds: number;
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

export interface WriteRunFigures {
    readonly writers: number;
    /** From `go` to the last writer's end (in-flight operations finish after the deadline). */
    readonly elapsedSeconds: number;
    readonly ops: number;
    readonly rows: number;
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
        let goAt = 0;
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
                            goAt = Date.now();
                            const deadline = goAt + options.seconds * 1000;
                            for (const c of children) c.send({ type: "go", deadline } satisfies ToWriter);
                            killTimer = setTimeout(() => {
                                for (const c of children) if (c.exitCode === null && c.pid) c.kill("SIGKILL");
                            }, options.seconds * 1000 + options.graceMs);
                        }
                    } else if (m.type === "result") {
                        finished = true;
                        results.push(m.result);
                    } else if (m.type === "failed") {
                        finished = true;
                        failures.push(`writer ${m.worker}: ${m.message}`);
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
        return aggregate(results, goAt);
    } finally {
        if (killTimer) clearTimeout(killTimer);
        for (const c of children) if (c.exitCode === null && c.signalCode === null && c.pid) c.kill("SIGKILL");
    }
}

function addErrors(into: Partial<Record<ErrorKind, number>>, from: Partial<Record<ErrorKind, number>>): void {
    for (const [k, v] of Object.entries(from) as [ErrorKind, number][]) into[k] = (into[k] ?? 0) + v;
}

export function aggregate(results: readonly WriterResult[], goAt: number): WriteRunFigures {
    const end = Math.max(goAt, ...results.map((r) => r.endedAt));
    const elapsedSeconds = Math.max(1e-3, (end - goAt) / 1000);
    const perOp = {} as Record<OpName, OpFigures>;
    const allLatencies: number[] = [];
    const errors: Partial<Record<ErrorKind, number>> = {};
    let rows = 0;
    let slow = 0;
    for (const name of OP_NAMES) {
        const latencies: number[] = [];
        const opErrors: Partial<Record<ErrorKind, number>> = {};
        let opRows = 0;
        let opSlow = 0;
        for (const r of results) {
            const o = r.ops[name];
            for (const l of o.latenciesMs) latencies.push(l);
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
    const ops = allLatencies.length;
    const errorCount = Object.values(errors).reduce((a, b) => a + (b ?? 0), 0);
    return {
        writers: results.length,
        elapsedSeconds,
        ops,
        rows,
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
