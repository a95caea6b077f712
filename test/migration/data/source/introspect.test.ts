/**
 * What a source SQLite file contains, read with PRAGMAs (migration/data/source/introspect.ts),
 * over files written here with better-sqlite3 and opened the way a run opens them
 * (openReadOnly: read-only, integers as bigint): declared types as written, NOT NULL,
 * primary-key positions, WITHOUT ROWID, row counts and rowid ranges (gaps, negative
 * and 64-bit rowids), the journal mode, SQLite's own tables left out, and names that
 * need quoting.
 */
import Database from "better-sqlite3";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { introspectSource, type SourceSchema } from "../../../../migration/data/source/introspect";
import { openReadOnly } from "../../../../migration/data/source/snapshot";

const ODD = 'odd "name" table';
let dir: string;

/** Writes a SQLite file with `build`, then introspects it read-only. */
function introspectFile(name: string, build: (db: Database.Database) => void): SourceSchema {
    const file = path.join(dir, `${name}.db`);
    const w = new Database(file);
    build(w);
    w.close();
    const db = openReadOnly(file);
    try {
        return introspectSource(db);
    } finally {
        db.close();
    }
}

beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "gecko-introspect-"));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("introspectSource", () => {
    let schema: SourceSchema;
    const table = (name: string) => {
        const t = schema.tables.get(name);
        if (!t) throw new Error(`no table ${name} in ${[...schema.tables.keys()].join(", ")}`);
        return t;
    };

    beforeAll(() => {
        schema = introspectFile("shapes", (db) => {
            db.pragma("journal_mode = WAL");
            db.exec(`
                CREATE TABLE "odd ""name"" table" ("col with space" TEXT NOT NULL, "q""uote" NUMERIC(20, 8), id INTEGER PRIMARY KEY);
                INSERT INTO "odd ""name"" table" (id, "col with space") VALUES (5, 'a'), (9, 'b'), (42, 'c');
                DELETE FROM "odd ""name"" table" WHERE id = 9;

                CREATE TABLE pairs (b varchar(10) NOT NULL, a integer, c, PRIMARY KEY (a, b));
                INSERT INTO pairs VALUES ('x', 1, NULL);

                CREATE TABLE kv (k TEXT PRIMARY KEY, v BLOB) WITHOUT ROWID;
                INSERT INTO kv VALUES ('a', x'00'), ('b', NULL), ('c', NULL);
                CREATE TABLE lower_wr (k INTEGER PRIMARY KEY, v) without
                    rowid;

                CREATE TABLE empty (x REAL);
                CREATE TABLE big (v TEXT);
                INSERT INTO big (rowid, v) VALUES (9223372036854775807, 'max'), (-5, 'negative');

                CREATE TABLE events_auto (id INTEGER PRIMARY KEY AUTOINCREMENT, note TEXT);
                INSERT INTO events_auto (note) VALUES ('one');
                CREATE TABLE Zeta (id INTEGER PRIMARY KEY);
                CREATE VIEW pair_view AS SELECT * FROM pairs;
                CREATE INDEX idx_pairs_c ON pairs (c);
            `);
        });
    });

    it("lists every table in binary name order, without sqlite_sequence, views or indexes", () => {
        expect([...schema.tables.keys()]).toEqual(["Zeta", "big", "empty", "events_auto", "kv", "lower_wr", ODD, "pairs"]);
    });

    it("reads columns with their declared type as written, NOT NULL and primary-key position, through quoted names", () => {
        expect(table(ODD).columns).toEqual([
            { name: "col with space", declaredType: "TEXT", notNull: true, primaryKeyIndex: 0 },
            { name: 'q"uote', declaredType: "NUMERIC(20, 8)", notNull: false, primaryKeyIndex: 0 },
            { name: "id", declaredType: "INTEGER", notNull: false, primaryKeyIndex: 1 },
        ]);
        // positions follow PRIMARY KEY (a, b), not the column order; varchar(10) and untyped kept as written
        // (SQLite itself upper-cases its own type keywords INT, INTEGER, REAL, TEXT, BLOB, ANY)
        expect(table("pairs").columns).toEqual([
            { name: "b", declaredType: "varchar(10)", notNull: true, primaryKeyIndex: 2 },
            { name: "a", declaredType: "INTEGER", notNull: false, primaryKeyIndex: 1 },
            { name: "c", declaredType: "", notNull: false, primaryKeyIndex: 0 },
        ]);
    });

    it("counts rows and reads the rowid range as bigints, gaps included", () => {
        expect(table(ODD)).toMatchObject({ rowCount: 2, minRowid: 5n, maxRowid: 42n, withoutRowid: false });
        expect(table("big")).toMatchObject({ rowCount: 2, minRowid: -5n, maxRowid: 9223372036854775807n });
        expect(table("pairs")).toMatchObject({ rowCount: 1, minRowid: 1n, maxRowid: 1n });
        expect(table("events_auto")).toMatchObject({ rowCount: 1, minRowid: 1n, maxRowid: 1n });
    });

    it("gives an empty table no rowid range", () => {
        expect(table("empty")).toEqual({
            name: "empty",
            columns: [{ name: "x", declaredType: "REAL", notNull: false, primaryKeyIndex: 0 }],
            rowCount: 0,
            minRowid: null,
            maxRowid: null,
            withoutRowid: false,
        });
    });

    it("recognises WITHOUT ROWID in any case and spacing, counts its rows and reads no rowids", () => {
        expect(table("kv")).toMatchObject({ rowCount: 3, minRowid: null, maxRowid: null, withoutRowid: true });
        // a WITHOUT ROWID table's key is NOT NULL even when not declared so
        expect(table("kv").columns[0]).toEqual({ name: "k", declaredType: "TEXT", notNull: true, primaryKeyIndex: 1 });
        expect(table("lower_wr")).toMatchObject({ rowCount: 0, withoutRowid: true, minRowid: null });
    });

    it("reports the journal mode and SQLite's version", () => {
        expect(schema.journalMode).toBe("wal");
        expect(schema.sqliteVersion).toMatch(/^3\.\d+\.\d+$/);
        const rollback = introspectFile("rollback", (db) => db.exec("CREATE TABLE t (x)"));
        expect(rollback.journalMode).toBe("delete");
        expect([...rollback.tables.keys()]).toEqual(["t"]);
    });

    it("keeps a table whose name only looks like SQLite's own (sqlite3_backup), and one whose text says WITHOUT ROWID in a default", () => {
        const lookalikes = introspectFile("lookalikes", (db) =>
            db.exec(`
                CREATE TABLE sqlite3_backup (id INTEGER PRIMARY KEY, note TEXT);
                INSERT INTO sqlite3_backup VALUES (7, 'kept');
                CREATE TABLE notes (id INTEGER PRIMARY KEY, kind TEXT DEFAULT 'WITHOUT ROWID');
                INSERT INTO notes (id) VALUES (3);
                CREATE TABLE t (x INTEGER PRIMARY KEY AUTOINCREMENT);
                INSERT INTO t DEFAULT VALUES;
            `),
        );
        expect([...lookalikes.tables.keys()]).toEqual(["notes", "sqlite3_backup", "t"]); // sqlite_sequence left out
        expect(lookalikes.tables.get("sqlite3_backup")).toMatchObject({ rowCount: 1, minRowid: 7n, maxRowid: 7n });
        expect(lookalikes.tables.get("notes")).toMatchObject({ withoutRowid: false, rowCount: 1, minRowid: 3n, maxRowid: 3n });
    });

    it("finds no tables in a database without tables", () => {
        // user_version writes the header: a SQLite database, not a 0-byte file (which is refused before introspection).
        expect(introspectFile("nothing", (db) => db.pragma("user_version = 1")).tables.size).toBe(0);
    });
});
