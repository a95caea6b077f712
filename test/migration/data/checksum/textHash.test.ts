/**
 * PostgreSQL's hashtextextended(text, 0) in JS (migration/data/checksum/textHash.ts),
 * without a server: values pinned from `SELECT hashtextextended(s, 0)` on PostgreSQL
 * 15 (x86-64) for every tail branch of lookup3 (0..12 bytes, a block plus a tail,
 * multi-byte UTF-8), texts long enough to grow the encoder's scratch buffer, and
 * the output contract (hi signed, lo unsigned, written into `out`). The seed is
 * always 0: the module takes none. The equality on every sample against a live
 * server: checksum.integration.test.ts; byte slices vs text: checksum.test.ts.
 */
import { describe, expect, it } from "vitest";
import { hashBytesExtended, hashTextExtended, type Hash64 } from "../../../../migration/data/checksum/textHash";

/** The signed 64-bit value PostgreSQL prints, from the two halves. */
const int64 = (h: Hash64) => ((BigInt(h.hi) << 32n) + BigInt(h.lo)).toString();
const hash = (text: string) => int64(hashTextExtended(text, { hi: 0, lo: 0 }));

describe("hashTextExtended", () => {
    it.each([
        // [text, UTF-8 bytes, hashtextextended(text, 0)]
        ["", 0, "-6939563903564495251"],
        ["a", 1, "3591986179850072241"],
        ["abc", 3, "-6747756470228489321"],
        ["abcd", 4, "-1038429303365892052"],
        ["abcdefg", 7, "-6158032784613548338"],
        ["abcdefgh", 8, "-8882191227074733005"],
        ["abcdefghijk", 11, "3112909444737856467"],
        ["abcdefghijkl", 12, "-7556637188122330412"],
        ["abcdefghijklm", 13, "8871624171452417744"],
        ["abcdefghijklmnopqrstuvwxyz012345678", 35, "-7327977299585643623"],
        ["gecko-pg", 8, "-195380477855312018"],
        ["solana_1\t12.50000000\t\\N", 23, "8724453410805069881"],
    ])("%j (%i bytes) equals PostgreSQL's value", (text, bytes, expected) => {
        expect(Buffer.byteLength(text)).toBe(bytes);
        expect(hash(text)).toBe(expected);
    });

    it.each([
        ["é", 2, "-763932721387459829"],
        ["日本語", 9, "2870829529307104068"],
        ["😀", 4, "-9149796522330800166"], // one code point, two UTF-16 units, four UTF-8 bytes
        ["\uFFFD", 3, "-8912360181163342266"],
    ])("hashes the UTF-8 bytes of %j (%i bytes), not its UTF-16 units", (text, bytes, expected) => {
        expect(Buffer.byteLength(text)).toBe(bytes);
        expect(hash(text)).toBe(expected);
    });

    it("grows its scratch buffer for long texts and still hashes short ones right afterwards", () => {
        // 2000 × "日" is 6000 UTF-8 bytes, past the initial 4096-byte scratch buffer.
        expect(hash("x".repeat(2000))).toBe("4980136393548558687");
        expect(hash("日".repeat(2000))).toBe("-178554685052569866");
        expect(hash("abc")).toBe("-6747756470228489321");
        expect(hash("日".repeat(2000))).toBe("-178554685052569866");
    });

    it("writes hi as a signed and lo as an unsigned 32-bit half into the object it is given, and returns it", () => {
        const out: Hash64 = { hi: 123, lo: 456 };
        const returned = hashTextExtended("", out);
        expect(returned).toBe(out);
        // -6939563903564495251 = -1615743131 × 2^32 + 2817148525
        expect(out).toEqual({ hi: -1615743131, lo: 2817148525 });
        // the previous contents play no part
        expect(hashTextExtended("", { hi: -1, lo: 4294967295 })).toEqual({ hi: -1615743131, lo: 2817148525 });
    });

    it("tells apart texts that differ in one byte, in byte order or in length", () => {
        const texts = ["abcdefghijkl", "abcdefghijkm", "bacdefghijkl", "abcdefghijkl ", "abcdefghijk"];
        expect(new Set(texts.map(hash)).size).toBe(texts.length);
    });
});

describe("hashBytesExtended", () => {
    it("hashes exactly k[start..end): bytes outside the slice do not count", () => {
        const bytes = new TextEncoder().encode("##abcdefghijklm##");
        expect(int64(hashBytesExtended(bytes, 2, 15, { hi: 0, lo: 0 }))).toBe("8871624171452417744"); // "abcdefghijklm"
        expect(int64(hashBytesExtended(bytes, 2, 2, { hi: 0, lo: 0 }))).toBe("-6939563903564495251"); // ""
        const tails = new TextEncoder().encode("??abcdefghijklm!!");
        expect(hashBytesExtended(tails, 2, 15, { hi: 0, lo: 0 })).toEqual(hashBytesExtended(bytes, 2, 15, { hi: 0, lo: 0 }));
    });
});
