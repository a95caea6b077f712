/**
 * Schema drift: databases created by older or customised collector versions.
 * The report lists what the source lacks (tables created empty, columns filled
 * with NULL or the app default), what was renamed, and what it has beyond the
 * collector's schema (copied when the type is obvious, reported otherwise);
 * the data is checked against the source.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderReport } from "../../../../migration/data/report/report";
import type { MigrationReport } from "../../../../migration/data/report/report";
import type { GenerationManifest } from "../../../../scripts/generator/collectorDb";
import Database from "better-sqlite3";
import { createMigrationFixture, sqliteAll, tableReport, type MigrationFixture } from "../../../support/migrationFixture";

/** Every table's counts and checksums agree (drift never costs a row). */
function expectComplete(report: MigrationReport) {
    expect(report.failures).toEqual([]);
    expect(report.ok).toBe(true);
    for (const t of report.tables) {
        expect(t.validation!.countsMatch, t.table).toBe(true);
        expect(t.validation!.mismatchedBuckets, t.table).toEqual([]);
        expect(t.validation!.targetRows, t.table).toBe(t.sourceRows);
    }
}

describe("old collector database", () => {
    let fx: MigrationFixture;
    let source: string;
    let manifest: GenerationManifest;
    let report: MigrationReport;

    beforeAll(async () => {
        fx = await createMigrationFixture("old");
        ({ path: source, manifest } = fx.generate("old", { variant: "old", rows: 1500, seed: 3, counts: { watchlist: 15 } }));
        report = await fx.migrate(source, { includeExtraTables: true });
    });
    afterAll(async () => fx?.dispose());

    it("creates the tables the source lacks, empty, and reports them", async () => {
        expectComplete(report);
        const missing = manifest.drift.filter((d) => d.kind === "missing-table").map((d) => d.table);
        expect(missing).toHaveLength(5);
        expect([...report.missingTables].sort()).toEqual([...missing].sort());
        for (const table of missing) {
            const t = tableReport(report, table);
            expect(t, table).toMatchObject({ inSource: false, sourceRows: 0, rowsCopiedThisRun: 0 });
            const [r] = await fx.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`);
            expect(Number(r.n), table).toBe(0);
        }
        expect(renderReport(report)).toContain(`tables absent from the source (created empty): ${report.missingTables.join(", ")}`);
    });

    it("reports missing columns and fills them with NULL or the app default", async () => {
        expect(tableReport(report, "dexes").missingColumns).toEqual(["metadata_json", "created_at"]);
        expect(tableReport(report, "tokens").missingColumns).toEqual(["metadata_json", "created_at"]);
        expect(tableReport(report, "pools").missingColumns).toEqual([
            "activity_score",
            "discovery_source",
            "collection_priority",
            "auto_discovered_at",
            "last_activity_check",
        ]);
        expect(tableReport(report, "watchlist").missingColumns).toEqual(["updated_at", "metadata_json"]);
        for (const table of ["dexes", "tokens"]) {
            const rows = await fx.query<{ j: string; n: string }>(
                `SELECT metadata_json::text AS j, count(*) AS n FROM ${table} GROUP BY 1`,
            );
            expect(rows, table).toEqual([{ j: "{}", n: String(manifest.tables[table as "dexes"]) }]);
        }
        const pools = await fx.query(
            "SELECT activity_score, discovery_source, collection_priority, auto_discovered_at, last_activity_check, count(*)::int AS n FROM pools GROUP BY 1, 2, 3, 4, 5",
        );
        expect(pools).toEqual([
            {
                activity_score: null,
                discovery_source: "auto",
                collection_priority: "normal",
                auto_discovered_at: null,
                last_activity_check: null,
                n: manifest.tables.pools,
            },
        ]);
    });

    it("copies watchlist.added_at into created_at and fills a NULL is_active with false, as SQLite's `is_active = 1` read it (counted)", async () => {
        expect(tableReport(report, "watchlist").renamedColumns).toEqual([{ from: "added_at", to: "created_at" }]);
        const src = sqliteAll<{ id: number; added_at: string; is_active: number | null }>(
            source,
            "SELECT id, added_at, is_active FROM watchlist ORDER BY id",
        );
        expect(src).toHaveLength(15);
        const nullActive = src.filter((r) => r.is_active === null).length;
        expect(nullActive).toBeGreaterThan(0);
        expect(tableReport(report, "watchlist").rowsFilledThisRun).toBe(nullActive);
        for (const s of src) {
            const [t] = await fx.query<{ same: boolean; is_active: boolean; updated_at: null; m: string }>(
                "SELECT created_at = ($2::timestamp AT TIME ZONE 'UTC') AS same, is_active, updated_at, metadata_json::text AS m FROM watchlist WHERE id = $1",
                [s.id, s.added_at],
            );
            expect(t, `watchlist ${s.id}`).toEqual({ same: true, is_active: s.is_active === 1, updated_at: null, m: "{}" });
        }
        expect(renderReport(report)).toContain("watchlist: added_at copied into created_at");
    });

    it("copies alembic_version as an extra table", async () => {
        const t = tableReport(report, "alembic_version");
        expect(t).toMatchObject({ extra: true, inSource: true, sourceRows: 1, rowsCopiedThisRun: 1 });
        const [s] = sqliteAll<{ v: string }>(source, "SELECT version_num AS v FROM alembic_version");
        expect(await fx.query("SELECT version_num FROM alembic_version")).toEqual([{ version_num: s.v }]);
        const [pk] = await fx.query<{ def: string }>(
            "SELECT pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conrelid = 'alembic_version'::regclass AND contype = 'p'",
        );
        expect(pk.def).toBe("PRIMARY KEY (version_num)");
        expect(renderReport(report)).toMatch(/alembic_version \(extra\)/);
    });
});

describe("database whose late pool columns were added with ALTER TABLE", () => {
    let fx: MigrationFixture;
    let source: string;
    let manifest: GenerationManifest;
    let report: MigrationReport;

    beforeAll(async () => {
        fx = await createMigrationFixture("altered");
        ({ path: source, manifest } = fx.generate("altered", { variant: "altered", rows: 1500, seed: 3 }));
        report = await fx.migrate(source);
    });
    afterAll(async () => fx?.dispose());

    it("reports no drift for pools and keeps the NULLs of rows written before the ALTER", async () => {
        expectComplete(report);
        expect(report.missingTables).toEqual([]);
        const pools = tableReport(report, "pools");
        expect(pools).toMatchObject({ missingColumns: [], extraColumns: [], renamedColumns: [], skippedColumns: [] });
        // The target carries the later new_pools_history signal columns; a current source lacks them.
        expect(tableReport(report, "new_pools_history").missingColumns).toEqual([
            "signal_score",
            "volume_trend",
            "liquidity_trend",
            "momentum_indicator",
            "activity_score",
            "volatility_score",
            "discovery_source",
            "api_response_data",
        ]);
        // The PostgreSQL models' columns a current SQLite file lacks, filled as the collector's defaults (times unknown: NULL).
        expect(tableReport(report, "dexes")).toMatchObject({ missingColumns: ["created_at"], fills: { created_at: null } });
        expect(tableReport(report, "trades")).toMatchObject({ missingColumns: ["metadata_json"], fills: { metadata_json: "{}" } });
        expect(tableReport(report, "ohlcv_data")).toMatchObject({ missingColumns: ["metadata_json"], fills: { metadata_json: "{}" } });
        expect(tableReport(report, "collection_metadata")).toMatchObject({
            missingColumns: ["metadata_json", "created_at", "updated_at"],
            generatedColumns: ["id"],
        });
        expect(renderReport(report)).toContain("trades: columns absent in source, filled: metadata_json = '{}'");
        expect(renderReport(report)).toContain("collection_metadata: columns absent in source, numbered by the target: id");
        const [ids] = await fx.query<{ n: string; distinct: string; min: string }>(
            "SELECT count(*) AS n, count(DISTINCT id) AS distinct, min(id)::text AS min FROM collection_metadata",
        );
        expect(ids).toEqual({
            n: String(manifest.tables.collection_metadata),
            distinct: String(manifest.tables.collection_metadata),
            min: "1",
        });
        const [json] = await fx.query<{ n: string }>(
            "SELECT count(*) AS n FROM trades WHERE metadata_json <> '{}'::jsonb OR metadata_json IS NULL",
        );
        expect(json.n).toBe("0");

        const note = manifest.drift.find((d) => d.kind === "columns-added-by-alter" && d.table === "pools")!;
        expect(note.rowsBeforeAlter).toBeGreaterThan(0);
        const before = sqliteAll<{ id: string }>(source, "SELECT id FROM pools WHERE rowid <= ?", note.rowsBeforeAlter);
        const after = sqliteAll<{ id: string; discovery_source: string | null }>(
            source,
            "SELECT id, discovery_source FROM pools WHERE rowid > ?",
            note.rowsBeforeAlter,
        );
        const [b] = await fx.query<{ n: string; set: string }>(
            `SELECT count(*) AS n, count(*) FILTER (WHERE num_nonnulls(${note.columns!.join(", ")}) > 0) AS set FROM pools WHERE id = ANY($1)`,
            [before.map((r) => r.id)],
        );
        expect({ n: Number(b.n), set: Number(b.set) }).toEqual({ n: before.length, set: 0 });
        const t = await fx.query<{ id: string; discovery_source: string | null }>(
            "SELECT id, discovery_source FROM pools WHERE id = ANY($1) ORDER BY id",
            [after.map((r) => r.id)],
        );
        expect(t).toEqual([...after].sort((x, y) => (x.id < y.id ? -1 : 1)));
        expect(after.filter((r) => r.discovery_source !== null).length).toBeGreaterThan(0);
    });
});

describe("extended database (later columns, unknown table and column)", () => {
    let fx: MigrationFixture;
    let source: string;
    let manifest: GenerationManifest;
    let report: MigrationReport;

    beforeAll(async () => {
        fx = await createMigrationFixture("extended");
        ({ path: source, manifest } = fx.generate("extended", { variant: "extended", rows: 1500, seed: 3, counts: { tokens: 150 } }));
        // Hand-made extras with no obvious PostgreSQL type: reported, not copied.
        const db = new Database(source);
        db.exec(`ALTER TABLE collector_notes ADD COLUMN weight REAL;
                 UPDATE collector_notes SET weight = id * 0.5;
                 CREATE TABLE raw_blobs (data BLOB);
                 INSERT INTO raw_blobs VALUES (x'00ff');
                 CREATE TABLE kv (k TEXT PRIMARY KEY, v TEXT) WITHOUT ROWID;`);
        db.close();
        report = await fx.migrate(source, { includeExtraTables: true });
    });
    afterAll(async () => fx?.dispose());

    it("copies the later new_pools_history columns value for value", async () => {
        expectComplete(report);
        const cols = manifest.drift.find((d) => d.kind === "extra-columns" && d.table === "new_pools_history")!.columns!;
        expect(tableReport(report, "new_pools_history").missingColumns).toEqual(["discovery_source", "api_response_data"]);
        const src = sqliteAll<Record<string, string | number | null>>(
            source,
            `SELECT id, ${cols.join(", ")} FROM new_pools_history WHERE signal_score IS NOT NULL ORDER BY id`,
        );
        expect(src.length).toBeGreaterThan(0);
        for (const s of src.slice(0, 20)) {
            const [t] = await fx.query<Record<string, string | null>>(
                `SELECT ${cols.map((c) => `${c}::text`).join(", ")} FROM new_pools_history WHERE id = $1`,
                [s.id],
            );
            expect(t.volume_trend, `new_pools_history ${s.id}`).toBe(s.volume_trend);
            expect(t.liquidity_trend).toBe(s.liquidity_trend);
            for (const c of ["signal_score", "momentum_indicator", "activity_score", "volatility_score"]) {
                const [o] = await fx.query<{ v: string | null }>("SELECT $1::float8::text::numeric(10,4)::text AS v", [
                    s[c] === null ? null : String(s[c]),
                ]);
                expect(t[c], `${c} of ${s.id}`).toBe(o.v);
            }
        }
        const [n] = await fx.query<{ n: string }>("SELECT count(signal_score) AS n FROM new_pools_history");
        expect(Number(n.n)).toBe(src.length);
    });

    it("copies the unknown tokens column (TEXT) and reports it", async () => {
        expect(tableReport(report, "tokens").extraColumns).toEqual(["coingecko_coin_id"]);
        const [type] = await fx.query<{ t: string }>(
            "SELECT data_type AS t FROM information_schema.columns WHERE table_name = 'tokens' AND column_name = 'coingecko_coin_id'",
        );
        expect(type.t).toBe("text");
        const src = sqliteAll<{ id: string; c: string }>(
            source,
            "SELECT id, coingecko_coin_id AS c FROM tokens WHERE coingecko_coin_id IS NOT NULL",
        );
        expect(src.length).toBeGreaterThan(0);
        const t = await fx.query<{ id: string; c: string }>(
            "SELECT id, coingecko_coin_id AS c FROM tokens WHERE coingecko_coin_id IS NOT NULL ORDER BY id",
        );
        expect(t).toEqual([...src].sort((x, y) => (x.id < y.id ? -1 : 1)));
        expect(renderReport(report)).toContain("tokens: extra source columns copied: coingecko_coin_id");
    });

    it("copies the unknown collector_notes table with obvious types; reports what has none", async () => {
        const notes = tableReport(report, "collector_notes");
        expect(notes).toMatchObject({
            extra: true,
            sourceRows: manifest.tables.collector_notes,
            rowsCopiedThisRun: manifest.tables.collector_notes,
        });
        expect(notes.skippedColumns).toEqual([{ name: "weight", declaredType: "REAL" }]);
        const types = await fx.query<{ c: string; t: string }>(
            "SELECT column_name AS c, data_type AS t FROM information_schema.columns WHERE table_name = 'collector_notes' ORDER BY ordinal_position",
        );
        expect(types).toEqual([
            { c: "id", t: "bigint" },
            { c: "pool_id", t: "character varying" },
            { c: "author", t: "character varying" },
            { c: "note", t: "text" },
            { c: "created_at", t: "timestamp with time zone" },
        ]);
        const src = sqliteAll<{ id: number; note: string; created_at: string }>(
            source,
            "SELECT id, note, created_at FROM collector_notes ORDER BY id",
        );
        for (const s of src) {
            const [t] = await fx.query<{ note: string; same: boolean }>(
                "SELECT note, created_at = ($2::timestamp AT TIME ZONE 'UTC') AS same FROM collector_notes WHERE id = $1",
                [s.id, s.created_at],
            );
            expect(t, `collector_notes ${s.id}`).toEqual({ note: s.note, same: true });
        }
        expect(report.skippedTables).toEqual([
            { name: "kv", reason: "WITHOUT ROWID table (chunking needs rowids)" },
            { name: "raw_blobs", reason: "no column has an obvious PostgreSQL type" },
        ]);
        const text = renderReport(report);
        expect(text).toContain("collector_notes: column weight (REAL) not copied: no obvious PostgreSQL type");
        expect(text).toContain("table raw_blobs not copied: no column has an obvious PostgreSQL type");
    });
});
