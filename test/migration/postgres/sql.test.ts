/**
 * SQL quoting (migration/postgres/sql.ts): identifiers always double-quoted with
 * embedded quotes doubled, PostgreSQL's 63-byte limit counted in UTF-8 bytes,
 * NUL refused, and literals that read the same whatever standard_conforming_strings is.
 */
import { describe, expect, it } from "vitest";
import { MAX_IDENTIFIER_BYTES, ident, literal, qualified, sqliteIdent } from "../../../migration/postgres/sql";

describe("ident", () => {
    it("quotes every name, keywords and mixed case included, doubling embedded quotes", () => {
        expect(ident("pools")).toBe('"pools"');
        expect(ident("timestamp")).toBe('"timestamp"');
        expect(ident("Level")).toBe('"Level"');
        expect(ident('we"ird')).toBe('"we""ird"');
        expect(ident('"')).toBe('""""');
        expect(ident("a b;--")).toBe('"a b;--"');
    });

    it("accepts 63 bytes and refuses 64", () => {
        expect(MAX_IDENTIFIER_BYTES).toBe(63);
        const a63 = "a".repeat(63);
        expect(ident(a63)).toBe(`"${a63}"`);
        expect(() => ident("a".repeat(64))).toThrow(`identifier longer than 63 bytes: ${"a".repeat(64)}`);
    });

    it("counts UTF-8 bytes, not characters", () => {
        // "€" is U+20AC: 3 bytes in UTF-8. 21 of them are 63 bytes, 22 are 66 bytes in 22 characters.
        expect(ident("€".repeat(21))).toBe(`"${"€".repeat(21)}"`);
        expect(() => ident("€".repeat(22))).toThrow(/longer than 63 bytes/);
        // "é" is 2 bytes: 31 of them plus one ASCII letter are 63 bytes, 32 are 64.
        expect(ident("é".repeat(31) + "x")).toBe(`"${"é".repeat(31)}x"`);
        expect(() => ident("é".repeat(32))).toThrow(/longer than 63 bytes/);
    });

    it("counts the name's bytes before quoting: doubled quotes do not count", () => {
        const name = "a".repeat(62) + '"';
        expect(ident(name)).toBe(`"${"a".repeat(62)}"""`);
    });

    it("refuses an empty name and a NUL byte", () => {
        expect(() => ident("")).toThrow("empty SQL identifier");
        expect(() => ident("a\0b")).toThrow(/NUL byte/);
    });
});

describe("sqliteIdent", () => {
    it("quotes like ident but without PostgreSQL's length limit or the empty-name refusal", () => {
        const long = "x".repeat(100);
        expect(sqliteIdent(long)).toBe(`"${long}"`);
        expect(sqliteIdent('say "hi"')).toBe('"say ""hi"""');
        expect(sqliteIdent("")).toBe('""');
    });

    it("refuses a NUL byte", () => {
        expect(() => sqliteIdent("ohlcv\0data")).toThrow('identifier contains a NUL byte: "ohlcv\\u0000data"');
    });
});

describe("qualified", () => {
    it("is schema.name, each quoted", () => {
        expect(qualified("pools", "public")).toBe('"public"."pools"');
        expect(qualified('t"1', "gecko_migration")).toBe('"gecko_migration"."t""1"');
    });

    it("applies the identifier rules to both parts", () => {
        expect(() => qualified("pools", "s".repeat(64))).toThrow(/longer than 63 bytes/);
        expect(() => qualified("", "public")).toThrow("empty SQL identifier");
    });
});

describe("literal", () => {
    it("single-quotes and doubles embedded quotes", () => {
        expect(literal("UTC")).toBe("'UTC'");
        expect(literal("it's")).toBe("'it''s'");
        expect(literal("")).toBe("''");
        expect(literal("''")).toBe("''''''");
    });

    it("uses the E'' form with doubled backslashes when a backslash occurs", () => {
        // Source text C:\data  ->  E'C:\\data'
        expect(literal("C:\\data")).toBe("E'C:\\\\data'");
        // Source text it's \n (a backslash and an n, not a newline)  ->  E'it''s \\n'
        expect(literal("it's \\n")).toBe("E'it''s \\\\n'");
        // A lone backslash  ->  E'\\'
        expect(literal("\\")).toBe("E'\\\\'");
    });

    it("keeps other control characters as they are", () => {
        expect(literal("a\nb\tc")).toBe("'a\nb\tc'");
    });

    it("refuses a NUL byte", () => {
        expect(() => literal("a\0")).toThrow("a SQL literal cannot contain a NUL byte");
    });
});
