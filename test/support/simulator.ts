/**
 * The simulated collector (scripts/simulate-collector.ts) as a child process for tests:
 * start it, wait for its first commit, stop it (SIGTERM: summary) or kill it, and check a
 * database against its log of committed writes.
 */
import { spawn } from "node:child_process";
import * as path from "node:path";
import Database from "better-sqlite3";
import { expect } from "vitest";
import { expectedRows, LOGGED_KEY_COLUMNS, type LoggedWrite, type SimulatorSummary } from "../../scripts/generator/simulatedCollector";
import { PROJECT_ROOT } from "./paths";

const CLI = path.join(PROJECT_ROOT, "scripts/simulate-collector.ts");

export interface Finished {
    readonly code: number | null;
    readonly stderr: string;
    readonly summary: SimulatorSummary;
}

/** The CLI as a child process: `ready` resolves on its "ready" line, `stop()` sends SIGTERM and reads its summary. */
export function startSimulator(file: string, log: string, zone: string, ...extra: string[]) {
    const child = spawn(process.execPath, ["--import", "tsx", CLI, "--file", file, "--log", log, "--host-time-zone", zone, ...extra], {
        cwd: PROJECT_ROOT,
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const closed = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
    const ready = new Promise<void>((resolve, reject) => {
        child.stdout.on("data", () => stdout.startsWith("ready\n") && resolve());
        void closed.then(() => reject(new Error(`simulator exited before "ready": ${stderr}`)));
    });
    const stop = async (): Promise<Finished> => {
        child.kill("SIGTERM");
        const code = await closed;
        const last = stdout.trim().split("\n").pop() ?? "";
        return { code, stderr, summary: JSON.parse(last) as SimulatorSummary };
    };
    /** SIGKILL, as a stop hook does to a collector waiting for the lock (SIGTERM would wait out its busy timeout). */
    const kill = async (): Promise<number | null> => {
        child.kill("SIGKILL");
        return closed;
    };
    return { ready, stop, kill, pid: child.pid! };
}

/** Every key the log says is present exists in the file, every absent one does not. */
export function expectFileMatchesLog(file: string, writes: readonly LoggedWrite[]): void {
    const db = new Database(file, { readonly: true });
    try {
        for (const [table, keys] of expectedRows(writes)) {
            const find = db.prepare(`SELECT 1 FROM ${table} WHERE ${LOGGED_KEY_COLUMNS[table]} = ?`).pluck();
            for (const [key, state] of keys)
                expect(find.get(key) !== undefined, `${table} ${key} should be ${state}`).toBe(state === "present");
        }
    } finally {
        db.close();
    }
}
