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

function setTableSql(path: string, table: string, sql: string): void {
    const db = new Database(path);
    try {
        db.unsafeMode(true); // better-sqlite3 runs in defensive mode, which forbids writing sqlite_schema
        const version = db.pragma("schema_version", { simple: true }) as number;
        db.pragma("writable_schema = ON");
        db.prepare("UPDATE sqlite_schema SET sql = ? WHERE type = 'table' AND name = ?").run(sql, table);
        db.pragma(`schema_version = ${version + 1}`);
        db.pragma("writable_schema = OFF");
    } finally {
        db.close(); // reopening reloads the schema
    }
}

/** Writes each value as TEXT into its numeric column. The file must not be open elsewhere. */
export function writeTextNumbers(path: string, writes: readonly TextNumberWrite[]): void {
    // One column at a time: an UPDATE rewrites the whole row and applies each column's
    // declared affinity, so a second relaxed column would turn that row's REAL into TEXT too.
    const byColumn = new Map<string, TextNumberWrite[]>();
    for (const w of writes) byColumn.set(`${w.table}.${w.column}`, [...(byColumn.get(`${w.table}.${w.column}`) ?? []), w]);
    for (const columnWrites of byColumn.values()) {
        const { table, column } = columnWrites[0];
        const probe = new Database(path, { readonly: true });
        const original = (probe.prepare("SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ?").get(table) as { sql: string }).sql;
        probe.close();
        const declared = new RegExp(`(\\s)${column} NUMERIC\\(\\d+, \\d+\\)`);
        if (!declared.test(original)) throw new Error(`text numbers: ${table}.${column} is not declared NUMERIC(p, s)`);
        setTableSql(path, table, original.replace(declared, `$1${column} TEXT`));
        try {
            const db = new Database(path);
            try {
                db.pragma("foreign_keys = OFF");
                const update = db.prepare(`UPDATE ${table} SET ${column} = ? WHERE rowid = ?`);
                db.transaction(() => columnWrites.forEach((w) => update.run(w.value, w.rowid)))();
            } finally {
                db.close();
            }
        } finally {
            setTableSql(path, table, original);
        }
    }
}
