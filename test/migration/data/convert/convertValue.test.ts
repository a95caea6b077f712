import { describe, expect, it } from "vitest";
import {
    canonicalSql,
    columnContext,
    convertValue,
    copyEscape,
    createTimezonePolicy,
    fieldConverter,
    type ConvertContext,
    type RawValue,
} from "../../../../migration/data/convert/index";
import type { ColumnType } from "../../../../migration/schema/types";
import { prng } from "../../../support/convertOracle";

const utc = { timeZone: "UTC", nullable: true };
const notNull = { timeZone: "UTC", nullable: false };
const N = (precision: number, scale: number): ColumnType => ({ kind: "numeric", precision, scale });

describe("convertValue: NULL and empty-string rules", () => {
    const nonText: ColumnType[] = [
        { kind: "integer" },
        { kind: "bigint" },
        N(10, 4),
        { kind: "boolean" },
        { kind: "timestamptz" },
        { kind: "jsonb" },
    ];

    it.each(nonText)("blank string in a nullable %j column -> NULL with a warning", (type) => {
        expect(convertValue("", type, utc)).toEqual({ ok: true, value: null, warning: "empty-as-null" });
        expect(convertValue(" \t", type, utc)).toEqual({ ok: true, value: null, warning: "empty-as-null" });
    });

    it.each(nonText)("blank string in a NOT NULL %j column is rejected", (type) => {
        expect(convertValue("", type, notNull)).toEqual({ ok: false, reason: `TEXT "" (empty) in a NOT NULL ${type.kind} column` });
    });

    it("keeps empty strings in text columns, and NULL as NULL unless NOT NULL", () => {
        expect(convertValue("", { kind: "text" }, notNull)).toEqual({ ok: true, value: "" });
        expect(convertValue(null, { kind: "text" }, utc)).toEqual({ ok: true, value: null });
        expect(convertValue(null, N(5, 2), notNull)).toEqual({ ok: false, reason: "NULL in a NOT NULL column" });
    });

    it("dispatches by type and applies the column's zone to naive timestamps", () => {
        expect(convertValue(379.28646677651693, N(20, 8), utc)).toEqual({ ok: true, value: "379.28646678" });
        expect(convertValue("2024-07-01 12:00:00", { kind: "timestamptz" }, { timeZone: "America/Chicago", nullable: true })).toEqual({
            ok: true,
            value: "2024-07-01 17:00:00+00",
        });
        expect(convertValue("2024-07-01 12:00:00", { kind: "timestamptz" }, utc)).toEqual({ ok: true, value: "2024-07-01 12:00:00+00" });
        expect(convertValue(1n, { kind: "boolean" }, utc)).toEqual({ ok: true, value: "true" });
        expect(convertValue('{"b":1,"a":2}', { kind: "jsonb" }, utc)).toEqual({ ok: true, value: '{"a": 2, "b": 1}' });
        expect(convertValue("x".repeat(11), { kind: "text", maxLength: 10 }, utc).ok).toBe(false);
        expect(convertValue(7n, { kind: "bigint" }, utc)).toEqual({ ok: true, value: "7" });
    });

    it("builds the context of a column from the policy", () => {
        const policy = createTimezonePolicy({ hostZone: "America/Chicago" });
        expect(columnContext(policy, "ohlcv_data", { name: "datetime", type: { kind: "timestamptz" }, nullable: false })).toEqual({
            timeZone: "America/Chicago",
            nullable: false,
        });
        expect(columnContext(policy, "trades", { name: "block_timestamp", type: { kind: "timestamptz" }, nullable: true })).toEqual({
            timeZone: "UTC",
            nullable: true,
        });
    });
});

describe("fieldConverter: convertValue's results, the common values as plain text", () => {
    const types: ColumnType[] = [
        { kind: "text" },
        { kind: "text", maxLength: 10 },
        { kind: "integer" },
        { kind: "bigint" },
        N(10, 4),
        N(20, 8),
        N(5, 0),
        N(3, 3),
        { kind: "boolean" },
        { kind: "timestamptz" },
        { kind: "jsonb" },
    ];
    const contexts: ConvertContext[] = [
        utc,
        notNull,
        { timeZone: "America/Chicago", nullable: true },
        { timeZone: "Europe/Berlin", nullable: false },
    ];
    const fixed: RawValue[] = [
        null,
        "",
        " ",
        "\t",
        "abc",
        "a\u0000b",
        "\ud800x",
        "x".repeat(10),
        "x".repeat(11),
        "😀".repeat(6),
        "😀".repeat(11),
        "2024-07-01 12:00:00",
        "2024-07-01 12:00:00.123456",
        "2024-07-01T12:00:00.000000",
        "2024-03-10 02:30:00",
        "2024-11-03 01:30:00",
        "2024-03-31 02:30:00",
        "2024-10-27 02:30:00",
        "2024-02-30 00:00:00",
        "2024-02-29 24:00:00",
        "0001-01-01 00:00:00",
        "9999-12-31 23:59:59.999999",
        "2024-07-01 12:00",
        "2024-07-01 12:00:00Z",
        " 2024-07-01 12:00:00 ",
        "1",
        "0",
        "2",
        "true",
        "F",
        "12.5",
        " 42 ",
        "1e-7",
        "NaN",
        '{"b":1}',
        "[1,2]",
        0n,
        1n,
        2n,
        -1n,
        2n ** 31n,
        2n ** 31n - 1n,
        -(2n ** 31n),
        -(2n ** 31n) - 1n,
        2n ** 63n - 1n,
        -(2n ** 63n),
        1_700_000_000n,
        1_700_000_000_123n,
        0,
        -0,
        1,
        0.5,
        -0.00005,
        379.28646677651693,
        4.68e-7,
        -4.68e-7,
        9.99995e-5,
        1e21,
        1e-300,
        NaN,
        Infinity,
        866222.818,
        99999.99995,
        999.9995,
        1_700_000_000.5,
        Buffer.from("abc"),
        Buffer.from([0xff]),
    ];
    const rng = prng(7);
    const randomReals = Array.from({ length: 3000 }, () => (rng.chance(0.5) ? -1 : 1) * rng.next() * 10 ** rng.int(-12, 8));
    const expected = (raw: RawValue, type: ColumnType, ctx: ConvertContext) => {
        const r = convertValue(raw, type, ctx);
        return r.ok && r.warning === undefined ? r.value : r;
    };

    it.each(types)("%j", (type) => {
        for (const ctx of contexts) {
            const convert = fieldConverter(type, ctx);
            for (const raw of [...fixed, ...randomReals]) {
                const got = convert(raw);
                // toEqual would pass -0 vs 0 and distinguishes nothing finer than the text; compare as JSON.
                expect(JSON.stringify(got), `${JSON.stringify(type)} ${ctx.timeZone} ${String(raw)}`).toBe(
                    JSON.stringify(expected(raw, type, ctx)),
                );
            }
        }
    });

    it("hands back text, not an object, for the collector's usual values", () => {
        expect(fieldConverter(N(20, 8), utc)(379.28646677651693)).toBe("379.28646678");
        expect(fieldConverter({ kind: "timestamptz" }, { timeZone: "America/Chicago", nullable: true })("2024-07-01 12:00:00.123456")).toBe(
            "2024-07-01 17:00:00.123456+00",
        );
        expect(fieldConverter({ kind: "text", maxLength: 10 }, utc)("😀".repeat(6))).toBe("😀".repeat(6));
        expect(fieldConverter({ kind: "integer" }, utc)(-(2n ** 31n) - 1n)).toMatchObject({ ok: false });
        expect(fieldConverter({ kind: "timestamptz" }, { timeZone: "America/Chicago", nullable: true })("2024-11-03 01:30:00")).toEqual({
            ok: true,
            value: "2024-11-03 07:30:00+00",
            warning: "dst-ambiguous",
        });
    });
});

describe("copyEscape and canonicalSql", () => {
    it.each([
        [null, "\\N"],
        ["", ""],
        ["plain", "plain"],
        ["a\\b", "a\\\\b"],
        ["tab\there", "tab\\there"],
        ["line\nbreak\r\n", "line\\nbreak\\r\\n"],
        ["\\N", "\\\\N"], // the text \N is not NULL
        ['{"a": "x\\ny"}', '{"a": "x\\\\ny"}'],
    ])("%j -> %j", (input, expected) => {
        expect(copyEscape(input)).toBe(expected);
    });

    it.each([
        [{ kind: "text" }, `"name"::text`],
        [{ kind: "numeric", precision: 20, scale: 8 }, `"name"::text`],
        [{ kind: "timestamptz" }, `("name" AT TIME ZONE 'UTC')::text || '+00'`],
        [{ kind: "jsonb" }, `"name"::text`],
        [{ kind: "boolean" }, `"name"::text`],
    ] as const)("%j -> %s", (type, sql) => {
        expect(canonicalSql('"name"', type)).toBe(sql);
    });
});
