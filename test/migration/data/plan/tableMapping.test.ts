/**
 * Source-to-target mapping (migration/data/plan/tableMapping.ts) over source
 * schemas built by hand the way introspectSource reports them (tables by name,
 * PRAGMA table_info's declared types, NOT NULL and primary-key positions):
 * collector tables as they are, older and drifted; extra tables copied when
 * their types are obvious; what is skipped and why; copy order.
 */
import { describe, expect, it } from "vitest";
import { inCopyOrder, mapSourceToTarget, obviousType, type TableMapping } from "../../../../migration/data/plan/tableMapping";
import type { SourceColumn, SourceSchema, SourceTable } from "../../../../migration/data/source/introspect";
import { targetTable } from "../../../../migration/schema/tables";

function col(name: string, declaredType: string, opts: { notNull?: boolean; pk?: number } = {}): SourceColumn {
    return { name, declaredType, notNull: opts.notNull ?? false, primaryKeyIndex: opts.pk ?? 0 };
}

function table(name: string, columns: SourceColumn[], opts: { rows?: number; withoutRowid?: boolean } = {}): SourceTable {
    const rows = opts.rows ?? 3;
    const rowids = rows > 0 && !opts.withoutRowid;
    return {
        name,
        columns,
        rowCount: rows,
        minRowid: rowids ? 1n : null,
        maxRowid: rowids ? BigInt(rows) : null,
        withoutRowid: opts.withoutRowid ?? false,
    };
}

/** As introspectSource returns it: tables in name order. */
function schema(...tables: SourceTable[]): SourceSchema {
    const sorted = [...tables].sort((a, b) => (a.name < b.name ? -1 : 1));
    return { tables: new Map(sorted.map((t) => [t.name, t])), journalMode: "wal", sqliteVersion: "3.45.1" };
}

const dexes = targetTable("dexes");
const pools = targetTable("pools");
const watchlist = targetTable("watchlist");
const collectionMetadata = targetTable("collection_metadata");

/** Column name -> where its values come from: the source column's name, or `= fill`. */
function sources(m: TableMapping): Record<string, string> {
    return Object.fromEntries(
        m.columns.map((c) => [c.target.name, c.source.kind === "column" ? c.source.name : `= ${JSON.stringify(c.source.value)}`]),
    );
}

/** The collector's SQLite dexes table as it is today. */
const sqliteDexes = [
    col("id", "VARCHAR(50)", { notNull: true, pk: 1 }),
    col("name", "VARCHAR(100)", { notNull: true }),
    col("network", "VARCHAR(20)", { notNull: true }),
    col("last_updated", "DATETIME"),
    col("metadata_json", "TEXT"),
];

describe("mapSourceToTarget: collector tables", () => {
    it("maps a collector table column by column, filling what only the PostgreSQL model has", () => {
        const result = mapSourceToTarget(schema(table("dexes", sqliteDexes)), [dexes]);
        expect(result.missingTables).toEqual([]);
        expect(result.skippedTables).toEqual([]);
        const [m] = result.tables;
        expect(m.target).toBe(dexes);
        expect(m.extra).toBe(false);
        expect(m.columns.map((c) => c.target)).toEqual(dexes.columns);
        expect(m.columns[0].source).toEqual({ kind: "column", name: "id", declaredType: "VARCHAR(50)" });
        expect(sources(m)).toEqual({
            id: "id",
            name: "name",
            network: "network",
            last_updated: "last_updated",
            metadata_json: "metadata_json",
            created_at: "= null", // pg only; NOW's fill is NULL: no invented instants
        });
        expect(m.missingColumns).toEqual(["created_at"]);
        expect(m.generatedColumns).toEqual([]);
        expect(m.renamedColumns).toEqual([]);
        expect(m.skippedColumns).toEqual([]);
    });

    it("copies a drifted extra column with an obvious type into a widened target, and reports the others", () => {
        const src = table("dexes", [...sqliteDexes, col("chain_id", "INTEGER"), col("logo", "BLOB"), col("notes", "")]);
        const [m] = mapSourceToTarget(schema(src), [dexes]).tables;
        const chainId = { name: "chain_id", type: { kind: "bigint" }, nullable: true };
        expect(m.target).toEqual({ ...dexes, columns: [...dexes.columns, chainId] });
        expect(dexes.columns.map((c) => c.name)).not.toContain("chain_id"); // the shared definition is untouched
        expect(m.columns[m.columns.length - 1]).toEqual({
            target: chainId,
            source: { kind: "column", name: "chain_id", declaredType: "INTEGER" },
        });
        expect(m.skippedColumns).toEqual([
            { name: "logo", declaredType: "BLOB" },
            { name: "notes", declaredType: "" },
        ]);
        expect(m.extra).toBe(false);
    });

    it("copies an old watchlist's added_at into created_at and fills the newer columns", () => {
        const src = table("watchlist", [
            col("id", "INTEGER", { pk: 1 }),
            col("pool_id", "VARCHAR(200)", { notNull: true }),
            col("token_symbol", "VARCHAR(50)"),
            col("token_name", "VARCHAR(200)"),
            col("network_address", "VARCHAR(100)"),
            col("is_active", "BOOLEAN"),
            col("added_at", "DATETIME"),
        ]);
        const [m] = mapSourceToTarget(schema(src), [watchlist]).tables;
        expect(m.renamedColumns).toEqual([{ from: "added_at", to: "created_at" }]);
        expect(m.columns.find((c) => c.target.name === "created_at")?.source).toEqual({
            kind: "column",
            name: "added_at",
            declaredType: "DATETIME",
        });
        expect(m.missingColumns).toEqual(["updated_at", "metadata_json"]);
        expect(sources(m)).toMatchObject({ id: "id", updated_at: "= null", metadata_json: '= "{}"' });
        expect(m.target).toBe(watchlist); // added_at is used, not an extra column
        expect(m.skippedColumns).toEqual([]);
    });

    it("prefers created_at when a watchlist has both, and copies added_at as an extra column", () => {
        const src = table("watchlist", [
            col("id", "INTEGER", { pk: 1 }),
            col("pool_id", "VARCHAR(200)", { notNull: true }),
            col("added_at", "DATETIME"),
            col("created_at", "DATETIME"),
        ]);
        const [m] = mapSourceToTarget(schema(src), [watchlist]).tables;
        expect(m.renamedColumns).toEqual([]);
        expect(sources(m)).toMatchObject({ created_at: "created_at", added_at: "added_at" });
        expect(m.target.columns.map((c) => c.name)).toEqual([...watchlist.columns.map((c) => c.name), "added_at"]);
    });

    it("leaves an identity column the source lacks to the target's sequence, and fills the app defaults", () => {
        const src = table("collection_metadata", [
            col("collector_type", "VARCHAR(50)", { notNull: true, pk: 1 }),
            col("last_run", "DATETIME"),
            col("run_count", "INTEGER"),
        ]);
        const [m] = mapSourceToTarget(schema(src), [collectionMetadata]).tables;
        expect(m.generatedColumns).toEqual(["id"]);
        expect(m.columns.map((c) => c.target.name)).not.toContain("id");
        expect(sources(m)).toEqual({
            collector_type: "collector_type",
            last_run: "last_run",
            last_success: "= null",
            run_count: "run_count",
            error_count: '= "0"',
            last_error: "= null",
            total_execution_time: '= "0.000"',
            total_records_collected: '= "0"',
            average_execution_time: '= "0.000"',
            success_rate: '= "100.00"',
            health_score: '= "100.00"',
            last_updated: "= null",
            metadata_json: '= "{}"',
            created_at: "= null",
            updated_at: "= null",
        });
        expect(m.missingColumns).toEqual([
            "last_success",
            "error_count",
            "last_error",
            "total_execution_time",
            "total_records_collected",
            "average_execution_time",
            "success_rate",
            "health_score",
            "last_updated",
            "metadata_json",
            "created_at",
            "updated_at",
        ]);
    });

    it("reports a collector table the source lacks and still maps it, source-less, for an empty target table", () => {
        const result = mapSourceToTarget(schema(table("dexes", sqliteDexes)), [dexes, pools]);
        expect(result.missingTables).toEqual(["pools"]);
        const m = result.tables[1];
        expect(m.target).toBe(pools);
        expect(m.source).toBeUndefined();
        expect(m.columns.every((c) => c.source.kind === "fill")).toBe(true);
        expect(sources(m)).toMatchObject({
            id: "= null",
            discovery_source: '= "auto"',
            collection_priority: '= "normal"',
            metadata_json: '= "{}"',
        });
        // Nothing is "missing" from a table that is not there at all.
        expect(m.missingColumns).toEqual([]);
        expect(m.generatedColumns).toEqual([]);
    });
});

describe("mapSourceToTarget: tables the collector does not know", () => {
    const source = schema(
        table("dexes", sqliteDexes),
        table("alembic_version", [col("version_num", "VARCHAR(32)", { notNull: true, pk: 1 })], { rows: 1 }),
        // PRIMARY KEY (network, pool_id): table_info numbers the key's columns in key order.
        table("price_cache", [
            col("pool_id", "TEXT", { pk: 2 }),
            col("network", "TEXT", { pk: 1 }),
            col("price", "REAL"),
            col("fetched_at", "DATETIME"),
        ]),
        table("snapshots", [col("digest", "BLOB", { pk: 1 }), col("taken_at", "DATETIME", { notNull: true }), col("size", "int")]),
        table("raw_payloads", [col("body", "BLOB"), col("score", "REAL"), col("misc", "")]),
        table("kv", [col("k", "TEXT", { notNull: true, pk: 1 }), col("v", "TEXT")], { withoutRowid: true }),
    );
    const result = mapSourceToTarget(source, [dexes], { includeExtraTables: true });
    const extra = (name: string) => result.tables.find((t) => t.target.name === name)!;

    it("copies extra tables after the collector's, in source order, and says why the others are not", () => {
        expect(result.tables.map((t) => [t.target.name, t.extra])).toEqual([
            ["dexes", false],
            ["alembic_version", true],
            ["price_cache", true],
            ["snapshots", true],
        ]);
        expect(result.skippedTables).toEqual([
            { name: "kv", reason: "WITHOUT ROWID table (chunking needs rowids)" },
            { name: "raw_payloads", reason: "no column has an obvious PostgreSQL type" },
        ]);
        expect(result.missingTables).toEqual([]);
    });

    it("builds an extra table's target from its declared types, key and NOT NULLs", () => {
        const m = extra("alembic_version");
        expect(m.target).toEqual({
            name: "alembic_version",
            columns: [{ name: "version_num", type: { kind: "text", maxLength: 32 }, nullable: false }],
            primaryKey: ["version_num"],
            uniques: [],
            foreignKeys: [],
            indexes: [],
            rowKey: ["version_num"],
        });
        expect(m.source).toBe(source.tables.get("alembic_version"));
        expect(m.missingColumns).toEqual([]);
    });

    it("keys an extra table in primary-key order and skips a column without an obvious type", () => {
        const m = extra("price_cache");
        expect(m.target.columns).toEqual([
            { name: "pool_id", type: { kind: "text" }, nullable: false },
            { name: "network", type: { kind: "text" }, nullable: false },
            { name: "fetched_at", type: { kind: "timestamptz" }, nullable: true },
        ]);
        expect(m.target.primaryKey).toEqual(["network", "pool_id"]);
        expect(m.target.rowKey).toEqual(["network", "pool_id"]);
        expect(m.skippedColumns).toEqual([{ name: "price", declaredType: "REAL" }]);
    });

    it("gives an extra table no primary key when a key column is not copied, and names rows by every copied column", () => {
        const m = extra("snapshots");
        expect(m.target.primaryKey).toEqual([]);
        expect(m.target.rowKey).toEqual(["taken_at", "size"]);
        expect(m.target.columns).toEqual([
            { name: "taken_at", type: { kind: "timestamptz" }, nullable: false },
            { name: "size", type: { kind: "bigint" }, nullable: true },
        ]);
        expect(m.skippedColumns).toEqual([{ name: "digest", declaredType: "BLOB" }]);
    });
});

describe("obviousType", () => {
    it("maps the unambiguous SQLite declarations, whatever their case and spacing", () => {
        const cases: [string, unknown][] = [
            ["VARCHAR(255)", { kind: "text", maxLength: 255 }],
            ["varchar ( 20 )", { kind: "text", maxLength: 20 }],
            ["CHARACTER VARYING(8)", { kind: "text", maxLength: 8 }],
            ["NCHAR(2)", undefined],
            ["CHAR(3)", { kind: "text", maxLength: 3 }],
            ["TEXT", { kind: "text" }],
            [" clob ", { kind: "text" }],
            ["VARCHAR", { kind: "text" }],
            ["INTEGER", { kind: "bigint" }],
            ["int4", { kind: "bigint" }],
            ["SMALLINT", { kind: "bigint" }],
            ["NUMERIC(20, 8)", { kind: "numeric", precision: 20, scale: 8 }],
            ["decimal(10,2)", { kind: "numeric", precision: 10, scale: 2 }],
            ["BOOL", { kind: "boolean" }],
            ["DATETIME", { kind: "timestamptz" }],
            ["timestamp", { kind: "timestamptz" }],
        ];
        for (const [declared, type] of cases) expect(obviousType(declared), declared).toEqual(type);
    });

    it("has no type for what would need a judgement call", () => {
        for (const declared of [
            "",
            "REAL",
            "FLOAT",
            "DOUBLE",
            "BLOB",
            "NUMERIC",
            "DECIMAL(10)",
            "UNSIGNED BIG INT",
            "DATE",
            "JSON",
            "TEXT(10)",
        ]) {
            expect(obviousType(declared), declared).toBeUndefined();
        }
    });
});

describe("inCopyOrder", () => {
    it("puts parents before children across collector and extra tables, otherwise by name", () => {
        const source = schema(
            table("dexes", sqliteDexes),
            table("watchlist", [col("id", "INTEGER", { pk: 1 }), col("pool_id", "VARCHAR(200)", { notNull: true })]),
            table("alembic_version", [col("version_num", "VARCHAR(32)", { notNull: true, pk: 1 })]),
        );
        // Given children first; pools is absent from the source but still ordered (its table is created).
        const { tables } = mapSourceToTarget(source, [watchlist, pools, dexes], { includeExtraTables: true });
        const ordered = inCopyOrder(tables);
        expect(ordered.map((m) => m.target.name)).toEqual(["alembic_version", "dexes", "pools", "watchlist"]);
        expect(ordered.map((m) => m.extra)).toEqual([true, false, false, false]);
        expect(ordered[2].source).toBeUndefined();
        expect(ordered[3].columns).toBe(tables[0].columns);
    });
});
