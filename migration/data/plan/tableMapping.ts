/**
 * Source-to-target mapping: which source column feeds each target column,
 * what older databases lack (filled with NULL or the application's default),
 * and what the source has that the collector's schema does not.
 * Pure: no I/O.
 */
import type { SourceColumn, SourceSchema, SourceTable } from "../source/introspect";
import type { ColumnType, TargetColumn, TargetTable } from "../../schema/types";
import { MissingTablesError, SourceError } from "../source/sourceFile";
import { foreignKeyOrder } from "./chunkPlan";

export type ColumnSource =
    | { readonly kind: "column"; readonly name: string; readonly declaredType: string }
    /** Absent from this source database: every row gets `value` (canonical text or NULL). */
    | { readonly kind: "fill"; readonly value: string | null };

export interface ColumnMapping {
    readonly target: TargetColumn;
    readonly source: ColumnSource;
}

export interface TableMapping {
    readonly target: TargetTable;
    /** Undefined when the source has no such table (nothing to copy). */
    readonly source?: SourceTable;
    readonly columns: readonly ColumnMapping[];
    /** Target columns the source lacks (filled, see ColumnSource). */
    readonly missingColumns: readonly string[];
    /** Identity columns the source lacks: not in `columns`, so the copy leaves them to the target's sequence and the checksums leave them out. */
    readonly generatedColumns: readonly string[];
    /** Source columns renamed into a target column, e.g. old `watchlist.added_at` -> `created_at`. */
    readonly renamedColumns: readonly { readonly from: string; readonly to: string }[];
    /** Source columns with no target column and no obvious type: reported, not copied. */
    readonly skippedColumns: readonly { readonly name: string; readonly declaredType: string }[];
    /** True for a table the collector's schema does not know, copied because its types map obviously. */
    readonly extra: boolean;
}

export interface MappingResult {
    readonly tables: readonly TableMapping[];
    /** Collector tables this source database does not have (older versions). */
    readonly missingTables: readonly string[];
    /** Source tables not copied at all, with why. */
    readonly skippedTables: readonly { readonly name: string; readonly reason: string }[];
}

/** Old databases named watchlist's creation time `added_at`. */
const RENAMES: Readonly<Record<string, Readonly<Record<string, string>>>> = {
    watchlist: { added_at: "created_at" },
};

/**
 * The tables every version of the collector creates (an old install lacks only the others, see
 * scripts/generator/variants.ts): a file without one of them is partial, or not the collector's.
 */
export const CORE_TABLES: readonly string[] = ["collection_metadata", "dexes", "ohlcv_data", "pools", "tokens", "trades", "watchlist"];

export interface MappingOptions {
    /** Copy the source's tables the collector does not have (when every column's type is obvious); default: list them only. */
    readonly includeExtraTables?: boolean;
}

export function mapSourceToTarget(source: SourceSchema, targets: readonly TargetTable[], options: MappingOptions = {}): MappingResult {
    const known = new Set(targets.map((t) => t.name));
    const tables: TableMapping[] = [];
    const missingTables: string[] = [];
    for (const target of targets) {
        const src = source.tables.get(target.name);
        if (!src) missingTables.push(target.name);
        tables.push(mapKnownTable(target, src));
    }
    const skippedTables: { name: string; reason: string }[] = [];
    for (const src of source.tables.values()) {
        if (known.has(src.name)) continue;
        if (!options.includeExtraTables) {
            skippedTables.push({ name: src.name, reason: "not one of the collector's tables (--include-extra-tables copies it)" });
            continue;
        }
        if (src.withoutRowid) {
            skippedTables.push({ name: src.name, reason: "WITHOUT ROWID table (chunking needs rowids)" });
            continue;
        }
        const extra = mapExtraTable(src);
        if (extra) tables.push(extra);
        else skippedTables.push({ name: src.name, reason: "no column has an obvious PostgreSQL type" });
    }
    return { tables, missingTables, skippedTables };
}

function mapKnownTable(target: TargetTable, src: SourceTable | undefined): TableMapping {
    const byName = new Map((src?.columns ?? []).map((c) => [c.name, c]));
    const renames = RENAMES[target.name] ?? {};
    const renamedColumns: { from: string; to: string }[] = [];
    const used = new Set<string>();
    const columns: ColumnMapping[] = [];
    const missingColumns: string[] = [];
    const generatedColumns: string[] = [];
    for (const col of target.columns) {
        let sc = byName.get(col.name);
        if (!sc && src) {
            const from = Object.keys(renames).find((k) => renames[k] === col.name && byName.has(k));
            if (from) {
                sc = byName.get(from);
                renamedColumns.push({ from, to: col.name });
            }
        }
        if (sc) {
            used.add(sc.name);
            columns.push({ target: col, source: { kind: "column", name: sc.name, declaredType: sc.declaredType } });
        } else if (src && col.identity) {
            generatedColumns.push(col.name);
        } else {
            if (src) missingColumns.push(col.name);
            columns.push({ target: col, source: { kind: "fill", value: col.appDefault?.fill ?? null } });
        }
    }
    const extraColumns: TargetColumn[] = [];
    const skippedColumns: { name: string; declaredType: string }[] = [];
    for (const sc of src?.columns ?? []) {
        if (used.has(sc.name)) continue;
        const type = obviousType(sc.declaredType);
        if (type) {
            const col: TargetColumn = { name: sc.name, type, nullable: true };
            extraColumns.push(col);
            columns.push({ target: col, source: { kind: "column", name: sc.name, declaredType: sc.declaredType } });
        } else {
            skippedColumns.push({ name: sc.name, declaredType: sc.declaredType });
        }
    }
    const widened: TargetTable = extraColumns.length ? { ...target, columns: [...target.columns, ...extraColumns] } : target;
    return { target: widened, source: src, columns, missingColumns, generatedColumns, renamedColumns, skippedColumns, extra: false };
}

function mapExtraTable(src: SourceTable): TableMapping | undefined {
    const columns: ColumnMapping[] = [];
    const skippedColumns: { name: string; declaredType: string }[] = [];
    for (const sc of src.columns) {
        const type = obviousType(sc.declaredType);
        if (!type) {
            skippedColumns.push({ name: sc.name, declaredType: sc.declaredType });
            continue;
        }
        columns.push({
            target: { name: sc.name, type, nullable: !sc.notNull && sc.primaryKeyIndex === 0 },
            source: { kind: "column", name: sc.name, declaredType: sc.declaredType },
        });
    }
    if (columns.length === 0) return undefined;
    const mapped = new Set(columns.map((c) => c.target.name));
    const pk = src.columns
        .filter((c: SourceColumn) => c.primaryKeyIndex > 0)
        .sort((a, b) => a.primaryKeyIndex - b.primaryKeyIndex)
        .map((c) => c.name);
    const primaryKey = pk.length > 0 && pk.every((c) => mapped.has(c)) ? pk : [];
    const target: TargetTable = {
        name: src.name,
        columns: columns.map((c) => c.target),
        primaryKey,
        uniques: [],
        foreignKeys: [],
        indexes: [],
        rowKey: primaryKey.length ? primaryKey : columns.map((c) => c.target.name),
    };
    return { target, source: src, columns, missingColumns: [], generatedColumns: [], renamedColumns: [], skippedColumns, extra: true };
}

/**
 * The PostgreSQL type a declared SQLite type maps to without a judgement
 * call, or undefined. REAL/FLOAT/BLOB/untyped have none: picking one would be
 * a lossy path nobody chose.
 */
export function obviousType(declared: string): ColumnType | undefined {
    const t = declared.trim().toUpperCase();
    let m = /^(?:VARCHAR|CHARACTER VARYING|NVARCHAR|CHAR|CHARACTER)\s*\(\s*(\d+)\s*\)$/.exec(t);
    if (m) return { kind: "text", maxLength: Number(m[1]) };
    if (/^(TEXT|CLOB|VARCHAR|STRING)$/.test(t)) return { kind: "text" };
    if (/^(INTEGER|INT|BIGINT|SMALLINT|INT8|INT4)$/.test(t)) return { kind: "bigint" };
    m = /^(?:NUMERIC|DECIMAL)\s*\(\s*(\d+)\s*,\s*(\d+)\s*\)$/.exec(t);
    if (m) return { kind: "numeric", precision: Number(m[1]), scale: Number(m[2]) };
    if (t === "BOOLEAN" || t === "BOOL") return { kind: "boolean" };
    if (t === "DATETIME" || t === "TIMESTAMP") return { kind: "timestamptz" };
    return undefined;
}

/** The mapped tables in copy order: every parent before its children. */
export function inCopyOrder(tables: readonly TableMapping[]): TableMapping[] {
    return foreignKeyOrder(tables.map((m) => ({ ...m, name: m.target.name, foreignKeys: m.target.foreignKeys })));
}

/**
 * A file without any of the collector's tables is the wrong file, one without some of its core
 * tables a partial one (unless `allowMissingTables`): refused (bad input) before anything is written.
 */
export function requireCollectorTables(path: string, source: SourceSchema, mapping: MappingResult, allowMissingTables = false): void {
    const holds = source.tables.size ? `it holds ${[...source.tables.keys()].join(", ")}` : "it holds no table";
    if (!mapping.tables.some((m) => m.source && !m.extra))
        throw new SourceError(`not a collector database: ${path} has none of ${mapping.missingTables.join(", ")} (${holds})`);
    const missingCore = CORE_TABLES.filter((t) => mapping.missingTables.includes(t));
    if (missingCore.length && !allowMissingTables)
        throw new MissingTablesError(
            `not a complete collector database: ${path} lacks the core tables ${missingCore.join(", ")} (${holds}); ` +
                "--allow-missing-tables migrates it as it is, those tables created empty",
        );
}
