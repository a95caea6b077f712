/**
 * What psycopg2 puts on the wire for a statement with parameters. psycopg2 has no
 * server-side parameters: `cursor.execute(sql, params)` adapts each value to an SQL
 * literal on the client, substitutes it into the text and sends one simple-protocol
 * Query message. So the server parses and plans the full text every time, and the
 * literals are constants, not `$n` parameters.
 *
 * The statements of ops.ts are written with `$n` markers (`$n::timestamp` where the
 * value is a naive Python datetime); `mogrify` replaces each marker with the literal
 * psycopg2's adapters produce for the value. Pure.
 */

/** A naive datetime as the benchmark carries it: `YYYY-MM-DD HH:MM:SS[.ffffff]` (pythonText). */
const NAIVE_TEXT = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)(\.\d{6})?$/;

/**
 * Python's `repr(float)`: the shortest round-trip digits, fixed notation for decimal
 * exponents -4..15 (`0.0001`, `1234.5`, `5.0`), otherwise `1e-05` / `1.5e+16`.
 */
export function pythonFloatRepr(x: number): string {
    if (Number.isNaN(x)) return "nan";
    if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
    if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0";
    // toExponential() without digits gives the shortest round-trip mantissa.
    const [mantissa, expText] = Math.abs(x).toExponential().split("e");
    const exp = Number(expText);
    const digits = mantissa.replace(".", "");
    const sign = x < 0 ? "-" : "";
    if (exp >= -4 && exp < 16) {
        if (exp < 0) return `${sign}0.${"0".repeat(-exp - 1)}${digits}`;
        const intPart = digits.slice(0, exp + 1).padEnd(exp + 1, "0");
        const frac = digits.slice(exp + 1);
        return `${sign}${intPart}.${frac || "0"}`;
    }
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    return `${sign}${m}e${exp < 0 ? "-" : "+"}${String(Math.abs(exp)).padStart(2, "0")}`;
}

/**
 * psycopg2's adaptation of one value. Numbers: a safe integer is taken as a Python
 * int, anything else as a float (an integral float would print `5.0` in Python and
 * prints `5` here: the same value for the server). Negative numbers get a leading
 * space, as psycopg2 does so `-` never forms a `--` comment. Strings are quoted with
 * `'` doubled (standard_conforming_strings is on). `asTimestamp`: the value is a naive
 * datetime, adapted as `'isoformat'::timestamp`.
 */
export function adapt(value: unknown, asTimestamp = false): string {
    if (value === null || value === undefined) return "NULL";
    if (asTimestamp) {
        const m = NAIVE_TEXT.exec(String(value));
        if (!m) throw new Error(`not a naive datetime text: '${String(value)}'`);
        // datetime.isoformat() omits the fraction when microsecond == 0.
        const fraction = m[3] && m[3] !== ".000000" ? m[3] : "";
        return `'${m[1]}T${m[2]}${fraction}'::timestamp`;
    }
    switch (typeof value) {
        case "boolean":
            return value ? "true" : "false";
        case "bigint":
            return value < 0n ? ` ${value}` : String(value);
        case "number": {
            if (Number.isNaN(value)) return "'NaN'::float";
            if (!Number.isFinite(value)) return value > 0 ? "'Infinity'::float" : "'-Infinity'::float";
            const text = Number.isSafeInteger(value) ? String(value) : pythonFloatRepr(value);
            return text.startsWith("-") ? ` ${text}` : text;
        }
        case "string":
            if (value.includes("\0")) throw new Error("a string with NUL cannot be sent");
            return `'${value.replace(/'/g, "''")}'`;
        default:
            throw new Error(`no psycopg2 adaptation for ${typeof value}`);
    }
}

/** `sql` with every `$n` / `$n::timestamp` marker replaced by the adapted `params[n-1]`, in one pass. */
export function mogrify(sql: string, params: readonly unknown[]): string {
    return sql.replace(/\$(\d+)(::timestamp)?/g, (_, n: string, cast: string | undefined) => {
        const i = Number(n) - 1;
        if (i >= params.length) throw new Error(`marker $${n} but only ${params.length} parameters`);
        return adapt(params[i], cast !== undefined);
    });
}
