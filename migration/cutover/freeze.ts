/**
 * The write freeze: a connection of our own holds the SQLite file's write lock
 * (`BEGIN IMMEDIATE`, never anything written, only ROLLBACK), so the collector's writers
 * wait inside their busy timeout (30 s) instead of failing, while the final sync pass
 * reads a source that cannot change.
 *
 * The file is never modified: a read-only guard connection is opened before the locking
 * one and closed after it, so the locking connection is never the last to close (the last
 * connection checkpoints the WAL into the file); a read-only connection never checkpoints.
 * If the process dies, the operating system drops the lock with it.
 */
import Database from "better-sqlite3";
import { openReadOnly } from "../data/source/snapshot";
import { readWal } from "./walFile";

export interface WriteFreeze {
    /** How long taking the lock waited for a write in progress (ms). */
    readonly lockWaitMs: number;
    /** Milliseconds since the lock was taken. */
    heldMs(): number;
    /** Whether anything committed since the lock was taken: data_version and the WAL's committed frames, both unchanged. */
    quiet(): { readonly quiet: boolean; readonly detail: string };
    /** Rolls back and closes the locking connection (idempotent): the collector's waiting writes go ahead. `quiet()` still works. */
    releaseLock(): void;
    /** Releases the lock and closes the guard (idempotent). */
    close(): void;
}

export class FreezeTimeout extends Error {}

/** Takes the write lock, waiting at most `waitMs` for the collector's transaction in progress. */
export function acquireWriteFreeze(path: string, waitMs: number): WriteFreeze {
    const guard = openReadOnly(path);
    let lock: Database.Database | undefined;
    const t0 = Date.now();
    try {
        lock = new Database(path, { fileMustExist: true, timeout: waitMs });
        lock.exec("BEGIN IMMEDIATE");
    } catch (err) {
        lock?.close();
        guard.close();
        if ((err as { code?: string }).code === "SQLITE_BUSY")
            throw new FreezeTimeout(`the collector held ${path}'s write lock for more than ${waitMs} ms; not frozen`);
        throw new Error(`cannot take the write lock on ${path}: ${(err as Error).message}`, { cause: err });
    }
    const heldSince = Date.now();
    const dataVersion = () => guard.pragma("data_version", { simple: true }) as bigint;
    const version = dataVersion();
    const frames = readWal(path);
    const held = lock;
    let released = false;
    const releaseLock = () => {
        if (released) return;
        released = true;
        if (held.inTransaction) held.exec("ROLLBACK");
        held.close();
    };
    return {
        lockWaitMs: heldSince - t0,
        heldMs: () => Date.now() - heldSince,
        quiet: () => {
            const now = readWal(path);
            const sameWal = now.committedFrames === frames.committedFrames && now.salt.join() === frames.salt.join();
            const sameVersion = dataVersion() === version;
            return {
                quiet: sameWal && sameVersion,
                detail: `data_version ${sameVersion ? "unchanged" : "changed"}, WAL ${sameWal ? `unchanged at ${now.committedFrames} committed frames` : `moved from ${frames.committedFrames} to ${now.committedFrames} frames`}`,
            };
        },
        releaseLock,
        close: () => {
            releaseLock();
            // The guard closes last, and read-only: it never checkpoints the file.
            if (guard.open) guard.close();
        },
    };
}
