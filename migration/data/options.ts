/**
 * What a migration run is told to do. Plain data: the CLI builds it from
 * flags and environment, the `Migration` dynamic resource from stack inputs.
 */
import type { ConnectionSpec } from "../postgres/connection";

/**
 * A kind of value stored instead of set aside, counted, its raw form kept: `python-repr` is
 * recovered exactly (convert/pythonLiteral.ts); `utf8` is lossy (U+FFFD for bytes that are
 * not UTF-8), so only on request.
 */
export type Repair = "python-repr" | "utf8";
export const REPAIRS: readonly Repair[] = ["python-repr", "utf8"];
export const DEFAULT_REPAIRS: readonly Repair[] = ["python-repr"];

/**
 * A local time a DST change makes ambiguous (fall-back) or skips (spring-forward), when nothing
 * in its row decides it: set the row aside (`quarantine`), or take the earlier or later reading.
 */
export type AmbiguousTime = "quarantine" | "earlier" | "later";
export const DEFAULT_AMBIGUOUS_TIME: AmbiguousTime = "quarantine";

/** What to do with a row whose foreign key has no parent row. */
export type OrphanPolicy = "quarantine" | "placeholder" | "fail";

export interface MigrationOptions {
    /** Path of the collector's SQLite file; opened read-only, never modified. */
    readonly sqlitePath: string;
    /** Target database; the user must be able to `SET ROLE ownerRole`. */
    readonly target: ConnectionSpec;
    readonly ownerRole: string;
    readonly appRole: string;
    /** IANA zone of the host that wrote the source's local-clock columns. */
    readonly sourceTimeZone: string;
    /** Per-column clock overrides, `"table.column": "utc" | "local"`. */
    readonly clockOverrides?: Readonly<Record<string, "utc" | "local">>;
    /**
     * Values recovered exactly rather than quarantined, each counted and its raw text kept
     * (`gecko_quarantine.repairs`): `python-repr`, a JSON column holding a Python literal; `utf8`,
     * TEXT that is not UTF-8 stored with U+FFFD. Default: `python-repr`; `[]` sets them aside instead. Give the same on every run of one target.
     */
    readonly repairs?: readonly Repair[];
    /** An ambiguous or skipped local time nothing in its row decides (default `quarantine`: never silently an hour off). */
    readonly ambiguousTime?: AmbiguousTime;
    readonly orphanPolicy: OrphanPolicy;
    /** TimeZone set on the target database for new sessions (the collector never sets its own). */
    readonly databaseTimeZone: string;
    /** Rows per COPY chunk (one transaction and one checkpoint each). */
    readonly chunkRows: number;
    /** PostgreSQL connections copying chunks at once (client conversion overlaps server ingestion). */
    readonly copyLanes: number;
    /**
     * Worker threads reading and converting rows for the lanes (each on the run's one
     * source snapshot). Default 0: convert in the main thread. Worth it only with cores
     * to spare beyond PostgreSQL's: on 2 cores shared with the server it measured slower
     * (see the README's benchmarks); each worker adds about 100 MB of memory.
     */
    readonly convertWorkers?: number;
    /** Accept a file that lacks some of the collector's core tables (they are created empty); default: refuse it. */
    readonly allowMissingTables?: boolean;
    /** Copy the file's tables the collector does not have; default: list them in the report only. */
    readonly includeExtraTables?: boolean;
    /** Exit successfully even when rows were quarantined. */
    readonly allowQuarantine: boolean;
    /** Rows compared field by field per table, on top of the full checksums. */
    readonly sampleRows: number;
    /**
     * How long a transient fault (a lost connection, a restarting server, a deadlock) is
     * retried on fresh connections, from its first failure, before the run fails. Default 60.
     */
    readonly retrySeconds: number;
}

/** What a caller must give; everything else has a default (DEFAULT_OPTIONS). */
export type MigrationInput = Pick<MigrationOptions, "sqlitePath" | "target"> & Partial<MigrationOptions>;

export const DEFAULT_OPTIONS = {
    ownerRole: "gecko_owner",
    appRole: "gecko_collector",
    sourceTimeZone: "UTC",
    orphanPolicy: "quarantine",
    databaseTimeZone: "UTC",
    chunkRows: 50_000,
    copyLanes: 2,
    allowQuarantine: false,
    sampleRows: 200,
    retrySeconds: 60,
} as const satisfies Partial<MigrationOptions>;

/** Where a run tells what it is doing; the library never prints. */
export interface MigrationLogger {
    info(message: string): void;
    warn(message: string): void;
    /** Copy progress, called at most a few times a second per table. */
    progress?(event: ProgressEvent): void;
}

export interface ProgressEvent {
    readonly table: string;
    readonly rowsDone: number;
    readonly rowsTotal: number;
    readonly rowsPerSecond: number;
    /** Seconds left at the current rate, or undefined before a rate is known. */
    readonly etaSeconds?: number;
}

export const silentLogger: MigrationLogger = { info: () => undefined, warn: () => undefined };
