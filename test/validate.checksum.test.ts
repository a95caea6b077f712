/**
 * The JS side of the checksums equals the SQL side on a real PostgreSQL:
 * hashtextextended (textHash.ts) on every tail length of lookup3's 12-byte
 * blocks, multi-byte UTF-8, quotes and backslashes; bucketOf; and BucketSums'
 * number accumulators against plain bigint sums.
 */
import { describe, expect, it } from "vitest";
import { bucketOf, bucketSql, BucketSums, canonicalRowText, hashValue, quoteNullable, rowHash, rowHashSql } from "../migration/validate/checksum";
import { hashTextExtended } from "../migration/validate/textHash";
import { adminUrl, withClient } from "./support/db";

const ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";

function samples(): string[] {
    const out: string[] = [];
    for (let n = 0; n <= 40; n++) out.push(ALPHABET.slice(0, n));
    out.push("é", "ß€", "日本語テキスト", "😀 emoji 😀", "a\u00ff\u0100b".repeat(7), "it's", "back\\slash", "tab\tnew\nline", "x".repeat(10_000));
    // Deterministic mixed strings: every length 0..36, code points up to U+018F (1- and 2-byte UTF-8).
    for (let n = 0; n < 120; n++) out.push(Array.from({ length: n % 37 }, (_, i) => String.fromCharCode(32 + ((n * 7 + i * 13) % 400))).join(""));
    return out;
}

describe("checksums: JS equals PostgreSQL", () => {
    it("hashTextExtended equals hashtextextended(text, 0)", async () => {
        const texts = samples();
        const theirs = await withClient(adminUrl(), (c) =>
            c.query<{ h: string }>("SELECT hashtextextended(s, 0)::text AS h FROM unnest($1::text[]) WITH ORDINALITY AS u(s, o) ORDER BY o", [texts]),
        );
        const out = { hi: 0, lo: 0 };
        expect(texts.map((t) => hashValue(hashTextExtended(t, out)).toString())).toEqual(theirs.rows.map((r) => r.h));
    });

    it("row hash and bucket of canonical row text equal their SQL forms", async () => {
        const rows: (string | null)[][] = [
            ["solana_1", "12.50000000", null, "2025-01-01 00:00:00.000000+00"],
            ["it's", "a\\b", "", "NULL"],
            ["日本", "-0.00000001", "{}", null],
        ];
        const buckets = 97;
        const theirs = await withClient(adminUrl(), (c) =>
            c.query<{ h: string; b: number }>(
                `SELECT ${rowHashSql("t")}::text AS h, ${bucketSql("k", buckets)} AS b FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS u(t, k, o) ORDER BY o`,
                [rows.map(canonicalRowText), rows.map((r) => quoteNullable(r[0]))],
            ),
        );
        expect(rows.map((r) => hashValue(rowHash(canonicalRowText(r), { hi: 0, lo: 0 })).toString())).toEqual(theirs.rows.map((r) => r.h));
        expect(rows.map((r) => bucketOf(quoteNullable(r[0]), buckets))).toEqual(theirs.rows.map((r) => r.b));
    });

    it("BucketSums adds rows exactly, across its fold threshold, like bigint sums", () => {
        const sums = new BucketSums();
        const expected = new Map<number, { count: number; sum: bigint }>();
        const h = { hi: 0, lo: 0 };
        for (let i = 0; i < (1 << 20) + 5000; i++) {
            hashTextExtended(`row ${i}`, h);
            const b = i % 3 === 0 ? 0 : i % 7;
            sums.addRow(b, h);
            const e = expected.get(b) ?? { count: 0, sum: 0n };
            expected.set(b, { count: e.count + 1, sum: e.sum + hashValue(h) });
        }
        sums.addPartial(5, 2, -2 * 2 ** 31, 2 * (2 ** 32 - 1));
        const e5 = expected.get(5)!;
        expected.set(5, { count: e5.count + 2, sum: e5.sum + 2n * (-(2n ** 31n) * 2n ** 32n + (2n ** 32n - 1n)) });
        expect(new Map([...sums.sums].map(([b, s]) => [b, { count: s.count, sum: s.sum }]))).toEqual(expected);
        expect(BucketSums.fromJSON(JSON.parse(JSON.stringify(sums))).sums).toEqual(sums.sums);
    });
});
