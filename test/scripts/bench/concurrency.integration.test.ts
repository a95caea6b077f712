/**
 * Smoke test of scripts/bench/concurrency.ts at a tiny scale: it runs end to end
 * (generate, migrate, reads, concurrent writer processes on both stores) and its
 * JSON has figures for both stores, every N and every read query. No timing
 * assertions: the machine is shared and 2 cores are slow; only PostgreSQL's
 * error count is a correctness property (row locks wait, they never fail here).
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../../support/paths";

const SCRIPT = path.join(PROJECT_ROOT, "scripts", "bench", "concurrency.ts");
const TSX = path.join(PROJECT_ROOT, "node_modules", ".bin", "tsx");
const WRITERS = [1, 4];
const READ_IDS = ["1", "2", "2ts", "2all", "3", "3all", "7a", "7b", "8a", "8b", "8c", "9a", "9b", "11a", "11b"];

interface WriteFigures {
    store: string;
    statements?: string;
    writers: number;
    ops: number;
    opsPerSecond: number;
    errorCount: number;
    warmupOps: number;
    cpu: { clientMsPerOp: number; serverMsPerOp: number | null; machineBusyCores: number | null };
    backendStates?: Record<string, number>;
    perOp: Record<string, { count: number; p50: number; p95: number; p99: number }>;
}

describe("scripts/bench/concurrency.ts --rows 20000 --writers 1,4 --seconds 2 --pg-statements psycopg2,prepared", () => {
    let dir: string;
    let run: ReturnType<typeof spawnSync>;
    let out: {
        reads: {
            id: string;
            sqlite: { medianMs: number; rows: number };
            postgres: { medianMs: number; rows: number; statements: number; plan: { text: string; serializeMs: number | null } };
            ratio: number;
            roundTripFloorMs: number;
        }[];
        readRoundTripMs: number;
        writes: WriteFigures[];
        targets: { id: string; pass: boolean | null }[];
    };

    beforeAll(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "gecko-bench-test-"));
        const json = path.join(dir, "out.json");
        // Its own throwaway server: the script ignores DATABASE_URL (it provisions cluster-wide roles).
        const env = { ...process.env };
        delete env.DATABASE_URL;
        run = spawnSync(
            TSX,
            [
                SCRIPT,
                "--rows",
                "20000",
                "--writers",
                WRITERS.join(","),
                "--seconds",
                "2",
                "--warmup",
                "0.5",
                "--pg-statements",
                "psycopg2,prepared",
                "--runs",
                "1",
                "--no-collector-timeout",
                "--quiet",
                "--json",
                json,
            ],
            {
                encoding: "utf8",
                env,
                timeout: 110_000,
            },
        );
        if (run.status === 0) out = JSON.parse(fs.readFileSync(json, "utf8"));
    }, 120_000);

    afterAll(() => {
        fs.rmSync(dir, { recursive: true, force: true });
    });

    it("exits 0 and prints the tables and targets", () => {
        expect(run.stderr, String(run.stderr)).not.toMatch(/^error:/m);
        expect(run.status).toBe(0);
        expect(run.stdout).toMatch(/Reads: median/);
        expect(run.stdout).toMatch(/Writes: 2s measured per run after 0.5s warm-up/);
        expect(run.stdout).toMatch(/Write CPU: ms of CPU per operation/);
        expect(run.stdout).toMatch(/PostgreSQL writers' backends, share of pg_stat_activity samples/);
        expect(run.stdout).toMatch(/Targets \(informational\)/);
    });

    it("has figures for SQLite and each PostgreSQL statement mode at every N, warm-up excluded", () => {
        for (const [store, statements] of [
            ["sqlite", undefined],
            ["postgres", "psycopg2"],
            ["postgres", "prepared"],
        ]) {
            for (const n of WRITERS) {
                const w = out.writes.find((x) => x.store === store && x.statements === statements && x.writers === n);
                expect(w, `${store} ${statements} N=${n}`).toBeDefined();
                expect(w!.ops).toBeGreaterThan(0);
                expect(w!.opsPerSecond).toBeGreaterThan(0);
                expect(w!.warmupOps).toBeGreaterThan(0);
                expect(w!.cpu.clientMsPerOp).toBeGreaterThan(0);
                // The server's CPU is read from /proc for PostgreSQL; SQLite has no server.
                if (store === "postgres") {
                    expect(w!.cpu.serverMsPerOp).toBeGreaterThan(0);
                    // Every writer's backend was sampled: the shares of its states add up to 1.
                    const shares = Object.values(w!.backendStates ?? {});
                    expect(shares.length).toBeGreaterThan(0);
                    expect(shares.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
                } else {
                    expect(w!.cpu.serverMsPerOp).toBeNull();
                    expect(w!.backendStates).toBeUndefined();
                }
                for (const op of ["trade_ingest", "ohlcv_upsert", "pool_update"]) expect(w!.perOp[op]).toHaveProperty("p99");
            }
        }
    });

    it("PostgreSQL had zero errors", () => {
        for (const w of out.writes.filter((x) => x.store === "postgres")) expect(w.errorCount, `N=${w.writers}`).toBe(0);
    });

    it("times every read query on both stores, with a PostgreSQL plan, on identical data", () => {
        expect(out.reads.map((r) => r.id)).toEqual(READ_IDS);
        for (const r of out.reads) {
            expect(r.sqlite.medianMs).toBeGreaterThan(0);
            expect(r.postgres.medianMs).toBeGreaterThan(0);
            expect(r.ratio).toBeGreaterThan(0);
            expect(r.postgres.rows, r.id).toBe(r.sqlite.rows);
            expect(r.postgres.plan.text).toMatch(/actual time=/);
            // Embedded PostgreSQL is 17: EXPLAIN measures the result's serialization too.
            expect(r.postgres.plan.serializeMs, r.id).toBeGreaterThanOrEqual(0);
            expect(r.roundTripFloorMs).toBeCloseTo(r.postgres.statements * out.readRoundTripMs, 6);
        }
        // Item 1 is the watchlist plus one pool lookup per entry: one round trip each.
        const watch = out.reads.find((r) => r.id === "1")!;
        expect(watch.postgres.statements).toBeGreaterThan(1);
        expect(watch.postgres.statements).toBeLessThanOrEqual(watch.postgres.rows);
    });

    it("evaluates the three targets", () => {
        expect(out.targets.map((t) => t.id)).toEqual(["pg-zero-lock-errors", "pg-write-throughput-5x", "pg-reads-not-slower"]);
    });
});
