/**
 * The simulated collector (scripts/simulate-collector.ts) as sync/cutover tests use it:
 * a separate process writing the collector's write mix into a generated file, whose log
 * says exactly which rows must exist afterwards, and which waits (never fails) while
 * another connection holds the write lock. No PostgreSQL needed.
 */
import Database from "better-sqlite3";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateCollectorDb, type CollectorDbOptions } from "../../../scripts/generator/collectorDb";
import { readCollectorLog } from "../../../scripts/generator/simulatedCollector";
import { PROJECT_ROOT } from "../../support/paths";
import { expectFileMatchesLog, startSimulator } from "../../support/simulator";

const ZONE = "America/Chicago";
const CLI = path.join(PROJECT_ROOT, "scripts/simulate-collector.ts");
let dir: string;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function generate(name: string, options: Omit<CollectorDbOptions, "path"> = {}): string {
    const file = path.join(dir, `${name}.db`);
    generateCollectorDb({ path: file, rows: 6000, hostTimeZone: ZONE, ...options });
    return file;
}

/** The host's wall clock for an epoch second, computed without the generator's clock. */
function localWall(epochSec: number): string {
    const parts = Object.fromEntries(
        new Intl.DateTimeFormat("en-CA", { timeZone: ZONE, hourCycle: "h23", dateStyle: "short", timeStyle: "medium" })
            .formatToParts(new Date(epochSec * 1000))
            .map((p) => [p.type, p.value]),
    );
    return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}:${parts.second}.000000`;
}

beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "gecko-simulated-collector-"));
});

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("simulated collector", () => {
    it("logs every committed row: after SIGTERM the file holds exactly what the log says", async () => {
        const file = generate("busy");
        const log = path.join(dir, "busy.jsonl");
        const sim = startSimulator(file, log, ZONE, "--tick-ms", "50", "--seed", "3");
        await sim.ready;
        await sleep(2000);
        const { code, stderr, summary } = await sim.stop();
        expect(code, stderr).toBe(0);
        expect(summary).toMatchObject({ errors: 0, skipped: [] });

        const { writes, errors } = readCollectorLog(log);
        expect(errors).toEqual([]);
        expect(writes).toHaveLength(summary.rows);
        const seen = new Set(writes.map((w) => `${w.table}:${w.op}`));
        for (const op of ["trades:insert", "trades:delete", "ohlcv_data:upsert", "ohlcv_data:delete", "pools:update"]) {
            expect(seen, op).toContain(op);
        }
        expectFileMatchesLog(file, writes);
    });

    it("writes OHLCV values as the collector stores them: REAL prices, host-local datetime text", async () => {
        const file = generate("values", { seed: 2 });
        const log = path.join(dir, "values.jsonl");
        const sim = startSimulator(file, log, ZONE, "--tick-ms", "20");
        await sim.ready;
        await sleep(1000);
        expect((await sim.stop()).code).toBe(0);
        const ids = readCollectorLog(log).writes.filter((w) => w.table === "ohlcv_data" && w.op === "upsert");
        expect(ids.length).toBeGreaterThan(0);
        const db = new Database(file, { readonly: true });
        const read = db.prepare(
            "SELECT timestamp, datetime, typeof(open_price) AS t, typeof(volume_usd) AS v FROM ohlcv_data WHERE id = ?",
        );
        let checked = 0;
        for (const { key } of ids) {
            const row = read.get(key) as { timestamp: number; datetime: string; t: string; v: string } | undefined;
            if (!row) continue; // trimmed by retention since
            expect(row).toEqual({ timestamp: row.timestamp, datetime: localWall(row.timestamp), t: "real", v: "real" });
            checked++;
        }
        db.close();
        expect(checked).toBeGreaterThan(0);
    });

    it("waits for a write lock another connection holds for 1 s, without a write error", async () => {
        const file = generate("locked", { seed: 4 });
        const log = path.join(dir, "locked.jsonl");
        const sim = startSimulator(file, log, ZONE, "--tick-ms", "20");
        await sim.ready;
        const other = new Database(file, { timeout: 5000 });
        other.exec("BEGIN IMMEDIATE");
        await sleep(1000);
        other.exec("COMMIT");
        other.close();
        await sleep(300);
        const { code, stderr, summary } = await sim.stop();
        expect(code, stderr).toBe(0);
        expect(summary.errors).toBe(0);
        expect(summary.maxWaitMs).toBeGreaterThanOrEqual(900);
        expect(readCollectorLog(log).errors).toEqual([]);
    });

    it("counts and logs a write that gives up on the lock (SQLITE_BUSY), and keeps running", async () => {
        const file = generate("busy-timeout", { seed: 6 });
        const log = path.join(dir, "busy-timeout.jsonl");
        const sim = startSimulator(file, log, ZONE, "--tick-ms", "20", "--busy-timeout", "200");
        await sim.ready;
        const other = new Database(file, { timeout: 5000 });
        other.exec("BEGIN IMMEDIATE");
        await sleep(600);
        other.exec("COMMIT");
        other.close();
        await sleep(300);
        const { code, stderr, summary } = await sim.stop();
        expect(code, stderr).toBe(0);
        const { writes, errors } = readCollectorLog(log);
        expect(summary.errors).toBeGreaterThan(0);
        expect(errors).toHaveLength(summary.errors);
        expect(errors[0]).toMatchObject({ op: "error", code: "SQLITE_BUSY" });
        expect(writes.at(-1)!.seq).toBeGreaterThan(errors.at(-1)!.seq); // it went on writing after the lock was free
        expectFileMatchesLog(file, writes);
    });

    it("skips the writes an older schema cannot take and runs the rest", async () => {
        const file = generate("old", { variant: "old" });
        const log = path.join(dir, "old.jsonl");
        const sim = startSimulator(file, log, ZONE, "--tick-ms", "20");
        await sim.ready;
        await sleep(700);
        const { code, stderr, summary } = await sim.stop();
        expect(code, stderr).toBe(0);
        expect(summary.errors).toBe(0);
        expect(summary.skipped).toEqual(["watchlist_update: watchlist lacks updated_at"]);

        // A second run appends to the same log and continues its seq.
        const again = spawnSync(
            process.execPath,
            ["--import", "tsx", CLI, "--file", file, "--log", log, "--seconds", "0.5", "--seed", "9"],
            {
                cwd: PROJECT_ROOT,
                encoding: "utf8",
            },
        );
        expect(again.status, again.stderr).toBe(0);
        const { writes } = readCollectorLog(log);
        expect(writes.length).toBeGreaterThan(summary.rows);
        expect(writes.every((w, i) => i === 0 || w.seq > writes[i - 1].seq)).toBe(true);
        expectFileMatchesLog(file, writes);
    });
});
