/**
 * Happy path: a generated `current` collector database (host zone
 * America/Chicago) migrated into a real PostgreSQL. The report says ok with
 * full-coverage checksums, and the stored values are checked with SQL against
 * the source: numeric rounding, the local-clock column converted with the host
 * zone, the UTC clock agreeing with the trade ids, booleans, jsonb, identity
 * sequences; a rerun copies nothing; a source rescan validates.
 */
import Database from "better-sqlite3";
import { Client } from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clientConfig } from "../../../../migration/postgres/connection";
import type { MigrationReport } from "../../../../migration/data/report/report";
import { createMigrationFixture, HOST_ZONE, sqliteAll, tableReport, type MigrationFixture } from "../../../support/migrationFixture";

// Both ways the copy can convert: in the main thread, and in worker threads on the shared snapshot.
describe.each([0, 2])("migration of a current collector database (convert workers: %i)", (convertWorkers) => {
    let fx: MigrationFixture;
    let source: string;
    let report: MigrationReport;
    let sourceCounts: Record<string, number>;
    // Text COPY must escape (and the literal text \N, which is not NULL), planted in pools.name and metadata_json.
    const specials = ["tab\there", "line\nbreak\r\n", "back\\slash", "\\N", "\t"];
    let specialIds: string[];

    beforeAll(async () => {
        fx = await createMigrationFixture("copy");
        ({ path: source } = fx.generate("current", { rows: 3000, seed: 7 }));
        const db = new Database(source);
        specialIds = db.prepare("SELECT id FROM pools ORDER BY rowid LIMIT ?").pluck().all(specials.length) as string[];
        const plant = db.prepare("UPDATE pools SET name = ?, metadata_json = ? WHERE id = ?");
        specialIds.forEach((id, i) => plant.run(specials[i], JSON.stringify({ note: specials[i] }), id));
        db.close();
        sourceCounts = Object.fromEntries(
            sqliteAll<{ name: string }>(source, "SELECT name FROM sqlite_master WHERE type = 'table'").map((t) => [
                t.name,
                sqliteAll<{ n: number }>(source, `SELECT count(*) AS n FROM "${t.name}"`)[0].n,
            ]),
        );
        report = await fx.migrate(source, { convertWorkers });
    });
    afterAll(async () => fx?.dispose());

    it("reports ok: every table counted, checksummed and sampled", () => {
        expect(report.failures).toEqual([]);
        expect(report.ok).toBe(true);
        expect(report.quarantine.total).toBe(0);
        expect(report.schema).toEqual({ ok: true, problems: [] });
        expect(report.missingTables).toEqual([]);
        // The clocks measured in the data agree with the policy (host zone for local columns).
        expect(report.warnings).toEqual([]);
        expect(report.clockChecks).toMatchObject([
            { column: "ohlcv_data.datetime", status: "ok", policyAgrees: true, policyZone: HOST_ZONE },
            { column: "trades.block_timestamp", status: "ok", policyAgrees: true, policyZone: "UTC" },
        ]);
        expect(report.tables.map((t) => t.table).sort()).toEqual(Object.keys(sourceCounts).sort());
        for (const t of report.tables) {
            const v = t.validation!;
            expect(t.sourceRows, t.table).toBe(sourceCounts[t.table]);
            expect(v.targetRows + v.quarantinedRows, t.table).toBe(t.sourceRows);
            expect(v.countsMatch, t.table).toBe(true);
            expect(t.rowsCopiedThisRun, t.table).toBe(t.sourceRows);
            expect(v.mismatchedBuckets, t.table).toEqual([]);
            expect(v.differences, t.table).toEqual([]);
            expect(v.checksumSource).toBe("copy");
            expect(v.sampleMismatches, t.table).toEqual([]);
            if (t.sourceRows > 0) expect(v.sampleCompared, t.table).toBeGreaterThan(0);
        }
        expect(tableReport(report, "trades").sourceRows).toBeGreaterThan(1000);
        expect(tableReport(report, "ohlcv_data").sourceRows).toBeGreaterThan(1000);
    });

    it("target row counts equal the source, table by table", async () => {
        for (const [table, n] of Object.entries(sourceCounts)) {
            const [r] = await fx.query<{ n: string }>(`SELECT count(*) AS n FROM "${table}"`);
            expect(Number(r.n), table).toBe(n);
        }
    });

    it("rounds a REAL with float noise into numeric(20,8) half away from zero, from its shortest decimal", async () => {
        const rows = sqliteAll<{ id: string; v: number }>(
            source,
            "SELECT id, volume_usd AS v FROM trades WHERE typeof(volume_usd) = 'real'",
        );
        // A value whose 9th fraction digit forces rounding up: truncation would give a different result.
        const noisy = rows.find((r) => /^\d+\.\d{8}[5-9]\d*$/.test(String(r.v)));
        expect(noisy, "a trades.volume_usd with more than 8 fraction digits, 9th >= 5").toBeDefined();
        const text = String(noisy!.v);
        const [int, frac] = text.split(".");
        const truncated = `${int}.${frac.slice(0, 8)}`;
        const [t] = await fx.query<{ v: string; oracle: string }>(
            "SELECT volume_usd::text AS v, $2::float8::text::numeric(20,8)::text AS oracle FROM trades WHERE id = $1",
            [noisy!.id, text],
        );
        expect(t.v).toBe(t.oracle);
        expect(t.v).not.toBe(truncated);
        // Same digits as rounding the shortest decimal by hand.
        const up = (BigInt(int + frac.slice(0, 8)) + 1n).toString().padStart(9, "0");
        expect(t.v).toBe(`${up.slice(0, -8) || "0"}.${up.slice(-8)}`);
    });

    it("converts the local-clock ohlcv_data.datetime with the host zone: it equals to_timestamp(timestamp) on every row", async () => {
        // The source really holds Chicago wall-clock time (UTC would be 5 or 6 hours later).
        const [s] = sqliteAll<{ datetime: string; timestamp: number }>(
            source,
            "SELECT datetime, timestamp FROM ohlcv_data ORDER BY rowid LIMIT 1",
        );
        expect(s.datetime.slice(0, 19)).not.toBe(new Date(s.timestamp * 1000).toISOString().replace("T", " ").slice(0, 19));
        const [r] = await fx.query<{ n: string; bad: string }>(
            "SELECT count(*) AS n, count(*) FILTER (WHERE datetime IS DISTINCT FROM to_timestamp(timestamp)) AS bad FROM ohlcv_data",
        );
        expect(Number(r.n)).toBe(sourceCounts.ohlcv_data);
        expect(Number(r.bad)).toBe(0);
        // And against the source text read in the host zone by PostgreSQL itself.
        const [row] = await fx.query<{ ok: boolean }>(
            `SELECT datetime = ($2::timestamp AT TIME ZONE '${HOST_ZONE}') AS ok FROM ohlcv_data WHERE timestamp = $1 LIMIT 1`,
            [s.timestamp, s.datetime],
        );
        expect(row.ok).toBe(true);
    });

    it("keeps trades.block_timestamp in UTC: it equals the epoch second that ends every trade id", async () => {
        const [r] = await fx.query<{ n: string; bad: string }>(
            `SELECT count(*) AS n,
                    count(*) FILTER (WHERE extract(epoch FROM block_timestamp) IS DISTINCT FROM substring(id FROM '_(\\d+)$')::numeric) AS bad
               FROM trades`,
        );
        expect(Number(r.n)).toBe(sourceCounts.trades);
        expect(Number(r.bad)).toBe(0);
    });

    it("copies text with tabs, newlines, backslashes and a literal \\N exactly (COPY escaping)", async () => {
        const rows = await fx.query<{ id: string; name: string; note: string }>(
            "SELECT id, name, metadata_json->>'note' AS note FROM pools WHERE id = ANY($1)",
            [specialIds],
        );
        expect(new Map(rows.map((r) => [r.id, [r.name, r.note]]))).toEqual(
            new Map(specialIds.map((id, i) => [id, [specials[i], specials[i]]])),
        );
    });

    it("copies booleans (0/1) and JSON text (as jsonb) value for value", async () => {
        const alerts = sqliteAll<{ id: number; a: number; r: number }>(
            source,
            "SELECT id, acknowledged AS a, resolved AS r FROM system_alerts",
        );
        expect(alerts.length).toBeGreaterThan(0);
        for (const s of alerts) {
            const [t] = await fx.query<{ a: boolean; r: boolean }>(
                "SELECT acknowledged AS a, resolved AS r FROM system_alerts WHERE id = $1",
                [s.id],
            );
            expect([t.a, t.r], `system_alerts ${s.id}`).toEqual([s.a === 1, s.r === 1]);
        }
        const watch = sqliteAll<{ id: number; a: number }>(source, "SELECT id, is_active AS a FROM watchlist");
        const [w] = await fx.query<{ bad: string }>(
            "SELECT count(*) FILTER (WHERE w.is_active IS DISTINCT FROM (s.a = 1)) AS bad FROM watchlist w JOIN unnest($1::bigint[], $2::int[]) AS s(id, a) ON s.id = w.id",
            [watch.map((x) => x.id), watch.map((x) => x.a)],
        );
        expect(Number(w.bad)).toBe(0);

        const json = sqliteAll<{ id: string; j: string }>(source, "SELECT id, metadata_json AS j FROM pools");
        expect(
            json.some((x) => x.j !== "{}"),
            "some pools carry non-empty metadata",
        ).toBe(true);
        const [p] = await fx.query<{ n: string; bad: string }>(
            "SELECT count(*) AS n, count(*) FILTER (WHERE p.metadata_json IS DISTINCT FROM s.j::jsonb) AS bad FROM pools p JOIN unnest($1::text[], $2::text[]) AS s(id, j) ON s.id = p.id",
            [json.map((x) => x.id), json.map((x) => x.j)],
        );
        expect(Number(p.n)).toBe(json.length);
        expect(Number(p.bad)).toBe(0);
        const [type] = await fx.query<{ t: string }>("SELECT pg_typeof(metadata_json)::text AS t FROM pools LIMIT 1");
        expect(type.t).toBe("jsonb");
    });

    it("a rerun copies nothing and is still ok", async () => {
        const again = await fx.migrate(source, { convertWorkers });
        expect(again.failures).toEqual([]);
        expect(again.ok).toBe(true);
        for (const t of again.tables) {
            expect(t.rowsCopiedThisRun, t.table).toBe(0);
            expect(t.chunks.copiedThisRun, t.table).toBe(0);
            expect(t.chunks.alreadyDone, t.table).toBe(t.chunks.total);
            expect(t.validation!.countsMatch, t.table).toBe(true);
        }
        const [r] = await fx.query<{ n: string }>("SELECT count(*) AS n FROM trades");
        expect(Number(r.n)).toBe(sourceCounts.trades);
        const runs = await fx.query<{ ok: boolean }>("SELECT ok FROM gecko_migration.runs ORDER BY id");
        expect(runs.map((x) => x.ok)).toEqual([true, true]);
    });

    it("runValidation re-reads the whole source and agrees", async () => {
        const v = await fx.validate(source);
        expect(v.failures).toEqual([]);
        expect(v.ok).toBe(true);
        expect(v.options.phase).toBe("validate");
        for (const t of v.tables) {
            expect(t.validation!.checksumSource).toBe("source-rescan");
            expect(t.validation!.mismatchedBuckets, t.table).toEqual([]);
            expect(t.rowsCopiedThisRun).toBe(0);
        }
    });

    it("identity sequences are past max(id) and the collector's role can insert without an id", async () => {
        for (const table of [
            "ohlcv_data",
            "watchlist",
            "new_pools_history",
            "execution_history",
            "performance_metrics",
            "system_alerts",
            "discovery_metadata",
        ]) {
            const [r] = await fx.query<{ last: string; max: string }>(
                `SELECT (SELECT last_value FROM pg_sequences WHERE schemaname || '.' || sequencename = pg_get_serial_sequence('public.${table}', 'id'))::text AS last,
                        (SELECT max(id) FROM ${table})::text AS max`,
            );
            expect(BigInt(r.last), table).toBeGreaterThanOrEqual(BigInt(r.max));
        }
        const [{ max }] = await fx.query<{ max: string }>("SELECT max(id)::text AS max FROM ohlcv_data");
        const [pool] = await fx.query<{ id: string }>("SELECT id FROM pools ORDER BY id LIMIT 1");
        const app = new Client(clientConfig(fx.app));
        await app.connect();
        try {
            const tz = await app.query<{ tz: string }>("SELECT current_setting('TimeZone') AS tz");
            expect(tz.rows[0].tz).toBe("UTC");
            // The collector's OHLCV ingest: no id, ON CONFLICT on the natural key; naive datetime read as UTC.
            const ins = await app.query<{ id: string }>(
                `INSERT INTO ohlcv_data (pool_id, timeframe, timestamp, open_price, high_price, low_price, close_price, volume_usd, datetime)
                 VALUES ($1, '1h', 1748736000, 1, 1.1, 0.9, 1.05, 100.5, '2025-06-01 00:00:00')
                 ON CONFLICT (pool_id, timeframe, timestamp) DO UPDATE SET close_price = EXCLUDED.close_price RETURNING id::text`,
                [pool.id],
            );
            expect(BigInt(ins.rows[0].id)).toBeGreaterThan(BigInt(max));
            const w = await app.query<{ id: string; is_active: boolean; metadata_json: unknown }>(
                "INSERT INTO watchlist (pool_id, token_symbol) SELECT id, 'NEW' FROM pools WHERE id NOT IN (SELECT pool_id FROM watchlist) ORDER BY id LIMIT 1 RETURNING id::text, is_active, metadata_json",
            );
            expect(w.rows[0]).toMatchObject({ is_active: true, metadata_json: {} });
            // ... but it cannot change the schema.
            await expect(app.query("ALTER TABLE trades ADD COLUMN x int")).rejects.toThrow(/must be owner/);
        } finally {
            await app.end();
        }
    });
});
