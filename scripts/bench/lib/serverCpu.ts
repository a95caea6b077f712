/**
 * CPU time of a local PostgreSQL server: the postmaster's own and its reaped
 * children's (backends that have exited, counted by the kernel in cutime/cstime),
 * plus its live children's. The delta over a contender's run is what the
 * server spent on it (autovacuum and checkpoints included: noise, same for all).
 */
import * as fs from "node:fs";
import type { Client } from "pg";

const TICKS = 100; // USER_HZ on Linux

/** The postmaster's pid when the server runs on this machine and /proc shows it; else null. */
export async function findPostmasterPid(client: Client): Promise<number | null> {
    try {
        const r = await client.query<{ pid: number }>("SELECT pg_backend_pid() AS pid");
        const stat = readStat(r.rows[0].pid);
        return stat ? stat.ppid : null;
    } catch {
        return null;
    }
}

/**
 * Seconds of CPU the server has used so far, or null when it cannot be read. A backend
 * exiting between reading the postmaster and scanning its children would be counted in
 * neither (or both): the scan is repeated until the reaped totals did not move meanwhile.
 */
export function serverCpuSeconds(postmaster: number | null): number | null {
    if (postmaster === null) return null;
    for (let attempt = 0; ; attempt++) {
        const before = readStat(postmaster);
        if (!before) return null;
        let ticks = before.utime + before.stime + before.cutime + before.cstime;
        for (const e of safeReaddir("/proc")) {
            if (!/^\d+$/.test(e)) continue;
            const s = readStat(Number(e));
            if (s && s.ppid === postmaster) ticks += s.utime + s.stime;
        }
        const after = readStat(postmaster);
        if (!after) return null;
        if ((after.cutime === before.cutime && after.cstime === before.cstime) || attempt >= 20) return ticks / TICKS;
    }
}

interface Stat {
    readonly ppid: number;
    readonly utime: number;
    readonly stime: number;
    readonly cutime: number;
    readonly cstime: number;
}

function readStat(pid: number): Stat | undefined {
    try {
        const text = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
        // Fields after "(comm) ": state(3) ppid(4) ... utime(14) stime(15) cutime(16) cstime(17).
        const f = text.slice(text.lastIndexOf(")") + 2).split(" ");
        return { ppid: Number(f[1]), utime: Number(f[11]), stime: Number(f[12]), cutime: Number(f[13]), cstime: Number(f[14]) };
    } catch {
        return undefined;
    }
}

function safeReaddir(dir: string): string[] {
    try {
        return fs.readdirSync(dir);
    } catch {
        return [];
    }
}
