/**
 * The JS side of the checksums equals the SQL side on a real PostgreSQL:
 * hashtextextended (textHash.ts) on every tail length of lookup3's 12-byte
 * blocks, multi-byte UTF-8, quotes and backslashes; the row text, its hash and
 * bucketOf. Without a server (the byte-slice hash, BucketSums' number
 * accumulators against plain bigint sums): checksum.test.ts.
 */
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { from as copyFrom } from "pg-copy-streams";
import { describe, expect, it } from "vitest";
import {
    bucketOf,
    bucketSql,
    canonicalRowText,
    fieldTextSql,
    hashValue,
    rowHash,
    rowHashSql,
    rowTextSql,
} from "../../../../migration/data/checksum/checksum";
import { hashTextExtended } from "../../../../migration/data/checksum/textHash";
import type { ColumnType } from "../../../../migration/schema/types";
import { adminUrl, withClient } from "../../../support/db";
import { hashSamples } from "../../../support/hashSamples";

describe("checksums: JS equals PostgreSQL", () => {
    it("hashTextExtended equals hashtextextended(text, 0)", async () => {
        const texts = hashSamples();
        const theirs = await withClient(adminUrl(), (c) =>
            c.query<{ h: string }>(
                "SELECT hashtextextended(s, 0)::text AS h FROM unnest($1::text[]) WITH ORDINALITY AS u(s, o) ORDER BY o",
                [texts],
            ),
        );
        const out = { hi: 0, lo: 0 };
        expect(texts.map((t) => hashValue(hashTextExtended(t, out)).toString())).toEqual(theirs.rows.map((r) => r.h));
    });

    it("the row text (the COPY line), its hash and the bucket equal their SQL forms over stored values", async () => {
        const rows: (string | null)[][] = [
            ["solana_1", "12.50000000", null, "2025-01-01 00:00:00+00"],
            ["it's", "-12.5", "a\\b", "NULL"],
            ["tab\there", "-0.00000001", "line\nbreak\r\n", null],
            ["\\N", "1", "\\", "日本 😀"],
            [null, "0", '{"q": "a\\\\b"}', "\t"],
        ];
        const buckets = 97;
        // Columns 0, 2 and 3 are text and json (escaped); 1 is a number (never needs it).
        const types: ColumnType[] = [{ kind: "text" }, { kind: "numeric", precision: 20, scale: 8 }, { kind: "jsonb" }, { kind: "text" }];
        const fields = types.map((t, i) => fieldTextSql(`c${i}`, t));
        const theirs = await withClient(adminUrl(), (c) =>
            c.query<{ t: string; h: string; b: number }>(
                `SELECT ${rowTextSql(fields)} AS t, ${rowHashSql(rowTextSql(fields))}::text AS h, ${bucketSql(fields[0], buckets)} AS b
                   FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) WITH ORDINALITY AS u(c0, c1, c2, c3, o) ORDER BY o`,
                types.map((_, i) => rows.map((r) => r[i])),
            ),
        );
        expect(rows.map((r) => canonicalRowText(r))).toEqual(theirs.rows.map((r) => r.t));
        expect(rows.map((r) => hashValue(rowHash(canonicalRowText(r), { hi: 0, lo: 0 })).toString())).toEqual(theirs.rows.map((r) => r.h));
        expect(rows.map((r) => bucketOf(canonicalRowText([r[0]]), buckets))).toEqual(theirs.rows.map((r) => r.b));
        // The row text is a COPY line: COPY FROM reads every value back, NULLs included.
        const back = await withClient(adminUrl(), async (c) => {
            await c.query("CREATE TEMP TABLE copy_back (c0 text, c1 text, c2 text, c3 text)");
            await pipeline(
                Readable.from([rows.map((r) => canonicalRowText(r) + "\n").join("")]),
                c.query(copyFrom("COPY copy_back FROM STDIN")),
            );
            return (await c.query({ text: "SELECT * FROM copy_back", rowMode: "array" })).rows;
        });
        expect(back).toEqual(rows);
    });
});
