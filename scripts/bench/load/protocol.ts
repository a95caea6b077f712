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
      };

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

export interface OpResult {
    /** Latency in ms of each successful operation, BEGIN to COMMIT (the select included). */
    readonly latenciesMs: number[];
    /** Rows inserted or updated, as the store reports them. */
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
    /** Up to a few distinct error messages, for the report. */
    readonly errorSamples: string[];
}

export type ToWriter = { readonly type: "init"; readonly config: WriterConfig } | { readonly type: "go"; readonly deadline: number };

export type FromWriter =
    | { readonly type: "ready"; readonly worker: number }
    | { readonly type: "result"; readonly result: WriterResult }
    | { readonly type: "failed"; readonly worker: number; readonly message: string };
