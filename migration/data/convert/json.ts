/**
 * SQLite JSON TEXT -> `jsonb` canonical text: exactly what PostgreSQL's
 * `col::text` prints for the jsonb value.
 *
 * - Grammar as PostgreSQL's JSON parser: RFC 8259, whitespace only
 *   space/tab/LF/CR, any top-level value, no trailing commas, lower-case
 *   literals, numbers `-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?`, no raw control
 *   characters inside strings; invalid JSON is rejected with the position.
 * - `\u0000` is rejected (jsonb cannot store it), as are unpaired surrogate
 *   escapes. Nesting deeper than 1000 levels is rejected.
 * - Objects: duplicate keys keep the last value; keys sorted shorter first
 *   (UTF-8 byte length), then bytewise. Output `{"a": 1, "bb": [1, 2]}`.
 * - Strings escaped like escape_json: \" \\ \b \f \n \r \t, other < 0x20 as
 *   \u00xx, everything else (non-ASCII, `/`, DEL) raw.
 * - Numbers as numeric prints them: digits as written, exponent expanded with
 *   scale max(0, fraction digits - exponent): `1.5e-7` -> `0.00000015`,
 *   `1.50e1` -> `15.0`, `-0` -> `0`; beyond numeric's range rejected.
 * - INTEGER/REAL values are read as the JSON number they print as; a BLOB
 *   must be UTF-8. Empty strings are handled by convertValue.
 */
import { pythonLiteralAsJson } from "./pythonLiteral";
import { formatFixed, numericFormatLimit, parseDecimalText, roundHalfAwayFromZero } from "./decimal";
import { type ConvertResult, type SqliteValue, accept, decodeUtf8, describeRaw, isWellFormedText, reject } from "./result";

const MAX_DEPTH = 1000;

type Json =
    | { readonly t: "literal"; readonly text: string } // true/false/null and canonical numbers
    | { readonly t: "string"; readonly value: string }
    | { readonly t: "array"; readonly items: readonly Json[] }
    | { readonly t: "object"; readonly entries: ReadonlyMap<string, Json> };

class JsonError extends Error {}

/** Converts a raw SQLite value for a `jsonb` column; `pythonRepr`: a Python literal is read as the JSON it means. */
export function convertJson(raw: SqliteValue, pythonRepr = false): ConvertResult {
    let text: string;
    if (typeof raw === "string") text = raw;
    else if (typeof raw === "bigint") text = raw.toString();
    else if (typeof raw === "number") {
        if (!Number.isFinite(raw)) return reject(`${describeRaw(raw)} is not valid JSON`);
        text = String(raw);
    } else {
        const decoded = decodeUtf8(raw);
        if (decoded === undefined) return reject(`${describeRaw(raw)} is not valid UTF-8 text`);
        text = decoded;
    }
    try {
        return accept(canonicalJsonb(text));
    } catch (e) {
        if (!(e instanceof JsonError)) throw e;
        const repaired = pythonRepr ? fromPythonLiteral(text) : undefined;
        return repaired ?? reject(`${describeRaw(raw)} is not valid jsonb: ${e.message}`);
    }
}

function fromPythonLiteral(text: string): ConvertResult | undefined {
    const json = pythonLiteralAsJson(text);
    if (json === undefined) return undefined;
    try {
        return accept(canonicalJsonb(json), "python-repr-repaired");
    } catch (e) {
        if (e instanceof JsonError) return undefined; // e.g. a NUL, which jsonb cannot hold either way
        throw e;
    }
}

/** PostgreSQL's `text::jsonb::text` of a JSON document; throws (JsonError) when PostgreSQL would reject it. */
export function canonicalJsonb(text: string): string {
    if (!isWellFormedText(text)) throw new JsonError("contains a lone UTF-16 surrogate");
    const parser = new Parser(text);
    return render(parser.document());
}

class Parser {
    private pos = 0;

    constructor(private readonly src: string) {}

    document(): Json {
        this.skipSpace();
        const value = this.value(0);
        this.skipSpace();
        if (this.pos < this.src.length) this.fail("unexpected text after the JSON value");
        return value;
    }

    private value(depth: number): Json {
        if (depth > MAX_DEPTH) this.fail(`nested deeper than ${MAX_DEPTH} levels`);
        const c = this.src[this.pos];
        if (c === "{") return this.object(depth);
        if (c === "[") return this.array(depth);
        if (c === '"') return { t: "string", value: this.string() };
        if (c === "-" || (c !== undefined && c >= "0" && c <= "9")) return this.number();
        for (const literal of ["true", "false", "null"]) {
            if (this.src.startsWith(literal, this.pos)) {
                this.pos += literal.length;
                return { t: "literal", text: literal };
            }
        }
        return this.fail(c === undefined ? "unexpected end of input" : "expected a JSON value");
    }

    private object(depth: number): Json {
        this.pos++;
        const entries = new Map<string, Json>();
        this.skipSpace();
        if (this.src[this.pos] === "}") {
            this.pos++;
            return { t: "object", entries };
        }
        for (;;) {
            this.skipSpace();
            if (this.src[this.pos] !== '"') this.fail("expected a string key");
            const key = this.string();
            this.skipSpace();
            if (this.src[this.pos] !== ":") this.fail("expected ':'");
            this.pos++;
            this.skipSpace();
            entries.delete(key); // last duplicate wins
            entries.set(key, this.value(depth + 1));
            this.skipSpace();
            const c = this.src[this.pos++];
            if (c === "}") return { t: "object", entries };
            if (c !== ",") this.fail("expected ',' or '}'", -1);
        }
    }

    private array(depth: number): Json {
        this.pos++;
        const items: Json[] = [];
        this.skipSpace();
        if (this.src[this.pos] === "]") {
            this.pos++;
            return { t: "array", items };
        }
        for (;;) {
            this.skipSpace();
            items.push(this.value(depth + 1));
            this.skipSpace();
            const c = this.src[this.pos++];
            if (c === "]") return { t: "array", items };
            if (c !== ",") this.fail("expected ',' or ']'", -1);
        }
    }

    private string(): string {
        this.pos++; // opening quote
        let out = "";
        for (;;) {
            const c = this.src.charCodeAt(this.pos);
            if (Number.isNaN(c)) this.fail("unterminated string");
            if (c === 0x22) {
                this.pos++;
                return out;
            }
            if (c < 0x20) this.fail("control character inside a string must be escaped");
            if (c !== 0x5c) {
                out += this.src[this.pos++];
                continue;
            }
            const e = this.src[this.pos + 1];
            this.pos += 2;
            const simple = e === undefined ? undefined : SIMPLE_ESCAPES[e];
            if (simple !== undefined) out += simple;
            else if (e === "u") out += this.unicodeEscape();
            else this.fail(`invalid escape '\\${e ?? ""}'`, -2);
        }
    }

    private unicodeEscape(): string {
        const unit = this.hex4();
        if (unit === 0) this.fail("\\u0000 cannot be stored in jsonb", -6);
        if (unit >= 0xdc00 && unit <= 0xdfff) this.fail("unicode low surrogate without a high surrogate", -6);
        if (unit < 0xd800 || unit > 0xdbff) return String.fromCharCode(unit);
        if (this.src[this.pos] !== "\\" || this.src[this.pos + 1] !== "u")
            this.fail("unicode high surrogate not followed by a low surrogate");
        this.pos += 2;
        const low = this.hex4();
        if (low < 0xdc00 || low > 0xdfff) this.fail("unicode high surrogate not followed by a low surrogate", -6);
        return String.fromCharCode(unit, low);
    }

    private hex4(): number {
        const hex = this.src.slice(this.pos, this.pos + 4);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.fail("\\u must be followed by four hex digits");
        this.pos += 4;
        return parseInt(hex, 16);
    }

    private number(): Json {
        const m = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
        m.lastIndex = this.pos;
        const match = m.exec(this.src);
        if (!match) return this.fail("invalid number");
        const lexeme = match[0];
        // A digit or point right after (`01`, `1.`) makes the token invalid, as in PostgreSQL's lexer.
        if (/[0-9.eE]/.test(this.src[this.pos + lexeme.length] ?? "")) this.fail("invalid number");
        const d = parseDecimalText(lexeme)!;
        const limit = numericFormatLimit(d);
        if (limit) this.fail(`number ${lexeme.length > 40 ? `${lexeme.slice(0, 37)}...` : lexeme} overflows numeric (${limit})`);
        this.pos += lexeme.length;
        // Scale = displayScale, so the rounding below is exact: it only expands the exponent.
        return { t: "literal", text: formatFixed(d.negative, roundHalfAwayFromZero(d, d.displayScale), d.displayScale) };
    }

    private skipSpace(): void {
        while (/[ \t\n\r]/.test(this.src[this.pos] ?? "")) this.pos++;
    }

    private fail(message: string, back = 0): never {
        throw new JsonError(`${message} at character ${this.pos + back + 1}`);
    }
}

const SIMPLE_ESCAPES: Readonly<Record<string, string>> = Object.assign(Object.create(null), {
    '"': '"',
    "\\": "\\",
    "/": "/",
    b: "\b",
    f: "\f",
    n: "\n",
    r: "\r",
    t: "\t",
});

function render(v: Json): string {
    switch (v.t) {
        case "literal":
            return v.text;
        case "string":
            return quote(v.value);
        case "array":
            return `[${v.items.map(render).join(", ")}]`;
        case "object": {
            const keys = [...v.entries.keys()].map((k) => ({ k, bytes: Buffer.from(k, "utf8") }));
            keys.sort((a, b) => a.bytes.length - b.bytes.length || Buffer.compare(a.bytes, b.bytes));
            return `{${keys.map(({ k }) => `${quote(k)}: ${render(v.entries.get(k)!)}`).join(", ")}}`;
        }
    }
}

/** A string as PostgreSQL's escape_json writes it. */
function quote(s: string): string {
    // eslint-disable-next-line no-control-regex
    return `"${s.replace(/[\u0000-\u001f"\\]/g, (c) => QUOTE_ESCAPES[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`)}"`;
}

const QUOTE_ESCAPES: Readonly<Record<string, string>> = {
    '"': '\\"',
    "\\": "\\\\",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
};
