/**
 * Whether a path is a SQLite file this tool can read, said before anything is written, with
 * the file and the cause named: missing, a directory, unreadable, empty, not SQLite, or
 * malformed (with `PRAGMA quick_check`'s first finding). A SourceError is bad input, not a
 * fault: the command line exits 2.
 */
import type Database from "better-sqlite3";
import * as fs from "node:fs";

export class SourceError extends Error {}

/** A collector file lacking some of its core tables: bad input unless partial files are allowed. */
export class MissingTablesError extends SourceError {}

const SQLITE_HEADER = Buffer.from("SQLite format 3\0", "latin1");

/** Throws a SourceError naming `path` and why it cannot be a SQLite source. */
export function checkSourceFile(path: string): void {
    let stat: fs.Stats;
    try {
        stat = fs.statSync(path);
    } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === "ENOENT") throw new SourceError(`SQLite source not found: ${path}`);
        throw new SourceError(`cannot read SQLite source ${path}: ${(err as Error).message}`);
    }
    if (stat.isDirectory()) throw new SourceError(`SQLite source ${path} is a directory, not a file`);
    const head = Buffer.alloc(SQLITE_HEADER.length);
    try {
        const fd = fs.openSync(path, "r");
        try {
            fs.readSync(fd, head, 0, head.length, 0);
        } finally {
            fs.closeSync(fd);
        }
    } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        throw new SourceError(`cannot read SQLite source ${path}: ${code === "EACCES" ? "permission denied" : (err as Error).message}`);
    }
    if (stat.size === 0) throw new SourceError(`not a collector database: ${path} is empty (0 bytes)`);
    if (!head.equals(SQLITE_HEADER)) throw new SourceError(`not a SQLite database: ${path} does not start with the SQLite header`);
}

/**
 * The SourceError for an error of a run whose cause (at any depth) is SQLite finding the file
 * damaged, with where the run found it; undefined for any other error.
 */
export function damagedSource(db: Database.Database, err: unknown): SourceError | undefined {
    for (let e = err as { code?: string; cause?: unknown } | undefined; e; e = e.cause as typeof e) {
        if (e.code !== "SQLITE_CORRUPT" && e.code !== "SQLITE_NOTADB") continue;
        const named = sourceReadError(db, e) as SourceError;
        return new SourceError(e === err ? named.message : `${named.message}; found at ${(err as Error).message}`, { cause: err });
    }
    return undefined;
}

/** A read that failed because the file is damaged, told as such: the file, SQLite's error, and quick_check's first finding. */
export function sourceReadError(db: Database.Database, cause: unknown): Error {
    const code = (cause as { code?: string }).code ?? "";
    if (code !== "SQLITE_CORRUPT" && code !== "SQLITE_NOTADB") return cause as Error;
    let finding = "";
    try {
        // Its first finding may span lines ("*** in database main ***" then the page): one line here.
        finding = String(db.pragma("quick_check(1)", { simple: true })).replace(/\s*\n\s*/g, " ");
    } catch (err) {
        finding = (err as Error).message;
    }
    return new SourceError(`SQLite source ${db.name} is malformed: ${(cause as Error).message} (quick_check: ${finding})`, { cause });
}
