/**
 * The one place SQL text is quoted. Everything else passes values as query
 * parameters; these are for what parameters cannot carry: identifiers, and the
 * literals of utility statements (ALTER SYSTEM, ALTER ROLE ... SET, COMMENT).
 */

/** PostgreSQL truncates longer identifiers; refusing them beats a silently shortened name. */
export const MAX_IDENTIFIER_BYTES = 63;

/** A double-quoted PostgreSQL identifier (always quoted: `timestamp`, `type`, `level` are keywords). */
export function ident(name: string): string {
    if (name.length === 0) throw new Error("empty SQL identifier");
    if (Buffer.byteLength(name) > MAX_IDENTIFIER_BYTES) throw new Error(`identifier longer than ${MAX_IDENTIFIER_BYTES} bytes: ${name}`);
    return sqliteIdent(name);
}

/** A double-quoted SQLite identifier: the same rule, without PostgreSQL's length limit (a source name is whatever the file has). */
export function sqliteIdent(name: string): string {
    if (name.includes("\0")) throw new Error(`identifier contains a NUL byte: ${JSON.stringify(name)}`);
    return `"${name.replace(/"/g, '""')}"`;
}

/** `"schema"."name"`. */
export function qualified(name: string, schema: string): string {
    return `${ident(schema)}.${ident(name)}`;
}

/**
 * A string literal that means the same whatever `standard_conforming_strings` is,
 * as libpq's PQescapeLiteral builds it: `E'...'` with doubled backslashes when one occurs.
 */
export function literal(value: string): string {
    if (value.includes("\0")) throw new Error("a SQL literal cannot contain a NUL byte");
    const body = value.replace(/'/g, "''");
    return value.includes("\\") ? `E'${body.replace(/\\/g, "\\\\")}'` : `'${body}'`;
}
