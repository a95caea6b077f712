/**
 * The catch-up sync (migration/cutover/sync.ts) on a migrated target while the source
 * keeps changing as a live collector changes it: trade inserts and retention deletes,
 * OHLCV candles rewritten in place, pool updates; a deleted last row whose rowid is
 * reused; a VACUUM that renumbers rowids; a value that stops converting and is fixed
 * again. After each pass `validate` (which re-reads the whole source) passes, and a
 * migrate rerun trusts the checksums the pass recorded.
 */
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import * as fs from "node:fs";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { syncPass, syncPassRetrying, type SyncReport } from "../../../migration/cutover/sync";
import { validateChangedTables } from "../../../migration/cutover/validateChanged";
import { silentLogger } from "../../../migration/data/options";
import { connectionUrl } from "../../../migration/postgres/connection";
import { createMigrationFixture, HOST_ZONE, type MigrationFixture } from "../../support/migrationFixture";
import { PROJECT_ROOT, SUPPORT_DIR } from "../../support/paths";

const counts = (r: SyncReport, table: string) => {
    const t = r.tables.find((x) => x.table === table);
    return (
        t && {
            inserted: t.inserted,
            updated: t.updated,
            deleted: t.deleted,
            quarantined: t.quarantined,
            released: t.released,
            ...(t.valuesSetAside ? { valuesSetAside: t.valuesSetAside } : {}),
        }
    );
};

describe("sync", () => {
    let fx: MigrationFixture;
    let source: string;
    const write = (fn: (db: Database.Database) => void) => {
        const db = new Database(source);
        db.pragma("foreign_keys = OFF"); // as the collector's SQLAlchemy connections: real files hold orphans
        try {
            fn(db);
        } finally {
            db.close();
        }
    };
    const sync = () => syncPass(fx.input(source));
    const expectConverged = async () => {
        const v = await fx.validate(source);
        expect(v.failures).toEqual([]);
        expect((await syncPass(fx.input(source), undefined, { full: true })).changes).toBe(0);
    };

    beforeAll(async () => {
        fx = await createMigrationFixture("sync");
        ({ path: source } = fx.generate("sync", { rows: 3000, seed: 5 }));
        expect((await fx.migrate(source)).ok).toBe(true);
    });
    afterAll(async () => fx?.dispose());

    it("refuses a target no migrate has copied into", async () => {
        const other = await createMigrationFixture("sync_empty");
        try {
            await expect(syncPass(other.input(source))).rejects.toThrow(/holds no migration yet/);
        } finally {
            await other.dispose();
        }
    });

    it("finds nothing to do right after the copy: at once from the unchanged file, or by comparing every table", async () => {
        const quick = await sync();
        expect(quick).toMatchObject({ sourceUnchanged: true, changes: 0, tables: [] });
        const full = await syncPass(fx.input(source), undefined, { full: true });
        expect(full).toMatchObject({ sourceUnchanged: false, changes: 0 });
        expect(full.tables.length).toBeGreaterThan(5);
    });

    it("answers from the pages alone when a checkpoint moved the file but changed no row: nothing read, the new fingerprint recorded", async () => {
        await syncPass(fx.input(source), undefined, { full: true });
        write((db) => {
            db.pragma("journal_mode = WAL");
            db.prepare("UPDATE pools SET name = name WHERE rowid = (SELECT min(rowid) FROM pools)").run(); // a commit that changes no byte of a row
            db.pragma("wal_checkpoint(TRUNCATE)");
        });
        for (const keepPagesBytes of [undefined, 0]) {
            fs.utimesSync(source, new Date(), new Date(Date.now() + 5000)); // the fingerprint (size and mtime) moves
            const r = await syncPass(fx.input(source), undefined, keepPagesBytes === undefined ? {} : { keepPagesBytes });
            expect(r).toMatchObject({ sourceUnchanged: false, mode: "pages", changedPages: 0, changes: 0 });
            expect(r.timings.introspect, "the tables were not read").toBeUndefined();
            expect(await sync()).toMatchObject({ sourceUnchanged: true, mode: "none" });
        }
    });

    it("follows inserts, in-place updates and deletes, table by table, and validates afterwards", async () => {
        let candle = 0;
        let pool = "";
        let trade = "";
        write((db) => {
            candle = Number((db.prepare("SELECT rowid AS r FROM ohlcv_data ORDER BY rowid LIMIT 1 OFFSET 5").get() as { r: number }).r);
            db.prepare("UPDATE ohlcv_data SET close_price = close_price * 2 WHERE rowid = ?").run(candle);
            pool = (db.prepare("SELECT id FROM pools ORDER BY id LIMIT 1 OFFSET 2").get() as { id: string }).id;
            db.prepare("UPDATE pools SET last_updated = '2031-01-02 03:04:05' WHERE id = ?").run(pool);
            trade = (db.prepare("SELECT id FROM trades ORDER BY rowid LIMIT 1 OFFSET 9").get() as { id: string }).id;
            db.prepare("DELETE FROM trades WHERE id = ?").run(trade);
            db.prepare(
                "INSERT INTO trades (id, pool_id, block_number, tx_hash, from_token_amount, to_token_amount, price_usd, volume_usd, side, block_timestamp) " +
                    "SELECT 'sync_new_trade', pool_id, block_number, 'tx_new', from_token_amount, to_token_amount, price_usd, volume_usd, side, block_timestamp FROM trades LIMIT 1",
            ).run();
        });
        const r = await sync();
        // From the pages that changed, not by reading every row.
        expect(r).toMatchObject({ mode: "pages" });
        expect(r.changedPages).toBeGreaterThan(0);
        expect(r.changedPages).toBeLessThan(30);
        expect(counts(r, "ohlcv_data")).toMatchObject({ updated: 1, inserted: 0, deleted: 0 });
        expect(counts(r, "pools")).toMatchObject({ updated: 1 });
        expect(counts(r, "trades")).toMatchObject({ inserted: 1, deleted: 1, updated: 0 });
        expect(r.changes).toBe(4);
        const [row] = await fx.query<{ n: string }>("SELECT count(*) AS n FROM trades WHERE id = $1", [trade]);
        expect(Number(row.n)).toBe(0);
        await expectConverged();
        // A migrate rerun now trusts the checksums the pass recorded (and the fingerprint it saved).
        const again = await fx.migrate(source);
        expect(again.failures).toEqual([]);
        expect(again.tables.every((t) => t.validation!.checksumSource === "copy")).toBe(true);
    });

    it("from the changed pages alone, follows a reused rowid in a table keyed by rowid and in one keyed by text", async () => {
        let candleId = 0;
        let lastTrade = "";
        await syncPass(fx.input(source), undefined, { full: true }); // what the pages are compared with
        write((db) => {
            // ohlcv_data.id is the rowid: the deleted last candle's id comes back for a different candle.
            candleId = Number((db.prepare("SELECT max(id) AS m FROM ohlcv_data").get() as { m: number }).m);
            db.prepare("DELETE FROM ohlcv_data WHERE id = ?").run(candleId);
            db.prepare(
                "INSERT INTO ohlcv_data (pool_id, timeframe, timestamp, open_price, high_price, low_price, close_price, volume_usd, datetime) " +
                    "SELECT pool_id, timeframe, timestamp + 777, 1, 2, 0.5, 1.5, 10, datetime FROM ohlcv_data WHERE id = (SELECT min(id) FROM ohlcv_data)",
            ).run();
            // trades has a text key: the new trade gets the deleted last trade's rowid.
            const last = db.prepare("SELECT rowid AS r, id FROM trades ORDER BY rowid DESC LIMIT 1").get() as { r: number; id: string };
            lastTrade = last.id;
            db.prepare("DELETE FROM trades WHERE id = ?").run(last.id);
            db.prepare(
                "INSERT INTO trades (id, pool_id, block_number, tx_hash, from_token_amount, to_token_amount, price_usd, volume_usd, side, block_timestamp) " +
                    "SELECT 'sync_reused_trade_rowid', pool_id, block_number, 'tx_r', from_token_amount, to_token_amount, price_usd, volume_usd, side, block_timestamp FROM trades LIMIT 1",
            ).run();
            expect((db.prepare("SELECT rowid AS r FROM trades WHERE id = 'sync_reused_trade_rowid'").get() as { r: number }).r).toBe(
                last.r,
            );
            expect((db.prepare("SELECT max(id) AS m FROM ohlcv_data").get() as { m: number }).m).toBe(candleId);
        });
        const r = await sync();
        expect(r, r.fullReason).toMatchObject({ mode: "pages" });
        expect(counts(r, "ohlcv_data")).toMatchObject({ updated: 1, inserted: 0, deleted: 0 });
        expect(counts(r, "trades")).toMatchObject({ inserted: 1, deleted: 1, updated: 0 });
        expect(await fx.query("SELECT 1 FROM trades WHERE id = $1", [lastTrade])).toEqual([]);
        const [candle] = await fx.query<{ c: string }>("SELECT close_price::text AS c FROM ohlcv_data WHERE id = $1", [candleId]);
        expect(Number(candle.c)).toBe(1.5);
        // The checksums the pass recorded (old versions out, new ones in) agree with the target without re-reading the source.
        expect(await validateChangedTables(fx.input(source), silentLogger)).toEqual({ tables: ["ohlcv_data", "trades"], failures: [] });
        await expectConverged();
    });

    it("places retention deletes in a table keyed by rowid from the changed pages, without comparing every key", async () => {
        await syncPass(fx.input(source), undefined, { full: true });
        let removed = 0;
        write((db) => {
            const cut = db.prepare("SELECT id FROM ohlcv_data ORDER BY id LIMIT 1 OFFSET 7").pluck().get() as number;
            removed = db.prepare("DELETE FROM ohlcv_data WHERE id < ?").run(cut).changes;
        });
        const r = await sync();
        expect(r).toMatchObject({ mode: "pages", censusTables: [] });
        expect(counts(r, "ohlcv_data")).toMatchObject({ deleted: removed, inserted: 0, updated: 0 });
        expect(await validateChangedTables(fx.input(source), silentLogger)).toEqual({ tables: ["ohlcv_data"], failures: [] });
        await expectConverged();
    });

    it("places deletes in a table keyed by text from the pages the last pass kept; with nothing kept, compares every key", async () => {
        const retention = (db: Database.Database, n: number) =>
            db.prepare("DELETE FROM trades WHERE id IN (SELECT id FROM trades ORDER BY block_timestamp, id LIMIT ?)").run(n).changes;
        await syncPass(fx.input(source), undefined, { full: true }); // keeps its pages in this process
        let removed = 0;
        let candles = 0;
        write((db) => {
            removed = retention(db, 40);
            // The oldest candles, a block of whole leaves: freed, not rewritten, with no changed leaf beside them.
            candles = db.prepare("DELETE FROM ohlcv_data WHERE id IN (SELECT id FROM ohlcv_data ORDER BY id LIMIT 150)").run().changes;
            db.prepare(
                "INSERT INTO trades (id, pool_id, block_number, tx_hash, side, block_timestamp) SELECT 'kept_pages_' || id, pool_id, block_number, 'tx_k', side, block_timestamp FROM trades LIMIT 3",
            ).run();
        });
        const kept = await sync();
        expect(kept).toMatchObject({ mode: "pages", censusTables: [] });
        expect(counts(kept, "trades")).toMatchObject({ deleted: removed, inserted: 3, updated: 0 });
        expect(counts(kept, "ohlcv_data")).toMatchObject({ deleted: candles, inserted: 0, updated: 0 });
        expect(await validateChangedTables(fx.input(source), silentLogger)).toEqual({ tables: ["ohlcv_data", "trades"], failures: [] });

        await syncPass(fx.input(source), undefined, { keepPagesBytes: 0 }); // keeps nothing: the next pass has only hashes
        write((db) => (removed = retention(db, 25)));
        const hashed = await syncPass(fx.input(source), undefined, { keepPagesBytes: 0 });
        expect(hashed).toMatchObject({ mode: "pages", censusTables: ["trades"] });
        expect(counts(hashed, "trades")).toMatchObject({ deleted: removed, inserted: 0, updated: 0 });
        await expectConverged();
    });

    it("matches rows by key, so a reused rowid and a VACUUM that renumbers rows change nothing they should not", async () => {
        const removed: Record<string, number> = {};
        write((db) => {
            // pools has a text key: its rowids are SQLite's own, which a VACUUM may renumber.
            const last = db.prepare("SELECT rowid AS r, id FROM pools ORDER BY rowid DESC LIMIT 1").get() as { r: number; id: string };
            for (const table of ["watchlist", "ohlcv_data", "trades"]) {
                removed[table] = db.prepare(`DELETE FROM ${table} WHERE pool_id = ?`).run(last.id).changes;
            }
            db.prepare("DELETE FROM pools WHERE id = ?").run(last.id);
            db.prepare(
                "INSERT INTO pools (id, address, name, dex_id) SELECT 'sync_reused_rowid', 'addr', 'reused', dex_id FROM pools LIMIT 1",
            ).run();
            const reused = db.prepare("SELECT rowid AS r FROM pools WHERE id = 'sync_reused_rowid'").get() as { r: number };
            expect(reused.r).toBe(last.r); // SQLite handed the deleted last row's rowid out again
            db.exec("VACUUM"); // and the gaps the deletes left in the other tables' rowids close up
        });
        expect(removed.trades + removed.ohlcv_data).toBeGreaterThan(0);
        const r = await sync();
        expect(counts(r, "pools")).toEqual({ inserted: 1, updated: 0, deleted: 1, quarantined: 0, released: 0 });
        for (const table of ["watchlist", "ohlcv_data", "trades"]) {
            expect(counts(r, table), table).toEqual({ inserted: 0, updated: 0, deleted: removed[table], quarantined: 0, released: 0 });
        }
        await expectConverged();
    });

    it("repairs a Python literal the collector wrote since, keeping its raw text; a fix or a delete forgets it", async () => {
        let pool = "";
        write((db) => {
            pool = db.prepare("SELECT id FROM pools ORDER BY id DESC LIMIT 1").pluck().get() as string;
            db.prepare("UPDATE pools SET metadata_json = ? WHERE id = ?").run("{'dex': 'raydium', 'v': (1, 2)}", pool);
        });
        expect(counts(await sync(), "pools")).toMatchObject({ updated: 1 });
        const [row] = await fx.query<{ m: unknown }>("SELECT metadata_json AS m FROM pools WHERE id = $1", [pool]);
        expect(row.m).toEqual({ dex: "raydium", v: [1, 2] });
        const kept = () =>
            fx.query<{ raw_value: string }>(
                "SELECT raw_value FROM gecko_quarantine.repairs WHERE table_name = 'pools' AND row_key->>'id' = $1",
                [pool],
            );
        expect(await kept()).toEqual([{ raw_value: "{'dex': 'raydium', 'v': (1, 2)}" }]);
        write((db) => db.prepare("UPDATE pools SET metadata_json = ? WHERE id = ?").run('{"dex": "raydium"}', pool));
        expect(counts(await sync(), "pools")).toMatchObject({ updated: 1 });
        expect(await kept()).toEqual([]);
        await expectConverged();
    });

    it("sets aside a value that stops converting (NULL in its row, kept with its reason), and writes it once the source is fixed", async () => {
        let id = "";
        write((db) => {
            id = (db.prepare("SELECT id FROM trades ORDER BY rowid LIMIT 1 OFFSET 20").get() as { id: string }).id;
            db.prepare("UPDATE trades SET volume_usd = 'not a number' WHERE id = ?").run(id);
        });
        const r = await sync();
        expect(counts(r, "trades")).toMatchObject({ updated: 1, quarantined: 0, valuesSetAside: 1 });
        const kept = await fx.query<{ column_name: string; raw_value: string }>(
            "SELECT column_name, raw_value FROM gecko_quarantine.set_aside_values WHERE table_name = 'trades' AND row_key->>'id' = $1",
            [id],
        );
        expect(kept).toEqual([{ column_name: "volume_usd", raw_value: "not a number" }]);
        expect(await fx.query("SELECT volume_usd FROM trades WHERE id = $1", [id])).toEqual([{ volume_usd: null }]);
        expect((await fx.validate(source, { allowQuarantine: true })).failures).toEqual([]);

        write((db) => db.prepare("UPDATE trades SET volume_usd = 12.5 WHERE id = ?").run(id));
        const fixed = await sync();
        expect(counts(fixed, "trades")).toMatchObject({ updated: 1, quarantined: 0 });
        expect((await fx.query("SELECT volume_usd::text AS v FROM trades WHERE id = $1", [id]))[0]).toEqual({
            v: expect.stringMatching(/^12\.50*$/),
        });
        expect(await fx.query("SELECT 1 FROM gecko_quarantine.set_aside_values WHERE table_name = 'trades'")).toEqual([]);
        await expectConverged();
    });

    it("sets aside a row whose NOT NULL column stops converting, and copies it back once the source is fixed", async () => {
        let id = "";
        let pool = "";
        write((db) => {
            ({ id, pool_id: pool } = db.prepare("SELECT id, pool_id FROM trades ORDER BY rowid LIMIT 1 OFFSET 21").get() as {
                id: string;
                pool_id: string;
            });
            db.prepare("UPDATE trades SET pool_id = ? WHERE id = ?").run("p".repeat(201), id);
        });
        const r = await sync();
        expect(counts(r, "trades")).toMatchObject({ quarantined: 1 });
        const q = await fx.query("SELECT column_name FROM gecko_quarantine.rows WHERE table_name = 'trades' AND row_key->>'id' = $1", [id]);
        expect(q).toEqual([{ column_name: "pool_id" }]);
        expect((await fx.query("SELECT 1 FROM trades WHERE id = $1", [id])).length).toBe(0);
        expect((await fx.validate(source, { allowQuarantine: true })).failures).toEqual([]);

        write((db) => db.prepare("UPDATE trades SET pool_id = ? WHERE id = ?").run(pool, id));
        const fixed = await sync();
        expect(counts(fixed, "trades")).toMatchObject({ inserted: 1, quarantined: 0 });
        expect(await fx.query("SELECT 1 FROM gecko_quarantine.rows WHERE table_name = 'trades'")).toEqual([]);
        await expectConverged();
    });

    it("sets aside a new row whose parent the target lacks, and returns it once the parent arrives", async () => {
        write((db) =>
            db
                .prepare(
                    "INSERT INTO trades (id, pool_id, block_number, tx_hash, from_token_amount, to_token_amount, price_usd, volume_usd, side, block_timestamp) " +
                        "SELECT 'sync_orphan_trade', 'sync_pool_to_come', block_number, 'tx_o', from_token_amount, to_token_amount, price_usd, volume_usd, side, block_timestamp FROM trades LIMIT 1",
                )
                .run(),
        );
        const r = await sync();
        expect(counts(r, "trades")).toMatchObject({ inserted: 0, quarantined: 1 });
        const q = await fx.query<{ stage: string }>("SELECT stage FROM gecko_quarantine.rows WHERE row_key->>'id' = 'sync_orphan_trade'");
        expect(q).toEqual([{ stage: "orphan" }]);
        expect((await fx.validate(source, { allowQuarantine: true })).failures).toEqual([]);

        write((db) =>
            db
                .prepare(
                    "INSERT INTO pools (id, address, name, dex_id) SELECT 'sync_pool_to_come', 'a2', 'late', dex_id FROM pools LIMIT 1",
                )
                .run(),
        );
        const back = await sync();
        expect(counts(back, "pools")).toMatchObject({ inserted: 1 });
        expect(counts(back, "trades")).toMatchObject({ inserted: 1, released: 1 });
        expect(await fx.query("SELECT 1 FROM gecko_quarantine.rows WHERE table_name = 'trades'")).toEqual([]);
        await expectConverged();
    });

    it("killed (SIGKILL) just before its commit, changes nothing and releases the lock; the next pass converges", async () => {
        let candle = 0;
        write((db) => {
            candle = Number((db.prepare("SELECT rowid AS r FROM ohlcv_data ORDER BY rowid LIMIT 1 OFFSET 40").get() as { r: number }).r);
            db.prepare("UPDATE ohlcv_data SET volume_usd = volume_usd + 7 WHERE rowid = ?").run(candle);
            db.prepare("DELETE FROM trades WHERE rowid = (SELECT max(rowid) FROM trades)").run();
        });
        const before = await fx.query("SELECT count(*)::int AS n, sum(volume_usd)::text AS v FROM ohlcv_data");
        const tradesBefore = await fx.query("SELECT count(*)::int AS n FROM trades");
        const child = spawnSync(process.execPath, ["--import", "tsx", path.join(SUPPORT_DIR, "syncChild.ts")], {
            cwd: PROJECT_ROOT,
            env: { ...process.env, GECKO_TEST_SYNC: JSON.stringify(fx.input(source)), GECKO_TEST_KILL_BEFORE_COMMIT: "1" },
            encoding: "utf8",
        });
        expect(child.signal, child.stderr).toBe("SIGKILL");
        expect(await fx.query("SELECT count(*)::int AS n, sum(volume_usd)::text AS v FROM ohlcv_data")).toEqual(before);
        expect(await fx.query("SELECT count(*)::int AS n FROM trades")).toEqual(tradesBefore);
        const r = await sync(); // the dead session's advisory lock went with it
        expect(counts(r, "ohlcv_data")).toMatchObject({ updated: 1 });
        expect(counts(r, "trades")).toMatchObject({ deleted: 1 });
        await expectConverged();
    });

    it("a pass whose connection is terminated before its commit is made again on a fresh one, the retry logged", async () => {
        write((db) => db.prepare("UPDATE pools SET name = name || ' (retried)' WHERE rowid = (SELECT min(rowid) FROM pools)").run());
        const warnings: string[] = [];
        let terminated = 0;
        const report = await syncPassRetrying(
            fx.input(source, { retrySeconds: 10 }),
            { ...silentLogger, warn: (m: string) => warnings.push(m) },
            {
                beforeCommit: async () => {
                    if (terminated++) return;
                    // The server ends the pass's session under it, as pg_terminate_backend or a restart would.
                    await fx.query(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND application_name LIKE 'gecko-pg%'",
                    );
                },
            },
        );
        expect(terminated).toBe(2);
        expect(counts(report, "pools")).toMatchObject({ updated: 1 });
        expect(warnings).toEqual([expect.stringMatching(/^sync: .*terminat.*; retry 1 after 0\.5 s/i)]);
        await expectConverged();
    });

    it("runs from the command line: gecko-pg sync --passes 3 stops after the pass that found nothing", () => {
        write((db) => db.prepare("UPDATE pools SET name = name || ' (renamed)' WHERE rowid = (SELECT min(rowid) FROM pools)").run());
        const { password, ...withoutPassword } = fx.target;
        const cli = spawnSync(
            process.execPath,
            [
                path.join(PROJECT_ROOT, "scripts/gecko-pg.js"),
                "sync",
                "--sqlite",
                source,
                "--source-time-zone",
                HOST_ZONE,
                "--owner-role",
                fx.ownerRole,
                "--app-role",
                fx.appRole,
                "--passes",
                "3",
                "--quiet",
            ],
            {
                cwd: PROJECT_ROOT,
                env: { ...process.env, GECKO_TARGET_URL: connectionUrl({ ...withoutPassword, password }) },
                encoding: "utf8",
            },
        );
        expect(cli.status, cli.stderr).toBe(0);
        expect(cli.stdout).toContain("  pools: +0 inserted, 1 updated, -0 deleted, 0 set aside, 0 released");
        expect(cli.stdout.match(/^gecko-pg sync OK/gm)).toHaveLength(2); // the second pass found nothing
        expect(cli.stdout).toContain("the source file is as the last run left it");
        expect(cli.stdout + cli.stderr).not.toContain(password);
    });
});
