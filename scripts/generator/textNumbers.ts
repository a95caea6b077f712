/**
 * Numbers stored as TEXT in NUMERIC columns (`'1.5e-7'`, `'987.07'`).
 *
 * SQLite's NUMERIC affinity turns well-formed numeric text into REAL on every
 * INSERT/UPDATE, so no ordinary statement can store these. Real databases got
 * them through hand edits with tools that rewrote the table definition; the
 * generator reproduces that: it declares the column TEXT in sqlite_schema
 * (writable_schema, the procedure of SQLite's "ALTER TABLE" docs), writes the
 * values, then restores the original declaration byte for byte.
 *
 * Consequence worth knowing: `PRAGMA integrity_check` on such a file reports
 * `TEXT value in <table>.<column>` (SQLite >= 3.37 checks affinity), exactly
 * as it would on the real hand-edited database.
 */
import Database from "better-sqlite3";
import type { TextNumberWrite } from "./defectKit";

function setTableSql(path: string, sqlByTable: Map<string, string>): void {
    const db = new Database(path);
    try {
        db.unsafeMode(true); // better-sqlite3 runs in defensive mode, which forbids writing sqlite_schema
        db.pragma("synchronous = OFF");
        const version = db.pragma("schema_version", { simple: true }) as number;
        db.pragma("writable_schema = ON");
        const update = db.prepare("UPDATE sqlite_schema SET sql = ? WHERE type = 'table' AND name = ?");
        for (const [table, sql] of sqlByTable) update.run(sql, table);
        db.pragma(`schema_version = ${version + 1}`);
        db.pragma("writable_schema = OFF");
    } finally {
        db.close(); // reopening reloads the schema
    }
}

/** Writes each value as TEXT into its numeric column. The file must not be open elsewhere. */
export function writeTextNumbers(path: string, writes: readonly TextNumberWrite[]): void {
    // One relaxed column per table at a time: an UPDATE rewrites the whole row applying every
    // column's declared affinity, so a second relaxed column would turn that row's REAL into TEXT.
    const pending = new Map<string, TextNumberWrite[]>();
    for (const w of writes) pending.set(`${w.table}.${w.column}`, [...(pending.get(`${w.table}.${w.column}`) ?? []), w]);
    while (pending.size > 0) {
        const round = new Map<string, TextNumberWrite[]>(); // table -> writes of one column
        for (const [key, columnWrites] of pending) {
            if (round.has(columnWrites[0].table)) continue;
            round.set(columnWrites[0].table, columnWrites);
            pending.delete(key);
        }
        writeRound(path, round);
    }
}

function writeRound(path: string, round: Map<string, TextNumberWrite[]>): void {
    const probe = new Database(path, { readonly: true });
    const originals = new Map<string, string>();
    const relaxed = new Map<string, string>();
    try {
        for (const [table, columnWrites] of round) {
            const column = columnWrites[0].column;
            const sql = (probe.prepare("SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ?").get(table) as { sql: string })
                .sql;
            const declared = new RegExp(`(\\s)${column} NUMERIC\\(\\d+, \\d+\\)`);
            if (!declared.test(sql)) throw new Error(`text numbers: ${table}.${column} is not declared NUMERIC(p, s)`);
            originals.set(table, sql);
            relaxed.set(table, sql.replace(declared, `$1${column} TEXT`));
        }
    } finally {
        probe.close();
    }
    setTableSql(path, relaxed);
    try {
        const db = new Database(path);
        try {
            db.pragma("foreign_keys = OFF");
            db.pragma("synchronous = OFF");
            db.transaction(() => {
                for (const [table, columnWrites] of round) {
                    const update = db.prepare(`UPDATE ${table} SET ${columnWrites[0].column} = ? WHERE rowid = ?`);
                    for (const w of columnWrites) update.run(w.value, w.rowid);
                }
            })();
        } finally {
            db.close();
        }
    } finally {
        setTableSql(path, originals);
    }
}
