/**
 * The parameters drawn from generated collector files (no PostgreSQL): busy and quiet pools, every
 * timeframe, windows across a partition bound and the host's DST change; and which queries run
 * or are left out with a reason, per schema variant.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { planCatalogue } from "../../../migration/compare/catalogue";
import { drawParameters } from "../../../migration/compare/params";
import { mapSourceToTarget } from "../../../migration/data/plan/tableMapping";
import { introspectSource } from "../../../migration/data/source/introspect";
import { openReadOnly } from "../../../migration/data/source/snapshot";
import { TARGET_TABLES } from "../../../migration/schema/tables";
import { generateCollectorDb } from "../../../scripts/generator/collectorDb";
import type { SchemaVariant } from "../../../scripts/generator/variants";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gecko-compare-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function drawn(variant: SchemaVariant, hostTimeZone = "America/Chicago") {
    const file = path.join(dir, `${variant}-${hostTimeZone.replace("/", "_")}.db`);
    if (!fs.existsSync(file)) generateCollectorDb({ path: file, rows: 3000, seed: 3, variant, hostTimeZone });
    const db = openReadOnly(file);
    try {
        const { tables } = mapSourceToTarget(introspectSource(db), TARGET_TABLES);
        const mappings = new Map(tables.filter((t) => !t.extra).map((t) => [t.target.name, t]));
        const params = drawParameters(db, mappings, hostTimeZone);
        return { file, params, catalogue: planCatalogue(mappings, params) };
    } finally {
        db.close();
    }
}

const sqlite = <T>(file: string, sql: string) => {
    const db = new Database(file, { readonly: true });
    try {
        return db.prepare(sql).get() as T;
    } finally {
        db.close();
    }
};

describe("drawParameters", () => {
    it("draws the busiest and the quietest pool of each table, every timeframe of a pool, and 500 ids for IN", () => {
        const { file, params } = drawn("current");
        const busiest = sqlite<{ id: string; n: number }>(
            file,
            "SELECT pool_id AS id, count(*) AS n FROM trades GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1",
        );
        expect(params.tradePools[0]).toEqual({ label: "busy", id: busiest.id, rows: busiest.n });
        expect(params.tradePools[1]).toMatchObject({ label: "quiet" });
        expect(params.tradePools[1].rows).toBeLessThan(busiest.n);
        const busyOhlcv = params.ohlcvPools[0];
        const timeframes = sqlite<{ t: string }>(
            file,
            `SELECT group_concat(t) AS t FROM (SELECT DISTINCT timeframe AS t FROM ohlcv_data WHERE pool_id = '${busyOhlcv.id}' ORDER BY 1)`,
        );
        expect(busyOhlcv.timeframes.join(",")).toBe(timeframes.t);
        expect(params.tradeIds).toHaveLength(500);
        expect(new Set(params.tradeIds).size).toBe(500);
        expect(Object.keys(params.keys)).toEqual(
            expect.arrayContaining(["pools", "trades", "ohlcv_data", "collection_metadata", "watchlist"]),
        );
    });

    it("puts a window around a month start (two ohlcv_data partitions) and around the host's DST change", () => {
        const { params } = drawn("current");
        // The generated span is 2025-02-01 .. 2025-06-01; Chicago springs forward on 2025-03-09 at 08:00 UTC.
        const dst = params.windows.find((w) => w.label === "DST change 2025-03-09")!;
        expect(dst).toBeDefined();
        expect(dst.to.epochSeconds - dst.from.epochSeconds).toBe(72 * 3600);
        expect((dst.from.epochSeconds + dst.to.epochSeconds) / 2).toBe(Date.UTC(2025, 2, 9, 8) / 1000);
        const bound = params.windows.find((w) => w.label.startsWith("partition bound"))!;
        const middle = new Date(((bound.from.epochSeconds + bound.to.epochSeconds) / 2) * 1000);
        expect([middle.getUTCDate(), middle.getUTCHours(), middle.getUTCMinutes()]).toEqual([1, 0, 0]);
    });

    it("draws no DST window for a host on UTC, and says so", () => {
        const { params } = drawn("current", "UTC");
        expect(params.windows.map((w) => w.label.split(" ")[0])).toEqual(["partition"]);
        expect(params.notes).toEqual(["no UTC offset change of UTC between the first and last candle"]);
    });
});

describe("planCatalogue", () => {
    const ids = (c: ReturnType<typeof drawn>["catalogue"]) => new Set(c.instances.map((i) => i.query.id));

    it("runs each frequent query and an ORM read per table; the signal query only where the file has signal_score", () => {
        const current = drawn("current").catalogue;
        for (const id of [
            "watchlist.active",
            "ohlcv.window",
            "trades.window_volume",
            "trades.known_ids",
            "stats.history_hourly",
            "discovery.due",
            "orm.pools",
            "orm.ohlcv_data",
        ])
            expect(ids(current), id).toContain(id);
        expect(current.skipped).toEqual([
            { id: "history.top_signal", reason: "the source file has no column new_pools_history.signal_score" },
        ]);
        expect(ids(drawn("extended").catalogue)).toContain("history.top_signal");
    });

    it("runs ohlcv.window for every timeframe of the busy pool in every window", () => {
        const { params, catalogue } = drawn("current");
        const windows = catalogue.instances.filter((i) => i.query.id === "ohlcv.window");
        expect(windows).toHaveLength(params.ohlcvPools[0].timeframes.length * params.windows.length);
    });

    it("leaves out what an old collector file cannot answer, naming what it lacks", () => {
        const skipped = drawn("old").catalogue.skipped;
        expect(skipped).toContainEqual({ id: "orm.system_alerts", reason: "the source file has no table system_alerts" });
        expect(skipped).toContainEqual({ id: "discovery.ranking", reason: "the source file has no column pools.activity_score" });
    });
});
