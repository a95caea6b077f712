/**
 * Generator of realistic GeckoTerminal-collector SQLite databases: the
 * collector's schema (or a drifted variant), values stored exactly as the
 * Python collector stores them, relations, clocks, and planted defects listed
 * in a manifest so migration tests can assert what a report must say.
 *
 * Library only: it throws and reports through callbacks; the CLI is
 * scripts/generate-collector-db.ts.
 */
import Database from "better-sqlite3";
import * as fs from "node:fs";
import * as path from "node:path";
import { LocalClock } from "./clock";
import type { GenContext } from "./context";
import { renderCreateTable } from "./ddl";
import type { DefectKit } from "./defectKit";
import { plantDefects, resolveDefects } from "./defects";
import { describeClocks, describeDrift } from "./describe";
import { generateNewPoolsHistory, generateOhlcv, generateTrades } from "./market";
import {
    generateCollectionMetadata,
    generateDiscoveryMetadata,
    generateExecutionHistory,
    generateExtras,
    generatePerformanceMetrics,
    generateSystemAlerts,
} from "./operations";
import { planCounts } from "./plan";
import { Rng } from "./prng";
import { generateDexes, generatePools, generateTokens, generateWatchlist } from "./reference";
import { writeTextNumbers } from "./textNumbers";
import type { CollectorDbOptions, DefectName, GenerationManifest } from "./types";
import { layoutFor, SCHEMA_VARIANTS, type GeneratedTable, type SchemaVariant, type VariantLayout } from "./variants";

export type { CollectorDbOptions, DefectName, DriftNote, GenerationManifest, GenerationProgress, PlantedDefect } from "./types";
export { DEFECT_NAMES } from "./types";
export type { GeneratedTable, SchemaVariant } from "./variants";
export { SCHEMA_VARIANTS } from "./variants";
export { openLiveWriter, type LiveWriter, type LiveWriterOptions } from "./liveWriter";

const DEFAULT_END = "2025-06-01T00:00:00Z";
const PROGRESS_EVERY = 50_000;

/** Generation order: parents before children (the growing tables need the pool list). */
const STEPS: readonly (readonly [GeneratedTable, (ctx: GenContext) => void])[] = [
    ["dexes", generateDexes],
    ["tokens", generateTokens],
    ["pools", generatePools],
    ["watchlist", generateWatchlist],
    ["trades", generateTrades],
    ["ohlcv_data", generateOhlcv],
    ["new_pools_history", generateNewPoolsHistory],
    ["collection_metadata", generateCollectionMetadata],
    ["execution_history", generateExecutionHistory],
    ["performance_metrics", generatePerformanceMetrics],
    ["system_alerts", generateSystemAlerts],
    ["discovery_metadata", generateDiscoveryMetadata],
    ["collector_notes", generateExtras], // also alembic_version
];

function spanOf(options: CollectorDbOptions): { startUs: number; endUs: number; months: number } {
    const months = options.months ?? 4;
    if (!(months > 0 && months <= 120)) throw new Error(`months must be in (0, 120], got ${months}`);
    const end = new Date(options.endAt ?? DEFAULT_END);
    if (Number.isNaN(end.getTime())) throw new Error(`endAt '${String(options.endAt)}' is not a valid date`);
    // Calendar months back from the end (fractional months as 30-day slices).
    const whole = Math.floor(months);
    const start = Date.UTC(
        end.getUTCFullYear(),
        end.getUTCMonth() - whole,
        end.getUTCDate(),
        end.getUTCHours(),
        end.getUTCMinutes(),
        end.getUTCSeconds(),
    );
    const startMs = start - Math.round((months - whole) * 30 * 86_400_000);
    return { startUs: startMs * 1000, endUs: end.getTime() * 1000, months };
}

function prepareFile(file: string, overwrite: boolean): void {
    if (fs.existsSync(file)) {
        if (!overwrite) throw new Error(`${file} already exists (pass overwrite: true to replace it)`);
    }
    for (const suffix of ["", "-wal", "-shm", "-journal"]) fs.rmSync(file + suffix, { force: true });
    fs.mkdirSync(path.dirname(file), { recursive: true });
}

/**
 * Writes a collector SQLite database to `options.path` and returns its manifest.
 * Synchronous (better-sqlite3); ~2 million rows take a few seconds.
 */
export function generateCollectorDb(options: CollectorDbOptions): GenerationManifest {
    const plan = planGeneration(options);
    prepareFile(plan.file, options.overwrite ?? false);
    const { kit, tables } = writeDatabase(plan, options.onProgress);
    if (kit.textNumbers.length) writeTextNumbers(plan.file, kit.textNumbers);
    switchToWal(plan.file);

    const notes: string[] = [];
    if (plan.defects.includes("uncheckpointed-wal")) {
        notes.push(
            "uncheckpointed-wal: a closed SQLite file has no WAL left; use openLiveWriter(file) to add rows that stay in the -wal file while it is open.",
        );
    }
    if (kit.textNumbers.length) {
        notes.push(
            "nan-and-exponent: numbers stored as TEXT in NUMERIC columns make PRAGMA integrity_check report 'TEXT value in <table>.<column>'.",
        );
    }
    const { span } = plan;
    return {
        file: plan.file,
        variant: plan.variant,
        seed: plan.seed,
        hostTimeZone: plan.hostTimeZone,
        timeSpan: {
            start: new Date(span.startUs / 1000).toISOString(),
            end: new Date(span.endUs / 1000).toISOString(),
            months: span.months,
        },
        tables,
        totalRows: Object.values(tables).reduce((a, b) => a + b, 0),
        defectsRequested: plan.defects,
        defects: kit.planted,
        drift: describeDrift(plan.layout, plan.counts),
        clocks: describeClocks(plan.layout),
        notes,
    };
}

/** What the options ask for, validated, with their defaults. */
interface GenerationPlan {
    readonly variant: SchemaVariant;
    readonly seed: number;
    readonly hostTimeZone: string;
    readonly clock: LocalClock;
    readonly defects: DefectName[];
    readonly layout: VariantLayout;
    readonly counts: Record<GeneratedTable, number>;
    readonly span: { readonly startUs: number; readonly endUs: number; readonly months: number };
    /** The output file, absolute. */
    readonly file: string;
}

function planGeneration(options: CollectorDbOptions): GenerationPlan {
    const variant = options.variant ?? "current";
    if (!SCHEMA_VARIANTS.includes(variant)) throw new Error(`variant must be one of ${SCHEMA_VARIANTS.join(", ")}, got '${variant}'`);
    const seed = options.seed ?? 1;
    if (!Number.isSafeInteger(seed)) throw new Error(`seed must be an integer, got ${seed}`);
    const rows = options.rows ?? 10_000;
    if (!Number.isSafeInteger(rows) || rows < 0) throw new Error(`rows must be a non-negative integer, got ${rows}`);
    const hostTimeZone = options.hostTimeZone ?? "UTC";
    const clock = new LocalClock(hostTimeZone);
    const defects = resolveDefects(options.defects);
    const layout = layoutFor(variant);
    const counts = planCounts(layout, rows, options.counts);
    const span = spanOf(options);
    return { variant, seed, hostTimeZone, clock, defects, layout, counts, span, file: path.resolve(options.path) };
}

/** Creates the tables, fills them (STEPS, one transaction), plants the defects and counts the rows, with bulk-load settings. */
function writeDatabase(
    plan: GenerationPlan,
    onProgress: CollectorDbOptions["onProgress"],
): { kit: DefectKit; tables: Partial<Record<GeneratedTable, number>> } {
    const db = new Database(plan.file);
    const tables: Partial<Record<GeneratedTable, number>> = {};
    try {
        // Python's sqlite3 leaves foreign keys off (better-sqlite3 turns them on): orphans must be insertable.
        db.pragma("foreign_keys = OFF");
        // Bulk-load settings; the collector's WAL mode is switched on at the end.
        db.pragma("journal_mode = OFF");
        db.pragma("synchronous = OFF");
        db.pragma("locking_mode = EXCLUSIVE");
        // No big cache_size: measured slower here (page cache bookkeeping outweighs the fewer spills).
        db.pragma("temp_store = MEMORY");
        for (const table of plan.layout.tables) db.exec(renderCreateTable(table.name, table.createItems));

        const rowsPlanned = Object.values(plan.counts).reduce((a, b) => a + b, 0);
        let rowsWritten = 0;
        let nextReport = PROGRESS_EVERY;
        let current: GeneratedTable = "dexes";
        const ctx: GenContext = {
            db,
            rng: new Rng(plan.seed),
            layout: plan.layout,
            clock: plan.clock,
            startUs: plan.span.startUs,
            endUs: plan.span.endUs,
            counts: plan.counts,
            dexIds: [],
            tokens: [],
            pools: [],
            watchlistPoolIds: [],
            onRows: (n) => {
                rowsWritten += n;
                if (rowsWritten >= nextReport) {
                    nextReport = rowsWritten + PROGRESS_EVERY;
                    onProgress?.({ table: current, rowsWritten, rowsPlanned });
                }
            },
        };
        db.transaction(() => {
            for (const [table, step] of STEPS) {
                current = table;
                step(ctx);
            }
        })();
        onProgress?.({ table: current, rowsWritten, rowsPlanned });
        const kit = db.transaction(() => plantDefects(ctx, plan.defects))();
        for (const table of plan.layout.tables) {
            tables[table.name] = (db.prepare(`SELECT count(*) AS n FROM ${table.name}`).get() as { n: number }).n;
        }
        return { kit, tables };
    } finally {
        db.close();
    }
}

/** The collector's journal mode, WAL, switched on once the file is complete. */
function switchToWal(file: string): void {
    const wal = new Database(file);
    try {
        // No fsync of the whole file here (a generated fixture needs no durability; it costs seconds at scale).
        wal.pragma("synchronous = OFF");
        wal.pragma("journal_mode = WAL");
    } finally {
        wal.close();
    }
}
