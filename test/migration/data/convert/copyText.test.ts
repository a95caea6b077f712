/**
 * COPY text-format fields (migration/data/convert/copyText.ts), checked against
 * PostgreSQL's documented rules for COPY ... FROM (FORMAT text): a field that is
 * exactly `\N` is NULL; backslash starts an escape (\b \f \n \r \t \v, octal, \x hex,
 * any other character stands for itself); a raw tab, newline or carriage return
 * would end the field or the row. And the SQL canonical form the checksums read back.
 */
import { describe, expect, it } from "vitest";
import { canonicalSql, copyEscape, mayNeedCopyEscape } from "../../../../migration/data/convert/copyText";
import type { ColumnType } from "../../../../migration/schema/types";

/** What PostgreSQL's COPY FROM (FORMAT text) makes of one field, per its documentation. */
function copyDecode(field: string): string | null {
    if (field === "\\N") return null;
    const named: Record<string, string> = { b: "\b", f: "\f", n: "\n", r: "\r", t: "\t", v: "\v" };
    let out = "";
    for (let i = 0; i < field.length; i++) {
        const c = field[i];
        if (c === "\t" || c === "\n" || c === "\r") throw new Error(`raw ${JSON.stringify(c)} at ${i} ends the field`);
        if (c !== "\\") {
            out += c;
            continue;
        }
        const next = field[++i];
        if (next === undefined) throw new Error("field ends in a lone backslash");
        let m: RegExpExecArray | null;
        if (next in named) out += named[next];
        else if ((m = /^[0-7]{1,3}/.exec(field.slice(i)))) {
            out += String.fromCharCode(parseInt(m[0], 8));
            i += m[0].length - 1;
        } else if (next === "x" && (m = /^[0-9a-fA-F]{1,2}/.exec(field.slice(i + 1)))) {
            out += String.fromCharCode(parseInt(m[0], 16));
            i += m[0].length;
        } else out += next;
    }
    return out;
}

describe("copyEscape", () => {
    it("writes NULL as \\N, distinct from the texts 'NULL', '' and '\\N'", () => {
        expect(copyEscape(null)).toBe("\\N");
        expect(copyEscape("NULL")).toBe("NULL");
        expect(copyEscape("")).toBe("");
        expect(copyEscape("\\N")).toBe("\\\\N");
    });

    it("escapes backslash, tab, newline and carriage return", () => {
        expect(copyEscape("a\tb")).toBe("a\\tb");
        expect(copyEscape("line1\nline2")).toBe("line1\\nline2");
        expect(copyEscape("crlf\r\n")).toBe("crlf\\r\\n");
        expect(copyEscape("C:\\temp")).toBe("C:\\\\temp");
        // JSON text with an escaped tab: the JSON's backslash is doubled, the JSON stays intact.
        expect(copyEscape('{"note": "x\\ty"}')).toBe('{"note": "x\\\\ty"}');
    });

    it("leaves everything else as it is, other control characters and non-ASCII included", () => {
        for (const s of ["solana_0xabc", "\b\f\v", "end.", "Ünïcødé 🦎", "' \" ;"]) expect(copyEscape(s)).toBe(s);
    });

    it("gives back every text through PostgreSQL's COPY decoding", () => {
        const texts = [
            "plain",
            "",
            "NULL",
            "\\N",
            "\\.",
            "\\",
            "\\\\",
            "tab\there",
            "\n",
            "\r\n\t\\",
            "\\x41 and \\101 stay literal",
            "\b\f\v",
            '{"a": "line\\nbreak"}',
            "🦎\t🦎",
        ];
        for (const text of texts) expect(copyDecode(copyEscape(text)), JSON.stringify(text)).toBe(text);
        expect(copyDecode(copyEscape(null))).toBeNull();
    });
});

describe("mayNeedCopyEscape", () => {
    it("is true only for the types whose canonical text can hold a character COPY escapes", () => {
        const types: ColumnType[] = [
            { kind: "text" },
            { kind: "text", maxLength: 10 },
            { kind: "jsonb" },
            { kind: "integer" },
            { kind: "bigint" },
            { kind: "numeric", precision: 20, scale: 8 },
            { kind: "timestamptz" },
            { kind: "boolean" },
        ];
        expect(types.map(mayNeedCopyEscape)).toEqual([true, true, true, false, false, false, false, false]);
    });
});

describe("canonicalSql", () => {
    it("prints a timestamptz in UTC with a +00 suffix, as formatTimestamp writes it", () => {
        expect(canonicalSql('"created_at"', { kind: "timestamptz" })).toBe(`("created_at" AT TIME ZONE 'UTC')::text || '+00'`);
        expect(canonicalSql('t."timestamp"', { kind: "timestamptz" })).toBe(`(t."timestamp" AT TIME ZONE 'UTC')::text || '+00'`);
    });

    it("casts every other type to text, inserting the column expression verbatim", () => {
        expect(canonicalSql('t."volume_usd"', { kind: "numeric", precision: 26, scale: 8 })).toBe('t."volume_usd"::text');
        expect(canonicalSql('"metadata_json"', { kind: "jsonb" })).toBe('"metadata_json"::text');
        expect(canonicalSql('"is_active"', { kind: "boolean" })).toBe('"is_active"::text');
    });
});
