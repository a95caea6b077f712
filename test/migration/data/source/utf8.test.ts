/**
 * TEXT that is not UTF-8 (migration/data/source/utf8.ts): the first bad byte found as strictly
 * as PostgreSQL checks, and only such values marked when rows are read: a genuine U+FFFD and
 * clean text stay strings.
 */
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import {
    describeInvalidUtf8,
    firstInvalidUtf8Byte,
    invalidTextMarker,
    isInvalidUtf8,
    lossyText,
} from "../../../../migration/data/source/utf8";

const at = (hex: string) => firstInvalidUtf8Byte(Buffer.from(hex, "hex"));

describe("firstInvalidUtf8Byte", () => {
    it("accepts every valid form, 1 to 4 bytes", () => {
        expect(at("")).toBe(-1);
        expect(at(Buffer.from("a é € 🦎 \uFFFD").toString("hex"))).toBe(-1);
        expect(at("f48fbfbf")).toBe(-1); // U+10FFFF
    });

    it("names the offset of a stray byte, a truncated sequence, an overlong form, a surrogate, or a code point past U+10FFFF", () => {
        expect(at("41ff")).toBe(1);
        expect(at("4142c3")).toBe(2); // truncated at the end
        expect(at("e282")).toBe(0);
        expect(at("c3 41".replace(" ", ""))).toBe(0); // a continuation byte missing
        expect(at("c0af")).toBe(0); // overlong "/"
        expect(at("e080af")).toBe(0); // overlong, 3 bytes
        expect(at("eda080")).toBe(0); // U+D800
        expect(at("f4908080")).toBe(0); // U+110000
        expect(at("80")).toBe(0); // a lone continuation byte
    });
});

describe("invalidTextMarker", () => {
    it("marks only the values whose bytes are not UTF-8, keeping their bytes and the lossy text", () => {
        const db = new Database(":memory:");
        db.exec("CREATE TABLE t (a TEXT, b TEXT)");
        const insert = db.prepare("INSERT INTO t VALUES (CAST(? AS TEXT), ?)");
        insert.run(Buffer.from("fffe41", "hex"), "clean");
        insert.run(Buffer.from("efbfbd", "hex"), "genuine \uFFFD");
        const mark = invalidTextMarker(db, "t", ["a", "b"]);
        const rows = (db.prepare("SELECT rowid, a, b FROM t").raw(true).all() as unknown[][]).map(mark);
        const [bad, genuine] = rows;
        expect(isInvalidUtf8(bad[1])).toBe(true);
        if (!isInvalidUtf8(bad[1])) return;
        expect(bad[1].toString("hex")).toBe("fffe41");
        expect(lossyText(bad[1])).toBe("\uFFFD\uFFFDA");
        expect(describeInvalidUtf8(bad[1])).toBe("invalid UTF-8 at byte 0 (x'fffe41')");
        expect(bad[2]).toBe("clean");
        expect(genuine.slice(1)).toEqual(["\uFFFD", "genuine \uFFFD"]);
    });
});
