/** The compare report: one result per query run, the parameters drawn, and what it means for the exit status. Pure. */
import { formatTimestamp, type Instant } from "../data/convert/timestamp";
import type { SkippedQuery } from "./catalogue";
import type { DrawnParameters } from "./params";
import type { Difference, Verdict, VerdictKind } from "./verdict";

export interface QueryResult {
    readonly id: string;
    /** Which parameters, e.g. `busy pool, 1h, DST change 2025-03-09`. */
    readonly label: string;
    readonly title: string;
    readonly origin: string;
    readonly verdict: VerdictKind;
    readonly reason?: string;
    /** A side's statement failed (`SQLite: ...` / `PostgreSQL: ...`): the verdict is `different`. */
    readonly error?: string;
    readonly rows: { readonly sqlite: number; readonly postgres: number };
    /** The faster of each side's two runs, all parameter sets together. */
    readonly ms: { readonly sqlite: number; readonly postgres: number };
    /** Parameter sets run (the statement runs once per set, as the collector runs it per entry). */
    readonly runs: number;
    readonly sql: { readonly sqlite: string; readonly postgres: string };
    /** The first parameter set as each driver was given it (long lists shortened). */
    readonly params: { readonly sqlite: readonly unknown[]; readonly postgres: readonly unknown[] };
    readonly counts?: Verdict["counts"];
    readonly differences: readonly Difference[];
}

export interface CompareReport {
    /** No query differs (each is equal, null-order or unstable). */
    readonly ok: boolean;
    readonly startedAt: string;
    readonly finishedAt: string;
    readonly totalSeconds: number;
    readonly source: string;
    readonly target: string;
    /** The collector host's zone the local-clock columns are read in, and the PostgreSQL session's TimeZone. */
    readonly hostTimeZone: string;
    readonly sessionTimeZone: string;
    readonly parameters: ParameterSummary;
    readonly summary: Readonly<Record<VerdictKind, number>> & { readonly skipped: number };
    readonly results: readonly QueryResult[];
    readonly skipped: readonly SkippedQuery[];
}

/** The drawn parameters as the report shows them (instants in UTC, sampled keys counted). */
export interface ParameterSummary {
    readonly span?: { readonly from: string; readonly to: string };
    readonly windows: readonly { readonly label: string; readonly from: string; readonly to: string }[];
    readonly pools: Readonly<Record<string, readonly { readonly label: string; readonly id: string; readonly rows: number }[]>>;
    readonly timeframes: Readonly<Record<string, readonly string[]>>;
    readonly network?: string;
    readonly volumeThreshold?: number;
    readonly signalThreshold?: number;
    readonly retentionCutoff?: string;
    readonly activityCheckCutoff?: string;
    readonly sampledKeys: Readonly<Record<string, number>>;
    readonly notes: readonly string[];
}

const utc = (i: Instant | undefined) => (i ? formatTimestamp(i) : undefined);

export function summariseParameters(p: DrawnParameters): ParameterSummary {
    return {
        span: p.span && { from: utc(p.span.from)!, to: utc(p.span.to)! },
        windows: p.windows.map((w) => ({ label: w.label, from: utc(w.from)!, to: utc(w.to)! })),
        pools: {
            trades: p.tradePools,
            ohlcv_data: p.ohlcvPools.map(({ timeframes: _, ...pool }) => pool),
            new_pools_history: p.historyPools,
        },
        timeframes: Object.fromEntries(p.ohlcvPools.map((pool) => [pool.id, pool.timeframes])),
        network: p.network,
        volumeThreshold: p.volumeThreshold,
        signalThreshold: p.signalThreshold,
        retentionCutoff: utc(p.retentionCutoff),
        activityCheckCutoff: utc(p.activityCheckCutoff),
        sampledKeys: Object.fromEntries(Object.entries(p.keys).map(([t, k]) => [t, k.length])),
        notes: p.notes,
    };
}

export function summarise(results: readonly QueryResult[], skipped: readonly SkippedQuery[]): CompareReport["summary"] {
    const count = (kind: VerdictKind) => results.filter((r) => r.verdict === kind).length;
    return {
        equal: count("equal"),
        "null-order": count("null-order"),
        unstable: count("unstable"),
        different: count("different"),
        skipped: skipped.length,
    };
}

/** 0 when every query is equal, null-order or unstable; 1 when one differs. */
export function exitStatusOf(report: Pick<CompareReport, "results">): 0 | 1 {
    return report.results.some((r) => r.verdict === "different") ? 1 : 0;
}

const SHOWN_PARAMS = 12;

/** Parameters fit for JSON: bigints as text, long IN lists shortened. */
export function shownParams(values: readonly unknown[]): unknown[] {
    const shown = values.slice(0, SHOWN_PARAMS).map((v) => (typeof v === "bigint" ? v.toString() : v));
    return values.length > SHOWN_PARAMS ? [...shown, `... ${values.length - SHOWN_PARAMS} more`] : shown;
}
