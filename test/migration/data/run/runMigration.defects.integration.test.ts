/**
 * Every defect the generator can plant, checked against what the migration
 * report (and the quarantine it points to) says about the planted keys:
 * what is quarantined (with table, key, column, raw value and reason), what is
 * converted and how, what is copied as it is, and how orphans are handled
 * under each orphan policy. Uncheckpointed WAL rows come from a live writer
 * kept open during the run.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { MigrationReport } from "../../../../migration/data/report/report";
import { openLiveWriter, type GenerationManifest, type LiveWriter, type PlantedDefect } from "../../../../scripts/generator/collectorDb";
import { createMigrationFixture, HOST_ZONE, sqliteAll, tableReport, type MigrationFixture } from "../../../support/migrationFixture";

/** Key columns of the generated tables (the manifest's `key`, the report's row key). */
const KEY: Record<string, string> = { collection_metadata: "collector_type" };
const keyCol = (table: string) => KEY[table] ?? "id";
const keyOf = (d: PlantedDefect) => String(d.key[keyCol(d.table)]);
const tk = (table: string, key: string) => `${table} ${key}`;

/** Defect kinds whose values cannot be stored exactly: set aside (all are in nullable columns outside every key), their rows copied. */
const CONVERT_QUARANTINE = new Set(["overflow", "invalid-json", "unparseable-boolean"]);
/** The planted invalid JSON that is a Python literal (the collector's str(dict), str(None)): repaired, not quarantined. */
const pythonRepr = (d: PlantedDefect) => d.kind === "invalid-json" && /^(\{'.*\}|None)$/.test(String(d.value));

interface QuarantineRow {
    table_name: string;
    stage: string;
    key: string;
    column_name: string | null;
    raw_value: string | null;
    raw_type: string | null;
    reason: string;
}

describe.each([0, 2])("defects of a collector database (quarantine policy, convert workers: %i)", (convertWorkers) => {
    let fx: MigrationFixture;
    let source: string;
    let manifest: GenerationManifest;
    let live: LiveWriter;
    let report: MigrationReport;
    let quarantine: QuarantineRow[];
    let setAside: QuarantineRow[];

    /** Where a source row ended up: the target table, or quarantined as an orphan (its parent was quarantined); value of `column` as text. */
    async function landed(table: string, key: string, column: string): Promise<{ where: string; value: string | null }> {
        const rows = await fx.query<{ w: string; v: string | null }>(
            `SELECT w, r->>$3 AS v FROM (
                 SELECT 'target' AS w, to_jsonb(t) AS r FROM "${table}" t WHERE t."${keyCol(table)}"::text = $1
                 UNION ALL
                 SELECT 'orphan', row_data FROM gecko_quarantine.rows WHERE table_name = $2 AND stage = 'orphan' AND row_key->>$4 = $1
             ) x`,
            [key, table, column, keyCol(table)],
        );
        expect(rows.length, `${table} ${key} is in the target or quarantined as an orphan, exactly once`).toBe(1);
        return { where: rows[0].w, value: rows[0].v };
    }
    const planted = (pred: (d: PlantedDefect) => boolean) => manifest.defects.filter(pred);

    beforeAll(async () => {
        fx = await createMigrationFixture("defects");
        ({ path: source, manifest } = fx.generate("defects", {
            rows: 3000,
            seed: 11,
            defects: "all",
            counts: { system_alerts: 12, watchlist: 12 },
        }));
        live = openLiveWriter(source, { rows: 60, seed: 5 });
        report = await fx.migrate(source, { convertWorkers });
        quarantine = await fx.query<QuarantineRow>(
            "SELECT table_name, stage, row_key->>(CASE table_name WHEN 'collection_metadata' THEN 'collector_type' ELSE 'id' END) AS key, column_name, raw_value, raw_type, reason FROM gecko_quarantine.rows ORDER BY id",
        );
        setAside = await fx.query<QuarantineRow>(
            "SELECT table_name, 'value' AS stage, row_key->>(CASE table_name WHEN 'collection_metadata' THEN 'collector_type' ELSE 'id' END) AS key, column_name, raw_value, raw_type, reason FROM gecko_quarantine.set_aside_values ORDER BY id",
        );
    });
    afterAll(async () => {
        live?.close();
        await fx?.dispose();
    });

    it("plants every defect the generator knows", () => {
        const names = new Set(manifest.defects.map((d) => d.defect));
        for (const d of manifest.defectsRequested.filter((x) => x !== "uncheckpointed-wal")) expect(names.has(d), d).toBe(true);
        expect(live.inserted).toHaveLength(60);
    });

    it("fails the run because rows were quarantined and values set aside, and says where they are", () => {
        expect(report.ok).toBe(false);
        expect(report.quarantine.total).toBe(quarantine.length);
        expect(report.setAsideValues?.total).toBe(setAside.length);
        // One failure each: how many, where they are, and how to accept them.
        expect(report.failures).toEqual([
            expect.stringMatching(
                new RegExp(`^${quarantine.length} rows quarantined in gecko_quarantine\\.rows \\(.*allow-quarantine.*\\)$`),
            ),
            expect.stringMatching(
                new RegExp(
                    `^${setAside.length} values set aside in gecko_quarantine\\.set_aside_values, NULL in their rows \\(.*allow-quarantine.*\\)$`,
                ),
            ),
        ]);
        // Everything else holds: counts and checksums agree for every table.
        for (const t of report.tables) {
            expect(t.validation!.countsMatch, t.table).toBe(true);
            expect(t.validation!.mismatchedBuckets, t.table).toEqual([]);
            expect(t.validation!.sampleMismatches, t.table).toEqual([]);
        }
        expect(report.schema.ok).toBe(true);
    });

    it("sets aside exactly the unloadable planted values, with key, column, raw value and reason, and copies their rows", async () => {
        const expected = planted((d) => CONVERT_QUARANTINE.has(d.kind) && !pythonRepr(d));
        expect(expected.length).toBe(12 + 3 + 1); // overflows (2 in each of 6 columns), invalid JSON that is no Python literal either, 'maybe'
        // One bad value costs that value: no row was quarantined at conversion.
        expect(quarantine.filter((q) => q.stage === "convert")).toEqual([]);
        const converted = setAside;
        expect(converted.map((q) => tk(q.table_name, q.key)).sort()).toEqual(expected.map((d) => tk(d.table, keyOf(d))).sort());
        for (const d of expected) {
            expect((await landed(d.table, keyOf(d), d.columns[0])).value, tk(d.table, keyOf(d))).toBeNull();
            const q = converted.find((x) => x.table_name === d.table && x.key === keyOf(d))!;
            expect(q.column_name, tk(d.table, keyOf(d))).toBe(d.columns[0]);
            expect(q.raw_value).toBe(String(d.value));
            // SQLite's NUMERIC affinity stores an integral REAL that fits 64 bits as INTEGER.
            const storedAs =
                typeof d.value !== "number" ? "text" : Number.isInteger(d.value) && Math.abs(d.value) < 2 ** 63 ? "integer" : "real";
            expect(q.raw_type, tk(d.table, keyOf(d))).toBe(storedAs);
            if (d.kind === "overflow")
                expect(q.reason).toMatch(
                    new RegExp(
                        `^${storedAs.toUpperCase()} ${String(d.value).replace(".", "\\.")} overflows numeric\\(\\d+,\\d+\\): .*never truncated`,
                    ),
                );
            if (d.kind === "invalid-json") expect(q.reason).toMatch(new RegExp(`^TEXT .* is not valid jsonb: .* at character \\d+`));
            if (d.kind === "unparseable-boolean")
                expect(q.reason).toBe(`TEXT "maybe" is not a boolean: expected true/false/t/f/yes/no/1/0`);
        }
        // Per column, the report counts the same values.
        const perColumn: Record<string, number> = {};
        for (const d of expected) perColumn[`${d.table}.${d.columns[0]}`] = (perColumn[`${d.table}.${d.columns[0]}`] ?? 0) + 1;
        expect(report.setAsideValues?.byColumn).toEqual(perColumn);
        // The report's examples are real entries.
        expect(report.setAsideValues?.examples.length).toBe(Math.min(10, setAside.length));
        for (const e of report.setAsideValues?.examples ?? []) {
            expect(
                setAside.some(
                    (q) => q.table_name === e.table && q.column_name === e.column && q.raw_value === e.rawValue && q.reason === e.reason,
                ),
            ).toBe(true);
        }
    });

    it("repairs a Python literal in a JSON column: the row copied with the JSON it means, counted, its raw text kept beside its key", async () => {
        const repaired = planted(pythonRepr);
        expect(repaired.length).toBe(3); // two pools, one watchlist row
        const kept = await fx.query<{ table_name: string; key: string; column_name: string; raw_value: string; stored_value: string }>(
            "SELECT table_name, row_key->>'id' AS key, column_name, raw_value, stored_value FROM gecko_quarantine.repairs ORDER BY id",
        );
        expect(kept.map((k) => tk(k.table_name, k.key)).sort()).toEqual(repaired.map((d) => tk(d.table, keyOf(d))).sort());
        const meaning: Record<string, unknown> = {
            "{'fee_tier': '0.25', 'pool_type': 'amm'}": { fee_tier: "0.25", pool_type: "amm" },
            None: null,
            "{'added_by': 'cli'}": { added_by: "cli" },
        };
        for (const d of repaired) {
            const k = kept.find((x) => x.table_name === d.table && x.key === keyOf(d))!;
            expect(k).toMatchObject({ column_name: d.columns[0], raw_value: String(d.value) });
            const [row] = await fx.query<{ v: unknown }>(
                `SELECT "${d.columns[0]}" AS v FROM "${d.table}" WHERE "${keyCol(d.table)}"::text = $1`,
                [keyOf(d)],
            );
            expect(row.v, tk(d.table, keyOf(d))).toEqual(meaning[String(d.value)]);
        }
        expect(report.repairs?.total).toBe(3);
        expect(report.repairs?.byColumn).toEqual({
            "pools.metadata_json: python-repr-repaired": 2,
            "watchlist.metadata_json: python-repr-repaired": 1,
        });
        expect(tableReport(report, "pools").conversionWarnings?.["metadata_json: python-repr-repaired"]).toBe(2);
    });

    it("never truncates an overflowing value: NULL in its row, the raw value kept beside its key", async () => {
        for (const d of planted((x) => x.kind === "overflow")) {
            const rows = await fx.query<{ v: unknown }>(
                `SELECT "${d.columns[0]}" AS v FROM "${d.table}" WHERE "${keyCol(d.table)}"::text = $1`,
                [keyOf(d)],
            );
            // The row is in the target unless a parent of it went to quarantine (then it is an orphan there).
            if (rows.length) expect(rows, tk(d.table, keyOf(d))).toEqual([{ v: null }]);
            const [q] = await fx.query<{ v: string }>(
                "SELECT raw_value AS v FROM gecko_quarantine.set_aside_values WHERE table_name = $1 AND column_name = $3 AND row_key->>$4 = $2",
                [d.table, keyOf(d), d.columns[0], keyCol(d.table)],
            );
            expect(q.v).toBe(String(d.value));
        }
    });

    it("stores values at the precision limit exactly", async () => {
        const near = planted((d) => d.kind === "near-limit");
        expect(near.length).toBe(6);
        for (const d of near) {
            const got = await landed(d.table, keyOf(d), d.columns[0]);
            const [o] = await fx.query<{ v: string }>(
                `SELECT $1::float8::text::numeric(${numericType(d.table, d.columns[0])})::text AS v`,
                [String(d.value)],
            );
            expect(got.value, tk(d.table, keyOf(d))).toBe(o.v);
        }
        const ms = near.find((d) => d.table === "collection_metadata")!;
        expect((await landed("collection_metadata", keyOf(ms), "total_execution_time")).value).toBe("9876543.210");
        // A memecoin amount of 10^19 tokens: the pg model's numeric(30,10) would hold 10^20 but only 10 decimals,
        // the sqlite model's (30,18) 18 decimals but only 10^12; numeric(38,18) holds both.
        const meme = near.find((d) => d.table === "trades" && d.columns[0] === "from_token_amount")!;
        expect((await landed("trades", keyOf(meme), "from_token_amount")).value).toBe("98765432100000000000.000000000000000000");
    });

    it("loads NaN (stored as NULL) as NULL and numbers stored as TEXT, exponents included, exactly", async () => {
        for (const d of planted((x) => x.kind === "nan")) {
            const got = await landed(d.table, keyOf(d), d.columns[0]);
            expect(got.value, tk(d.table, keyOf(d))).toBeNull();
        }
        const text = planted((x) => x.kind === "text-number");
        expect(text.map((d) => d.value).sort()).toEqual(["1.5e-7", "1.5e-7", "3.04E-8", "3.04E-8", "3.04E-8", "987.07", "987.07"]);
        for (const d of text) {
            const got = await landed(d.table, keyOf(d), d.columns[0]);
            const [o] = await fx.query<{ v: string }>(`SELECT $1::numeric(${numericType(d.table, d.columns[0])})::text AS v`, [
                String(d.value),
            ]);
            expect(got.value, tk(d.table, keyOf(d))).toBe(o.v);
        }
        const exp = text.find((d) => d.table === "ohlcv_data" && d.value === "1.5e-7")!;
        expect((await landed("ohlcv_data", keyOf(exp), "close_price")).value).toBe("0.000000150000000000");
    });

    it("converts odd datetimes (T, Z, offsets, epoch seconds and milliseconds) to the right instant", async () => {
        const odd = planted((d) => d.defect === "odd-datetimes" && d.kind !== "empty-string");
        expect(new Set(odd.map((d) => d.kind))).toEqual(
            new Set(["iso-z", "epoch-seconds", "offset-suffix", "epoch-milliseconds", "iso-t"]),
        );
        for (const d of odd) {
            const column = d.columns[0];
            const got = await landed(d.table, keyOf(d), column);
            // PostgreSQL is the oracle: an instant as the planted value states it, naive text in the column's clock.
            const clock = d.table === "new_pools_history" && column === "collected_at" ? HOST_ZONE : "UTC";
            const oracle =
                d.kind === "epoch-seconds"
                    ? "to_timestamp($2::bigint)"
                    : d.kind === "epoch-milliseconds"
                      ? "to_timestamp($2::bigint / 1000.0)"
                      : d.kind === "iso-t"
                        ? `($2::timestamp AT TIME ZONE '${clock}')`
                        : "$2::timestamptz";
            const [r] = await fx.query<{ ok: boolean; got: string }>(`SELECT $1::timestamptz = ${oracle} AS ok, $1 AS got`, [
                got.value,
                String(d.value),
            ]);
            expect(r.ok, `${tk(d.table, keyOf(d))} ${column}=${String(d.value)} -> ${r.got}`).toBe(true);
            if (d.table === "trades") {
                // The trade id's epoch suffix is the same instant.
                const [s] = await fx.query<{ ok: boolean }>("SELECT extract(epoch FROM $1::timestamptz) = $2::numeric AS ok", [
                    got.value,
                    keyOf(d).split("_").pop(),
                ]);
                expect(s.ok, keyOf(d)).toBe(true);
            }
        }
    });

    it("loads empty datetime strings as NULL and counts them as empty-as-null conversion warnings", async () => {
        const empty = planted((d) => d.kind === "empty-string");
        expect(empty.length).toBe(5);
        const expected = new Map<string, number>();
        for (const d of empty) {
            expect((await landed(d.table, keyOf(d), d.columns[0])).value, tk(d.table, keyOf(d))).toBeNull();
            const k = `${d.table}|${d.columns[0]}: empty-as-null`;
            expected.set(k, (expected.get(k) ?? 0) + 1);
        }
        for (const [k, n] of expected) {
            const [table, warning] = k.split("|");
            expect(tableReport(report, table).conversionWarnings?.[warning], k).toBe(n);
        }
    });

    it("accepts text booleans it can read (yes/true/false) and converts them", async () => {
        const text = planted((d) => d.kind === "text-boolean");
        expect(text.length).toBe(4);
        for (const d of text) {
            const got = await landed(d.table, keyOf(d), d.columns[0]);
            expect(got.value, tk(d.table, keyOf(d))).toBe(d.value === "false" ? "false" : "true");
        }
    });

    it("copies blank pools, placeholder tokens, explicit NULLs over app defaults and test rows as they are", async () => {
        for (const d of planted((x) => x.kind === "blank-pool")) {
            const [p] = await fx.query<Record<string, string | null>>(
                "SELECT name, address, base_token_id, quote_token_id, reserve_usd FROM pools WHERE id = $1",
                [keyOf(d)],
            );
            expect(p, keyOf(d)).toEqual({ name: "", address: keyOf(d), base_token_id: null, quote_token_id: null, reserve_usd: null });
        }
        for (const d of planted((x) => x.kind === "placeholder-token")) {
            const [s] = sqliteAll<{ name: string; symbol: string }>(source, "SELECT name, symbol FROM tokens WHERE id = ?", keyOf(d));
            const [t] = await fx.query<Record<string, unknown>>("SELECT name, symbol, decimals FROM tokens WHERE id = $1", [keyOf(d)]);
            expect(t).toEqual({ name: s.name, symbol: s.symbol, decimals: null });
            expect(s.name).toMatch(/^Token \w{8}\.\.\.$/);
        }
        const nulls = planted((x) => x.defect === "null-defaults");
        expect(nulls.length).toBe(6);
        for (const d of nulls) expect((await landed("pools", keyOf(d), d.columns[0])).value, keyOf(d)).toBeNull();

        const tests = planted((x) => x.kind === "test-row");
        expect(tests.length).toBe(11);
        for (const d of tests) expect((await landed(d.table, keyOf(d), keyCol(d.table))).where, tk(d.table, keyOf(d))).toBe("target");
        const [dex] = await fx.query("SELECT id, name, network FROM dexes WHERE id = 'test_dex'");
        expect(dex).toEqual({ id: "test_dex", name: "Test DEX", network: "solana" });
        const [trade] = await fx.query<{ pool_id: string; volume_usd: string }>(
            "SELECT pool_id, volume_usd::text FROM trades WHERE id = 'test_trade_1'",
        );
        expect(trade).toEqual({ pool_id: "test_pool_1", volume_usd: "150.00000000" });
    });

    it("copies foreign-key-less dangling references (pool tokens, history pools) unchanged", async () => {
        for (const d of planted((x) => x.defect === "orphans" && x.columns.length === 1)) {
            const got = await landed(d.table, keyOf(d), d.columns[0]);
            expect(got, tk(d.table, keyOf(d))).toEqual({ where: "target", value: d.value });
        }
    });

    it("quarantines rows whose pool is missing (deleted pools, and pools quarantined themselves) as orphans", async () => {
        const quarantinedPools = new Set(quarantine.filter((q) => q.table_name === "pools").map((q) => q.key));
        const livePools = new Set(
            sqliteAll<{ id: string }>(source, "SELECT id FROM pools")
                .map((p) => p.id)
                .filter((id) => !quarantinedPools.has(id)),
        );
        const convertKeys = new Set(quarantine.filter((q) => q.stage === "convert").map((q) => tk(q.table_name, q.key)));
        const expected: string[] = [];
        const byTable: Record<string, number> = {};
        for (const table of ["ohlcv_data", "trades", "watchlist"]) {
            for (const r of sqliteAll<{ k: string | number; pool_id: string }>(source, `SELECT id AS k, pool_id FROM ${table}`)) {
                if (livePools.has(r.pool_id) || convertKeys.has(tk(table, String(r.k)))) continue;
                expected.push(tk(table, String(r.k)));
                byTable[table] = (byTable[table] ?? 0) + 1;
            }
        }
        const orphans = quarantine.filter((q) => q.stage === "orphan");
        expect(orphans.map((q) => tk(q.table_name, q.key)).sort()).toEqual(expected.sort());
        // The planted ones are among them, with the reason naming the foreign key.
        for (const d of planted((x) => x.kind === "trade-deleted-pool" || x.kind === "ohlcv-deleted-pool")) {
            const q = orphans.find((x) => x.table_name === d.table && x.key === keyOf(d));
            expect(q, tk(d.table, keyOf(d))).toMatchObject({ column_name: "pool_id", reason: "pool_id has no parent row in pools(id)" });
        }
        // The report's orphan summary adds up to the same rows.
        for (const [table, n] of Object.entries(byTable)) {
            const o = report.orphans.find((x) => x.table === table)!;
            expect(o, table).toMatchObject({ parent: "pools", action: "quarantine", rows: n });
            expect(report.quarantine.byTable[table]?.orphan, table).toBe(n);
        }
        expect(report.orphans.reduce((a, o) => a + o.rows, 0)).toBe(orphans.length);
    });

    it("migrates rows that exist only in the uncheckpointed -wal file", async () => {
        expect(report.source.journalMode).toBe("wal");
        const ids = live.inserted.map((d) => String(d.key.id));
        const rows = sqliteAll<{ id: string }>(source, `SELECT id FROM trades WHERE id IN (${ids.map(() => "?").join(",")})`, ...ids);
        expect(rows).toHaveLength(60); // visible to readers, not yet in the main file
        const where: string[] = [];
        for (const id of ids) where.push((await landed("trades", id, "id")).where);
        expect(where.filter((w) => w === "target").length).toBeGreaterThan(50);
        expect(where.every((w) => w === "target" || w === "orphan")).toBe(true);
        expect(tableReport(report, "trades").sourceRows).toBe(manifest.tables.trades! + 60);
    });

    it("is ok when quarantine is allowed (a rerun copies nothing and reports the same quarantine)", async () => {
        const allowed = await fx.migrate(source, { allowQuarantine: true, convertWorkers });
        expect(allowed.failures).toEqual([]);
        expect(allowed.ok).toBe(true);
        expect(allowed.quarantine.total).toBe(quarantine.length);
        expect(allowed.tables.reduce((a, t) => a + t.rowsCopiedThisRun, 0)).toBe(0);
    });
});

describe("orphan policies", () => {
    let fx: MigrationFixture;
    let source: string;
    let orphans: PlantedDefect[];
    let deletedPool: string;

    beforeAll(async () => {
        fx = await createMigrationFixture("orphans");
        const g = fx.generate("orphans", { rows: 2000, seed: 11, defects: ["orphans"] });
        source = g.path;
        orphans = g.manifest.defects.filter((d) => d.kind === "trade-deleted-pool" || d.kind === "ohlcv-deleted-pool");
        expect(orphans).toHaveLength(6);
        [{ pool_id: deletedPool }] = sqliteAll<{ pool_id: string }>(source, "SELECT pool_id FROM trades WHERE id = ?", keyOf(orphans[0]));
    });
    afterAll(async () => fx?.dispose());

    it("fail: the run throws naming the table, the foreign key and the orphan keys", async () => {
        const ohlcv = orphans.filter((d) => d.table === "ohlcv_data").map(keyOf);
        const err = await fx.migrate(source, { orphanPolicy: "fail" }).then(
            () => undefined,
            (e: Error) => e,
        );
        expect(err).toBeInstanceOf(Error);
        expect(err!.message).toMatch(
            /^3 orphan rows in ohlcv_data: pool_id has no parent row in pools\(id\); e\.g\. .* \(orphan policy: fail\)$/,
        );
        for (const k of ohlcv) expect(err!.message).toContain(`{"id": "${k}"}`);
        const [fk] = await fx.query<{ n: string }>("SELECT count(*) AS n FROM pg_constraint WHERE conname = 'ohlcv_data_pool_id_fkey'");
        expect(Number(fk.n)).toBe(0);
    });

    it("placeholder: invents the missing parents (recorded), keeps every child, and the counts add up", async () => {
        // Same target: the copy is done already, the rerun only handles orphans and finishes.
        const r = await fx.migrate(source, { orphanPolicy: "placeholder" });
        expect(r.failures).toEqual([]);
        expect(r.ok).toBe(true);
        expect(r.quarantine.total).toBe(0);
        const placeholders = await fx.query<{ table_name: string; key: string }>(
            "SELECT table_name, row_key->>'id' AS key FROM gecko_migration.placeholders ORDER BY 1",
        );
        expect(placeholders).toEqual([
            { table_name: "dexes", key: "gecko_pg_placeholder" },
            { table_name: "pools", key: deletedPool },
        ]);
        const [pool] = await fx.query("SELECT id, dex_id FROM pools WHERE id = $1", [deletedPool]);
        expect(pool).toEqual({ id: deletedPool, dex_id: "gecko_pg_placeholder" });
        // Every orphan child is in the target, pointing at the placeholder.
        for (const d of orphans) {
            const [c] = await fx.query<{ pool_id: string }>(`SELECT pool_id FROM ${d.table} WHERE id::text = $1`, [keyOf(d)]);
            expect(c?.pool_id, tk(d.table, keyOf(d))).toBe(deletedPool);
        }
        // Report: each foreign key with orphans, by child rows; validation discounts the placeholders.
        const byTable = Object.fromEntries(r.orphans.map((o) => [o.table, o]));
        expect(byTable.ohlcv_data).toMatchObject({
            foreignKey: "ohlcv_data_pool_id_fkey",
            parent: "pools",
            action: "placeholder",
            rows: 3,
        });
        expect(byTable.trades).toMatchObject({ foreignKey: "trades_pool_id_fkey", parent: "pools", action: "placeholder", rows: 3 });
        for (const table of ["pools", "dexes"]) {
            const v = tableReport(r, table).validation!;
            expect(v.placeholderRows, table).toBe(1);
            expect(v.targetRows, table).toBe(v.sourceRows + 1);
            expect(v.countsMatch, table).toBe(true);
            expect(v.mismatchedBuckets, table).toEqual([]);
        }
        for (const table of ["trades", "ohlcv_data"])
            expect(tableReport(r, table).validation!.targetRows, table).toBe(tableReport(r, table).sourceRows);
    });
});

/** `p,s` of a generated numeric column, from the target's catalog. */
const NUMERIC_TYPES: Record<string, string> = {
    "trades.price_usd": "30,18",
    "trades.volume_usd": "26,8",
    "trades.from_token_amount": "38,18",
    "ohlcv_data.close_price": "30,18",
    "pools.reserve_usd": "26,8",
    "pools.activity_score": "10,2",
    "new_pools_history.base_token_price_usd": "20,10",
    "new_pools_history.base_token_price_native_currency": "20,10",
    "new_pools_history.price_change_percentage_h24": "10,4",
    "new_pools_history.fdv_usd": "20,4",
    "collection_metadata.total_execution_time": "10,3",
};
function numericType(table: string, column: string): string {
    const t = NUMERIC_TYPES[`${table}.${column}`];
    if (!t) throw new Error(`no numeric type listed for ${table}.${column}`);
    return t;
}
