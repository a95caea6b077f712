/** What the source database actually contains, read with PRAGMAs rather than assumed. */
import { sqliteIdent } from "../../postgres/sql";
import type Database from "better-sqlite3";

export interface SourceColumn {
    readonly name: string;
    /** Declared type as written in CREATE TABLE (`NUMERIC(20, 8)`, `DATETIME`, ...). */
    readonly declaredType: string;
    readonly notNull: boolean;
    readonly primaryKeyIndex: number;
}

export interface SourceTable {
    readonly name: string;
    readonly columns: readonly SourceColumn[];
    readonly rowCount: number;
    readonly minRowid: bigint | null;
    readonly maxRowid: bigint | null;
    readonly withoutRowid: boolean;
}

export interface SourceSchema {
    readonly tables: ReadonlyMap<string, SourceTable>;
    readonly journalMode: string;
    readonly sqliteVersion: string;
}

export function introspectSource(db: Database.Database): SourceSchema {
    // SQLite's own tables start with "sqlite_" (any case); `_` escaped, or sqlite3_backup would vanish too.
    // table_list's `wr` says WITHOUT ROWID; reading the CREATE text would be fooled by a DEFAULT 'WITHOUT ROWID'.
    const names = db
        .prepare(
            `SELECT m.name, l.wr FROM sqlite_master m JOIN pragma_table_list l ON l.schema = 'main' AND l.name = m.name
              WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY m.name`,
        )
        .all() as Array<{ name: string; wr: bigint | number }>;
    const tables = new Map<string, SourceTable>();
    for (const { name, wr } of names) {
        const q = sqliteIdent(name);
        const columns = (
            db.prepare(`PRAGMA table_info(${q})`).all() as Array<{
                name: string;
                type: string;
                notnull: bigint | number;
                pk: bigint | number;
            }>
        ).map((c) => ({ name: c.name, declaredType: c.type, notNull: Number(c.notnull) === 1, primaryKeyIndex: Number(c.pk) }));
        const withoutRowid = Number(wr) === 1;
        const count = db.prepare(`SELECT count(*) AS n FROM ${q}`).get() as { n: bigint };
        let minRowid: bigint | null = null;
        let maxRowid: bigint | null = null;
        if (!withoutRowid) {
            const r = db.prepare(`SELECT min(rowid) AS lo, max(rowid) AS hi FROM ${q}`).get() as { lo: bigint | null; hi: bigint | null };
            minRowid = r.lo;
            maxRowid = r.hi;
        }
        tables.set(name, { name, columns, rowCount: Number(count.n), minRowid, maxRowid, withoutRowid });
    }
    const journal = db.pragma("journal_mode", { simple: true }) as string;
    const version = (db.prepare("SELECT sqlite_version() AS v").get() as { v: string }).v;
    return { tables, journalMode: journal, sqliteVersion: version };
}
