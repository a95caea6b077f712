/**
 * The canonical text through a real PostgreSQL: COPY of copyEscape(convertValue's value)
 * stores values whose canonicalSql reads back the same text, under any session TimeZone.
 * The rules alone: convertValue.test.ts.
 */
import { Client } from "pg";
import { from as copyFrom } from "pg-copy-streams";
import { pipeline } from "node:stream/promises";
import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { canonicalSql, convertValue, copyEscape, type RawValue } from "../../../../migration/data/convert/index";
import type { ColumnType } from "../../../../migration/schema/types";
import { createScratchDatabase } from "../../../support/db";

const N = (precision: number, scale: number): ColumnType => ({ kind: "numeric", precision, scale });

describe("canonical text round trip through PostgreSQL", () => {
    it("COPY of copyEscape(canonical) stores values whose canonicalSql reads back the same text, under any session TimeZone", async () => {
        const columns: { name: string; type: ColumnType; sqlType: string; raws: RawValue[] }[] = [
            { name: "t", type: { kind: "text" }, sqlType: "text", raws: ["tab\there", "nl\nand\\back", "\\N", "", "é😀", null] },
            { name: "v", type: { kind: "text", maxLength: 5 }, sqlType: "varchar(5)", raws: ["😀😀😀😀😀", "a", 12n, 1.5, "\r", null] },
            { name: "i", type: { kind: "integer" }, sqlType: "integer", raws: [-2147483648n, 5.0, "4.2e1", "-0", 0n, null] },
            { name: "b8", type: { kind: "bigint" }, sqlType: "bigint", raws: [9223372036854775807n, -1n, "  12 ", 2 ** 60, 0n, ""] },
            {
                name: "n",
                type: N(20, 8),
                sqlType: "numeric(20,8)",
                raws: [379.28646677651693, "1.5e-7", "-0.000000001", 1e-7, 123456789012n, null],
            },
            { name: "n2", type: N(10, 4), sqlType: "numeric(10,4)", raws: ["866222.818", 0.00005, -0.00005, "3.04E-8", 0n, null] },
            {
                name: "ts",
                type: { kind: "timestamptz" },
                sqlType: "timestamptz",
                raws: [
                    "2024-11-03 01:30:00",
                    "2024-03-10 02:30:00.123456",
                    "0001-01-01 00:00:00+00",
                    1700000000123n,
                    "2024-05-01T12:34:56Z",
                    null,
                ],
            },
            { name: "bo", type: { kind: "boolean" }, sqlType: "boolean", raws: [1n, 0n, "yes", "F", "t", null] },
            {
                name: "j",
                type: { kind: "jsonb" },
                sqlType: "jsonb",
                raws: ['{"b":"x\\ny\\t\\\\","a":[1.50e1,-0]}', "{}", '"\\u001f"', "[]", "1e-7", null],
            },
        ];
        const ctx = { timeZone: "America/Chicago", nullable: true };
        const expected = columns.map((col) =>
            col.raws.map((raw) => {
                const r = convertValue(raw, col.type, ctx);
                if (!r.ok) throw new Error(`${col.name}: ${r.reason}`);
                return r.value;
            }),
        );
        const rows = expected[0]!.map((_, i) => `${i}\t${expected.map((col) => copyEscape(col[i]!)).join("\t")}\n`);

        const db = await createScratchDatabase("conv_rt");
        const c = new Client({ connectionString: db.url });
        await c.connect();
        try {
            await c.query(`create table rt (id int primary key, ${columns.map((col) => `${col.name} ${col.sqlType}`).join(", ")})`);
            await c.query("SET TimeZone = 'Asia/Tokyo'"); // COPY input carries +00, so the session zone must not matter
            await pipeline(Readable.from(rows), c.query(copyFrom(`COPY rt (id, ${columns.map((col) => col.name).join(", ")}) FROM STDIN`)));
            await c.query("SET TimeZone = 'America/Los_Angeles'");
            const r = await c.query(
                `select ${columns.map((col) => `${canonicalSql(`"${col.name}"`, col.type)} as "${col.name}"`).join(", ")} from rt order by id`,
            );
            const actual = columns.map((col) => r.rows.map((row: Record<string, string | null>) => row[col.name]));
            expect(actual).toEqual(expected);
        } finally {
            await c.end();
            await db.drop();
        }
    });
});
