/**
 * compare on a migrated generated database: a collector host in America/Chicago, four months of
 * data across the 2025-03-09 DST change and three month starts (ohlcv_data partitions). The
 * "altered" schema variant has pools older than their activity_score column (NULL there), and
 * 120 never-checked auto-discovered pools are added, more than the discovery query's LIMIT 100.
 * Every query is equal except the two named for those reasons; then a changed value, a missing
 * row and a shifted clock planted in PostgreSQL (as the admin, after the migration) are each
 * caught and named, on rows the drawn parameters select. The command line's exit statuses last.
 */
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CompareReport } from "../../../migration/compare/report";
import { runCompare } from "../../../migration/compare/runCompare";
import { connectionUrl } from "../../../migration/postgres/connection";
import { createMigrationFixture, HOST_ZONE, type MigrationFixture } from "../../support/migrationFixture";
import { PROJECT_ROOT } from "../../support/paths";

describe("compare", () => {
    let fx: MigrationFixture;
    let source: string;
    let baseline: CompareReport;
    const compare = (only?: string[]) => runCompare({ input: fx.input(source), only });
    const result = (r: CompareReport, id: string, label: string) => {
        const found = r.results.find((x) => x.id === id && x.label === label);
        if (!found) throw new Error(`no ${id} (${label}) in ${r.results.map((x) => `${x.id} (${x.label})`).join(", ")}`);
        return found;
    };
    /** The busy pools, the 1h timeframe and the DST window the parameters drew. */
    const drawn = () => {
        const p = baseline.parameters;
        const dst = p.windows.find((w) => w.label.startsWith("DST change"))!;
        return { dst, ohlcvPool: p.pools.ohlcv_data[0].id, tradePool: p.pools.trades[0].id };
    };

    beforeAll(async () => {
        fx = await createMigrationFixture("compare");
        ({ path: source } = fx.generate("compare", { rows: 6000, seed: 11, variant: "altered" }));
        const db = new Database(source);
        try {
            db.prepare(
                `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 120)
                 INSERT INTO pools (id, address, name, dex_id, reserve_usd, created_at, last_updated, discovery_source, collection_priority)
                 SELECT 'solana_compare_' || i, 'compare_' || i, 'COMPARE / SOL', (SELECT dex_id FROM pools LIMIT 1), 1000.5,
                        '2025-05-01 00:00:00.000000', '2025-05-01 00:00:00', 'auto', 'normal' FROM n`,
            ).run();
        } finally {
            db.close();
        }
        expect((await fx.migrate(source)).ok).toBe(true);
        baseline = await compare();
    });
    afterAll(async () => fx?.dispose());

    it("reports every query equal except the ones it names null-order or unstable", () => {
        expect(baseline.ok).toBe(true);
        const notEqual = baseline.results.filter((r) => r.verdict !== "equal").map((r) => [r.id, r.verdict, r.reason]);
        expect(notEqual).toEqual([
            ["discovery.ranking", "null-order", "equal once NULLs of ORDER BY activity_score DESC are placed as PostgreSQL places them"],
            ["discovery.due", "unstable", "SQLite's two runs returned different rows; PostgreSQL's answer is one SQLite gives"],
        ]);
        expect(baseline.summary).toMatchObject({ different: 0, "null-order": 1, unstable: 1, skipped: 1 });
        expect(baseline.skipped).toEqual([
            { id: "history.top_signal", reason: "the source file has no column new_pools_history.signal_score" },
        ]);
        // Every collector query ran, with parameters that select rows: windows across the DST change and a month start.
        const ran = new Set(baseline.results.map((r) => r.id));
        for (const id of [
            "watchlist.active",
            "pools.by_id",
            "ohlcv.by_pool",
            "ohlcv.window",
            "trades.by_pool",
            "trades.window",
            "trades.window_volume",
        ])
            expect(ran, id).toContain(id);
        for (const id of [
            "trades.known_ids",
            "history.by_pool",
            "stats.history_hourly",
            "stats.ohlcv_per_pool",
            "stats.trades_per_pool",
            "retention.ohlcv",
            "orm.trades",
        ])
            expect(ran, id).toContain(id);
        expect(baseline.parameters.windows.map((w) => w.label)).toEqual([
            expect.stringMatching(/^partition bound 2025-0[345]-01$/),
            "DST change 2025-03-09",
        ]);
        const { dst } = drawn();
        expect(result(baseline, "ohlcv.window", `busy pool, 1h, ${dst.label}`).rows.sqlite).toBeGreaterThan(1);
        expect(result(baseline, "trades.window", `busy pool, ${dst.label}`).rows.sqlite).toBeGreaterThan(1);
        for (const r of baseline.results) expect(r.ms.sqlite >= 0 && r.ms.postgres > 0, r.id).toBe(true);
    });

    it("catches a changed value: one candle's close_price", async () => {
        const { dst, ohlcvPool } = drawn();
        const [candle] = await fx.query<{ id: string; close: string }>(
            "SELECT id::text, close_price::text AS close FROM ohlcv_data WHERE pool_id = $1 AND timeframe = '1h' AND datetime BETWEEN $2 AND $3 ORDER BY datetime LIMIT 1",
            [ohlcvPool, dst.from, dst.to],
        );
        const [changed] = await fx.query<{ close: string }>(
            "UPDATE ohlcv_data SET close_price = close_price + 1 WHERE id = $1 RETURNING close_price::text AS close",
            [candle.id],
        );
        try {
            const r = await compare(["ohlcv."]);
            expect(r.ok).toBe(false);
            const hit = result(r, "ohlcv.window", `busy pool, 1h, ${dst.label}`);
            expect(hit).toMatchObject({ verdict: "different", counts: { changed: 1, missing: 0, extra: 0 } });
            expect(hit.differences).toEqual([
                {
                    kind: "changed",
                    key: { id: candle.id },
                    columns: [{ column: "close_price", sqlite: candle.close, postgres: changed.close }],
                },
            ]);
            expect(result(r, "ohlcv.by_pool", "busy pool, 1h").verdict).toBe("different");
            expect(r.results.filter((x) => x.verdict === "different").every((x) => x.label.includes("1h"))).toBe(true);
        } finally {
            await fx.query("UPDATE ohlcv_data SET close_price = $2 WHERE id = $1", [candle.id, candle.close]);
        }
    });

    it("catches a missing row: one trade the window selects, deleted", async () => {
        const { dst, tradePool } = drawn();
        const [trade] = await fx.query<{ id: string; row: unknown }>(
            "SELECT id, to_jsonb(t) AS row FROM trades t WHERE pool_id = $1 AND block_timestamp BETWEEN $2 AND $3 ORDER BY block_timestamp LIMIT 1",
            [tradePool, dst.from, dst.to],
        );
        await fx.query("DELETE FROM trades WHERE id = $1", [trade.id]);
        try {
            const r = await compare(["trades."]);
            const hit = result(r, "trades.window", `busy pool, ${dst.label}`);
            expect(hit).toMatchObject({ verdict: "different", counts: { changed: 0, missing: 1, extra: 0 } });
            expect(hit.differences).toEqual([expect.objectContaining({ kind: "missing-in-postgres", key: { id: trade.id } })]);
            expect(result(r, "trades.by_pool", "busy pool")).toMatchObject({ verdict: "different", counts: { missing: 1 } });
        } finally {
            await fx.query("INSERT INTO trades SELECT * FROM jsonb_populate_record(NULL::trades, $1)", [trade.row]);
        }
    });

    it("catches a shifted clock: one candle's datetime an hour late, named as such", async () => {
        const { dst, ohlcvPool } = drawn();
        const [candle] = await fx.query<{ id: string }>(
            "SELECT id::text FROM ohlcv_data WHERE pool_id = $1 AND timeframe = '1h' AND datetime BETWEEN $2 AND $3::timestamptz - interval '2 hours' ORDER BY datetime LIMIT 1",
            [ohlcvPool, dst.from, dst.to],
        );
        await fx.query("UPDATE ohlcv_data SET datetime = datetime + interval '1 hour' WHERE id = $1", [candle.id]);
        try {
            const r = await compare(["ohlcv.window", "stats.ohlcv"]);
            const hit = result(r, "ohlcv.window", `busy pool, 1h, ${dst.label}`);
            expect(hit).toMatchObject({ verdict: "different", counts: { changed: 1, missing: 0, extra: 0 } });
            expect(hit.differences[0]).toMatchObject({
                kind: "changed",
                key: { id: candle.id },
                columns: [{ column: "datetime", note: "PostgreSQL is 1 h later" }],
            });
        } finally {
            await fx.query("UPDATE ohlcv_data SET datetime = datetime - interval '1 hour' WHERE id = $1", [candle.id]);
        }
    });

    it("on the command line: the table or JSON, exit 0 when nothing differs, 1 when something does, 2 and 3 for usage and run errors", async () => {
        const cli = (args: string[], url = connectionUrl(fx.target)) =>
            spawnSync(
                process.execPath,
                ["--import", "tsx", "scripts/compare.ts", "--sqlite", source, "--source-time-zone", HOST_ZONE, ...args],
                {
                    cwd: PROJECT_ROOT,
                    env: { ...process.env, GECKO_TARGET_URL: url },
                    encoding: "utf8",
                },
            );
        const help = cli(["--help"]);
        expect(help.stdout.split("\n")[0]).toBe("Usage: gecko-pg compare [options]");
        const report = path.join(fx.dir, "compare.json");
        const ok = cli(["--json", "--report", report, "--query", "trades.", "--query", "discovery."]);
        expect(ok.status, ok.stderr).toBe(0);
        expect(JSON.parse(ok.stdout).summary).toMatchObject({ different: 0, "null-order": 1, unstable: 1 });
        expect(ok.stdout).not.toContain(fx.target.password);
        const [trade] = await fx.query<{ id: string; row: unknown }>(
            "SELECT id, to_jsonb(t) AS row FROM trades t WHERE pool_id = $1 LIMIT 1",
            [drawn().tradePool],
        );
        await fx.query("DELETE FROM trades WHERE id = $1", [trade.id]);
        try {
            const differs = cli(["--report", report, "--query", "trades.by_pool"]);
            expect(differs.status, differs.stderr).toBe(1);
            expect(differs.stdout).toContain(`missing in PostgreSQL: id=${trade.id.slice(0, 20)}`);
        } finally {
            await fx.query("INSERT INTO trades SELECT * FROM jsonb_populate_record(NULL::trades, $1)", [trade.row]);
        }
        expect(cli(["--bogus"])).toMatchObject({ status: 2, stderr: expect.stringContaining("unknown option --bogus") });
        const down = cli(["--quiet", "--report", report], connectionUrl({ ...fx.target, port: 1 }));
        expect(down.status).toBe(3);
        expect(down.stderr.trim().split("\n")).toHaveLength(1);
        expect(down.stderr).toMatch(/^error: compare: cannot connect to \S+ \S*/);
    });
});
