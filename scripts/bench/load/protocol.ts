/**
 * Messages between the orchestrator and a writer process (Node IPC channel of
 * `child_process.fork`). Credentials travel here, never in argv or the environment.
 */
import type { ConnectionSpec } from "../../../migration/postgres/connection";
import type { MixOptions, OpName, Workload } from "./ops";

export type StoreTarget =
    | {
          readonly store: "sqlite";
          readonly path: string;
          /** PRAGMA busy_timeout in ms (the collector uses 30000). */
          readonly busyTimeoutMs: number;
          /** PRAGMA synchronous; SQLite's default FULL unless said otherwise. */
          readonly synchronous: "FULL" | "NORMAL";
      }
    | {
          readonly store: "postgres";
          readonly connection: ConnectionSpec;
          /** SET lock_timeout in ms: the same bound on a lock wait as SQLite's busy_timeout (0: none). */
          readonly lockTimeoutMs: number;
          /** How statements reach the server (see PG_STATEMENT_MODES). */
          readonly statements: PgStatementMode;
      };

/**
 * - `psycopg2` (default): what the collector's driver sends: values adapted to literals on
 *   the client, one simple-protocol Query per statement, parsed and planned every time.
 * - `extended`: `$n` parameters, an unnamed Parse/Bind/Execute per statement (libpq's
 *   PQexecParams, psycopg 3 without prepare).
 * - `prepared`: named server-side prepared statements, parsed once per connection. Not what
 *   psycopg2 does: shows what the collector would gain from a driver that prepares.
 */
export const PG_STATEMENT_MODES = ["psycopg2", "extended", "prepared"] as const;
export type PgStatementMode = (typeof PG_STATEMENT_MODES)[number];

export interface WriterConfig {
    readonly target: StoreTarget;
    readonly workload: Workload;
    readonly mix: MixOptions;
    /** Run tag mixed into generated ids. */
    readonly tag: string;
    readonly worker: number;
    readonly seed: number;
    /** Latency above which an operation counts as "slow" (waited for a lock, in practice). */
    readonly slowMs: number;
    /** Safety bound on operations per writer, on top of the deadline. */
    readonly maxOps: number;
}

export type ErrorKind = "locked" | "deadlock" | "serialization" | "lock_timeout" | "statement_timeout" | "other";

/** Figures of one operation type, over the operations started after the warm-up. */
export interface OpResult {
    /** Latency in ms of each successful operation, BEGIN to COMMIT (the select included). */
    readonly latenciesMs: number[];
    /** Successful operations that completed by the deadline: the throughput count. */
    completedInWindow: number;
    /** Rows inserted or updated by those, as the store reports them. */
    rows: number;
    /** Successful operations slower than `slowMs`. */
    slow: number;
    readonly errors: Partial<Record<ErrorKind, number>>;
}

export interface WriterResult {
    readonly worker: number;
    readonly startedAt: number;
    readonly endedAt: number;
    readonly ops: Record<OpName, OpResult>;
    /** Operations started in the measured window (successful or not), the ones `cpuMs` was spent on. */
    readonly opsStarted: number;
    /** This process's CPU time (user + system) from the end of the warm-up to the end of its last operation. */
    readonly cpuMs: number;
    /** Operations run during the warm-up (not measured). */
    readonly warmupOps: number;
    /** Up to a few distinct error messages, for the report. */
    readonly errorSamples: string[];
}

/** `go`: run from now; measure operations started at or after `measureFrom`; stop starting new ones at `deadline`. */
/** `close`: end the connection and exit (sent once every writer's result is in, so the server's CPU is sampled with every backend alive). */
export type ToWriter =
    | { readonly type: "init"; readonly config: WriterConfig }
    | { readonly type: "go"; readonly measureFrom: number; readonly deadline: number }
    | { readonly type: "close" };

export type FromWriter =
    | { readonly type: "ready"; readonly worker: number }
    | { readonly type: "result"; readonly result: WriterResult }
    | { readonly type: "failed"; readonly worker: number; readonly message: string };
