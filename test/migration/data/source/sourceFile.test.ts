/**
 * A source path that cannot be the collector's SQLite file is refused before anything is
 * written, naming the file and the cause (migration/data/source/sourceFile.ts); the command
 * line exits 2 for it, as for a bad flag.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { SourceError } from "../../../../migration/data/source/sourceFile";
import { openSourceSnapshot } from "../../../../migration/data/source/snapshot";
import { PROJECT_ROOT } from "../../../support/paths";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gecko-sourcefile-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function file(name: string, fill: (p: string) => void): string {
    const p = path.join(dir, name);
    fill(p);
    return p;
}

const missing = path.join(dir, "missing.db");
const directory = file("adir.db", (p) => fs.mkdirSync(p));
const empty = file("empty.db", (p) => fs.writeFileSync(p, ""));
const text = file("notes.db", (p) => fs.writeFileSync(p, "these are my notes, not a database\n"));
const other = file("other.db", (p) => {
    const db = new Database(p);
    db.exec("CREATE TABLE recipes (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO recipes (name) VALUES ('soup')");
    db.close();
});
/** Three of the collector's seven core tables: a partial file. */
const partial = file("partial.db", (p) => {
    const db = new Database(p);
    db.exec(
        "CREATE TABLE dexes (id VARCHAR(50) PRIMARY KEY, name VARCHAR(100), network VARCHAR(50)); CREATE TABLE pools (id VARCHAR(100) PRIMARY KEY); CREATE TABLE tokens (id VARCHAR(100) PRIMARY KEY)",
    );
    db.close();
});
const malformed = file("malformed.db", (p) => {
    const db = new Database(p);
    db.exec("CREATE TABLE pools (id TEXT PRIMARY KEY)");
    db.close();
    const fd = fs.openSync(p, "r+");
    fs.writeSync(fd, Buffer.alloc(200, 0xab), 0, 200, 100); // the schema's b-tree page header and cells: garbage
    fs.closeSync(fd);
});

describe("a source that cannot be the collector's file", () => {
    it.each([
        ["a missing path", missing, `SQLite source not found: ${missing}`],
        ["a directory", directory, `SQLite source ${directory} is a directory, not a file`],
        ["an empty file", empty, `not a collector database: ${empty} is empty (0 bytes)`],
        ["a text file", text, `not a SQLite database: ${text} does not start with the SQLite header`],
    ])("%s is refused naming it and why", (_, p, message) => {
        expect(() => openSourceSnapshot(p)).toThrow(new SourceError(message));
    });

    it("a malformed file is refused naming it, SQLite's error and quick_check's first finding", () => {
        let err: unknown;
        try {
            openSourceSnapshot(malformed);
        } catch (e) {
            err = e;
        }
        expect(err).toBeInstanceOf(SourceError);
        expect((err as Error).message).toMatch(
            new RegExp(`^SQLite source ${malformed} is malformed: .*malformed.* \\(quick_check: .+\\)$`),
        );
    });

    it.each([
        ["an empty file", empty, /not a collector database: .*empty\.db is empty \(0 bytes\)/],
        ["a SQLite file of another program", other, /not a collector database: .*other\.db has none of .*pools.* \(it holds recipes\)/],
        ["a text file", text, /not a SQLite database: .*notes\.db/],
        ["a directory", directory, /adir\.db is a directory/],
        [
            "a partial file",
            partial,
            /not a complete collector database: .*partial\.db lacks the core tables collection_metadata, ohlcv_data, trades, watchlist \(it holds dexes, pools, tokens\); --allow-missing-tables/,
        ],
    ])("gecko-pg plan on %s: exit 2 and one line naming the file", (_, p, message) => {
        const r = plan(p);
        expect(r.stderr).toMatch(message);
        expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
        expect(r.status).toBe(2);
    });

    it("gecko-pg plan --allow-missing-tables takes a partial file as it is", () => {
        const r = plan(partial, "--allow-missing-tables");
        expect(r.stderr).toBe("");
        expect(r.status).toBe(0);
        expect(r.stdout).toMatch(/collection_metadata/);
    });
});

function plan(sqlite: string, ...flags: string[]) {
    return spawnSync(process.execPath, [path.join(PROJECT_ROOT, "scripts", "gecko-pg.js"), "plan", "--sqlite", sqlite, ...flags], {
        cwd: PROJECT_ROOT,
        env: { PATH: process.env.PATH, HOME: process.env.HOME },
        encoding: "utf8",
    });
}
