/**
 * Crash safety and tamper detection. A chunk's rows, quarantine and
 * checkpoint commit together, so a run that dies (an exception before a
 * commit, or a real SIGKILL of the process) resumes where it stopped: no row
 * lost or duplicated, finished chunks not copied again. After a good run, any
 * change to the target is found by the source-rescan validation, which names
 * the table, bucket, chunk, row key and column.
 */
import { spawn } from "node:child_process";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderReport, type MigrationReport } from "../../../../migration/data/report/report";
import { createMigrationFixture, sqliteAll, tableReport, type MigrationFixture } from "../../../support/migrationFixture";
import { PROJECT_ROOT, SUPPORT_DIR } from "../../../support/paths";

const CHUNK_ROWS = 100;

interface ChunkRow {
    table_name: string;
    chunk_no: number;
    status: string;
    rows_copied: string | null;
    copied_at: Date | null;
}

function sourceCounts(sqlitePath: string): Record<string, number> {
    const tables = sqliteAll<{ name: string }>(sqlitePath, "SELECT name FROM sqlite_master WHERE type = 'table'");
    return Object.fromEntries(
        tables.map((t) => [t.name, sqliteAll<{ n: number }>(sqlitePath, `SELECT count(*) AS n FROM "${t.name}"`)[0].n]),
    );
}

async function targetCounts(fx: MigrationFixture, tables: readonly string[]): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const t of tables) out[t] = Number((await fx.query<{ n: string }>(`SELECT count(*) AS n FROM "${t}"`))[0].n);
    return out;
}

/** No row lost or duplicated, every bucket checksum equal: the state a finished run must leave. */
function expectWhole(report: MigrationReport, counts: Record<string, number>) {
    expect(report.failures).toEqual([]);
    expect(report.ok).toBe(true);
    for (const t of report.tables) {
        const v = t.validation!;
        expect(t.sourceRows, t.table).toBe(counts[t.table]);
        expect(v.targetRows, t.table).toBe(counts[t.table]);
        expect(v.countsMatch, t.table).toBe(true);
        expect(v.mismatchedBuckets, t.table).toEqual([]);
    }
}

describe.each([0, 2])("resume after an exception before a chunk commits, then tampering (convert workers: %i)", (convertWorkers) => {
    let fx: MigrationFixture;
    let source: string;
    let counts: Record<string, number>;
    let beforeRerun: ChunkRow[];

    beforeAll(async () => {
        fx = await createMigrationFixture("resume");
        ({ path: source } = fx.generate("resume", { rows: 2000, seed: 5 }));
        counts = sourceCounts(source);
        expect(counts.trades).toBeGreaterThan(6 * CHUNK_ROWS);
    });
    afterAll(async () => fx?.dispose());

    it("the run fails at trades chunk 3; chunks 0-2 are committed with their rows, nothing of chunk 3", async () => {
        const seen: number[] = [];
        // One lane makes "which chunks were committed before the crash" exact; the SIGKILL test below runs the default lanes.
        const run = fx.migrate(
            source,
            { chunkRows: CHUNK_ROWS, copyLanes: 1, convertWorkers },
            {
                beforeChunkCommit: (chunk) => {
                    if (chunk.table !== "trades") return;
                    seen.push(chunk.chunkNo);
                    if (chunk.chunkNo === 3) throw new Error("simulated crash");
                },
            },
        );
        await expect(run).rejects.toThrow(/^copy trades chunk 3 \(rowid \d+\.\.\d+\): simulated crash$/);
        expect(seen).toEqual([0, 1, 2, 3]);

        beforeRerun = await fx.query<ChunkRow>(
            "SELECT table_name, chunk_no, status, rows_copied::text, copied_at FROM gecko_migration.chunks ORDER BY table_name, chunk_no",
        );
        const trades = beforeRerun.filter((c) => c.table_name === "trades");
        expect(trades.length).toBeGreaterThan(6);
        expect(trades.map((c) => c.status)).toEqual(trades.map((c) => (c.chunk_no < 3 ? "done" : "pending")));
        const [t] = await fx.query<{ n: string }>("SELECT count(*) AS n FROM trades");
        expect(Number(t.n)).toBe(trades.filter((c) => c.status === "done").reduce((a, c) => a + Number(c.rows_copied), 0));
        expect(Number(t.n)).toBeGreaterThan(0);
        // Tables copied before trades are complete; watchlist (after trades) has not started.
        expect(beforeRerun.filter((c) => c.table_name === "ohlcv_data").every((c) => c.status === "done")).toBe(true);
        expect(beforeRerun.filter((c) => c.table_name === "watchlist").every((c) => c.status === "pending")).toBe(true);
        // No finished run is recorded; the stopped one is, saying where it stopped.
        expect(
            await fx.query(
                "SELECT ok, report->>'kind' AS kind, report->>'status' AS status, report->>'stoppedBy' AS by FROM gecko_migration.runs",
            ),
        ).toEqual([
            { ok: false, kind: "stopped", status: "failed", by: expect.stringMatching(/^copy trades chunk 3 .*: simulated crash$/) },
        ]);
        // Autovacuum was paused for the copy (on every partition too) and stays so until a run completes ...
        const paused = await fx.query<{ rel: string }>(
            `SELECT relname AS rel FROM pg_class WHERE reloptions @> ARRAY['autovacuum_enabled=false'] ORDER BY 1`,
        );
        expect(paused.map((r) => r.rel)).toEqual(expect.arrayContaining(["trades", "pools", "ohlcv_data_default"]));
        expect(paused.filter((r) => r.rel.startsWith("ohlcv_data_p")).length).toBeGreaterThan(0);
        // ... which validation reports meanwhile.
        const v = await fx.validate(source, { chunkRows: CHUNK_ROWS });
        expect(v.failures).toContain(
            "autovacuum is off on trades (left by a migration that did not finish; a completed migrate turns it back on)",
        );
    });

    it("a rerun finishes without copying finished chunks again: no row lost or duplicated, checksums ok", async () => {
        const report = await fx.migrate(source, { chunkRows: CHUNK_ROWS, convertWorkers });
        expectWhole(report, counts);
        const trades = tableReport(report, "trades");
        const donePrior = beforeRerun.filter((c) => c.table_name === "trades" && c.status === "done");
        expect(trades.chunks.alreadyDone).toBe(3);
        expect(trades.chunks.copiedThisRun).toBe(trades.chunks.total - 3);
        expect(trades.rowsCopiedThisRun).toBe(counts.trades - donePrior.reduce((a, c) => a + Number(c.rows_copied), 0));
        const ohlcv = tableReport(report, "ohlcv_data");
        expect(ohlcv.chunks).toEqual({ total: ohlcv.chunks.total, copiedThisRun: 0, alreadyDone: ohlcv.chunks.total });
        expect(ohlcv.chunks.total).toBeGreaterThan(1);
        expect(ohlcv.rowsCopiedThisRun).toBe(0);
        expect(tableReport(report, "watchlist").rowsCopiedThisRun).toBe(counts.watchlist);
        // Committed chunks kept their original checkpoint.
        const after = await fx.query<ChunkRow>(
            "SELECT table_name, chunk_no, status, rows_copied::text, copied_at FROM gecko_migration.chunks ORDER BY table_name, chunk_no",
        );
        for (const c of beforeRerun.filter((x) => x.status === "done")) {
            expect(
                after.find((x) => x.table_name === c.table_name && x.chunk_no === c.chunk_no),
                `${c.table_name} chunk ${c.chunk_no}`,
            ).toEqual(c);
        }
        expect(after.every((c) => c.status === "done")).toBe(true);
        expect(await targetCounts(fx, Object.keys(counts))).toEqual(counts);
        expect(await fx.query(`SELECT relname FROM pg_class WHERE reloptions::text LIKE '%autovacuum_enabled%'`)).toEqual([]);
    });

    it("runValidation (source rescan) agrees", async () => {
        const v = await fx.validate(source, { chunkRows: CHUNK_ROWS });
        expectWhole(v, counts);
        expect(v.tables.every((t) => t.validation!.checksumSource === "source-rescan")).toBe(true);
    });

    it("detects a changed value, a deleted row and an inserted row, naming table, bucket, chunk, key and column", async () => {
        const chunks = await fx.query<{ table_name: string; chunk_no: number; lo: string; hi: string }>(
            "SELECT table_name, chunk_no, rowid_lo::text AS lo, rowid_hi::text AS hi FROM gecko_migration.chunks",
        );
        const chunkOf = (table: string, rowid: number) =>
            chunks.find((c) => c.table_name === table && BigInt(c.lo) <= BigInt(rowid) && BigInt(rowid) <= BigInt(c.hi))!.chunk_no;
        const [trade] = sqliteAll<{ rowid_: number; id: string }>(
            source,
            "SELECT rowid AS rowid_, id FROM trades WHERE price_usd IS NOT NULL ORDER BY rowid LIMIT 1 OFFSET 450",
        );
        const [candle] = sqliteAll<{ rowid_: number; id: number }>(
            source,
            "SELECT rowid AS rowid_, id FROM ohlcv_data ORDER BY rowid LIMIT 1 OFFSET 300",
        );
        expect(chunkOf("trades", trade.rowid_)).toBeGreaterThan(0);

        const [{ price }] = await fx.query<{ price: string }>("SELECT price_usd::text AS price FROM trades WHERE id = $1", [trade.id]);
        await fx.query("UPDATE trades SET price_usd = price_usd + 1 WHERE id = $1", [trade.id]);
        await fx.query("CREATE TEMP TABLE saved_candle AS SELECT * FROM ohlcv_data WHERE id = $1", [candle.id]);
        await fx.query("DELETE FROM ohlcv_data WHERE id = $1", [candle.id]);
        await fx.query("INSERT INTO tokens (id, address, network) VALUES ('solana_tampered', 'tampered', 'solana')");

        // No random sample: it may or may not hit a tampered row; the full-coverage checksums must.
        const v = await fx.validate(source, { chunkRows: CHUNK_ROWS, sampleRows: 0 });
        expect(v.ok).toBe(false);

        const tv = tableReport(v, "trades").validation!;
        expect(tv.countsMatch).toBe(true);
        expect(tv.mismatchedBuckets).toEqual([0]);
        const [{ changed }] = await fx.query<{ changed: string }>("SELECT price_usd::text AS changed FROM trades WHERE id = $1", [
            trade.id,
        ]);
        expect(changed).toBe((await fx.query<{ v: string }>("SELECT ($1::numeric + 1)::text AS v", [price]))[0].v);
        expect(tv.differences).toEqual([
            {
                key: trade.id,
                issue: "values differ",
                chunkNo: chunkOf("trades", trade.rowid_),
                columns: [{ column: "price_usd", source: price, target: changed }],
            },
        ]);

        const ov = tableReport(v, "ohlcv_data").validation!;
        expect(ov).toMatchObject({
            countsMatch: false,
            sourceRows: counts.ohlcv_data,
            targetRows: counts.ohlcv_data - 1,
            mismatchedBuckets: [0],
        });
        expect(ov.differences).toEqual([
            { key: String(candle.id), issue: "missing in target", chunkNo: chunkOf("ohlcv_data", candle.rowid_) },
        ]);

        const kv = tableReport(v, "tokens").validation!;
        expect(kv).toMatchObject({ countsMatch: false, targetRows: counts.tokens + 1, mismatchedBuckets: [0] });
        expect(kv.differences).toEqual([{ key: "solana_tampered", issue: "unexpected in target" }]);

        expect([...v.failures].sort()).toEqual(
            [
                `ohlcv_data: source ${counts.ohlcv_data} rows != target ${counts.ohlcv_data - 1} + quarantined 0`,
                "ohlcv_data: checksum mismatch in 1 of 1 buckets (1 rows listed)",
                `tokens: source ${counts.tokens} rows != target ${counts.tokens + 1} + quarantined 0`,
                "tokens: checksum mismatch in 1 of 1 buckets (1 rows listed)",
                "trades: checksum mismatch in 1 of 1 buckets (1 rows listed)",
            ].sort(),
        );
        const text = renderReport(v);
        expect(text).toContain(
            `trades ${trade.id}: values differ (chunk ${chunkOf("trades", trade.rowid_)}) price_usd: ${price} != ${changed}`,
        );
        expect(text).toContain(`ohlcv_data ${candle.id}: missing in target (chunk ${chunkOf("ohlcv_data", candle.rowid_)})`);
        expect(text).toContain("tokens solana_tampered: unexpected in target");

        // Undo the tampering: validation is clean again (the findings were not noise).
        await fx.query("UPDATE trades SET price_usd = $2 WHERE id = $1", [trade.id, price]);
        await fx.query("INSERT INTO ohlcv_data SELECT * FROM saved_candle");
        await fx.query("DELETE FROM tokens WHERE id = 'solana_tampered'");
        expectWhole(await fx.validate(source, { chunkRows: CHUNK_ROWS }), counts);
    });
});

describe("resume after the migration process is killed (SIGKILL) mid-copy", () => {
    let fx: MigrationFixture;
    let source: string;
    let counts: Record<string, number>;

    beforeAll(async () => {
        fx = await createMigrationFixture("kill");
        ({ path: source } = fx.generate("kill", { rows: 2000, seed: 6 }));
        counts = sourceCounts(source);
    });
    afterAll(async () => fx?.dispose());

    it("a rerun in-process completes the copy: counts and checksums ok, committed chunks skipped", async () => {
        const child = spawn(process.execPath, ["--import", "tsx", path.join(SUPPORT_DIR, "migrationChild.ts")], {
            cwd: PROJECT_ROOT,
            env: {
                ...process.env,
                GECKO_TEST_MIGRATION: JSON.stringify(fx.input(source, { chunkRows: 50 })),
                GECKO_TEST_CHUNK_DELAY_MS: "40",
            },
            stdio: ["ignore", "pipe", "pipe"],
        });
        let output = "";
        child.stdout.on("data", (d) => (output += d));
        child.stderr.on("data", (d) => (output += d));
        const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
            child.on("exit", (code, signal) => resolve({ code, signal })),
        );

        // Kill once some chunks are committed, well before all are.
        const progress = async () => {
            const [r] = await fx.query<{ done: string; total: string }>(
                "SELECT count(*) FILTER (WHERE status = 'done') AS done, count(*) AS total FROM gecko_migration.chunks",
            );
            return { done: Number(r.done), total: Number(r.total) };
        };
        const deadline = Date.now() + 30_000;
        for (;;) {
            expect(child.exitCode, `child exited early: ${output}`).toBeNull();
            expect(Date.now(), "child made no progress").toBeLessThan(deadline);
            const [exists] = await fx.query<{ e: boolean }>("SELECT to_regclass('gecko_migration.chunks') IS NOT NULL AS e");
            if (exists.e && (await progress()).done >= 5) break;
            await new Promise((r) => setTimeout(r, 20));
        }
        child.kill("SIGKILL");
        expect(await exited).toEqual({ code: null, signal: "SIGKILL" });

        // The server drops the dead session (its open transaction rolls back, its advisory lock goes).
        for (let i = 0; ; i++) {
            const s = await fx.query(
                "SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'gecko-pg migrate'",
            );
            if (s.length === 0) break;
            expect(i, "killed session still present").toBeLessThan(200);
            await new Promise((r) => setTimeout(r, 25));
        }
        const atKill = await progress();
        expect(atKill.done).toBeGreaterThanOrEqual(5);
        expect(atKill.done).toBeLessThan(atKill.total);
        // Committed chunks hold exactly their rows; nothing of the chunk in flight.
        const partial = await fx.query<{ table_name: string; done_rows: string }>(
            "SELECT table_name, coalesce(sum(rows_copied) FILTER (WHERE status = 'done'), 0)::text AS done_rows FROM gecko_migration.chunks GROUP BY 1",
        );
        const inTarget = await targetCounts(
            fx,
            partial.map((p) => p.table_name),
        );
        for (const p of partial) expect(inTarget[p.table_name], p.table_name).toBe(Number(p.done_rows));

        const report = await fx.migrate(source, { chunkRows: 50 });
        expectWhole(report, counts);
        const sum = (f: (t: MigrationReport["tables"][number]) => number) => report.tables.reduce((a, t) => a + f(t), 0);
        expect(sum((t) => t.chunks.alreadyDone)).toBe(atKill.done);
        expect(sum((t) => t.chunks.copiedThisRun)).toBe(atKill.total - atKill.done);
        expect(await targetCounts(fx, Object.keys(counts))).toEqual(counts);
        expectWhole(await fx.validate(source, { chunkRows: 50 }), counts);
    });
});

describe("checkpoints recorded under another checksum definition", () => {
    let fx: MigrationFixture;
    beforeAll(async () => {
        fx = await createMigrationFixture("oldsum");
    });
    afterAll(async () => fx?.dispose());

    it("are not resumed: the run stops naming both definitions instead of failing validation later", async () => {
        const { path: source } = fx.generate("current", { rows: 300, seed: 12 });
        expect((await fx.migrate(source)).ok).toBe(true);
        // What a store written by the md5 version looks like: no checksum recorded.
        await fx.query("UPDATE gecko_migration.tables SET checksum = NULL");
        await expect(fx.migrate(source)).rejects.toThrow(
            /recorded with md5-v1 checksums, this gecko-pg computes copytext-hashtextextended-v3/,
        );
    });
});

describe("the field-by-field sample", () => {
    let fx: MigrationFixture;
    beforeAll(async () => {
        fx = await createMigrationFixture("sample");
    });
    afterAll(async () => fx?.dispose());

    it("names a changed field and a missing row of the sampled rows (one batched lookup per table)", async () => {
        const { path: source } = fx.generate("current", { rows: 300, seed: 14 });
        expect((await fx.migrate(source)).ok).toBe(true);
        const [dex] = await fx.query<{ id: string }>("SELECT id FROM dexes ORDER BY id LIMIT 1");
        const [trade] = await fx.query<{ id: string }>("SELECT id FROM trades ORDER BY id LIMIT 1");
        await fx.query("UPDATE dexes SET name = name || ' (edited)' WHERE id = $1", [dex.id]);
        await fx.query("DELETE FROM trades WHERE id = $1", [trade.id]);
        // Every row is sampled: far more sample rows than the tables hold.
        const v = await fx.validate(source, { sampleRows: 100_000 });
        const dexes = tableReport(v, "dexes").validation!;
        expect(dexes.sampleMismatches).toEqual([
            {
                key: dex.id,
                issue: "values differ",
                chunkNo: 0,
                columns: [expect.objectContaining({ column: "name", target: expect.stringMatching(/ \(edited\)$/) })],
            },
        ]);
        expect(dexes.sampleCompared).toBe(dexes.sourceRows);
        expect(tableReport(v, "trades").validation!.sampleMismatches).toEqual([{ key: trade.id, issue: "missing in target", chunkNo: 0 }]);
    });
});
