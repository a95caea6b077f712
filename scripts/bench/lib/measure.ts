/**
 * Runs a contender as a child process tree under GNU time and measures it:
 * wall time, CPU, the largest single process (GNU time's max RSS) and the
 * peak of the whole tree's summed RSS (sampled from /proc). The PostgreSQL
 * server is not a descendant, so its memory never counts; its CPU is read
 * separately (serverCpu.ts).
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { serverCpuSeconds } from "./serverCpu";
import type { ProcessUsage } from "./types";

export const GNU_TIME = "/usr/bin/time";
const SAMPLE_MS = 100;

export interface MeasuredRun {
    readonly code: number | null;
    readonly signal: NodeJS.Signals | null;
    readonly stdout: string;
    /** Last ~64 KiB of stderr (GNU time writes its figures to a file, not here). */
    readonly stderrTail: string;
    readonly usage: ProcessUsage;
}

export interface RunOptions {
    readonly env?: NodeJS.ProcessEnv;
    readonly cwd?: string;
    /** Where GNU time writes its report (a file, so the child's stderr stays its own). */
    readonly timeFile: string;
    /** Called with every complete stderr line (progress). */
    readonly onStderrLine?: (line: string) => void;
    readonly postmasterPid: number | null;
}

/** `cmd args...` under `/usr/bin/time -v`; resolves when the tree exits (never rejects on a non-zero exit). */
export async function runMeasured(cmd: string, args: readonly string[], options: RunOptions): Promise<MeasuredRun> {
    const cpu0 = serverCpuSeconds(options.postmasterPid);
    const started = process.hrtime.bigint();
    const child = spawn(GNU_TIME, ["-v", "-o", options.timeFile, cmd, ...args], {
        cwd: options.cwd,
        env: options.env ?? process.env,
        stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderrTail = "";
    let partial = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
        stderrTail = (stderrTail + d).slice(-65_536);
        const lines = (partial + d).split(/\r?\n|\r/);
        partial = lines.pop() ?? "";
        for (const l of lines) if (l.trim()) options.onStderrLine?.(l);
    });
    let peakKb = 0;
    const sample = () => {
        if (child.pid === undefined) return;
        peakKb = Math.max(peakKb, treeRssKb(child.pid));
    };
    const timer = setInterval(sample, SAMPLE_MS);
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
        child.once("error", reject);
        child.once("close", (c, s) => resolve([c, s]));
    }).finally(() => clearInterval(timer));
    const wallSeconds = Number(process.hrtime.bigint() - started) / 1e9;
    const cpu1 = serverCpuSeconds(options.postmasterPid);
    const t = parseGnuTime(fs.existsSync(options.timeFile) ? fs.readFileSync(options.timeFile, "utf8") : "");
    // GNU time reports the command's exit status in its file; a command killed by a signal shows up there too.
    const exit = t.exitStatus ?? code;
    return {
        code: exit,
        signal,
        stdout,
        stderrTail: stderrTail + partial,
        usage: {
            wallSeconds,
            peakTreeRssMb: Math.max(peakKb, t.maxRssKb) / 1024,
            maxProcessRssMb: t.maxRssKb / 1024,
            cpuSeconds: t.userSeconds + t.systemSeconds,
            serverCpuSeconds: cpu0 !== null && cpu1 !== null ? cpu1 - cpu0 : null,
        },
    };
}

interface GnuTime {
    readonly maxRssKb: number;
    readonly userSeconds: number;
    readonly systemSeconds: number;
    readonly exitStatus: number | null;
}

export function parseGnuTime(text: string): GnuTime {
    const num = (label: string) => {
        const m = new RegExp(`^\\s*${label}:\\s*([0-9.]+)\\s*$`, "m").exec(text);
        return m ? Number(m[1]) : undefined;
    };
    return {
        maxRssKb: num("Maximum resident set size \\(kbytes\\)") ?? 0,
        userSeconds: num("User time \\(seconds\\)") ?? 0,
        systemSeconds: num("System time \\(seconds\\)") ?? 0,
        exitStatus: num("Exit status") ?? null,
    };
}

/** Sum of VmRSS (kB) of every descendant of `root` (not `root` itself: that is GNU time, ~2 MB). */
export function treeRssKb(root: number): number {
    const parent = new Map<number, number>();
    let entries: string[];
    try {
        entries = fs.readdirSync("/proc");
    } catch {
        return 0;
    }
    for (const e of entries) {
        if (!/^\d+$/.test(e)) continue;
        try {
            const stat = fs.readFileSync(path.join("/proc", e, "stat"), "utf8");
            // Field 4 (ppid) follows the parenthesised command name, which may contain spaces.
            const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
            parent.set(Number(e), Number(rest[1]));
        } catch {
            // exited meanwhile
        }
    }
    let total = 0;
    for (const pid of parent.keys()) {
        if (pid === root || !descendsFrom(pid, root, parent)) continue;
        try {
            const m = /^VmRSS:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
            if (m) total += Number(m[1]);
        } catch {
            // exited meanwhile
        }
    }
    return total;
}

function descendsFrom(pid: number, root: number, parent: ReadonlyMap<number, number>): boolean {
    for (let p = parent.get(pid), hops = 0; p !== undefined && p > 1 && hops < 64; p = parent.get(p), hops++) {
        if (p === root) return true;
    }
    return false;
}
