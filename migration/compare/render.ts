/** The compare report as text: a table of every query run, then what differs, why some are not plainly equal, what was left out. Pure. */
import type { Cell } from "./normalise";
import type { CompareReport, QueryResult } from "./report";
import type { Difference } from "./verdict";

export function renderCompareReport(r: CompareReport): string {
    const s = r.summary;
    const lines = [
        `gecko-pg compare ${r.ok ? "OK" : "DIFFERENT"}: ${s.equal} equal, ${s["null-order"]} null-order, ${s.unstable} unstable, ${s.different} different, ${s.skipped} skipped  (${r.totalSeconds.toFixed(1)} s)`,
        `source  ${r.source}`,
        `target  ${r.target}`,
        `clocks  local columns in ${r.hostTimeZone}; PostgreSQL session TimeZone ${r.sessionTimeZone}`,
        ...r.parameters.notes.map((n) => `note    ${n}`),
        "",
        table(r.results),
    ];
    const explained = r.results.filter((x) => x.verdict !== "equal");
    if (explained.length) lines.push("", "Not equal", ...explained.flatMap(explain));
    if (r.skipped.length) lines.push("", "Skipped", ...r.skipped.map((k) => `  ${k.id}: ${k.reason}`));
    return lines.join("\n");
}

const HEADERS = ["query", "parameters", "verdict", "rows SQLite/PG", "SQLite ms", "PG ms"] as const;
const LABEL_WIDTH = 52;

function table(results: readonly QueryResult[]): string {
    const rows = results.map((x) => [
        x.id,
        shorten(x.label || "-", LABEL_WIDTH),
        x.verdict,
        `${x.rows.sqlite}/${x.rows.postgres}`,
        x.error ? "-" : x.ms.sqlite.toFixed(2),
        x.error ? "-" : x.ms.postgres.toFixed(2),
    ]);
    const widths = HEADERS.map((h, c) => Math.max(h.length, ...rows.map((row) => row[c].length)));
    const line = (cells: readonly string[]) =>
        cells.map((cell, c) => (c >= 3 ? cell.padStart(widths[c]) : cell.padEnd(widths[c]))).join("  ");
    const totals = ["total", "", "", "", sum(results, "sqlite").toFixed(1), sum(results, "postgres").toFixed(1)];
    return [line(HEADERS), ...rows.map(line), line(totals)].join("\n");
}

const sum = (results: readonly QueryResult[], side: "sqlite" | "postgres") => results.reduce((t, x) => t + x.ms[side], 0);

function explain(x: QueryResult): string[] {
    const head = `  ${x.verdict.padEnd(10)} ${x.id}${x.label ? ` (${x.label})` : ""}: ${x.error ?? x.reason ?? ""}`;
    return [head, ...x.differences.map((d) => `      ${describeDifference(d)}`)];
}

export function describeDifference(d: Difference): string {
    const key = Object.entries(d.key)
        .map(([k, v]) => `${k}=${cellText(v)}`)
        .join(", ");
    switch (d.kind) {
        case "changed":
            return `changed${key ? ` ${key}` : ""}: ${(d.columns ?? []).map((c) => `${c.column} ${cellText(c.sqlite)} -> ${cellText(c.postgres)}${c.note ? ` (${c.note})` : ""}`).join("; ")}`;
        case "missing-in-postgres":
            return `missing in PostgreSQL: ${key || rowText(d.row)}`;
        case "extra-in-postgres":
            return `extra in PostgreSQL: ${key || rowText(d.row)}`;
        case "order":
            return `order differs at ${(d.columns ?? []).map((c) => `${c.column} SQLite ${cellText(c.sqlite)} / PostgreSQL ${cellText(c.postgres)}`).join(", ")}`;
    }
}

function rowText(row: Difference["row"]): string {
    return Object.entries(row ?? {})
        .map(([k, v]) => `${k}=${cellText(v)}`)
        .join(", ");
}

function cellText(v: Cell): string {
    return v === null ? "NULL" : shorten(v, 60);
}

function shorten(text: string, width: number): string {
    return text.length > width ? `${text.slice(0, width - 3)}...` : text;
}
