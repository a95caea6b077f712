/**
 * How the concurrency benchmark turns writer results into figures: throughput from the
 * operations completed inside the measured window only, CPU per operation from every
 * operation started in it, the machine's /proc/stat busy time, the labels of the
 * backends' sampled states; and the write mix's OHLCV batches.
 */
import { describe, expect, it } from "vitest";
import { parseProcStat } from "../../../../scripts/bench/load/machineCpu";
import { stateLabel } from "../../../../scripts/bench/load/waitSampler";
import type { OpResult, WriterResult } from "../../../../scripts/bench/load/protocol";
import { aggregate } from "../../../../scripts/bench/load/runWriters";
import { DEFAULT_MIX, OpSource, type Workload } from "../../../../scripts/bench/load/ops";

const op = (latenciesMs: number[], completedInWindow: number, rows: number, errors: OpResult["errors"] = {}): OpResult => ({
    latenciesMs,
    completedInWindow,
    rows,
    slow: 0,
    errors,
});

function writer(worker: number, cpuMs: number, ops: WriterResult["ops"], warmupOps = 3): WriterResult {
    const opsStarted = Object.values(ops).reduce(
        (n, o) => n + o.latenciesMs.length + Object.values(o.errors).reduce((a, b) => a + (b ?? 0), 0),
        0,
    );
    return { worker, startedAt: 0, endedAt: 0, ops, opsStarted, cpuMs, warmupOps, errorSamples: [] };
}

describe("parseProcStat", () => {
    it("counts everything but idle and iowait as busy, in seconds of all cores", () => {
        const text = "cpu  100 20 30 400 50 5 5 0 0 0\ncpu0 50 10 15 200 25 2 3 0 0 0\nintr 1\n";
        expect(parseProcStat(text)).toEqual({ busySeconds: 1.6, totalSeconds: 6.1 });
    });

    it("returns null without an aggregate cpu line", () => {
        expect(parseProcStat("cpu0 1 2 3 4 5\n")).toBeNull();
    });
});

describe("aggregate", () => {
    const results = [
        writer(0, 30, {
            // 4 trade ingests, one finished after the deadline: latency kept, throughput not.
            trade_ingest: op([5, 6, 7, 900], 3, 300),
            ohlcv_upsert: op([1, 1], 2, 2),
            pool_update: op([1], 1, 1, { lock_timeout: 1 }),
        }),
        writer(1, 10, { trade_ingest: op([], 0, 0), ohlcv_upsert: op([2, 2, 2], 3, 3), pool_update: op([], 0, 0) }),
    ];

    it("counts only operations completed in the window, over the window's length", () => {
        const f = aggregate(results, 2);
        expect(f.ops).toBe(9);
        expect(f.opsPerSecond).toBe(4.5);
        expect(f.rows).toBe(306);
        expect(f.rowsPerSecond).toBe(153);
        expect(f.all.count).toBe(10);
        expect(f.all.max).toBe(900);
        expect(f.errorCount).toBe(1);
        expect(f.errors).toEqual({ lock_timeout: 1 });
        expect(f.warmupOps).toBe(6);
    });

    it("divides CPU by every operation started, failed and late ones included", () => {
        const f = aggregate(results, 2, { seconds: 2.5, serverCpuSeconds: 0.11, machineBusySeconds: 4 });
        // 11 operations started: 10 successful + 1 failed.
        expect(f.cpu.clientMsPerOp).toBeCloseTo(40 / 11, 10);
        expect(f.cpu.serverMsPerOp).toBeCloseTo(110 / 11, 10);
        expect(f.cpu.machineBusyCores).toBeCloseTo(1.6, 10);
        // 1.6 busy cores - 0.016 writers - 0.044 server.
        expect(f.cpu.otherBusyCores).toBeCloseTo(1.54, 10);
        expect(f.cpu.serverBusyCores).toBeCloseTo(0.044, 10);
    });

    it("keeps a server that is not the store under test out of the per-operation figures but not out of the machine's", () => {
        const f = aggregate(results, 2, { seconds: 2.5, serverCpuSeconds: 0.11, machineBusySeconds: 4 }, false);
        expect(f.cpu.serverMsPerOp).toBeNull();
        expect(f.cpu.serverBusyCores).toBeCloseTo(0.044, 10);
        expect(f.cpu.otherBusyCores).toBeCloseTo(1.54, 10);
    });

    it("has no server or machine figures without a CPU window", () => {
        const f = aggregate(results, 2);
        expect(f.cpu.serverMsPerOp).toBeNull();
        expect(f.cpu.machineBusyCores).toBeNull();
        expect(f.cpu.otherBusyCores).toBeNull();
    });
});

describe("OpSource: an OHLCV batch per commit", () => {
    const workload: Workload = {
        hotPools: ["p1", "p2"],
        ohlcvSeries: [
            { poolId: "p1", timeframe: "1h", seconds: 3600, lastTimestamp: 1_748_736_000 },
            { poolId: "p2", timeframe: "5m", seconds: 300, lastTimestamp: 1_748_736_000 },
        ],
        knownTradeIds: [],
        endEpoch: 1_748_736_000,
    };

    it.each([1, 5, 100])("%i rows: one series, consecutive candles, oldest first", (batch) => {
        const source = new OpSource("postgres", workload, { ...DEFAULT_MIX, ohlcvPerCommit: batch }, "t", 0, 3);
        for (let k = 0; k < 20; k++) {
            const statements = source.plan("ohlcv_upsert").buildWrites(new Set());
            expect(statements).toHaveLength(batch);
            const keys = statements.map((s) => ({ pool: s.params[0], timeframe: s.params[1], ts: s.params[2] as number }));
            expect(new Set(keys.map((x) => `${x.pool}/${x.timeframe}`)).size).toBe(1);
            const step = keys[0].timeframe === "1h" ? 3600 : 300;
            keys.forEach((x, i) => expect(x.ts).toBe(keys[0].ts + i * step));
        }
    });
});

describe("stateLabel (pg_stat_activity of a writer's backend)", () => {
    it.each([
        ["active", null, null, "running (CPU)"],
        ["active", "Lock", "transactionid", "Lock:transactionid"],
        ["active", "IO", "WalSync", "IO:WalSync"],
        ["idle in transaction", "Client", "ClientRead", "client, in transaction"],
        ["idle", "Client", "ClientRead", "client, between transactions"],
        [null, null, null, "unknown"],
    ])("%s %s:%s -> %s", (state, type, event, label) => {
        expect(stateLabel(state, type, event)).toBe(label);
    });
});
