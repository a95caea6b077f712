/**
 * The round trip (migration/rollback/): migrate, sync and cut over while a simulated collector
 * writes to the SQLite file; the collector then writes through PostgreSQL as its own role (its
 * inserts, upserts, updates and retention deletes); the rollback writes every one of those rows
 * back. Afterwards the file holds exactly what PostgreSQL holds (validate re-reads the whole
 * file and compares every value), still reads as the collector's own (schema unchanged,
 * integrity_check ok, its statements work), and the backup restores the file byte for byte.
 * Killed inside its SQLite transaction, a rollback is finished by the next run.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCutover, type CutoverOptions } from "../../../migration/cutover/cutover";
import { syncPass } from "../../../migration/cutover/sync";
import { silentLogger } from "../../../migration/data/options";
import { withSession } from "../../../migration/postgres/session";
import { restoreBackup, sha256Of } from "../../../migration/rollback/backup";
import { runRollback } from "../../../migration/rollback/rollback";
import { createMigrationFixture, HOST_ZONE, type MigrationFixture } from "../../support/migrationFixture";
import { PROJECT_ROOT, SUPPORT_DIR } from "../../support/paths";
import { startSimulator } from "../../support/simulator";

const schemaOf = (file: string) => {
    const db = new Database(file, { readonly: true });
    try {
        return db.prepare("SELECT type, name, sql FROM sqlite_master ORDER BY name").all();
    } finally {
        db.close();
    }
};

const cutoverOptions = (fx: MigrationFixture, source: string, hooks: Partial<CutoverOptions>): CutoverOptions => ({
    input: fx.input(source),
    freezeBudgetSeconds: 5,
    lockWaitMs: 5000,
    attempts: 3,
    catchUpPasses: 10,
    collector: { postgres: { host: fx.target.host, port: fx.target.port, database: fx.target.database, user: fx.appRole } },
    logger: silentLogger,
    ...hooks,
});

describe("rollback", () => {
    let fx: MigrationFixture;
    let source: string;
    let snapshotBeforeRollback: { db: string; schema: unknown[] };

    beforeAll(async () => {
        fx = await createMigrationFixture("rollback");
        ({ path: source } = fx.generate("roundtrip", { rows: 8000, seed: 21 }));
        const sim = startSimulator(source, path.join(fx.dir, "collector.log"), HOST_ZONE, "--tick-ms", "20");
        await sim.ready;
        try {
            expect((await fx.migrate(source)).ok).toBe(true);
            expect((await syncPass(fx.input(source))).ok).toBe(true);
            const cut = await runCutover(cutoverOptions(fx, source, { stopCollector: async () => void (await sim.kill()) }));
            expect(cut.error).toBeUndefined();
        } finally {
            await sim.kill();
        }
        await collectorWritesToPostgres(fx);
        snapshotBeforeRollback = { db: sha256Of(source), schema: schemaOf(source) };
    });
    afterAll(async () => fx?.dispose());

    it("refuses without a way to stop the collector, and changes nothing", async () => {
        const r = await runRollback({ input: fx.input(source), backupDir: path.join(fx.dir, "b0"), logger: silentLogger });
        expect(r.ok).toBe(false);
        expect(r.error).toMatch(/--stop-collector/);
        expect(sha256Of(source)).toBe(snapshotBeforeRollback.db);
    });

    it("killed (SIGKILL) inside its SQLite transaction, leaves the file's rows as they were; the rerun converges", async () => {
        const backupDir = path.join(fx.dir, "backup");
        const child = spawnSync(process.execPath, ["--import", "tsx", path.join(SUPPORT_DIR, "rollbackChild.ts")], {
            cwd: PROJECT_ROOT,
            env: { ...process.env, GECKO_TEST_ROLLBACK: JSON.stringify(fx.input(source)), GECKO_TEST_BACKUP: backupDir },
            encoding: "utf8",
        });
        expect(child.signal, child.stderr).toBe("SIGKILL");
        expect(fs.readdirSync(backupDir).sort()).toEqual(
            fs
                .readdirSync(path.dirname(source))
                .filter((f) => f === path.basename(source) || f === `${path.basename(source)}-wal`)
                .sort(),
        );
        expect(schemaOf(source)).toEqual(snapshotBeforeRollback.schema);

        const r = await runRollback({ input: fx.input(source), backupDir, collectorStopped: true, logger: silentLogger });
        expect(r.error).toBeUndefined();
        expect(r.ok).toBe(true);
        expect(r.conflicts).toEqual([]);
        expect(r.inexact).toEqual([]);
        expect(r.tables.trades.upserted + r.tables.trades.deleted).toBeGreaterThan(0);
        expect(r.tables.ohlcv_data.upserted).toBeGreaterThan(0);

        // The file holds exactly what PostgreSQL holds: validate re-reads every row and compares every value.
        const v = await fx.validate(source);
        expect(v.failures).toEqual([]);
        // Still the collector's own file: the same schema, sound, and its statements work on it.
        expect(schemaOf(source)).toEqual(snapshotBeforeRollback.schema);
        const db = new Database(source);
        try {
            expect(db.pragma("integrity_check", { simple: true })).toBe("ok");
            const candle = db.prepare("SELECT pool_id, timeframe, timestamp FROM ohlcv_data ORDER BY id DESC LIMIT 1").get() as Record<
                string,
                unknown
            >;
            db.prepare(
                "INSERT INTO ohlcv_data (pool_id, timeframe, timestamp, open_price, high_price, low_price, close_price, volume_usd, datetime) VALUES (?, ?, ?, 1, 1, 1, 1, 1, '2025-01-01 00:00:00.000000') ON CONFLICT(pool_id, timeframe, timestamp) DO UPDATE SET close_price = excluded.close_price",
            ).run(candle.pool_id, candle.timeframe, candle.timestamp);
            db.prepare("INSERT INTO trades (id, pool_id) VALUES ('after_rollback', ?) ON CONFLICT(id) DO NOTHING").run(candle.pool_id);
        } finally {
            db.close();
        }
        // The backup gives the file back byte for byte.
        restoreBackup(r.backup!, source);
        expect(sha256Of(source)).toBe(snapshotBeforeRollback.db);
        // And sync works again (the cutover is rolled back), from a full comparison.
        await expect(syncPass(fx.input(source))).resolves.toMatchObject({ ok: true, mode: "full" });
    });

    it("never overwrites a row that changed in the file after the cutover too: refused, or reported by key with --accept-sqlite-changes", async () => {
        const cut = await runCutover(cutoverOptions(fx, source, { collectorStopped: true }));
        expect(cut.error).toBeUndefined();
        const [both, pgOnly] = await fx.query<{ id: string }>("SELECT id FROM trades WHERE id NOT LIKE 'pg_%' ORDER BY id LIMIT 2");
        await withSession("collector", fx.app, async (c) => {
            await c.query("UPDATE trades SET volume_usd = 1 WHERE id = ANY($1)", [[both.id, pgOnly.id]]);
        });
        const db = new Database(source);
        db.prepare("UPDATE trades SET volume_usd = 777 WHERE id = ?").run(both.id); // someone wrote to the old file
        db.close();
        const before = sha256Of(source);
        const refused = await runRollback({
            input: fx.input(source),
            backupDir: path.join(fx.dir, "b2"),
            collectorStopped: true,
            logger: silentLogger,
        });
        expect(refused.ok).toBe(false);
        expect(refused.error).toMatch(/the SQLite file changed after the cutover \(trades: \d+ keys on changed pages\)/);
        expect(sha256Of(source)).toBe(before);

        const r = await runRollback({
            input: fx.input(source),
            backupDir: path.join(fx.dir, "b3"),
            collectorStopped: true,
            acceptSqliteChanges: true,
            logger: silentLogger,
        });
        expect(r.ok).toBe(false); // done, but with a conflict to settle by hand
        expect(r.conflicts).toEqual([{ table: "trades", key: both.id }]);
        const check = new Database(source, { readonly: true });
        try {
            expect(check.prepare("SELECT volume_usd AS v FROM trades WHERE id = ?").get(both.id)).toEqual({ v: 777 });
            expect(check.prepare("SELECT volume_usd AS v FROM trades WHERE id = ?").get(pgOnly.id)).toEqual({ v: 1 });
        } finally {
            check.close();
        }
    });
});

/** The collector on PostgreSQL, as its own role: trade ingest, OHLCV upserts (in place and new), a pool update, retention deletes. */
async function collectorWritesToPostgres(fx: MigrationFixture): Promise<void> {
    await withSession("collector", fx.app, async (c) => {
        const [pool] = (
            await c.query<{ id: string }>("SELECT pool_id AS id FROM ohlcv_data GROUP BY pool_id ORDER BY count(*) DESC LIMIT 1")
        ).rows;
        await c.query(
            `INSERT INTO trades (id, pool_id, block_number, tx_hash, from_token_amount, to_token_amount, price_usd, volume_usd, side, block_timestamp)
             SELECT 'pg_trade_' || g, $1, 300000000 + g, 'tx_pg_' || g, 1.5 * g, 2.25 * g, 0.123456789012, 42.5 * g, 'buy', now() - g * interval '1 minute'
               FROM generate_series(1, 20) g ON CONFLICT (id) DO NOTHING`,
            [pool.id],
        );
        const [last] = (
            await c.query<{ timeframe: string; timestamp: string }>(
                "SELECT timeframe, timestamp::text FROM ohlcv_data WHERE pool_id = $1 ORDER BY timestamp DESC LIMIT 1",
                [pool.id],
            )
        ).rows;
        for (const ts of [Number(last.timestamp), Number(last.timestamp) + 3600]) {
            await c.query(
                `INSERT INTO ohlcv_data (pool_id, timeframe, timestamp, open_price, high_price, low_price, close_price, volume_usd, datetime)
                 VALUES ($1, $2, $3::bigint, 1.25, 2.5, 0.75, 2.125, 1234.5, to_timestamp($3::bigint))
                 ON CONFLICT (pool_id, timeframe, timestamp) DO UPDATE SET close_price = EXCLUDED.close_price, volume_usd = EXCLUDED.volume_usd`,
                [pool.id, last.timeframe, ts],
            );
        }
        await c.query("UPDATE pools SET reserve_usd = 98765.43, last_updated = now() WHERE id = $1", [pool.id]);
        await c.query("DELETE FROM trades WHERE id IN (SELECT id FROM trades WHERE id NOT LIKE 'pg_%' ORDER BY block_timestamp LIMIT 5)");
        await c.query("DELETE FROM ohlcv_data WHERE id IN (SELECT id FROM ohlcv_data ORDER BY datetime LIMIT 5)");
    });
}
