/**
 * The comparison kinds on hand-made answers: ordered and unordered equality, ties, NULL
 * ordering, unstable answers (LIMIT without ORDER BY, LIMIT through ties), SUM/AVG within
 * rounding, and how a difference is named (changed columns, missing and extra rows, a shift).
 */
import { describe, expect, it } from "vitest";
import type { Row } from "../../../migration/compare/normalise";
import { describeShift, judge, withPostgresNulls, type Answers, type ResultShape } from "../../../migration/compare/verdict";

/** id, score: ORDER BY score DESC, keyed by id. */
const byScore = (limit?: number): ResultShape => ({
    columns: [{ name: "id" }, { name: "score" }],
    order: [{ index: 1, desc: true }],
    key: [0],
    ...(limit === undefined ? {} : { limit }),
});
const unordered: ResultShape = { columns: [{ name: "id" }, { name: "v" }], order: [], key: [0] };

/** Both engines answered `sqlite` twice and `pg` twice (no noise), unless told otherwise. */
const answers = (sqlite: Row[], pg: Row[], more: Partial<Answers> = {}): Answers => ({
    sqlite: [sqlite, sqlite],
    postgres: [pg, pg],
    ...more,
});

describe("judge: equal", () => {
    it("compares rows in order where ORDER BY decides it", () => {
        const rows: Row[] = [
            ["a", "3"],
            ["b", "2"],
            ["c", "1"],
        ];
        expect(judge(byScore(), answers(rows, [...rows])).kind).toBe("equal");
        const swapped = [rows[1], rows[0], rows[2]];
        const v = judge(byScore(), answers(rows, swapped));
        expect(v.kind).toBe("different");
        expect(v.reason).toBe("the same rows in another order");
        expect(v.differences[0]).toMatchObject({ kind: "order", columns: [{ column: "score", sqlite: "3", postgres: "2" }] });
    });

    it("compares rows as a set where ORDER BY is absent or leaves them tied", () => {
        const rows: Row[] = [
            ["a", "2"],
            ["b", "2"],
            ["c", "1"],
        ];
        expect(judge(byScore(), answers(rows, [rows[1], rows[0], rows[2]])).kind).toBe("equal");
        expect(judge(unordered, answers(rows, [rows[2], rows[0], rows[1]])).kind).toBe("equal");
    });

    it("takes SUM and AVG as equal within the rounding of their inputs to the declared scale", () => {
        const shape: ResultShape = {
            columns: [
                { name: "n" },
                { name: "sum", approx: { op: "sum", scale: 2, countIndex: 0 } },
                { name: "avg", approx: { op: "avg", scale: 2, countIndex: 0 } },
            ],
            order: [],
            key: [],
        };
        // 100 inputs, each rounded by at most 0.005: the sum may move by 0.5, the average by 0.005.
        expect(judge(shape, answers([["100", "1234.5", "12.345"]], [["100", "1234.9", "12.349"]])).kind).toBe("equal");
        const far = judge(shape, answers([["100", "1234.5", "12.345"]], [["100", "1235.1", "12.345"]]));
        expect(far).toMatchObject({ kind: "different", counts: { changed: 1 } });
        expect(far.differences[0].columns).toEqual([{ column: "sum", sqlite: "1234.5", postgres: "1235.1" }]);
    });
});

describe("judge: null-order", () => {
    it("names NULLs sorted the other way round as null-order, not a difference (DESC and ASC)", () => {
        const sqliteDesc: Row[] = [
            ["a", "3"],
            ["b", "2"],
            ["n", null],
        ];
        const pgDesc: Row[] = [
            ["n", null],
            ["a", "3"],
            ["b", "2"],
        ];
        expect(judge(byScore(), answers(sqliteDesc, pgDesc))).toMatchObject({
            kind: "null-order",
            reason: expect.stringContaining("score DESC"),
        });
        const asc: ResultShape = { ...byScore(), order: [{ index: 1, desc: false }] };
        expect(
            judge(
                asc,
                answers(
                    [
                        ["n", null],
                        ["b", "2"],
                        ["a", "3"],
                    ],
                    [
                        ["b", "2"],
                        ["a", "3"],
                        ["n", null],
                    ],
                ),
            ).kind,
        ).toBe("null-order");
    });

    it("under a LIMIT, checks PostgreSQL's rows against SQLite's whole answer in PostgreSQL's NULL order", () => {
        const full: Row[] = [
            ["a", "3"],
            ["b", "2"],
            ["c", "1"],
            ["n", null],
        ];
        const v = judge(
            byScore(2),
            answers(
                full.slice(0, 2),
                [
                    ["n", null],
                    ["a", "3"],
                ],
                { candidates: () => full },
            ),
        );
        expect(v.kind).toBe("null-order");
        // NULLs first would give n, a: n, b is not a PostgreSQL answer either way.
        expect(
            judge(
                byScore(2),
                answers(
                    full.slice(0, 2),
                    [
                        ["n", null],
                        ["b", "2"],
                    ],
                    { candidates: () => full },
                ),
            ).kind,
        ).toBe("different");
    });

    it("moves NULLs within each run of equal earlier keys", () => {
        const order = [
            { index: 0, desc: false },
            { index: 1, desc: true },
        ];
        const rows: Row[] = [
            [null, "9"],
            ["x", "2"],
            ["x", null],
            ["y", "1"],
        ];
        expect(withPostgresNulls(rows, order)).toEqual([
            ["x", null],
            ["x", "2"],
            ["y", "1"],
            [null, "9"],
        ]);
    });
});

describe("judge: unstable", () => {
    const limited: ResultShape = { ...unordered, limit: 2 };
    const all: Row[] = [
        ["a", "1"],
        ["b", "1"],
        ["c", "1"],
    ];

    it("a LIMIT without ORDER BY whose two SQLite runs differ is unstable when PostgreSQL's rows are ones SQLite could return", () => {
        const v = judge(limited, {
            sqlite: [all.slice(0, 2), all.slice(1)],
            postgres: [
                [all[0], all[2]],
                [all[0], all[2]],
            ],
            candidates: () => all,
        });
        expect(v).toMatchObject({ kind: "unstable", reason: expect.stringContaining("LIMIT 2") });
        expect(judge(limited, { sqlite: [all.slice(0, 2), all.slice(1)], postgres: [all.slice(1), all.slice(1)] }).kind).toBe("unstable");
    });

    it("but different when PostgreSQL returns a row SQLite could not", () => {
        const v = judge(limited, {
            sqlite: [all.slice(0, 2), all.slice(1)],
            postgres: [
                [all[0], ["z", "1"]],
                [all[0], ["z", "1"]],
            ],
            candidates: () => all,
        });
        expect(v.kind).toBe("different");
        expect(v.differences).toContainEqual({ kind: "extra-in-postgres", key: { id: "z" }, row: { id: "z", v: "1" } });
    });

    it("a LIMIT through tied rows: any of the tied rows is a valid top-n, a row below them is not", () => {
        const full: Row[] = [
            ["a", "5"],
            ["b", "4"],
            ["c", "4"],
            ["d", "3"],
        ];
        const sqlite = full.slice(0, 2);
        expect(judge(byScore(2), answers(sqlite, [full[0], full[2]], { candidates: () => full })).kind).toBe("unstable");
        expect(judge(byScore(2), answers(sqlite, [full[0], full[3]], { candidates: () => full })).kind).toBe("different");
        expect(judge(byScore(2), answers(sqlite, [full[1], full[2]], { candidates: () => full })).kind).toBe("different");
    });

    it("PostgreSQL answering differently on its own second run is unstable too", () => {
        const rows: Row[] = [["a", "1"]];
        expect(judge(unordered, { sqlite: [rows, rows], postgres: [rows, []] }).kind).toBe("unstable");
    });
});

describe("judge: different", () => {
    const sqlite: Row[] = [
        ["a", "2025-03-09 07:00:00+00"],
        ["b", "2025-03-09 08:00:00+00"],
        ["c", "2025-03-09 09:00:00+00"],
    ];
    const shape: ResultShape = {
        columns: [{ name: "id" }, { name: "datetime", timestamp: true }],
        order: [{ index: 1, desc: false }],
        key: [0],
    };

    it("pairs rows by key and names the columns that differ, a shifted clock by its shift", () => {
        const pg: Row[] = [sqlite[0], ["b", "2025-03-09 09:00:00+00"], sqlite[2]];
        const v = judge(shape, answers(sqlite, pg));
        expect(v).toMatchObject({ kind: "different", counts: { changed: 1, missing: 0, extra: 0 } });
        expect(v.differences).toEqual([
            {
                kind: "changed",
                key: { id: "b" },
                columns: [
                    {
                        column: "datetime",
                        sqlite: "2025-03-09 08:00:00+00",
                        postgres: "2025-03-09 09:00:00+00",
                        note: "PostgreSQL is 1 h later",
                    },
                ],
            },
        ]);
    });

    it("lists a row only SQLite has as missing in PostgreSQL", () => {
        const v = judge(shape, answers(sqlite, [sqlite[0], sqlite[2]]));
        expect(v).toMatchObject({ kind: "different", counts: { changed: 0, missing: 1, extra: 0 } });
        expect(v.differences).toEqual([
            { kind: "missing-in-postgres", key: { id: "b" }, row: { id: "b", datetime: "2025-03-09 08:00:00+00" } },
        ]);
    });

    it("lists at most the first N differing rows but counts them all", () => {
        const many: Row[] = Array.from({ length: 9 }, (_, i) => [`r${i}`, String(i)]);
        const v = judge(
            unordered,
            answers(
                many,
                many.map((r) => [r[0], `${r[1]}0`]),
            ),
            3,
        );
        expect(v.counts).toEqual({ changed: 9, missing: 0, extra: 0 });
        expect(v.differences).toHaveLength(3);
    });

    it("says a shift in hours, minutes or seconds", () => {
        expect(describeShift(3600)).toBe("PostgreSQL is 1 h later");
        expect(describeShift(-21600)).toBe("PostgreSQL is 6 h earlier");
        expect(describeShift(1800)).toBe("PostgreSQL is 30 min later");
        expect(describeShift(-1.5)).toBe("PostgreSQL is 1.5 s earlier");
    });
});
