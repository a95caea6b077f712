/**
 * The cutover (migration/cutover/cutover.ts, scripts/cutover.ts) on a real PostgreSQL with a
 * simulated collector (scripts/simulate-collector.ts) writing its write mix into the SQLite
 * file the whole time: during the copy, during sync passes, into the freeze. Afterwards every
 * write the collector committed is in PostgreSQL, none of its writes failed, `validate`
 * passes, the configuration names PostgreSQL, and sync refuses to overwrite the new primary.
 * A cutover killed inside the freeze leaves the collector on SQLite with the lock gone.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCutover, type CutoverOptions } from "../../../migration/cutover/cutover";
import { finalizeCutover } from "../../../migration/cutover/cutoverRecord";
import { acquireWriteFreeze } from "../../../migration/cutover/freeze";
import { silentLogger } from "../../../migration/data/options";
import { runRollback } from "../../../migration/rollback/rollback";
import { syncPass } from "../../../migration/cutover/sync";
import { connectionUrl } from "../../../migration/postgres/connection";
import { withSession } from "../../../migration/postgres/session";
import { expectedRows, LOGGED_KEY_COLUMNS, readCollectorLog } from "../../../scripts/generator/simulatedCollector";
import { createMigrationFixture, HOST_ZONE, sha256, type MigrationFixture } from "../../support/migrationFixture";
import { PROJECT_ROOT, SUPPORT_DIR } from "../../support/paths";
import { startSimulator } from "../../support/simulator";

const sqliteConfig = (file: string) =>
    `app:\n  name: collector\ndatabase:\n  url: "sqlite:///${file}"\n  pool_size: 5\nlogging:\n  level: INFO\n`;

function options(fx: MigrationFixture, source: string, config: string, extra: Partial<CutoverOptions> = {}): CutoverOptions {
    return {
        input: fx.input(source),
        freezeBudgetSeconds: 5,
        lockWaitMs: 5000,
        attempts: 3,
        catchUpPasses: 10,
        collectorConfigPath: config,
        collector: {
            postgres: { host: fx.target.host, port: fx.target.port, database: fx.target.database, user: fx.appRole },
            password: "pw",
        },
        logger: { info: () => undefined, warn: () => undefined },
        ...extra,
    };
}

/** Whether another connection can take the write lock at once. */
function lockIsFree(file: string): boolean {
    const db = new Database(file, { timeout: 100 });
    try {
        db.exec("BEGIN IMMEDIATE");
        db.exec("ROLLBACK");
        return true;
    } catch {
        return false;
    } finally {
        db.close();
    }
}

describe("the write freeze", () => {
    let fx: MigrationFixture;
    beforeAll(async () => {
        fx = await createMigrationFixture("freeze");
    });
    afterAll(async () => fx?.dispose());

    it("holds the write lock without modifying the file, proves nothing committed, and lets go", () => {
        const { path: file } = fx.generate("quiet", { rows: 2000, seed: 2 });
        const before = [sha256(file), sha256(`${file}-wal`)];
        const freeze = acquireWriteFreeze(file, 1000);
        expect(lockIsFree(file)).toBe(false); // the collector's writers would wait here
        expect(freeze.quiet()).toMatchObject({ quiet: true });
        freeze.close();
        expect(lockIsFree(file)).toBe(true);
        expect([sha256(file), sha256(`${file}-wal`)]).toEqual(before);
    });
});

describe("cutover", () => {
    let fx: MigrationFixture;
    let source: string;
    let config: string;

    beforeAll(async () => {
        fx = await createMigrationFixture("cutover");
        ({ path: source } = fx.generate("cutover", { rows: 6000, seed: 11 }));
        config = path.join(fx.dir, "config.yaml");
        fs.writeFileSync(config, sqliteConfig(source));
        expect((await fx.migrate(source)).ok).toBe(true);
    });
    afterAll(async () => fx?.dispose());

    it("refuses to freeze without a way to stop the collector, and --dry-run stops before the freeze", async () => {
        const refused = await runCutover(options(fx, source, config));
        expect(refused.ok).toBe(false);
        expect(refused.error).toMatch(/--stop-collector/);
        const env = {
            ...process.env,
            GECKO_TARGET_URL: connectionUrl(fx.target),
            GECKO_SQLITE_PATH: source,
            GECKO_SOURCE_TIME_ZONE: HOST_ZONE,
        };
        const cli = spawnSync(
            process.execPath,
            [
                "--import",
                "tsx",
                "scripts/migrate.ts",
                "cutover",
                "--dry-run",
                "--collector-config",
                config,
                "--owner-role",
                fx.ownerRole,
                "--app-role",
                fx.appRole,
                "--report",
                path.join(fx.dir, "dry.json"),
            ],
            {
                cwd: PROJECT_ROOT,
                env,
                encoding: "utf8",
            },
        );
        expect(cli.status, cli.stderr).toBe(0);
        expect(cli.stdout).toMatch(/DRY RUN OK/);
        expect(cli.stdout).toMatch(/would take the write lock/);
        expect(cli.stdout).not.toContain(fx.target.password);
        expect(fs.readFileSync(config, "utf8")).toBe(sqliteConfig(source));
        expect(await fx.query("SELECT 1 FROM gecko_migration.cutovers")).toEqual([]);
    });

    it("killed (SIGKILL) inside the freeze: the lock goes with the process, nothing is switched, a rerun cuts over", async () => {
        const child = spawnSync(process.execPath, ["--import", "tsx", path.join(SUPPORT_DIR, "cutoverChild.ts")], {
            cwd: PROJECT_ROOT,
            env: { ...process.env, GECKO_TEST_CUTOVER: JSON.stringify(fx.input(source)), GECKO_TEST_CONFIG: config },
            encoding: "utf8",
        });
        expect(child.signal, child.stderr).toBe("SIGKILL");
        expect(child.stdout).toContain("frozen");
        expect(lockIsFree(source)).toBe(true);
        expect(await fx.query("SELECT 1 FROM gecko_migration.cutovers")).toEqual([]);
        expect(fs.readFileSync(config, "utf8")).toBe(sqliteConfig(source));

        let started = 0;
        const r = await runCutover(options(fx, source, config, { collectorStopped: true, startCollector: async () => void started++ }));
        expect(r.error).toBeUndefined();
        expect(r.ok).toBe(true);
        expect(started).toBe(1);
        expect(r.steps.map((s) => s.step)).toEqual(["preflight", "catch-up", "freeze", "verify", "record", "configure", "start-collector"]);
        const yaml = fs.readFileSync(config, "utf8");
        expect(yaml).toMatch(/^database:\n {2}url: "postgresql:\/\/gecko_collector_\w+:pw@/m);
        expect(yaml).toMatch(/^app:\n {2}name: collector\n/);
        expect(yaml).toMatch(/^logging:\n {2}level: INFO\n/m);
        expect(fs.readFileSync(r.configBackup!, "utf8")).toBe(sqliteConfig(source));
        // What the collector writes from now on is captured for a rollback, as its own role, partitions included.
        const [trade] = await fx.query<{ id: string; pool_id: string }>("SELECT id, pool_id FROM trades ORDER BY id LIMIT 1");
        const [candle] = await fx.query<{ id: string }>("SELECT id::text FROM ohlcv_data ORDER BY id LIMIT 1");
        await withSession("collector", fx.app, async (c) => {
            await c.query("UPDATE ohlcv_data SET close_price = close_price + 1 WHERE id = $1", [candle.id]);
            await c.query("DELETE FROM trades WHERE id = $1", [trade.id]);
            await c.query("INSERT INTO trades (id, pool_id) VALUES ('after_cutover', $1)", [trade.pool_id]);
            await c.query("UPDATE trades SET id = 'after_cutover_renamed' WHERE id = 'after_cutover'");
        });
        expect(await fx.query("SELECT table_name, op, row_key FROM gecko_migration.changes ORDER BY seq")).toEqual([
            { table_name: "ohlcv_data", op: "U", row_key: candle.id },
            { table_name: "trades", op: "D", row_key: trade.id },
            { table_name: "trades", op: "I", row_key: "after_cutover" },
            { table_name: "trades", op: "D", row_key: "after_cutover" },
            { table_name: "trades", op: "I", row_key: "after_cutover_renamed" },
        ]);
        // Now PostgreSQL is the primary: a copy from the file would overwrite the collector's writes.
        await expect(syncPass(fx.input(source))).rejects.toThrow(/cut over to this database/);
        const again = await runCutover(options(fx, source, config, { collectorStopped: true, startCollector: async () => void started++ }));
        expect(again).toMatchObject({ ok: true, resumed: true });
        expect(again.steps.map((s) => s.step)).toEqual(["preflight"]);
        expect(started).toBe(1);
        expect(await fx.query("SELECT 1 FROM gecko_migration.cutovers")).toHaveLength(1);

        // finalize ends the fallback period: no more capture, no rollback.
        const final = await finalizeCutover(fx.target, fx.ownerRole);
        expect(final.finalizedAt).toBeDefined();
        expect(await fx.query("SELECT tgname FROM pg_trigger WHERE tgname = 'gecko_capture_change'")).toEqual([]);
        const rb = await runRollback({
            input: fx.input(source),
            backupDir: path.join(fx.dir, "rb"),
            collectorStopped: true,
            logger: silentLogger,
        });
        expect(rb.error).toMatch(/finalized/);
    });
});

describe("cutover of a running collector", () => {
    let fx: MigrationFixture;
    beforeAll(async () => {
        fx = await createMigrationFixture("cutover_live");
    });
    afterAll(async () => fx?.dispose());

    it("copies, syncs and cuts over while it writes: no write fails, every committed write is in PostgreSQL", async () => {
        const { path: source } = fx.generate("live", { rows: 20000, seed: 13 });
        const config = path.join(fx.dir, "config.yaml");
        fs.writeFileSync(config, sqliteConfig(source));
        const log = path.join(fx.dir, "collector.log");
        const sim = startSimulator(source, log, HOST_ZONE, "--tick-ms", "20");
        await sim.ready;
        try {
            expect((await fx.migrate(source)).ok).toBe(true); // a snapshot while the collector writes
            for (let i = 0; i < 3; i++) expect((await syncPass(fx.input(source))).ok).toBe(true);
            const r = await runCutover(options(fx, source, config, { stopCollector: async () => void (await sim.kill()) }));
            expect(r.error).toBeUndefined();
            expect(r.ok).toBe(true);
            expect(r.attempts.at(-1)).toMatchObject({ outcome: "frozen" });
            expect(r.freeze!.finalPassChanges).toBeGreaterThanOrEqual(0);
        } finally {
            await sim.kill();
        }
        const { writes, errors } = readCollectorLog(log);
        expect(errors).toEqual([]);
        expect(writes.filter((w) => w.table === "trades").length).toBeGreaterThan(20);
        for (const [table, keys] of expectedRows(writes)) {
            const present = await fx.query<{ k: string }>(
                `SELECT ${LOGGED_KEY_COLUMNS[table]}::text AS k FROM ${table} WHERE ${LOGGED_KEY_COLUMNS[table]}::text = ANY($1)`,
                [[...keys.keys()]],
            );
            const inTarget = new Set(present.map((p) => p.k));
            for (const [key, state] of keys) expect(inTarget.has(key), `${table} ${key} should be ${state}`).toBe(state === "present");
        }
        const v = await fx.validate(source);
        expect(v.failures).toEqual([]);
        expect(fs.readFileSync(config, "utf8")).toMatch(/url: "postgresql:/);
    });
});
