/** Plain-text tables for the benchmark scripts (stdout stays readable in CI logs). Pure. */

export type Cell = string | number | null | undefined;

export interface Column {
    readonly header: string;
    /** Numbers right-aligned by default, text left-aligned. */
    readonly align?: "left" | "right";
}

/** Renders rows under headers, columns padded to their widest cell, `-` for missing values. */
export function renderTable(columns: readonly (Column | string)[], rows: readonly (readonly Cell[])[]): string {
    const cols = columns.map((c) => (typeof c === "string" ? { header: c } : c));
    const text = rows.map((r) => cols.map((_, i) => formatCell(r[i])));
    const widths = cols.map((c, i) => Math.max(c.header.length, ...text.map((r) => r[i].length)));
    const alignOf = (i: number) => cols[i].align ?? (rows.some((r) => typeof r[i] === "number") ? "right" : "left");
    const line = (cells: readonly string[]) =>
        cells
            .map((s, i) => (alignOf(i) === "right" ? s.padStart(widths[i]) : s.padEnd(widths[i])))
            .join("  ")
            .trimEnd();
    return [line(cols.map((c) => c.header)), line(widths.map((w) => "-".repeat(w))), ...text.map(line)].join("\n");
}

function formatCell(v: Cell): string {
    if (v === null || v === undefined || (typeof v === "number" && Number.isNaN(v))) return "-";
    if (typeof v === "number") return formatNumber(v);
    return v;
}

/** Integers as they are, thousands separators for large numbers, 2-3 significant digits for small ones. */
export function formatNumber(v: number): string {
    if (!Number.isFinite(v)) return String(v);
    if (Number.isInteger(v)) return v.toLocaleString("en-US");
    const abs = Math.abs(v);
    if (abs >= 1000) return Math.round(v).toLocaleString("en-US");
    if (abs >= 100) return v.toFixed(0);
    if (abs >= 10) return v.toFixed(1);
    if (abs >= 1 || v === 0) return v.toFixed(2);
    return v.toPrecision(2);
}
