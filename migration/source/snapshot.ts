/**
 * A read-only, consistent view of the collector's SQLite file.
 *
 * The file is opened read-only (never modified) in place, so rows still in
 * `gecko_data.db-wal` are seen (copying only the `.db` loses them). A read
 * transaction is opened at once and held until `close()`: every read of the
 * run sees the same snapshot even while the collector keeps writing.
 */
import Database from "better-sqlite3";
import { createHash } from "node:crypto";
import * as fs from "node:fs";

export interface SourceSnapshot {
    readonly path: string;
    readonly db: Database.Database;
    /** Changes when the file (or its WAL) changes: size and mtime of both. */
    readonly fingerprint: string;
    close(): void;
}

export function openSourceSnapshot(path: string): SourceSnapshot {
    if (!fs.existsSync(path)) throw new Error(`SQLite source not found: ${path}`);
    let db: Database.Database;
    try {
        db = new Database(path, { readonly: true, fileMustExist: true });
    } catch (cause) {
        throw new Error(`cannot open SQLite source ${path} read-only: ${(cause as Error).message}`, { cause });
    }
    db.defaultSafeIntegers(true);
    // A deferred BEGIN takes its snapshot at the first read, so read right away.
    db.exec("BEGIN");
    db.prepare("SELECT count(*) FROM sqlite_master").get();
    return {
        path,
        db,
        fingerprint: sourceFingerprint(path),
        close: () => {
            if (!db.open) return;
            if (db.inTransaction) db.exec("COMMIT");
            db.close();
        },
    };
}

/** Cheap identity of the file's current content: size and mtime of the db and its WAL. */
export function sourceFingerprint(path: string): string {
    const parts = [path, "-wal"].map((suffix) => {
        const p = suffix === path ? path : path + suffix;
        try {
            const st = fs.statSync(p);
            return `${st.size}:${st.mtimeMs}`;
        } catch {
            return "-";
        }
    });
    return createHash("sha256").update(parts.join("|")).digest("hex").slice(0, 16);
}
