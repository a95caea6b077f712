/**
 * PostgreSQL's rows written back into the SQLite file in the collector's own storage format:
 * REAL numerics (the exact decimal as TEXT when a float64 cannot hold it: the copy reads both),
 * datetimes as `YYYY-MM-DD HH:MM:SS.ffffff` in each column's own clock, 0/1 booleans, JSON text,
 * the same ids. Every value is checked by converting it forward again (the copy's converter):
 * what does not come back to PostgreSQL's value is reported with its key and column. A value
 * the copy set aside (NULL in PostgreSQL, its raw form kept) goes back as the file held it.
 */
import type Database from "better-sqlite3";
import type { ClientBase } from "pg";
import { ident, literal, sqliteIdent } from "../postgres/sql";
import type { TargetColumn } from "../schema/types";
import { withEvidence } from "../data/convert/evidence";
import type { FieldConversion, SqliteValue } from "../data/convert/result";
import { convertTimestamp } from "../data/convert/timestamp";
import { zoneOf } from "../data/convert/timezonePolicy";
import type { Conversion } from "../data/plan/conversion";
import type { TableMapping } from "../data/plan/tableMapping";

/** One column as it goes back: the source column it came from and its PostgreSQL column. */
export interface ReverseColumn {
    readonly source: string;
    readonly target: TargetColumn;
    /** For timestamps: the zone of the column's clock (UTC, or the collector host's). */
    readonly zone?: string;
}

export interface InexactValue {
    readonly table: string;
    readonly key: string;
    readonly column: string;
    readonly value: string;
    readonly reason: string;
}

export interface WriteBackResult {
    readonly upserted: number;
    readonly deleted: number;
    /** Numerics a float64 cannot hold exactly, written as their exact decimal text. */
    readonly numericsAsText: number;
    readonly inexact: readonly InexactValue[];
}

export function reverseColumns(mapping: TableMapping, conversion: Conversion): ReverseColumn[] {
    return mapping.columns.flatMap((c) =>
        c.source.kind === "column"
            ? [
                  {
                      source: c.source.name,
                      target: c.target,
                      ...(c.target.type.kind === "timestamptz"
                          ? { zone: zoneOf(conversion.policy, mapping.target.name, c.target.name) }
                          : {}),
                  },
              ]
            : [],
    );
}

/** Per column: the text to store and PostgreSQL's canonical text (what the forward conversion must give back). */
function selectSql(table: string, key: string, cols: readonly ReverseColumn[], conversion: Conversion): string {
    const exprs = cols.flatMap((c, i) => {
        const col = `t.${ident(c.target.name)}`;
        const stored = c.zone ? `to_char(${col} AT TIME ZONE ${literal(c.zone)}, 'YYYY-MM-DD HH24:MI:SS.US')` : `${col}::text`;
        return [`${stored} AS s${i}`, `${conversion.canonicalSql(col, c.target)} AS c${i}`];
    });
    return `SELECT t.${ident(key)}::text AS k, ${exprs.join(", ")} FROM ${ident(table)} t WHERE t.${ident(key)}::text = ANY($1::text[])`;
}

/**
 * A wall clock a DST fall-back repeats names two instants: written back from PostgreSQL's, it
 * is exact when that instant is either reading (the file can hold no more; on the way in, the
 * row's evidence or the order of the collector's writes decides it again).
 */
function eitherReading(forward: (raw: SqliteValue | null) => FieldConversion, zone: string, expected: string | null) {
    return (raw: SqliteValue | null): FieldConversion => {
        const f = forward(raw);
        if (raw === null || f === null || typeof f === "string" || !f.ok || f.warning !== "dst-ambiguous" || f.value === expected) return f;
        const other = convertTimestamp(raw, zone, "earlier");
        return other.ok && other.value === expected ? other : f;
    };
}

const canonicalOf = (f: FieldConversion): string | null | undefined =>
    typeof f === "string" || f === null ? f : f.ok ? f.value : undefined;

/** The stored value for PostgreSQL's text of one column; `exact` when converting it forward gives PostgreSQL's value back. */
export function storedValue(
    col: ReverseColumn,
    text: string | null,
    canonical: string | null,
    forward: (raw: SqliteValue | null) => FieldConversion,
): { value: SqliteValue | null; exact: boolean; asText?: boolean } {
    if (text === null) return { value: null, exact: true };
    const kind = col.target.type.kind;
    let value: SqliteValue =
        kind === "integer" || kind === "bigint"
            ? BigInt(text)
            : kind === "boolean"
              ? text === "true"
                  ? 1
                  : 0
              : kind === "numeric"
                ? Number(text)
                : text;
    if (canonicalOf(forward(value)) === canonical) return { value, exact: true };
    if (kind === "numeric") {
        value = text; // the exact decimal: the copy reads numbers stored as text exactly
        return { value, exact: canonicalOf(forward(value)) === canonical, asText: true };
    }
    return { value, exact: false };
}

/** A set-aside value's raw form (copy/rowEncoder.ts rawText and rawType) as the file stored it. */
export function storedRaw(rawValue: string | null, rawType: string): { value: SqliteValue | null; type: string } {
    const hex = (t: string) => Buffer.from(t.slice(2, -1), "hex");
    if (rawValue === null || rawType === "null") return { value: null, type: rawType };
    if (rawType === "integer") return { value: BigInt(rawValue), type: rawType };
    if (rawType === "real") return { value: Number(rawValue), type: rawType };
    if (rawType === "blob" || rawType === "text (hex)") return { value: hex(rawValue), type: rawType };
    return { value: rawValue, type: rawType };
}

/** The values set aside for `keys` of `table`: key -> column -> raw form (none in a target older than set-aside values). */
async function setAsideValuesOf(
    pg: ClientBase,
    table: string,
    keyName: string,
    keys: readonly string[],
): Promise<Map<string, Map<string, { value: SqliteValue | null; type: string }>>> {
    const out = new Map<string, Map<string, { value: SqliteValue | null; type: string }>>();
    const exists = await pg.query<{ t: string | null }>("SELECT to_regclass('gecko_quarantine.set_aside_values')::text AS t");
    if (!exists.rows[0].t || keys.length === 0) return out;
    const r = await pg.query<{ k: string; column_name: string; raw_value: string | null; raw_type: string | null }>(
        `SELECT row_key->>$2 AS k, column_name, raw_value, raw_type FROM gecko_quarantine.set_aside_values
          WHERE table_name = $1 AND row_key->>$2 = ANY($3::text[])`,
        [table, keyName, keys],
    );
    for (const v of r.rows) {
        const byColumn = out.get(v.k) ?? new Map();
        byColumn.set(v.column_name, storedRaw(v.raw_value, v.raw_type ?? "text"));
        out.set(v.k, byColumn);
    }
    return out;
}

/** Writes `keys` of one table back: rows PostgreSQL holds are upserted by key, the others deleted. Inside the caller's SQLite transaction. */
export async function writeBackTable(
    sqlite: Database.Database,
    pg: ClientBase,
    mapping: TableMapping,
    conversion: Conversion,
    keys: readonly string[],
): Promise<WriteBackResult> {
    const table = mapping.target.name;
    const keyName = mapping.target.rowKey[0];
    const cols = reverseColumns(mapping, conversion);
    const keyCol = cols.find((c) => c.target.name === keyName);
    if (!keyCol) throw new Error(`rollback: the SQLite ${table} has no ${keyName} column to write back by`);
    const r = await pg.query<Record<string, string | null>>(selectSql(table, keyName, cols, conversion), [keys]);
    const forwards = cols.map((c) => conversion.converterFor(table, c.target));
    // A column another decides (evidence.ts) is checked with that column's value as written back: computed first.
    const evidence = cols.map((c) => {
        const rule = conversion.evidenceFor(table, c.target);
        const at = rule ? cols.findIndex((x) => x.target.name === rule.column) : -1;
        return rule && at >= 0 ? { rule, at } : undefined;
    });
    const order = [...cols.keys()].sort((a, b) => Number(evidence[a] !== undefined) - Number(evidence[b] !== undefined));
    const sqliteKey = (k: string): SqliteValue =>
        keyCol.target.type.kind === "integer" || keyCol.target.type.kind === "bigint" ? BigInt(k) : k;
    const update = sqlite.prepare(
        `UPDATE ${sqliteIdent(mapping.source!.name)} SET ${cols.map((c) => `${sqliteIdent(c.source)} = ?`).join(", ")} WHERE ${sqliteIdent(keyCol.source)} = ?`,
    );
    const insert = sqlite.prepare(
        `INSERT INTO ${sqliteIdent(mapping.source!.name)} (${cols.map((c) => sqliteIdent(c.source)).join(", ")}) VALUES (${cols.map(() => "?").join(", ")})`,
    );
    const remove = sqlite.prepare(`DELETE FROM ${sqliteIdent(mapping.source!.name)} WHERE ${sqliteIdent(keyCol.source)} = ?`);
    const setAside = await setAsideValuesOf(pg, table, keyName, keys);
    const restoreText = (column: string) =>
        sqlite.prepare(
            `UPDATE ${sqliteIdent(mapping.source!.name)} SET ${sqliteIdent(column)} = CAST(? AS TEXT) WHERE ${sqliteIdent(keyCol.source)} = ?`,
        );
    const inexact: InexactValue[] = [];
    let numericsAsText = 0;
    const present = new Set<string>();
    for (const row of r.rows) {
        present.add(row.k!);
        const values: (SqliteValue | null)[] = new Array(cols.length);
        const kept = setAside.get(row.k!);
        const textBytes: [string, Buffer][] = [];
        for (const i of order) {
            const raw = row[`s${i}`] === null ? kept?.get(cols[i].target.name) : undefined;
            if (raw) {
                // Still NULL where the copy set the value aside: the file gets back what it held.
                values[i] = raw.type === "text (hex)" ? null : raw.value;
                if (raw.type === "text (hex)") textBytes.push([cols[i].source, raw.value as Buffer]);
                continue;
            }
            const e = evidence[i];
            const plain = cols[i].zone && cols[i].zone !== "UTC" ? eitherReading(forwards[i], cols[i].zone!, row[`c${i}`]) : forwards[i];
            const forward = e ? (raw: SqliteValue | null) => withEvidence(plain(raw), raw, e.rule, values[e.at]) : plain;
            const v = storedValue(cols[i], row[`s${i}`], row[`c${i}`], forward);
            if (v.asText) numericsAsText++;
            if (!v.exact)
                inexact.push({
                    table,
                    key: row.k!,
                    column: cols[i].target.name,
                    value: String(row[`s${i}`]),
                    reason: "does not convert back to the same value",
                });
            values[i] = v.value;
        }
        if (update.run(...values, sqliteKey(row.k!)).changes === 0) insert.run(...values);
        // TEXT that is not UTF-8 (or holds NUL) cannot be bound as text: its bytes, cast.
        for (const [column, bytes] of textBytes) restoreText(column).run(bytes, sqliteKey(row.k!));
    }
    let deleted = 0;
    for (const k of keys) if (!present.has(k)) deleted += remove.run(sqliteKey(k)).changes;
    return { upserted: present.size, deleted, numericsAsText, inexact };
}
