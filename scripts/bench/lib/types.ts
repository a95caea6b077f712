/** Shapes shared by the throughput benchmark, its contenders and its output. */
import type { ConnectionSpec } from "../../../migration/postgres/connection";

/** Resources a contender's child process tree used (PostgreSQL's own processes excluded). */
export interface ProcessUsage {
    readonly wallSeconds: number;
    /** Largest sum of VmRSS over the child's whole process tree, sampled every ~100 ms. */
    readonly peakTreeRssMb: number;
    /** GNU time's "Maximum resident set size": the largest single process of the tree (exact, kernel-tracked). */
    readonly maxProcessRssMb: number;
    /** CPU seconds of the tree (user + system), from GNU time. */
    readonly cpuSeconds: number;
    /** CPU seconds the PostgreSQL server spent meanwhile (all its processes), or null when not measurable. */
    readonly serverCpuSeconds: number | null;
}

/** One contender's figures at one scale. */
export interface ContenderResult {
    /** `gecko-pg`, `pgloader`, `ceiling-seq`, `ceiling-par2`. */
    readonly contender: string;
    readonly scale: number;
    readonly database: string;
    readonly ok: boolean;
    readonly error?: string;
    /** Rows in the source tables this contender copies. */
    readonly sourceRows: number;
    /** Rows found in the target afterwards (gecko-pg: validated rows). */
    readonly loadedRows: number;
    /** Seconds per phase: `load` (copy), `index` (index + constraint build), `validate`, plus contender-specific extras. */
    readonly phases: Readonly<Record<string, number>>;
    /** Wall seconds of the whole contender (child start to the last phase). */
    readonly totalSeconds: number;
    /** Source rows per second of the load phase. */
    readonly loadRowsPerSecond: number;
    /** Source rows per second over the total. */
    readonly totalRowsPerSecond: number;
    readonly usage?: ProcessUsage;
    /** Per-table row counts source vs target (pgloader, ceiling), or anything else worth keeping. */
    readonly details?: Readonly<Record<string, unknown>>;
    readonly notes: readonly string[];
    /** The machine's 1-minute load average before and after the run: other work on the box skews the figures. */
    readonly hostLoadAvg?: { readonly before: number; readonly after: number };
}

/** What every contender gets. */
export interface ContenderContext {
    /** Superuser of the benchmark server, connected to its maintenance database. */
    readonly admin: ConnectionSpec;
    readonly sqlitePath: string;
    readonly scale: number;
    /** Fresh, empty database created for this contender. */
    readonly database: string;
    /** Scratch directory for command files, logs and reports. */
    readonly workDir: string;
    /** Progress lines (stderr). */
    readonly log: (line: string) => void;
    /** Process id of the postmaster when it runs on this machine (for its CPU time). */
    readonly postmasterPid: number | null;
}
