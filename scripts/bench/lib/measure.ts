/**
 * Runs a contender as a child process tree under GNU time and measures it:
 * wall time, CPU, the largest single process (GNU time's max RSS) and the
 * peak of the whole tree's summed RSS (sampled from /proc). The PostgreSQL
 * server is not a descendant, so its memory never counts; its CPU is read
 * separately (serverCpu.ts).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { StringDecoder } from "node:string_decoder";
import { $, type ProcessPromise } from "../../lib/zx";
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
    let started = process.hrtime.bigint();
    // `exec`: zx's shell becomes GNU time, so the measured tree is rooted at GNU time's pid as it
    // would be without a shell (treeRssKb leaves that root out; GNU time counts its command only).
    const child = $({
        cwd: options.cwd,
        env: options.env ?? process.env,
        stdio: ["ignore", "pipe", "pipe"],
        nothrow: true,
    })`exec ${GNU_TIME} -v -o ${options.timeFile} ${cmd} ${args}`;
    // The clock starts once the child runs: zx's setup and the fork of its shell stay out of the
    // figure; the shell's exec of GNU time takes the place of the fork/exec a direct spawn timed
    // (a 20 ms command: 29.0 ms this way, 29.2 ms spawned directly, means of 200 runs).
    child.child?.once("spawn", () => (started = process.hrtime.bigint()));
    const streams = collectOutput(child, options.onStderrLine);
    let peakKb = 0;
    const sample = () => {
        if (child.pid === undefined) return;
        peakKb = Math.max(peakKb, treeRssKb(child.pid));
    };
    const timer = setInterval(sample, SAMPLE_MS);
    const out = await child.finally(() => clearInterval(timer));
    if (out.cause) throw out.cause; // the shell could not be started at all
    const wallSeconds = Number(process.hrtime.bigint() - started) / 1e9;
    const cpu1 = serverCpuSeconds(options.postmasterPid);
    const t = parseGnuTime(fs.existsSync(options.timeFile) ? fs.readFileSync(options.timeFile, "utf8") : "");
    // GNU time reports the command's exit status in its file; a command killed by a signal shows up there too.
    const exit = t.exitStatus ?? out.exitCode;
    return {
        code: exit,
        signal: out.signal,
        stdout: streams.stdout(),
        stderrTail: streams.stderrTail(),
        usage: {
            wallSeconds,
            peakTreeRssMb: Math.max(peakKb, t.maxRssKb) / 1024,
            maxProcessRssMb: t.maxRssKb / 1024,
            cpuSeconds: t.userSeconds + t.systemSeconds,
            serverCpuSeconds: cpu0 !== null && cpu1 !== null ? cpu1 - cpu0 : null,
        },
    };
}

/**
 * The child's stdout in full and the last ~64 KiB of its stderr, decoded as they arrive (a
 * character split between two chunks stays whole); every complete, non-blank stderr line goes
 * to `onStderrLine`.
 */
function collectOutput(
    child: ProcessPromise,
    onStderrLine: ((line: string) => void) | undefined,
): { stdout(): string; stderrTail(): string } {
    let stdout = "";
    let stderrTail = "";
    let partial = "";
    const outText = new StringDecoder("utf8");
    const errText = new StringDecoder("utf8");
    child.stdout.on("data", (d: Buffer) => (stdout += outText.write(d)));
    child.stderr.on("data", (chunk: Buffer) => {
        const d = errText.write(chunk);
        stderrTail = (stderrTail + d).slice(-65_536);
        const lines = (partial + d).split(/\r?\n|\r/);
        partial = lines.pop() ?? "";
        for (const l of lines) if (l.trim()) onStderrLine?.(l);
    });
    return { stdout: () => stdout, stderrTail: () => stderrTail + partial };
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
