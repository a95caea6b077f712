/** The result of a run, as JSON (machine) and as text (people). */
import type { OrphanOutcome } from "../copy/orphans";
import type { GroundTruthFinding } from "../validate/groundTruth";
import type { TableValidation } from "../validate/tableChecks";

export interface TableReport {
    readonly table: string;
    /** Rows in the source snapshot (0 when the source lacks the table). */
    readonly sourceRows: number;
    readonly inSource: boolean;
    readonly extra: boolean;
    readonly chunks: { readonly total: number; readonly copiedThisRun: number; readonly alreadyDone: number };
    readonly rowsCopiedThisRun: number;
    readonly rowsQuarantinedThisRun: number;
    /** Rows set aside by an earlier run that this run's conversion accepted and copied (see copy/retryQuarantine.ts). */
    readonly rowsRecoveredThisRun: number;
    /** Values set aside by earlier runs read again, and of those, written into their rows (absent when none). */
    readonly valuesRetriedThisRun?: number;
    readonly valuesRecoveredThisRun?: number;
    /** Rows where a NULL in a NOT NULL column was filled with the application default. */
    readonly rowsFilledThisRun: number;
    /** Values accepted with a warning, `column: warning` -> count (e.g. `created_at: empty-as-null`). */
    readonly conversionWarnings?: Readonly<Record<string, number>>;
    /** The first keys (raw source key as JSON) of each warning's values. */
    readonly conversionWarningExamples?: Readonly<Record<string, readonly string[]>>;
    readonly copySeconds: number;
    /** Target columns the source lacks; `fills` says what each got (canonical text, null for NULL). */
    readonly missingColumns: readonly string[];
    readonly fills: Readonly<Record<string, string | null>>;
    /** Identity columns the source lacks, numbered by the target's sequence in copy order (collection_metadata.id). */
    readonly generatedColumns: readonly string[];
    readonly renamedColumns: readonly { readonly from: string; readonly to: string }[];
    readonly skippedColumns: readonly { readonly name: string; readonly declaredType: string }[];
    readonly extraColumns: readonly string[];
    readonly validation?: TableValidation;
}

/** Values recovered exactly (kept in the target) and the raw text they came from. */
export interface RepairSummary {
    readonly total: number;
    readonly location: string;
    /** `table.column: kind` -> values. */
    readonly byColumn: Readonly<Record<string, number>>;
    readonly examples: readonly {
        readonly table: string;
        readonly key: string;
        readonly column: string;
        readonly rawValue: string | null;
        readonly storedValue: string | null;
    }[];
}

export interface QuarantineSummary {
    readonly total: number;
    /** Where the rows are: schema-qualified table. */
    readonly location: string;
    readonly byTable: Readonly<Record<string, Readonly<Record<string, number>>>>;
    readonly examples: readonly {
        readonly table: string;
        readonly key: string;
        readonly column: string | null;
        readonly rawValue: string | null;
        readonly reason: string;
        /** Rows quarantined as orphans below this one (its children and theirs); absent for an orphan itself. */
        readonly descendants?: number;
    }[];
}

export interface SetAsideSummary {
    readonly total: number;
    readonly location: string;
    /** `table.column` -> values set aside. */
    readonly byColumn: Readonly<Record<string, number>>;
    readonly examples: readonly {
        readonly table: string;
        readonly key: string;
        readonly column: string;
        readonly rawValue: string | null;
        readonly reason: string;
    }[];
}

export interface SchemaCheckSummary {
    readonly ok: boolean;
    readonly problems: readonly string[];
}

/**
 * How a run ended: `ok`; `failed` (it finished and a check failed, or a fault stopped it:
 * then `stoppedBy` says which); `interrupted` (SIGINT/SIGTERM, at a safe point).
 */
export type RunStatus = "ok" | "failed" | "interrupted";

export interface MigrationReport {
    readonly tool: "gecko-pg";
    readonly reportVersion: 1;
    readonly ok: boolean;
    readonly status: RunStatus;
    /** Set when the run stopped before its end: the one line saying where and why. Committed chunks are kept. */
    readonly stoppedBy?: string;
    /**
     * `stopped` on a run that did not reach its end, so that the queries for the last finished
     * migrate or validate run (`report->>'kind' IS NULL`, as sync passes are `sync`) pass it over.
     */
    readonly kind?: "stopped";
    /** Why `ok` is false, one line each. */
    readonly failures: readonly string[];
    readonly warnings: readonly string[];
    readonly startedAt: string;
    readonly finishedAt: string;
    readonly source: { readonly path: string; readonly fingerprint: string; readonly journalMode: string; readonly sqliteVersion: string };
    readonly target: string;
    readonly options: Readonly<Record<string, unknown>>;
    readonly missingTables: readonly string[];
    readonly skippedTables: readonly { readonly name: string; readonly reason: string }[];
    readonly tables: readonly TableReport[];
    readonly orphans: readonly OrphanOutcome[];
    readonly quarantine: QuarantineSummary;
    /** Values that could not be stored exactly, NULL in their copied rows (absent in reports of older versions). */
    readonly setAsideValues?: SetAsideSummary;
    /** Values repaired instead of quarantined (`--repair`). */
    readonly repairs?: RepairSummary;
    readonly schema: SchemaCheckSummary;
    readonly clockChecks: readonly unknown[];
    /** Checks that do not depend on the conversion rules (validate/groundTruth.ts). */
    readonly groundTruths?: readonly GroundTruthFinding[];
    readonly timings: Readonly<Record<string, number>>;
}

/** Short one-object summary for the Pulumi resource's outputs. */
export function summarize(report: MigrationReport) {
    return {
        ok: report.ok,
        failures: report.failures,
        warnings: report.warnings.length,
        tables: report.tables.length,
        rowsSource: report.tables.reduce((a, t) => a + t.sourceRows, 0),
        rowsTarget: report.tables.reduce((a, t) => a + (t.validation?.targetRows ?? 0), 0),
        rowsQuarantined: report.quarantine.total,
        finishedAt: report.finishedAt,
        seconds: report.timings.total ?? 0,
    };
}

export function renderReport(r: MigrationReport): string {
    const lines = [
        `gecko-pg migration ${r.ok ? "OK" : "FAILED"}  (${r.startedAt} -> ${r.finishedAt})`,
        `source  ${r.source.path}  [journal ${r.source.journalMode}, fingerprint ${r.source.fingerprint}]`,
        `target  ${r.target}`,
        "",
        ...tableLines(r),
        ...driftLines(r),
        ...orphanLines(r),
        ...quarantineLines(r),
        ...setAsideLines(r),
        ...repairLines(r),
        ...conversionWarningLines(r),
        ...differenceLines(r),
    ];
    if (r.schema.problems.length) lines.push("", "schema checks:", ...r.schema.problems.map((p) => `  - ${p}`));
    if (r.groundTruths?.length)
        lines.push("", "ground truths (independent of the conversion rules):", ...r.groundTruths.map(groundTruthLine));
    if (r.warnings.length) lines.push("", "warnings:", ...r.warnings.map((w) => `  - ${w}`));
    if (r.failures.length) lines.push("", "FAILED:", ...r.failures.map((f) => `  - ${f}`));
    const timings = Object.entries(r.timings).map(([k, v]) => `${k} ${v.toFixed(2)}s`);
    lines.push("", `timings: ${timings.join(", ")}`);
    return lines.join("\n");
}

function groundTruthLine(g: GroundTruthFinding): string {
    if (g.mismatches === 0) return `  - ${g.check}: ok`;
    return `  - ${g.check}: ${g.mismatches} rows differ (${g.conversionFaults + g.notLookedUp} converted wrongly, ${g.sourceDisagrees} as the source has them)`;
}

/** One row per table: counts, chunks, checksum and sample verdicts, copy time. */
function tableLines(r: MigrationReport): string[] {
    const header = ["table", "source", "target", "quarantined", "copied now", "chunks", "checksum", "sample", "copy s"];
    const rows = r.tables.map((t) => {
        const v = t.validation;
        return [
            t.table + (t.extra ? " (extra)" : t.inSource ? "" : " (absent)"),
            String(t.sourceRows),
            v ? String(v.targetRows) : "-",
            v ? String(v.quarantinedRows) : "-",
            String(t.rowsCopiedThisRun),
            `${t.chunks.copiedThisRun}/${t.chunks.total}`,
            v ? (v.mismatchedBuckets.length ? `MISMATCH ${v.mismatchedBuckets.length}/${v.buckets}` : `ok ${v.buckets}`) : "-",
            v ? (v.sampleMismatches.length ? `MISMATCH ${v.sampleMismatches.length}` : `ok ${v.sampleCompared}`) : "-",
            t.copySeconds.toFixed(1),
        ];
    });
    return table([header, ...rows]);
}

/** Where the source differs from the collector's schema, and what the copy did about it. */
function driftLines(r: MigrationReport): string[] {
    const drift = r.tables.filter(
        (t) =>
            t.missingColumns.length ||
            t.generatedColumns.length ||
            t.renamedColumns.length ||
            t.skippedColumns.length ||
            t.extraColumns.length,
    );
    if (!r.missingTables.length && !r.skippedTables.length && !drift.length) return [];
    const lines = ["", "schema drift:"];
    if (r.missingTables.length) lines.push(`  tables absent from the source (created empty): ${r.missingTables.join(", ")}`);
    for (const s of r.skippedTables) lines.push(`  table ${s.name} not copied: ${s.reason}`);
    for (const t of drift) lines.push(...tableDriftLines(t));
    return lines;
}

function tableDriftLines(t: TableReport): string[] {
    const lines: string[] = [];
    if (t.missingColumns.length) {
        const filled = t.missingColumns.map((c) => `${c} ${fillText(t.fills[c])}`);
        lines.push(`  ${t.table}: columns absent in source, filled: ${filled.join(", ")}`);
    }
    if (t.generatedColumns.length)
        lines.push(`  ${t.table}: columns absent in source, numbered by the target: ${t.generatedColumns.join(", ")}`);
    for (const c of t.renamedColumns) lines.push(`  ${t.table}: ${c.from} copied into ${c.to}`);
    if (t.extraColumns.length) lines.push(`  ${t.table}: extra source columns copied: ${t.extraColumns.join(", ")}`);
    for (const c of t.skippedColumns) {
        lines.push(`  ${t.table}: column ${c.name} (${c.declaredType || "no type"}) not copied: no obvious PostgreSQL type`);
    }
    return lines;
}

const ORPHAN_ACTIONS: Readonly<Record<string, string>> = { quarantine: "quarantined", placeholder: "got placeholder parents" };

function orphanLines(r: MigrationReport): string[] {
    if (!r.orphans.length) return [];
    return [
        "",
        "orphans (foreign key without parent):",
        ...r.orphans.map(
            (o) =>
                `  ${o.table}.${o.foreignKey} -> ${o.parent}: ${o.rows} rows ${ORPHAN_ACTIONS[o.action] ?? "found"} (e.g. ${o.examples.slice(0, 2).join(", ")})`,
        ),
    ];
}

/** Values accepted with a note (a DST change decided by evidence or policy, an empty string as NULL, ...), with example keys. */
function conversionWarningLines(r: MigrationReport): string[] {
    const lines = r.tables.flatMap((t) =>
        Object.entries(t.conversionWarnings ?? {}).map(([w, n]) => {
            const keys = t.conversionWarningExamples?.[w] ?? [];
            return `  ${t.table}.${w}: ${n}${keys.length ? ` (e.g. ${keys.join(", ")})` : ""}`;
        }),
    );
    return lines.length ? ["", "converted with a note (this run):", ...lines] : [];
}

function repairLines(r: MigrationReport): string[] {
    const q = r.repairs;
    if (!q?.total) return [];
    const lines = ["", `repaired: ${q.total} values stored as what they mean, their raw text in ${q.location}`];
    for (const [c, n] of Object.entries(q.byColumn)) lines.push(`  ${c}: ${n}`);
    for (const e of q.examples) lines.push(`  - ${e.table} ${e.key} ${e.column}: ${JSON.stringify(e.rawValue)} -> ${e.storedValue}`);
    return lines;
}

function setAsideLines(r: MigrationReport): string[] {
    const q = r.setAsideValues;
    if (!q?.total) return [];
    const lines = ["", `set aside: ${q.total} values NULL in their copied rows, raw value and reason in ${q.location}`];
    for (const [c, n] of Object.entries(q.byColumn)) lines.push(`  ${c}: ${n}`);
    for (const e of q.examples) lines.push(`  - ${e.table} ${e.key} ${e.column}=${JSON.stringify(e.rawValue)}: ${e.reason}`);
    return lines;
}

function quarantineLines(r: MigrationReport): string[] {
    const q = r.quarantine;
    if (!q.total) return [];
    const lines = ["", `quarantine: ${q.total} rows in ${q.location}`];
    for (const [t, stages] of Object.entries(q.byTable))
        lines.push(
            `  ${t}: ${Object.entries(stages)
                .map(([s, n]) => `${n} ${s}`)
                .join(", ")}`,
        );
    for (const e of q.examples) {
        const took = e.descendants ? ` (took ${e.descendants} descendant rows with it, quarantined as orphans)` : "";
        lines.push(
            `  - ${e.table} ${e.key} ${e.column ?? ""}=${e.rawValue === null ? "NULL" : JSON.stringify(e.rawValue)}: ${e.reason}${took}`,
        );
    }
    return lines;
}

/** The rows validation listed: checksum differences, then sample mismatches. */
function differenceLines(r: MigrationReport): string[] {
    const lines = r.tables.flatMap((t) =>
        [...(t.validation?.differences ?? []), ...(t.validation?.sampleMismatches ?? [])].map((d) => {
            const chunk = d.chunkNo !== undefined ? ` (chunk ${d.chunkNo})` : "";
            const columns = d.columns ? " " + d.columns.map((c) => `${c.column}: ${c.source} != ${c.target}`).join("; ") : "";
            return `  ${t.table} ${d.key}: ${d.issue}${chunk}${columns}`;
        }),
    );
    return lines.length ? ["", "rows that differ (the first 20 per table, then sampled rows):", ...lines] : [];
}

function table(rows: string[][]): string[] {
    const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
    return rows.map((r) =>
        r
            .map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i])))
            .join("  ")
            .trimEnd(),
    );
}

/** `= NULL` or `= '{}'` for the drift lines. */
function fillText(value: string | null | undefined): string {
    return value === null || value === undefined ? "= NULL" : `= '${value}'`;
}
