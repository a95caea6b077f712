/**
 * A Python literal as the JSON it means, for a JSON column the collector filled with
 * `str(value)` instead of `json.dumps(value)`: `{'fee_tier': '0.25'}`, `None`, `[1, (2, 3)]`.
 *
 * Only Python's literal syntax for what JSON can hold exactly is read, and nothing is
 * evaluated: dicts with string keys, lists, tuples (as arrays), strings in either quote with
 * Python's escapes, integers, finite floats written with digits, `True`, `False`, `None`.
 * Anything else (other key types, sets, bytes, `inf`/`nan`, names, calls, operators,
 * string concatenation, triple quotes) is not a literal this reads: undefined.
 */

const MAX_DEPTH = 1000;

class NotALiteral extends Error {}

/** The JSON text `text` means as a Python literal, or undefined. */
export function pythonLiteralAsJson(text: string): string | undefined {
    try {
        const reader = new LiteralReader(text);
        const json = reader.value(0);
        reader.end();
        return json;
    } catch (err) {
        if (err instanceof NotALiteral) return undefined;
        throw err;
    }
}

const SIMPLE_ESCAPES: Readonly<Record<string, string>> = {
    "\\": "\\",
    "'": "'",
    '"': '"',
    a: "\x07",
    b: "\b",
    f: "\f",
    n: "\n",
    r: "\r",
    t: "\t",
    v: "\v",
    "\n": "", // a backslash before a newline continues the line
};

class LiteralReader {
    private at = 0;

    constructor(private readonly text: string) {}

    end(): void {
        this.space();
        if (this.at !== this.text.length) this.fail();
    }

    value(depth: number): string {
        if (depth > MAX_DEPTH) this.fail();
        this.space();
        const c = this.text[this.at];
        if (c === "{") return this.dict(depth);
        if (c === "[") {
            this.at++;
            return `[${this.items("]", depth).join(", ")}]`;
        }
        if (c === "(") return this.parenthesised(depth);
        if (c === "'" || c === '"') return JSON.stringify(this.string());
        const word = /^(True|False|None)(?![A-Za-z0-9_])/.exec(this.text.slice(this.at, this.at + 6));
        if (word) {
            this.at += word[1].length;
            return word[1] === "True" ? "true" : word[1] === "False" ? "false" : "null";
        }
        return this.number();
    }

    private dict(depth: number): string {
        this.at++; // {
        const entries: string[] = [];
        for (;;) {
            this.space();
            if (this.eat("}")) break;
            if (this.text[this.at] !== "'" && this.text[this.at] !== '"') this.fail(); // JSON keys are strings
            const key = JSON.stringify(this.string());
            this.space();
            if (!this.eat(":")) this.fail();
            entries.push(`${key}: ${this.value(depth + 1)}`);
            this.space();
            if (this.eat("}")) break;
            if (!this.eat(",")) this.fail();
        }
        return `{${entries.join(", ")}}`;
    }

    /** `(x)` is x; `()`, `(x,)` and `(x, y)` are tuples: arrays. */
    private parenthesised(depth: number): string {
        const start = this.at;
        this.at++; // (
        this.space();
        if (this.eat(")")) return "[]";
        const first = this.value(depth + 1);
        this.space();
        if (this.eat(")")) return first;
        this.at = start + 1;
        return `[${this.items(")", depth).join(", ")}]`;
    }

    /** Comma-separated values up to `close` (the opening bracket read), a trailing comma allowed. */
    private items(close: string, depth: number): string[] {
        const out: string[] = [];
        for (;;) {
            this.space();
            if (this.eat(close)) return out;
            out.push(this.value(depth + 1));
            this.space();
            if (this.eat(close)) return out;
            if (!this.eat(",")) this.fail();
        }
    }

    private string(): string {
        const quote = this.text[this.at];
        if (this.text.startsWith(quote.repeat(3), this.at)) this.fail(); // triple quotes: not what repr writes
        this.at++;
        let out = "";
        for (;;) {
            const c = this.text[this.at++];
            if (c === undefined || c === "\n") this.fail();
            if (c === quote) break;
            if (c !== "\\") {
                out += c;
                continue;
            }
            out += this.escape();
        }
        this.space();
        if (this.text[this.at] === "'" || this.text[this.at] === '"') this.fail(); // 'a' 'b': concatenation, not a literal repr writes
        return out;
    }

    private escape(): string {
        const c = this.text[this.at++];
        if (c === undefined) this.fail();
        if (Object.hasOwn(SIMPLE_ESCAPES, c)) return SIMPLE_ESCAPES[c];
        const hex = (n: number) => {
            const digits = this.text.slice(this.at, this.at + n);
            if (!new RegExp(`^[0-9A-Fa-f]{${n}}$`).test(digits)) this.fail();
            this.at += n;
            const code = parseInt(digits, 16);
            if (code > 0x10ffff) this.fail();
            return String.fromCodePoint(code);
        };
        if (c === "x") return hex(2);
        if (c === "u") return hex(4);
        if (c === "U") return hex(8);
        if (c >= "0" && c <= "7") {
            const digits = /^[0-7]{1,3}/.exec(this.text.slice(this.at - 1, this.at + 2))![0];
            this.at += digits.length - 1;
            return String.fromCodePoint(parseInt(digits, 8));
        }
        // \N{NAME} needs Unicode's names; any other backslash stays as written in Python, but repr never writes one.
        return this.fail();
    }

    private number(): string {
        const m = /^[+-]?(?:(\d+)(\.\d*)?|(\.\d+))([eE][+-]?\d+)?(?![A-Za-z0-9_.])/.exec(this.text.slice(this.at));
        if (!m) this.fail();
        const [whole, intPart, fraction, onlyFraction, exponent] = m;
        // Python 3 reads no leading zeros in an integer (a syntax error), so neither does this.
        if (intPart && intPart.length > 1 && intPart.startsWith("0") && !fraction && !exponent) this.fail();
        this.at += whole.length;
        const sign = whole.startsWith("-") ? "-" : "";
        const int = intPart ? intPart.replace(/^0+(?=\d)/, "") : "0";
        const frac = onlyFraction ?? (fraction && fraction.length > 1 ? fraction : fraction ? ".0" : "");
        return `${sign}${int}${frac}${exponent ?? ""}`;
    }

    private space(): void {
        while (this.at < this.text.length && " \t\n\r\f\v".includes(this.text[this.at])) this.at++;
    }

    private eat(c: string): boolean {
        if (this.text[this.at] !== c) return false;
        this.at++;
        return true;
    }

    private fail(): never {
        throw new NotALiteral();
    }
}
