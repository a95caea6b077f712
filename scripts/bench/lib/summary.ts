/** The benchmark's verdicts (issue 4 targets) and the human table. */
import { renderTable, type Column } from "./table";
import type { ContenderResult } from "./types";

export interface Target {
    readonly name: string;
    /** The measured value, or null when a contender needed for it did not run. */
    readonly value: number | null;
    readonly goal: string;
    readonly pass: boolean | null;
    readonly detail: string;
}

/** Growth of peak RSS from the smallest to the largest scale still counted as flat. */
export const FLAT_RSS_GROWTH = 1.2;
export const RSS_LIMIT_MB = 300;

/** ceiling "index build" comparable to our postLoad: PK/UNIQUE + indexes + foreign keys + ANALYZE. */
export function ceilingPostLoad(c: ContenderResult): number {
    return (c.phases.index ?? 0) + (c.phases.foreignKeys ?? 0) + (c.phases.analyze ?? 0);
}

export function evaluateTargets(main: readonly ContenderResult[], scales: readonly ContenderResult[]): Target[] {
    const find = (name: string) => main.find((r) => r.contender === name && r.ok);
    const ours = find("gecko-pg");
    const pgl = find("pgloader");
    const ceil = find("ceiling-seq");
    const par = find("ceiling-par2");
    const out: Target[] = [];
    const ratio = (a: number | undefined, b: number | undefined) => (a !== undefined && b !== undefined && b > 0 ? a / b : null);

    const r1 = ratio(ours?.loadRowsPerSecond, pgl?.loadRowsPerSecond);
    const r1total = ratio(ours?.loadRowsPerSecond, pgl?.totalRowsPerSecond);
    out.push({
        name: "ours copy rows/s / pgloader rows/s",
        value: r1,
        goal: ">= 3.0x",
        pass: r1 === null ? null : r1 >= 3,
        detail:
            pgl && ours
                ? `${fmtRate(ours.loadRowsPerSecond)} vs pgloader's load phase ${fmtRate(pgl.loadRowsPerSecond)}; vs pgloader's whole run (${fmtRate(pgl.totalRowsPerSecond)}): ${r1total?.toFixed(2)}x`
                : "pgloader not run",
    });

    const oursBuild = ours ? ours.phases.load + ours.phases.index : undefined;
    const r2 = ratio(oursBuild, ceil ? ceil.phases.load + ceilingPostLoad(ceil) : undefined);
    const r2par = ratio(oursBuild, par ? par.phases.load + ceilingPostLoad(par) : undefined);
    out.push({
        name: "(ours copy + orphans + postLoad) / (ceiling load + index build)",
        value: r2,
        goal: "<= 1.5x",
        pass: r2 === null ? null : r2 <= 1.5,
        detail:
            ours && ceil
                ? `${fmtS(oursBuild!)} vs ceiling-seq ${fmtS(ceil.phases.load)} load + ${fmtS(ceilingPostLoad(ceil))} PK/UNIQUE+indexes+FKs+ANALYZE` +
                  (r2par !== null ? `; vs ceiling-par2 (2 load lanes): ${r2par.toFixed(2)}x` : "")
                : "ceiling not run",
    });

    const r3 = ours && ours.phases.load > 0 ? ours.phases.validate / ours.phases.load : null;
    out.push({
        name: "ours validate / ours copy",
        value: r3,
        goal: "<= 0.5",
        pass: r3 === null ? null : r3 <= 0.5,
        detail: ours ? `${fmtS(ours.phases.validate)} validate vs ${fmtS(ours.phases.load)} copy` : "gecko-pg failed",
    });

    const rss = [...scales].filter((r) => r.ok && r.usage).sort((a, b) => a.scale - b.scale);
    const peaks = rss.map((r) => r.usage!.peakTreeRssMb);
    const max = peaks.length ? Math.max(...peaks) : null;
    const growth = peaks.length > 1 ? peaks[peaks.length - 1] / peaks[0] : null;
    out.push({
        name: `ours peak RSS < ${RSS_LIMIT_MB} MB at every scale`,
        value: max,
        goal: `< ${RSS_LIMIT_MB} MB`,
        pass: max === null ? null : max < RSS_LIMIT_MB,
        detail: rss.map((r) => `${fmtRows(r.scale)}: ${r.usage!.peakTreeRssMb.toFixed(0)} MB`).join(", ") || "no scale ran",
    });
    out.push({
        name: "ours peak RSS flat across scales",
        value: growth,
        goal: `largest/smallest scale <= ${FLAT_RSS_GROWTH}`,
        pass: growth === null ? null : growth <= FLAT_RSS_GROWTH,
        detail:
            growth === null
                ? "needs at least 2 scales"
                : `${growth.toFixed(2)}x from ${fmtRows(rss[0].scale)} to ${fmtRows(rss[rss.length - 1].scale)} rows`,
    });
    return out;
}

/** One row per contender run, via the benchmarks' shared table renderer. */
export function renderResults(results: readonly ContenderResult[]): string {
    const right = (header: string): Column => ({ header, align: "right" });
    const columns: Column[] = [
        { header: "contender" },
        ...[
            "scale",
            "rows src",
            "rows loaded",
            "load s",
            "index s",
            "valid. s",
            "total s",
            "load rows/s",
            "total rows/s",
            "peak RSS MB",
            "max proc MB",
            "CPU s",
            "server CPU s",
        ].map(right),
        { header: "ok" },
    ];
    const rows = results.map((r) => [
        r.contender,
        fmtRows(r.scale),
        String(r.sourceRows),
        String(r.loadedRows),
        opt(r.phases.load),
        opt(r.contender.startsWith("ceiling") ? ceilingPostLoad(r) : r.phases.index),
        opt(r.phases.validate),
        r.totalSeconds.toFixed(1),
        fmtRate(r.loadRowsPerSecond),
        fmtRate(r.totalRowsPerSecond),
        r.usage ? r.usage.peakTreeRssMb.toFixed(0) : "-",
        r.usage ? r.usage.maxProcessRssMb.toFixed(0) : "-",
        r.usage ? r.usage.cpuSeconds.toFixed(1) : "-",
        r.usage?.serverCpuSeconds != null ? r.usage.serverCpuSeconds.toFixed(1) : "-",
        r.ok ? "yes" : "NO",
    ]);
    return renderTable(columns, rows);
}

export function renderTargets(targets: readonly Target[]): string {
    return targets
        .map((t) => {
            const verdict = t.pass === null ? "n/a " : t.pass ? "PASS" : "FAIL";
            const value = t.value === null ? "-" : t.value.toFixed(2);
            return `${verdict}  ${t.name}: ${value} (target ${t.goal})\n      ${t.detail}`;
        })
        .join("\n");
}

const opt = (s: number | undefined) => (s === undefined ? "-" : s.toFixed(1));
const fmtS = (s: number) => `${s.toFixed(1)}s`;
export const fmtRate = (r: number) => (Number.isFinite(r) && r > 0 ? Math.round(r).toLocaleString("en-US") : "-");
export const fmtRows = (n: number) =>
    n >= 1_000_000 ? `${+(n / 1_000_000).toFixed(2)}M` : n >= 1000 ? `${+(n / 1000).toFixed(1)}k` : String(n);
