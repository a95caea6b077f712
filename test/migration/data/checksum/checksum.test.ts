/**
 * The checksums' JS side without a server: the hash of a byte slice equals the text's, and
 * BucketSums' number accumulators add rows exactly like bigint sums, across the fold
 * threshold. Against PostgreSQL's own functions: checksum.integration.test.ts.
 */
import { describe, expect, it } from "vitest";
import { BucketSums, hashValue } from "../../../../migration/data/checksum/checksum";
import { hashBytesExtended, hashTextExtended } from "../../../../migration/data/checksum/textHash";
import { hashSamples } from "../../../support/hashSamples";

describe("checksums: JS equals PostgreSQL", () => {
    it("hashBytesExtended over a slice equals hashTextExtended of the text", () => {
        const enc = new TextEncoder();
        for (const t of hashSamples()) {
            const bytes = enc.encode(`xx${t}\n`);
            const a = hashBytesExtended(bytes, 2, bytes.length - 1, { hi: 0, lo: 0 });
            expect(a, t.slice(0, 20)).toEqual(hashTextExtended(t, { hi: 0, lo: 0 }));
        }
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
