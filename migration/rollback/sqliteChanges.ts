/**
 * Whether the SQLite file changed after the cutover, and where: its pages compared with what
 * the cutover's final sync pass saw (gecko_migration.sync_state). Rows on changed table
 * leaves give the keys that changed there; a table whose row count moved lost or gained rows.
 * A key PostgreSQL also changed is a conflict: the rollback never overwrites it silently.
 */
import type Database from "better-sqlite3";
import type { ClientBase } from "pg";
import { ident, sqliteIdent } from "../postgres/sql";
import { hashValue, rowHash, rowHashSql } from "../data/checksum/checksum";
import { RowEncoder, type RawValue } from "../data/copy/rowEncoder";
import type { Conversion } from "../data/plan/conversion";
import { targetRowSql } from "../data/validate/tableChecks";
import type { TableMapping } from "../data/plan/tableMapping";
import { invalidTextMarker } from "../data/source/utf8";
import { scanPages } from "../cutover/pageScan";
import { loadSyncState } from "../cutover/syncState";
import { readWal } from "../cutover/walFile";

export interface SqliteChanges {
    /** False when no sync state was kept: whether the file changed cannot be told. */
    readonly known: boolean;
    readonly changedPages: number;
    /** Keys (as text) on changed table leaves, per table. */
    readonly keys: ReadonlyMap<string, ReadonlySet<string>>;
    /** Tables whose row count differs from the cutover's. */
    readonly countsMoved: readonly string[];
}

export async function sqliteChangesSinceCutover(
    db: Database.Database,
    path: string,
    pg: ClientBase,
    mappings: readonly TableMapping[],
): Promise<SqliteChanges> {
    const state = await loadSyncState(pg);
    if (!state) return { known: false, changedPages: 0, keys: new Map(), countsMoved: [] };
    const roots = new Map(
        (db.prepare("SELECT name, rootpage FROM sqlite_master WHERE type = 'table'").all() as { name: string; rootpage: bigint }[]).map(
            (r) => [r.name, Number(r.rootpage)],
        ),
    );
    const tables = mappings.filter((m) => m.source && roots.has(m.source.name));
    const scan = scanPages(path, readWal(path), new Set(tables.map((m) => roots.get(m.source!.name)!)), { hashes: state.hashes });
    const keys = new Map<string, Set<string>>();
    const countsMoved: string[] = [];
    for (const m of tables) {
        const src = sqliteIdent(m.source!.name);
        const keyColumn = m.columns.find((c) => c.target.name === m.target.rowKey[0])?.source;
        const ranges = scan.changedRanges.get(roots.get(m.source!.name)!) ?? [];
        if (keyColumn?.kind === "column" && ranges.length) {
            const stmt = db.prepare(`SELECT ${sqliteIdent(keyColumn.name)} FROM ${src} WHERE rowid BETWEEN ? AND ?`).pluck();
            const found = new Set<string>();
            for (const r of ranges) for (const k of stmt.iterate(r.lo, r.hi)) found.add(String(k));
            keys.set(m.target.name, found);
        }
        const n = Number((db.prepare(`SELECT count(*) FROM ${src}`).pluck().get() as bigint) ?? 0);
        if (state.rowCounts[m.target.name] !== undefined && state.rowCounts[m.target.name] !== n) countsMoved.push(m.target.name);
    }
    return { known: true, changedPages: scan.changedPages, keys, countsMoved };
}

/**
 * Of the keys PostgreSQL changed that sit on changed pages of the file, those whose row in the
 * file is not the row the cutover left: compared with the row's image before PostgreSQL's first
 * change (the change log keeps it), through the copy's own conversion. A key PostgreSQL
 * inserted that the file now holds too is a collision.
 */
export async function conflictingKeys(
    db: Database.Database,
    pg: ClientBase,
    mapping: TableMapping,
    conversion: Conversion,
    candidates: readonly string[],
): Promise<string[]> {
    if (candidates.length === 0) return [];
    const t = mapping.target;
    const q = targetRowSql(mapping, conversion.canonicalSql, 1, false);
    const first = await pg.query<{ k: string; h: string | null }>(
        `SELECT DISTINCT ON (c.row_key) c.row_key AS k, CASE WHEN c.old_row IS NULL THEN NULL ELSE (SELECT ${rowHashSql(q.rowText)}::text FROM jsonb_populate_record(NULL::${ident(t.name)}, c.old_row) t) END AS h
           FROM gecko_migration.changes c WHERE c.table_name = $1 AND c.row_key = ANY($2::text[]) ORDER BY c.row_key, c.seq`,
        [t.name, candidates],
    );
    const encoder = new RowEncoder(mapping, (c) => conversion.converterFor(t.name, c), 1, conversion.rowRulesFor(t.name));
    const keySource = mapping.columns.find((c) => c.target.name === t.rowKey[0])!.source;
    if (keySource.kind !== "column") return [...candidates];
    const read = db
        .prepare(
            `SELECT rowid, ${encoder.sourceColumns().map(sqliteIdent).join(", ")} FROM ${sqliteIdent(mapping.source!.name)} WHERE ${sqliteIdent(keySource.name)} = ?`,
        )
        .raw(true);
    const markInvalidText = invalidTextMarker(db, mapping.source!.name, encoder.sourceColumns());
    const h = { hi: 0, lo: 0 };
    return first.rows
        .filter((row) => {
            const found = read.get(row.k) as RawValue[] | undefined;
            if (!found) return row.h !== null; // gone from the file: a conflict unless PostgreSQL inserted it
            const raw = markInvalidText(found);
            const r = encoder.encode(raw);
            return row.h === null || !r.ok || String(hashValue(rowHash(r.line, h))) !== row.h;
        })
        .map((row) => row.k);
}
