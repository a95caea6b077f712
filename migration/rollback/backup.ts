/**
 * A consistent byte-for-byte copy of the SQLite file (and its WAL) before the rollback writes
 * into it, and the way back. Taken while holding the file's write lock, so nothing commits
 * during the copy (the online backup API restarts under writes and may never finish).
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { acquireWriteFreeze } from "../cutover/freeze";

export interface BackupFile {
    readonly original: string;
    readonly copy: string;
    readonly sha256: string;
}

export interface SourceBackup {
    readonly dir: string;
    readonly takenAt: string;
    readonly files: readonly BackupFile[];
}

export const sha256Of = (file: string): string => createHash("sha256").update(fs.readFileSync(file)).digest("hex");

/** Copies `<db>` and `<db>-wal` (when present) into `dir` under the write lock; each copy verified by its checksum. */
export function backupSource(dbPath: string, dir: string, lockWaitMs = 5000): SourceBackup {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const freeze = acquireWriteFreeze(dbPath, lockWaitMs);
    try {
        const files = [dbPath, `${dbPath}-wal`]
            .filter((f) => fs.existsSync(f))
            .map((original) => {
                const copy = path.join(dir, path.basename(original));
                fs.copyFileSync(original, copy);
                const sha256 = sha256Of(original);
                if (sha256Of(copy) !== sha256) throw new Error(`backup of ${original}: the copy differs from the file`);
                return { original, copy, sha256 };
            });
        return { dir, takenAt: new Date().toISOString(), files };
    } finally {
        freeze.close();
    }
}

/** Puts the backed-up bytes back (nobody may have the file open); a WAL that did not exist at the backup is removed. */
export function restoreBackup(backup: SourceBackup, dbPath: string): void {
    for (const f of backup.files) {
        if (sha256Of(f.copy) !== f.sha256) throw new Error(`backup ${f.copy} no longer matches its checksum; not restoring`);
    }
    const wal = `${dbPath}-wal`;
    if (!backup.files.some((f) => f.original === wal) && fs.existsSync(wal)) fs.rmSync(wal);
    if (fs.existsSync(`${dbPath}-shm`)) fs.rmSync(`${dbPath}-shm`); // rebuilt from the WAL on the next open
    for (const f of backup.files) fs.copyFileSync(f.copy, f.original);
}
