/**
 * Transient faults and signals. A copy connection terminated mid-copy
 * (pg_terminate_backend, SQLSTATE 57P01) is retried on fresh connections and
 * the run resumes from its committed chunks; a fault that outlasts
 * `retrySeconds` stops the run naming the step, table and chunk, with a report
 * of status `failed`. On the command line that is exit 3 and one line without a
 * stack trace; SIGINT and SIGTERM stop the copy at the next safe point within
 * 2 s (exit 130 / 143, status `interrupted`), and a rerun completes it.
 */
import Database from "better-sqlite3";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { MigrationReport } from "../../../../migration/data/report/report";
import { RunStopped } from "../../../../migration/data/run/runMigration";
import { createMigrationFixture, geckoPgCommand, sqliteAll, tableReport, type MigrationFixture } from "../../../support/migrationFixture";
import { PROJECT_ROOT } from "../../../support/paths";

/**
 * How a lane finds its session ended by pg_terminate_backend: the server's message, or, for a
 * lane that was writing COPY data when the socket closed, the write's own error (a race).
 */
const SESSION_ENDED = String.raw`(terminating connection due to administrator command \(57P01\)|write EPIPE|Connection terminated unexpectedly)`;

const CHUNK_ROWS = 50;

function sourceCounts(sqlitePath: string): Record<string, number> {
    const tables = sqliteAll<{ name: string }>(sqlitePath, "SELECT name FROM sqlite_master WHERE type = 'table'");
    return Object.fromEntries(
        tables.map((t) => [t.name, sqliteAll<{ n: number }>(sqlitePath, `SELECT count(*) AS n FROM "${t.name}"`)[0].n]),
    );
}

/** Every source row in the target exactly once: counts equal (primary keys rule out a row twice). */
async function expectEveryRowOnce(fx: MigrationFixture, counts: Record<string, number>): Promise<void> {
    const inTarget: Record<string, number> = {};
    for (const t of Object.keys(counts)) inTarget[t] = Number((await fx.query<{ n: string }>(`SELECT count(*) AS n FROM "${t}"`))[0].n);
    expect(inTarget).toEqual(counts);
}

/** Ends the migration's sessions that are inside a transaction (a lane about to commit its chunk), and waits until they are gone. */
async function terminateCopySessions(fx: MigrationFixture): Promise<number> {
    const killed = await fx.query<{ pid: number }>(
        `SELECT pid FROM pg_stat_activity
          WHERE datname = current_database() AND application_name LIKE 'gecko-pg migrate%' AND state = 'idle in transaction'
            AND pg_terminate_backend(pid)`,
    );
    for (let i = 0; i < 200; i++) {
        const left = await fx.query("SELECT 1 FROM pg_stat_activity WHERE pid = ANY($1::int[])", [killed.map((k) => k.pid)]);
        if (left.length === 0) break;
        await new Promise((r) => setTimeout(r, 10));
    }
    return killed.length;
}

/**
 * A trigger on the checkpoints: each trades chunk from chunk 2 on ends its own session before
 * it commits, the first `times` times (a sequence counts: it survives the rollback), and sleeps
 * `sleepMs` first (a slow copy, for the signals). Needs the checkpoint tables, which
 * `createCheckpointTables` makes.
 */
async function installCheckpointTrigger(fx: MigrationFixture, o: { times: number; sleepMs?: number }): Promise<void> {
    // A schema of its own: the migration grants on what is in public.
    await fx.query("CREATE SCHEMA IF NOT EXISTS test_faults");
    await fx.query("DROP TRIGGER IF EXISTS test_fault ON gecko_migration.chunks");
    await fx.query("DROP SEQUENCE IF EXISTS test_faults.test_fault_seq");
    await fx.query("CREATE SEQUENCE test_faults.test_fault_seq");
    await fx.query(`
        CREATE OR REPLACE FUNCTION test_faults.test_fault() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS $$
        BEGIN
            IF NEW.table_name = 'trades' AND NEW.status = 'done' THEN
                PERFORM pg_sleep(${(o.sleepMs ?? 0) / 1000});
                IF NEW.chunk_no >= 2 AND nextval('test_faults.test_fault_seq') <= ${o.times} THEN
                    PERFORM pg_terminate_backend(pg_backend_pid());
                    PERFORM pg_sleep(5);
                END IF;
            END IF;
            RETURN NEW;
        END $$`);
    await fx.query(
        "CREATE TRIGGER test_fault BEFORE UPDATE ON gecko_migration.chunks FOR EACH ROW EXECUTE FUNCTION test_faults.test_fault()",
    );
}

/** A run that stops before its first chunk commits: the checkpoint tables and chunk plan exist, nothing is copied. */
async function createCheckpointTables(fx: MigrationFixture, source: string): Promise<void> {
    const stop = () => {
        throw new Error("setting up the checkpoints only");
    };
    await expect(fx.migrate(source, { chunkRows: CHUNK_ROWS }, { beforeChunkCommit: stop })).rejects.toThrow(/setting up/);
}

describe.each([0, 2])("a copy connection terminated mid-copy (convert workers: %i)", (convertWorkers) => {
    let fx: MigrationFixture;
    let source: string;
    let counts: Record<string, number>;

    beforeAll(async () => {
        fx = await createMigrationFixture("fault");
        ({ path: source } = fx.generate("fault", { rows: 1000, seed: 21 }));
        counts = sourceCounts(source);
    });
    afterAll(async () => fx?.dispose());

    it("is retried on a fresh connection: the run finishes ok, every row once, the retry logged", async () => {
        const warnings: string[] = [];
        let terminated = 0;
        const report = await fx.migrate(
            source,
            { chunkRows: CHUNK_ROWS, convertWorkers },
            {
                beforeChunkCommit: async (chunk) => {
                    if (chunk.table === "trades" && chunk.chunkNo === 2 && terminated === 0) terminated = await terminateCopySessions(fx);
                },
            },
            { info: () => undefined, warn: (m) => warnings.push(m) },
        );
        expect(terminated).toBeGreaterThan(0);
        expect(report.failures).toEqual([]);
        expect(report).toMatchObject({ ok: true, status: "ok" });
        expect(report.tables.every((t) => t.validation!.countsMatch && t.validation!.mismatchedBuckets.length === 0)).toBe(true);
        await expectEveryRowOnce(fx, counts);
        expect(warnings).toEqual([
            expect.stringMatching(
                new RegExp(
                    `^copy trades chunk \\d+ \\(rowid \\d+\\.\\.\\d+\\): ${SESSION_ENDED}; retry 1 after 0\\.5 s \\(retrying for up to 60 s\\)$`,
                ),
            ),
        ]);
        // The run's sessions and its lock are back to one run's: nothing was left behind by the lost one.
        const runs = await fx.query<{ status: string }>("SELECT report->>'status' AS status FROM gecko_migration.runs");
        expect(runs).toEqual([{ status: "ok" }]);
    });
});

describe("a fault that does not go away", () => {
    let fx: MigrationFixture;
    let source: string;
    let counts: Record<string, number>;

    beforeAll(async () => {
        fx = await createMigrationFixture("faultstay");
        ({ path: source } = fx.generate("faultstay", { rows: 1000, seed: 22 }));
        counts = sourceCounts(source);
    });
    afterAll(async () => fx?.dispose());

    it("stops the run after retrySeconds naming step, table and chunk; the report says failed; a rerun finishes", async () => {
        const t0 = Date.now();
        const err = await fx
            .migrate(
                source,
                { chunkRows: CHUNK_ROWS, copyLanes: 1, retrySeconds: 1 },
                {
                    beforeChunkCommit: async (chunk) => {
                        if (chunk.table === "trades" && chunk.chunkNo === 2) await terminateCopySessions(fx);
                    },
                },
            )
            .then(
                () => undefined,
                (e: unknown) => e,
            );
        expect(err).toBeInstanceOf(RunStopped);
        const stopped = err as RunStopped;
        expect(stopped.message).toMatch(
            /^copy trades chunk 2 \(rowid \d+\.\.\d+\): terminating connection due to administrator command \(57P01\); retried for [12] s$/,
        );
        expect(Date.now() - t0).toBeLessThan(15_000);
        expect(stopped.interrupted).toBe(false);
        expect(stopped.report).toMatchObject({ ok: false, status: "failed", kind: "stopped", stoppedBy: stopped.message });
        const runs = await fx.query<{ ok: boolean; status: string }>("SELECT ok, report->>'status' AS status FROM gecko_migration.runs");
        expect(runs).toEqual([{ ok: false, status: "failed" }]);
        // Chunks 0 and 1 of trades were committed and kept.
        const done = await fx.query<{ n: number }>(
            "SELECT count(*)::int AS n FROM gecko_migration.chunks WHERE table_name = 'trades' AND status = 'done'",
        );
        expect(done).toEqual([{ n: 2 }]);

        const report = await fx.migrate(source, { chunkRows: CHUNK_ROWS });
        expect(report.failures).toEqual([]);
        expect(report.status).toBe("ok");
        await expectEveryRowOnce(fx, counts);
    });
});

describe("a fault that is not transient", () => {
    let fx: MigrationFixture;
    let source: string;

    beforeAll(async () => {
        fx = await createMigrationFixture("faultperm");
        ({ path: source } = fx.generate("faultperm", { rows: 500, seed: 26 }));
        await createCheckpointTables(fx, source);
    });
    afterAll(async () => fx?.dispose());

    it("(permission denied, 42501) stops the run at once, without a retry", async () => {
        await fx.query("CREATE SCHEMA test_faults");
        await fx.query(`
            CREATE FUNCTION test_faults.deny() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF NEW.table_name = 'trades' AND NEW.chunk_no = 1 THEN
                    RAISE EXCEPTION 'permission denied for table trades' USING ERRCODE = '42501';
                END IF;
                RETURN NEW;
            END $$`);
        await fx.query("CREATE TRIGGER deny BEFORE UPDATE ON gecko_migration.chunks FOR EACH ROW EXECUTE FUNCTION test_faults.deny()");
        const warnings: string[] = [];
        const err = await fx
            .migrate(source, { chunkRows: CHUNK_ROWS, copyLanes: 1 }, {}, { info: () => undefined, warn: (m) => warnings.push(m) })
            .catch((e: unknown) => e);
        expect(err).toBeInstanceOf(RunStopped);
        expect((err as Error).message).toMatch(/^copy trades chunk 1 \(rowid \d+\.\.\d+\): permission denied for table trades \(42501\)$/);
        expect(warnings).toEqual([]);
        expect((err as RunStopped).report).toMatchObject({ status: "failed" });
    });
});

describe("a stop while a statement runs long on the server", () => {
    let fx: MigrationFixture;
    let source: string;

    beforeAll(async () => {
        fx = await createMigrationFixture("stoplong");
        ({ path: source } = fx.generate("stoplong", { rows: 500, seed: 27 }));
        await createCheckpointTables(fx, source);
    });
    afterAll(async () => fx?.dispose());

    it("cancels it after a second: the run stops within 2 s, the chunk rolled back, status interrupted", async () => {
        await fx.query("CREATE SCHEMA test_faults");
        await fx.query(`
            CREATE FUNCTION test_faults.slow() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF NEW.table_name = 'trades' AND NEW.chunk_no = 2 THEN PERFORM pg_sleep(60); END IF;
                RETURN NEW;
            END $$`);
        await fx.query("CREATE TRIGGER slow BEFORE UPDATE ON gecko_migration.chunks FOR EACH ROW EXECUTE FUNCTION test_faults.slow()");
        const stop = new AbortController();
        const run = fx.migrate(source, { chunkRows: CHUNK_ROWS, copyLanes: 1 }, { signal: stop.signal }).catch((e: unknown) => e);
        for (const deadline = Date.now() + 30_000; ;) {
            const sleeping = await fx.query("SELECT 1 FROM pg_stat_activity WHERE wait_event = 'PgSleep' AND datname = current_database()");
            if (sleeping.length) break;
            expect(Date.now()).toBeLessThan(deadline);
            await new Promise((r) => setTimeout(r, 20));
        }
        const t0 = Date.now();
        stop.abort();
        const err = await run;
        expect(Date.now() - t0).toBeLessThan(2000);
        expect(err).toBeInstanceOf(RunStopped);
        expect((err as RunStopped).message).toBe("interrupted during trades chunk 2");
        expect((err as RunStopped).report.status).toBe("interrupted");
        const [chunk] = await fx.query<{ status: string }>(
            "SELECT status FROM gecko_migration.chunks WHERE table_name = 'trades' AND chunk_no = 2",
        );
        expect(chunk.status).toBe("pending");
    });
});

describe("a stopped run and the next run's check of the source", () => {
    let fx: MigrationFixture;
    let source: string;

    beforeAll(async () => {
        fx = await createMigrationFixture("stopmoved");
        ({ path: source } = fx.generate("stopmoved", { rows: 500, seed: 25 }));
    });
    afterAll(async () => fx?.dispose());

    it("is not taken for a finished run: a source changed in place since the last finished run is still re-read", async () => {
        expect((await fx.migrate(source)).ok).toBe(true);
        const db = new Database(source);
        db.prepare("UPDATE ohlcv_data SET close_price = close_price + 1 WHERE rowid = (SELECT min(rowid) FROM ohlcv_data)").run();
        db.close();
        // Stopped before it validated, on the changed file: its report records the new fingerprint.
        const stopped = await fx.migrate(source, {}, { signal: AbortSignal.abort() }).catch((e: unknown) => e);
        expect(stopped).toBeInstanceOf(RunStopped);
        expect((stopped as RunStopped).message).toMatch(/^interrupted during validate \w+$/);
        expect(await fx.query("SELECT report->>'status' AS status FROM gecko_migration.runs ORDER BY id DESC LIMIT 1")).toEqual([
            { status: "interrupted" },
        ]);

        const report = await fx.migrate(source);
        expect(report.warnings.some((w) => w.startsWith("the source changed since the last run (fingerprint"))).toBe(true);
        expect(tableReport(report, "ohlcv_data").validation!.differences.map((d) => d.issue)).toEqual(["values differ"]);
    });
});

/** `gecko-pg migrate` as a child process; resolves with its exit and output. */
function startCli(fx: MigrationFixture, source: string, report: string, extra: readonly string[] = []) {
    const { args, env } = geckoPgCommand(fx, "migrate", source, [
        "--chunk-rows",
        String(CHUNK_ROWS),
        "--sample-rows",
        "25",
        "--report",
        report,
        ...extra,
    ]);
    const child = spawn(process.execPath, args, { cwd: PROJECT_ROOT, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    const out = { stdout: "", stderr: "" };
    child.stdout.on("data", (d) => (out.stdout += d));
    child.stderr.on("data", (d) => (out.stderr += d));
    // When the process ended (its output may close later: tsx's esbuild service shares its stderr).
    let exitedAt = 0;
    child.on("exit", () => (exitedAt = Date.now()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string; exitedAt: number }>(
        (resolve) => child.on("close", (code, signal) => resolve({ code, signal, ...out, exitedAt })),
    );
    return { child, exited, out };
}

const readReport = (file: string) => JSON.parse(fs.readFileSync(file, "utf8")) as MigrationReport;

describe("gecko-pg migrate on the command line", () => {
    let fx: MigrationFixture;
    let source: string;
    let counts: Record<string, number>;

    beforeAll(async () => {
        fx = await createMigrationFixture("faultcli");
        ({ path: source } = fx.generate("faultcli", { rows: 1000, seed: 23 }));
        counts = sourceCounts(source);
        await createCheckpointTables(fx, source);
    });
    afterAll(async () => fx?.dispose());

    it("a fault past --retry-seconds: exit 3, one line naming step, table and chunk, no stack trace, report failed", async () => {
        await installCheckpointTrigger(fx, { times: 1_000_000 });
        const file = path.join(fx.dir, "failed.json");
        const r = await startCli(fx, source, file, ["--retry-seconds", "1", "--copy-lanes", "1", "--quiet"]).exited;
        expect(r.code, r.stderr).toBe(3);
        const lines = r.stderr.trimEnd().split("\n");
        expect(lines.at(-1)).toMatch(
            /^error: copy trades chunk 2 \(rowid \d+\.\.\d+\): terminating connection due to administrator command \(57P01\); retried for [12] s; committed chunks kept, rerun to resume \(report: .*failed\.json\)$/,
        );
        // The retries before it, one line each; nothing else.
        expect(
            lines.slice(0, -1).every((l) => /^.*copy trades chunk 2 .*; retry \d+ after [\d.]+ s/.test(l)),
            r.stderr,
        ).toBe(true);
        expect(r.stderr).not.toContain("    at ");
        expect(r.stdout + r.stderr).not.toContain(fx.target.password);
        expect(readReport(file)).toMatchObject({ ok: false, status: "failed", stoppedBy: expect.stringMatching(/^copy trades chunk 2 /) });
    });

    it("a terminate that happens once: retried, exit 0, the retry logged", async () => {
        await installCheckpointTrigger(fx, { times: 1 });
        const file = path.join(fx.dir, "retried.json");
        const r = await startCli(fx, source, file, ["--quiet"]).exited;
        expect(r.code, r.stderr).toBe(0);
        expect(r.stderr).toMatch(new RegExp(`copy trades chunk \\d+ \\(rowid \\d+\\.\\.\\d+\\): ${SESSION_ENDED}; retry 1 after 0\\.5 s`));
        expect(readReport(file)).toMatchObject({ ok: true, status: "ok" });
        await expectEveryRowOnce(fx, counts);
    });
});

describe.each([
    ["SIGINT", 130],
    ["SIGTERM", 143],
] as const)("gecko-pg migrate stopped by %s mid-copy", (signal, exitCode) => {
    let fx: MigrationFixture;
    let source: string;
    let counts: Record<string, number>;

    beforeAll(async () => {
        fx = await createMigrationFixture("signal");
        ({ path: source } = fx.generate("signal", { rows: 1000, seed: 24 }));
        counts = sourceCounts(source);
        await createCheckpointTables(fx, source);
        // A slow copy: each trades chunk sleeps before it commits.
        await installCheckpointTrigger(fx, { times: 0, sleepMs: 100 });
    });
    afterAll(async () => fx?.dispose());

    it(`exits ${exitCode} within 2-3 s with the message, the open chunk rolled back, report interrupted; a rerun completes`, async () => {
        const file = path.join(fx.dir, "interrupted.json");
        const { child, exited } = startCli(fx, source, file, ["--quiet"]);
        for (const deadline = Date.now() + 60_000; ;) {
            expect(child.exitCode, "the child exited before it was signalled").toBeNull();
            expect(Date.now()).toBeLessThan(deadline);
            const [t] = await fx.query<{ n: number }>(
                "SELECT count(*)::int AS n FROM gecko_migration.chunks WHERE table_name = 'trades' AND status = 'done'",
            );
            if (t.n >= 2) break;
            await new Promise((r) => setTimeout(r, 20));
        }
        const t0 = Date.now();
        child.kill(signal);
        const r = await exited;
        expect(r.exitedAt - t0, r.stderr).toBeLessThan(3000);
        expect(r.code, r.stderr).toBe(exitCode);
        expect(r.stderr.trimEnd().split("\n").at(-1)).toMatch(
            /^interrupted during trades chunk \d+; committed work kept; rerun to resume \(report: .*interrupted\.json\)$/,
        );
        expect(r.stderr).not.toContain("    at ");
        expect(readReport(file)).toMatchObject({ ok: false, status: "interrupted" });
        expect(await fx.query("SELECT report->>'status' AS status FROM gecko_migration.runs ORDER BY id DESC LIMIT 1")).toEqual([
            { status: "interrupted" },
        ]);
        // The open chunk rolled back: the target holds exactly the committed chunks' rows.
        const [trades] = await fx.query<{ done: string; n: string }>(
            `SELECT (SELECT coalesce(sum(rows_copied), 0) FROM gecko_migration.chunks WHERE table_name = 'trades' AND status = 'done')::text AS done,
                    (SELECT count(*) FROM trades)::text AS n`,
        );
        expect(trades.n).toBe(trades.done);
        expect(Number(trades.n)).toBeLessThan(counts.trades);

        const rerun = await startCli(fx, source, path.join(fx.dir, "rerun.json"), ["--quiet"]).exited;
        expect(rerun.code, rerun.stderr).toBe(0);
        await expectEveryRowOnce(fx, counts);
    });
});
