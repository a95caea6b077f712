/**
 * Rowid-range chunking and foreign-key copy order (migration/data/plan/chunkPlan.ts):
 * closed, contiguous ranges from the smallest to the largest rowid, sized by the
 * table's average density; parents before children, ties by name, cycles refused.
 */
import { describe, expect, it } from "vitest";
import { foreignKeyOrder, planChunks, type Chunk } from "../../../../migration/data/plan/chunkPlan";
import { TARGET_TABLES } from "../../../../migration/schema/tables";

const ranges = (chunks: readonly Chunk[]) => chunks.map((c) => [c.chunkNo, c.rowidLo, c.rowidHi]);

describe("planChunks", () => {
    it("splits a dense table into ranges of about chunkRows rowids, the last one shorter", () => {
        // 10 rows at 1..10, 4 per chunk: ceil(10/4) = 3 chunks of width ceil(10/3) = 4.
        const plan = planChunks({ table: "pools", rowCount: 10, minRowid: 1n, maxRowid: 10n, chunkRows: 4 });
        expect(plan.table).toBe("pools");
        expect(plan.rowCount).toBe(10);
        expect(ranges(plan.chunks)).toEqual([
            [0, 1n, 4n],
            [1, 5n, 8n],
            [2, 9n, 10n],
        ]);
        expect(plan.chunks.every((c) => c.table === "pools")).toBe(true);
    });

    it("splits a sparse table by rowid span, not by row count", () => {
        // 3 rows spread over rowids 1..1000, 2 per chunk: 2 chunks of width ceil(1000/2) = 500.
        const plan = planChunks({ table: "trades", rowCount: 3, minRowid: 1n, maxRowid: 1000n, chunkRows: 2 });
        expect(ranges(plan.chunks)).toEqual([
            [0, 1n, 500n],
            [1, 501n, 1000n],
        ]);
    });

    it("makes one chunk when the table fits, and one of a single rowid for one row", () => {
        expect(ranges(planChunks({ table: "t", rowCount: 5, minRowid: 3n, maxRowid: 9n, chunkRows: 50_000 }).chunks)).toEqual([
            [0, 3n, 9n],
        ]);
        expect(ranges(planChunks({ table: "t", rowCount: 1, minRowid: 42n, maxRowid: 42n, chunkRows: 1 }).chunks)).toEqual([[0, 42n, 42n]]);
    });

    it("handles negative rowids and rowids beyond 2^53 exactly", () => {
        // 10 rows at -5..4, 3 per chunk: 4 chunks of width ceil(10/4) = 3; the last holds rowid 4 alone.
        expect(ranges(planChunks({ table: "t", rowCount: 10, minRowid: -5n, maxRowid: 4n, chunkRows: 3 }).chunks)).toEqual([
            [0, -5n, -3n],
            [1, -2n, 0n],
            [2, 1n, 3n],
            [3, 4n, 4n],
        ]);
        const big = 9_007_199_254_740_990n; // 2^53 - 2
        expect(ranges(planChunks({ table: "t", rowCount: 10, minRowid: big, maxRowid: big + 9n, chunkRows: 5 }).chunks)).toEqual([
            [0, 9_007_199_254_740_990n, 9_007_199_254_740_994n],
            [1, 9_007_199_254_740_995n, 9_007_199_254_740_999n],
        ]);
    });

    it("plans nothing for an empty table", () => {
        expect(planChunks({ table: "tokens", rowCount: 0, minRowid: null, maxRowid: null, chunkRows: 10 })).toEqual({
            table: "tokens",
            chunks: [],
            rowCount: 0,
        });
    });

    it("covers [min, max] without gaps or overlaps, never with more chunks than ceil(rows / chunkRows)", () => {
        for (const [rowCount, lo, hi, chunkRows] of [
            [7, 1n, 7n, 2],
            [100, 1n, 137n, 9],
            [1000, 50n, 1049n, 1000],
            [3, 10n, 12n, 1],
            [17, -100n, 900n, 4],
        ] as const) {
            const { chunks } = planChunks({ table: "t", rowCount, minRowid: lo, maxRowid: hi, chunkRows });
            const label = `${rowCount} rows in ${lo}..${hi} by ${chunkRows}`;
            expect(chunks[0].rowidLo, label).toBe(lo);
            expect(chunks[chunks.length - 1].rowidHi, label).toBe(hi);
            chunks.forEach((c, i) => {
                expect(c.chunkNo, label).toBe(i);
                expect(c.rowidLo <= c.rowidHi, label).toBe(true);
                if (i > 0) expect(c.rowidLo, label).toBe(chunks[i - 1].rowidHi + 1n);
            });
            expect(chunks.length, label).toBeLessThanOrEqual(Math.ceil(rowCount / chunkRows));
        }
    });

    it("refuses a chunk size that is not a positive integer, even for an empty table", () => {
        for (const chunkRows of [0, -1, 1.5, NaN]) {
            expect(() => planChunks({ table: "t", rowCount: 10, minRowid: 1n, maxRowid: 10n, chunkRows })).toThrow(
                `chunkRows must be a positive integer, got ${chunkRows}`,
            );
        }
        expect(() => planChunks({ table: "t", rowCount: 0, minRowid: null, maxRowid: null, chunkRows: 0 })).toThrow(/positive integer/);
    });
});

describe("foreignKeyOrder", () => {
    const t = (name: string, ...parents: string[]) => ({ name, foreignKeys: parents.map((table) => ({ references: { table } })) });
    const names = (tables: readonly { name: string }[]) => tables.map((x) => x.name);

    it("puts each parent before its children, everything else by name", () => {
        expect(names(foreignKeyOrder([t("m_alone"), t("z_parent"), t("a_child", "z_parent")]))).toEqual(["z_parent", "a_child", "m_alone"]);
        // Several parents are visited by name.
        expect(names(foreignKeyOrder([t("child", "y_parent", "x_parent"), t("y_parent"), t("x_parent")]))).toEqual([
            "x_parent",
            "y_parent",
            "child",
        ]);
    });

    it("orders the collector's tables the same whatever the input order", () => {
        const expected = [
            "collection_metadata",
            "dexes",
            "discovery_metadata",
            "execution_history",
            "new_pools_history",
            "pools", // pulled ahead of ohlcv_data, its child
            "ohlcv_data",
            "performance_metrics",
            "system_alerts",
            "tokens",
            "trades",
            "watchlist",
        ];
        expect(names(foreignKeyOrder(TARGET_TABLES))).toEqual(expected);
        expect(names(foreignKeyOrder([...TARGET_TABLES].reverse()))).toEqual(expected);
    });

    it("ignores self-references and references to tables not in the list", () => {
        expect(names(foreignKeyOrder([t("b", "b"), t("a", "elsewhere")]))).toEqual(["a", "b"]);
    });

    it("refuses a cycle, naming its path", () => {
        expect(() => foreignKeyOrder([t("b", "a"), t("a", "b")])).toThrow("foreign key cycle: a -> b -> a");
        expect(() => foreignKeyOrder([t("a", "b"), t("b", "c"), t("c", "a"), t("d")])).toThrow("foreign key cycle: a -> b -> c -> a");
    });

    it("returns the caller's objects", () => {
        const input = [t("child", "parent"), t("parent")];
        const out = foreignKeyOrder(input);
        expect(out[0]).toBe(input[1]);
        expect(out[1]).toBe(input[0]);
    });
});
