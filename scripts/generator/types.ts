/**
 * Public types of the collector-database generator: its options, the
 * defects it can plant and the manifest it returns.
 */
import type { GeneratedTable, SchemaVariant } from "./variants";

/** Defects real collector databases carry (collector-facts.md, "Defects"). */
export type DefectName =
    | "blank-pools"
    | "placeholder-tokens"
    | "orphans"
    | "nan-and-exponent"
    | "precision-limit"
    | "null-defaults"
    | "test-rows"
    | "odd-datetimes"
    | "invalid-json"
    | "bad-booleans"
    | "uncheckpointed-wal";

export const DEFECT_NAMES: readonly DefectName[] = [
    "blank-pools",
    "placeholder-tokens",
    "orphans",
    "nan-and-exponent",
    "precision-limit",
    "null-defaults",
    "test-rows",
    "odd-datetimes",
    "invalid-json",
    "bad-booleans",
    "uncheckpointed-wal",
];

export interface GenerationProgress {
    readonly table: GeneratedTable;
    /** Rows written so far, all tables. */
    readonly rowsWritten: number;
    /** Rows planned, all tables (defect rows excluded). */
    readonly rowsPlanned: number;
}

export interface CollectorDbOptions {
    /** Output SQLite file. */
    readonly path: string;
    /** Replace an existing file (and its -wal/-shm). Default false: an existing file is an error. */
    readonly overwrite?: boolean;
    /** PRNG seed; the same seed and options give the same content. Default 1. */
    readonly seed?: number;
    /** Approximate total rows, split as a busy collector's (trades and ohlcv_data ~45% each). Default 10,000. */
    readonly rows?: number;
    /** Exact row counts for some tables, overriding the split of `rows`. */
    readonly counts?: Partial<Record<GeneratedTable, number>>;
    /** Schema variant. Default `current`. */
    readonly variant?: SchemaVariant;
    /** Defects to plant, or `"all"`. Default none. */
    readonly defects?: readonly DefectName[] | "all";
    /** IANA zone of the collector host: local-clock columns are written in it. Default `UTC`. */
    readonly hostTimeZone?: string;
    /** Length of the data's time span in months (the target partitions by month). Default 4. */
    readonly months?: number;
    /** End of the span (exclusive), ISO-8601 or Date. Default 2025-06-01T00:00:00Z, so output does not depend on today. */
    readonly endAt?: string | Date;
    /** Called every ~50k rows while bulk-generating. */
    readonly onProgress?: (progress: GenerationProgress) => void;
}

/** One planted defect: which row (table + key) and which columns got it. */
export interface PlantedDefect {
    readonly defect: DefectName;
    /** Sub-case, e.g. `nan`, `text-number`, `overflow`, `near-limit`, `doubled-prefix`, `epoch-seconds`. */
    readonly kind: string;
    readonly table: GeneratedTable;
    /** The row's key: primary key columns (`id`, or `collector_type` for collection_metadata). */
    readonly key: Readonly<Record<string, string | number>>;
    /** Affected columns; empty when the whole row is the defect (inserted test/orphan rows). */
    readonly columns: readonly string[];
    /** Stored value, when one column was changed. */
    readonly value?: string | number | null;
}

/** A schema difference the variant carries, for a migration's drift report to be checked against. */
export interface DriftNote {
    readonly kind: "missing-table" | "missing-columns" | "old-columns" | "columns-added-by-alter" | "extra-columns" | "unknown-table";
    readonly table: string;
    readonly columns?: readonly string[];
    /** For ALTERed tables: rows (by insertion order, i.e. rowid <= this) written before the ALTER, which read NULL. */
    readonly rowsBeforeAlter?: number;
}

/** What was generated; the CLI writes it as `<file>.manifest.json`. */
export interface GenerationManifest {
    readonly file: string;
    readonly variant: SchemaVariant;
    readonly seed: number;
    readonly hostTimeZone: string;
    readonly timeSpan: { readonly start: string; readonly end: string; readonly months: number };
    /** Final row count per table (defect rows included). */
    readonly tables: Readonly<Partial<Record<GeneratedTable, number>>>;
    readonly totalRows: number;
    readonly defectsRequested: readonly DefectName[];
    readonly defects: readonly PlantedDefect[];
    readonly drift: readonly DriftNote[];
    /** Which clock each datetime column was written with: `utc`, `local` (host zone) or `utc+local` (mostly UTC, some local). */
    readonly clocks: Readonly<Record<string, "utc" | "local" | "utc+local">>;
    readonly notes: readonly string[];
}
