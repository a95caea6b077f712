/**
 * The page scan under sync (migration/cutover/pageScan.ts, walFile.ts) on real SQLite files:
 * the WAL's committed frames laid over the main file give exactly the pages SQLite itself
 * reads, a frame that is not committed or fails its checksum is not taken, and the changed
 * table leaves name the rowid ranges of what changed, table by table.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { mergeRanges, scanPages } from "../../../migration/cutover/pageScan";
import { NO_WAL, parseWal, readWal } from "../../../migration/cutover/walFile";

const dirs: string[] = [];
afterEach(() => {
    for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

/** A WAL-mode file whose writes stay in the WAL (automatic checkpoints off) while `db` is open. */
function liveFile() {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gecko-pagescan-"));
    dirs.push(dir);
    const file = path.join(dir, "live.db");
    const db = new Database(file);
    db.pragma("journal_mode = WAL");
    db.exec("CREATE TABLE a (id INTEGER PRIMARY KEY, v TEXT); CREATE TABLE b (id TEXT PRIMARY KEY, v TEXT)");
    const fill = db.transaction((n: number) => {
        for (let i = 1; i <= n; i++) {
            db.prepare("INSERT INTO a (id, v) VALUES (?, ?)").run(i, "x".repeat(50) + i);
            db.prepare("INSERT INTO b (id, v) VALUES (?, ?)").run(`key-${i}`, "y".repeat(50));
        }
    });
    fill(3000);
    db.pragma("wal_checkpoint(TRUNCATE)");
    db.pragma("wal_autocheckpoint = 0");
    return { file, db, dir };
}

const roots = (db: Database.Database) =>
    new Map(
        (db.prepare("SELECT name, rootpage FROM sqlite_master WHERE type = 'table'").all() as { name: string; rootpage: number }[]).map(
            (r) => [r.name, r.rootpage],
        ),
    );

describe("the WAL read as a file", () => {
    it("lays its committed frames over the main file: the same pages as a checkpointed copy", async () => {
        const { file, db, dir } = liveFile();
        db.prepare("UPDATE a SET v = 'changed' WHERE id = 1500").run();
        db.prepare("INSERT INTO b (id, v) VALUES ('new', 'z')").run();
        const wal = readWal(file);
        expect(wal.committedFrames).toBeGreaterThan(0);
        expect(wal.pages.size).toBeGreaterThan(0);
        const copy = path.join(dir, "copy.db");
        await db.backup(copy); // page for page, the WAL's content included
        const live = scanPages(file, wal, new Set());
        const checkpointed = scanPages(copy, NO_WAL, new Set());
        expect(live.pageCount).toBe(checkpointed.pageCount);
        // Page 1's header differs (the copy is not in WAL mode, its change counter moved); every other page is equal.
        expect(live.hashes.subarray(8).equals(checkpointed.hashes.subarray(8))).toBe(true);
        db.close();
    });

    it("takes nothing past the last commit frame, nor a frame whose checksum fails", () => {
        const { file, db } = liveFile();
        db.prepare("UPDATE a SET v = 'one' WHERE id = 10").run();
        const first = readWal(file);
        db.prepare("UPDATE a SET v = 'two' WHERE id = 2900").run();
        const bytes = fs.readFileSync(`${file}-wal`);
        const both = parseWal(bytes);
        expect(both.committedFrames).toBeGreaterThan(first.committedFrames);
        // Cut the second transaction's last frame short: only the first transaction remains.
        const frame = 24 + first.pageSize;
        expect(parseWal(bytes.subarray(0, bytes.length - 10)).committedFrames).toBe(first.committedFrames);
        // Flip one byte in the second transaction's first frame: its checksum fails, so it and all after it are dropped.
        const corrupt = Buffer.from(bytes);
        corrupt[32 + first.committedFrames * frame + 24 + 100] ^= 0xff;
        expect(parseWal(corrupt).committedFrames).toBe(first.committedFrames);
        expect(parseWal(Buffer.alloc(10)).committedFrames).toBe(0);
        db.close();
    });
});

describe("changed pages", () => {
    it("name the rowid ranges of the changed leaves of each table, and nothing when nothing changed", () => {
        const { file, db } = liveFile();
        const r = roots(db);
        const before = scanPages(file, readWal(file), new Set(r.values()));
        expect(before.changedRanges.size).toBe(0);
        const again = scanPages(file, readWal(file), new Set(r.values()), before.hashes);
        expect(again.changedPages).toBe(0);
        db.prepare("UPDATE a SET v = 'changed' WHERE id = 1500").run();
        db.prepare("UPDATE b SET v = 'changed' WHERE id = 'key-7'").run();
        const after = scanPages(file, readWal(file), new Set(r.values()), before.hashes);
        const a = after.changedRanges.get(r.get("a")!)!;
        expect(a).toHaveLength(1);
        expect(a[0].lo <= 1500n && a[0].hi >= 1500n).toBe(true);
        expect(a[0].hi - a[0].lo).toBeLessThan(100n); // one leaf, not the table
        const bRowid = BigInt((db.prepare("SELECT rowid AS r FROM b WHERE id = 'key-7'").get() as { r: number }).r);
        const b = after.changedRanges.get(r.get("b")!)!;
        expect(b.some((x) => x.lo <= bRowid && x.hi >= bRowid)).toBe(true);
        expect(after.unplaced).toEqual([]);
        db.close();
    });

    it("merges overlapping and adjacent ranges", () => {
        expect(
            mergeRanges([
                { lo: 10n, hi: 20n },
                { lo: 1n, hi: 5n },
                { lo: 21n, hi: 30n },
                { lo: 25n, hi: 26n },
            ]),
        ).toEqual([
            { lo: 1n, hi: 5n },
            { lo: 10n, hi: 30n },
        ]);
    });
});
