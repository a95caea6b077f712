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
import { checkSourceFile, SourceError, sourceReadError } from "./sourceFile";

export interface SourceSnapshot {
    readonly path: string;
    readonly db: Database.Database;
    /** Changes when the file (or its WAL) changes: size and mtime of both. */
    readonly fingerprint: string;
    close(): void;
}

export function openSourceSnapshot(path: string): SourceSnapshot {
    const db = openReadOnly(path);
    // The fingerprint before the snapshot: a write in between then shows as a changed file next time, never as one already read.
    const fingerprint = sourceFingerprint(path);
    beginSnapshot(db);
    return snapshotOf(path, db, fingerprint);
}

/** Other connections (e.g. in convert workers) that must read exactly the main snapshot. */
export interface SnapshotPeers {
    /** Each peer opens a read transaction and takes its snapshot. */
    begin(): Promise<void>;
    /** Each peer ends its read transaction. */
    end(): Promise<void>;
}

const SHARED_SNAPSHOT_ATTEMPTS = 50;

/**
 * The main snapshot, with `peers` on the same one. SQLite cannot hand a
 * snapshot to another connection, so: note the file's data_version, open
 * every read transaction, and check data_version again. If nothing committed
 * in between, all of them see the same database; otherwise retry (a live
 * collector commits every few seconds, the window is milliseconds).
 */
export async function openSharedSnapshot(path: string, peers: SnapshotPeers): Promise<SourceSnapshot> {
    const db = openReadOnly(path);
    const monitor = openReadOnly(path);
    const dataVersion = () => monitor.pragma("data_version", { simple: true }) as number | bigint;
    try {
        for (let attempt = 1; attempt <= SHARED_SNAPSHOT_ATTEMPTS; attempt++) {
            const before = dataVersion();
            const fingerprint = sourceFingerprint(path);
            beginSnapshot(db);
            await peers.begin();
            if (dataVersion() === before) return snapshotOf(path, db, fingerprint);
            db.exec("COMMIT");
            await peers.end();
        }
        throw new Error(
            `SQLite source ${path} changed during each of ${SHARED_SNAPSHOT_ATTEMPTS} attempts to open one snapshot for all readers`,
        );
    } catch (err) {
        db.close();
        throw err;
    } finally {
        monitor.close();
    }
}

/**
 * A snapshot together with something read from the file outside SQLite (the WAL's frames)
 * that matches it exactly: `capture` runs just before the read transaction opens, and the
 * pair is kept only when no commit landed around both (data_version unchanged); else retried.
 */
export function openCapturedSnapshot<T>(path: string, capture: () => T): { snapshot: SourceSnapshot; captured: T } {
    const db = openReadOnly(path);
    const monitor = openReadOnly(path);
    const dataVersion = () => monitor.pragma("data_version", { simple: true }) as number | bigint;
    try {
        for (let attempt = 1; attempt <= SHARED_SNAPSHOT_ATTEMPTS; attempt++) {
            const before = dataVersion();
            const fingerprint = sourceFingerprint(path);
            const captured = capture();
            beginSnapshot(db);
            if (dataVersion() === before) return { snapshot: snapshotOf(path, db, fingerprint), captured };
            db.exec("COMMIT");
        }
        throw new Error(
            `SQLite source ${path} changed during each of ${SHARED_SNAPSHOT_ATTEMPTS} attempts to read its WAL with one snapshot`,
        );
    } catch (err) {
        db.close();
        throw err;
    } finally {
        monitor.close();
    }
}

/** The source opened read-only (never modified), integers as bigint; clear errors when it cannot be. */
export function openReadOnly(path: string): Database.Database {
    checkSourceFile(path);
    let db: Database.Database;
    try {
        db = new Database(path, { readonly: true, fileMustExist: true });
    } catch (cause) {
        throw new SourceError(`cannot open SQLite source ${path} read-only: ${(cause as Error).message}`, { cause });
    }
    db.defaultSafeIntegers(true);
    return db;
}

/** Opens a read transaction and takes its snapshot. */
export function beginSnapshot(db: Database.Database): void {
    // A deferred BEGIN takes its snapshot at the first read, so read right away.
    db.exec("BEGIN");
    try {
        db.prepare("SELECT count(*) FROM sqlite_master").get();
    } catch (err) {
        db.exec("ROLLBACK");
        throw sourceReadError(db, err);
    }
}

function snapshotOf(path: string, db: Database.Database, fingerprint: string): SourceSnapshot {
    return {
        path,
        db,
        fingerprint,
        close: () => {
            if (!db.open) return;
            // A read transaction holds nothing to keep; after a read that found the file damaged
            // even its COMMIT fails, and must not hide that read's error.
            try {
                if (db.inTransaction) db.exec("COMMIT");
            } catch {
                // closing releases it anyway
            }
            db.close();
        },
    };
}

/**
 * Cheap identity of the file's current content: size and mtime of the db and its WAL.
 * An empty WAL holds no frames and counts as none: opening a WAL-mode file, even
 * read-only (our own migration), creates one beside a file that had none, and the
 * next preview of an unchanged stack would show a change.
 */
export function sourceFingerprint(path: string): string {
    const parts = [path, "-wal"].map((suffix) => {
        const p = suffix === path ? path : path + suffix;
        try {
            const st = fs.statSync(p);
            return suffix !== path && st.size === 0 ? "-" : `${st.size}:${st.mtimeMs}`;
        } catch {
            return "-";
        }
    });
    return createHash("sha256").update(parts.join("|")).digest("hex").slice(0, 16);
}
