/**
 * Summary of a V8 `.cpuprofile` (node --cpu-prof): self time per function and
 * per source file. `(idle)` is time the process waited (on PostgreSQL, the
 * socket, the disk); `(garbage collector)` and `(program)` are V8's own;
 * "(native, no script)" is native code without a JS frame (better-sqlite3's row stepping, among others).
 */
import * as fs from "node:fs";
import * as path from "node:path";

interface ProfileNode {
    readonly id: number;
    readonly callFrame: { readonly functionName: string; readonly url: string };
}

interface CpuProfile {
    readonly nodes: readonly ProfileNode[];
    readonly samples: readonly number[];
    readonly timeDeltas: readonly number[];
}

export interface SelfTime {
    readonly name: string;
    readonly seconds: number;
    readonly share: number;
}

export interface ProfileSummary {
    readonly file: string;
    readonly seconds: number;
    readonly topFunctions: readonly SelfTime[];
    readonly topFiles: readonly SelfTime[];
}

export function summarizeCpuProfile(file: string, top = 15, root = process.cwd()): ProfileSummary {
    const profile = JSON.parse(fs.readFileSync(file, "utf8")) as CpuProfile;
    const byId = new Map(profile.nodes.map((n) => [n.id, n]));
    const fn = new Map<string, number>();
    const files = new Map<string, number>();
    let total = 0;
    profile.samples.forEach((id, i) => {
        const us = profile.timeDeltas[i] ?? 0;
        total += us;
        const frame = byId.get(id)?.callFrame;
        if (!frame) return;
        const where = shortUrl(frame.url, root);
        // No line numbers: under tsx they point into the transpiled module, not the .ts source.
        const key = where ? `${frame.functionName || "(anonymous)"}  ${where}` : frame.functionName || "(native, no script)";
        fn.set(key, (fn.get(key) ?? 0) + us);
        const fileKey = where || frame.functionName || "(native, no script)";
        files.set(fileKey, (files.get(fileKey) ?? 0) + us);
    });
    const rank = (m: Map<string, number>) =>
        [...m]
            .sort((a, b) => b[1] - a[1])
            .slice(0, top)
            .map(([name, us]) => ({ name, seconds: us / 1e6, share: total ? us / total : 0 }));
    return { file, seconds: total / 1e6, topFunctions: rank(fn), topFiles: rank(files) };
}

export function renderProfileSummary(s: ProfileSummary): string {
    const rows = (items: readonly SelfTime[]) =>
        items.map((x) => `  ${x.seconds.toFixed(2).padStart(7)}s ${(100 * x.share).toFixed(1).padStart(5)}%  ${x.name}`);
    return [
        `CPU profile of the gecko-pg child (${s.seconds.toFixed(1)}s sampled; ${path.basename(s.file)})`,
        "top self time by function:",
        ...rows(s.topFunctions),
        "top self time by file:",
        ...rows(s.topFiles),
    ].join("\n");
}

function shortUrl(url: string, root: string): string {
    if (!url) return "";
    const p = url.startsWith("file://") ? decodeURIComponent(new URL(url).pathname) : url;
    const nm = p.lastIndexOf("/node_modules/");
    if (nm >= 0) return p.slice(nm + 1);
    return p.startsWith(root + "/") ? p.slice(root.length + 1) : p;
}
