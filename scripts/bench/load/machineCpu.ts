/**
 * Whole-machine CPU time from /proc/stat, so a write run can say how busy the cores
 * were and how much of that was neither the writers nor the server (other work on a
 * shared machine). Linux only; null elsewhere.
 */
import * as fs from "node:fs";

const TICKS = 100; // USER_HZ on Linux

export interface MachineCpu {
    /** CPU seconds spent busy (everything but idle and iowait), all cores together. */
    readonly busySeconds: number;
    /** CPU seconds elapsed, all cores together. */
    readonly totalSeconds: number;
}

/** Parses the aggregate `cpu` line of /proc/stat. */
export function parseProcStat(text: string): MachineCpu | null {
    const line = text.split("\n").find((l) => l.startsWith("cpu "));
    if (!line) return null;
    // user nice system idle iowait irq softirq steal (guest time is already in user).
    const f = line.trim().split(/\s+/).slice(1, 9).map(Number);
    if (f.length < 5 || f.some((v) => !Number.isFinite(v))) return null;
    const total = f.reduce((a, b) => a + b, 0);
    const idle = f[3] + f[4];
    return { busySeconds: (total - idle) / TICKS, totalSeconds: total / TICKS };
}

export function machineCpu(): MachineCpu | null {
    try {
        return parseProcStat(fs.readFileSync("/proc/stat", "utf8"));
    } catch {
        return null;
    }
}
