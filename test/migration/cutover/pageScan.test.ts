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
import { leafValues } from "../../../migration/cutover/leafCells";
import { leavesBefore, mergeRanges, pagesBefore, scanPages } from "../../../migration/cutover/pageScan";
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
        const again = scanPages(file, readWal(file), new Set(r.values()), { hashes: before.hashes });
        expect(again.changedPages).toBe(0);
        db.prepare("UPDATE a SET v = 'changed' WHERE id = 1500").run();
        db.prepare("UPDATE b SET v = 'changed' WHERE id = 'key-7'").run();
        const after = scanPages(file, readWal(file), new Set(r.values()), { hashes: before.hashes });
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

    it.each([
        ["the WAL continues: only its new frames are read", false],
        ["a checkpoint restarted the WAL: every page is compared", true],
    ])(
        "with the last pass's pages kept (%s): the same changes as by hashing, the pages brought up to date, and the rows the changed or freed leaves held",
        (_, restart) => {
            const { file, db } = liveFile();
            const r = roots(db);
            const tables = new Set(r.values());
            db.prepare("UPDATE a SET v = 'in the WAL' WHERE id = 10").run(); // the WAL the last pass read
            const before = scanPages(file, readWal(file), tables, undefined, true);
            const image = before.image!;
            expect(image.pageCount).toBe(before.pageCount);
            const hashes = before.hashes;
            const pageCountBefore = image.pageCount;
            db.prepare("UPDATE a SET v = 'changed' WHERE id = 1500").run();
            db.prepare("INSERT INTO b (id, v) SELECT 'more-' || id, v FROM b LIMIT 500").run(); // the file grows
            // Two rows in three over a stretch: leaves merge, and the ones freed keep their old bytes (SQLite does not write a page it frees).
            const gone = db.prepare("SELECT rowid AS r, id FROM b WHERE rowid BETWEEN 200 AND 1200 AND rowid % 3 != 0").all() as {
                r: number;
                id: string;
            }[];
            db.prepare("DELETE FROM b WHERE rowid BETWEEN 200 AND 1200 AND rowid % 3 != 0").run();
            if (restart) {
                db.pragma("wal_checkpoint(TRUNCATE)");
                db.prepare("UPDATE a SET v = 'after the restart' WHERE id = 2500").run();
                expect(readWal(file).salt).not.toEqual(image.wal.salt);
            } else expect(readWal(file).salt).toEqual(image.wal.salt);
            const hashed = scanPages(file, readWal(file), tables, { hashes });
            const kept = scanPages(file, readWal(file), tables, { hashes, image }, true);
            expect(kept.hashes.equals(hashed.hashes)).toBe(true);
            expect(kept.changed).toEqual(hashed.changed);
            expect(kept.changedRanges).toEqual(hashed.changedRanges);
            const fresh = scanPages(file, readWal(file), tables, undefined, true).image!;
            const size = fresh.pageCount * fresh.pageSize;
            expect(kept.image!.pageCount).toBe(fresh.pageCount);
            expect(kept.image!.bytes.subarray(0, size).equals(fresh.bytes.subarray(0, size))).toBe(true);

            const old = pagesBefore(kept, kept.image!, pageCountBefore);
            const leaves = leavesBefore(old, new Set(kept.changed), r.get("b")!, kept.treeOf(r.get("b")!));
            const keys = new Set(leaves.flatMap((l) => leafValues(l.page, l.header, before.pageSize, 0)!));
            for (const { id } of gone) expect(keys.has(id), id).toBe(true);
            const rowids = new Set(leaves.flatMap((l) => leafValues(l.page, l.header, before.pageSize, "rowid")!));
            for (const { r: rowid } of gone) expect(rowids.has(BigInt(rowid)), `rowid ${rowid}`).toBe(true);
            expect(rowids.size).toBeLessThan(1500); // the changed leaves, not the table
            db.close();
        },
    );

    it("reads a leaf's values from its cells, and refuses one that lies in an overflow page", () => {
        const { file, db } = liveFile();
        db.exec("CREATE TABLE c (n INTEGER, id TEXT PRIMARY KEY, x REAL)");
        db.prepare("INSERT INTO c VALUES (?, ?, ?)").run(-70000, "short", 0.5);
        db.prepare("INSERT INTO c VALUES (?, ?, ?)").run(2 ** 40, "k".repeat(20), null);
        const root = roots(db).get("c")!;
        const image = scanPages(file, readWal(file), new Set([root]), undefined, true).image!;
        const leaf = image.bytes.subarray((root - 1) * image.pageSize, root * image.pageSize);
        expect(leafValues(leaf, 0, image.pageSize, 0)).toEqual([-70000n, 2n ** 40n]);
        expect(leafValues(leaf, 0, image.pageSize, 1)).toEqual(["short", "k".repeat(20)]);
        expect(leafValues(leaf, 0, image.pageSize, 2)).toEqual([0.5, null]);
        expect(leafValues(leaf, 0, image.pageSize, "rowid")).toEqual([1n, 2n]);
        db.prepare("INSERT INTO c VALUES (?, ?, ?)").run(3, "o".repeat(6000), 1); // longer than a page
        const grown = scanPages(file, readWal(file), new Set([root]), undefined, true).image!;
        const again = grown.bytes.subarray((root - 1) * grown.pageSize, root * grown.pageSize);
        expect(leafValues(again, 0, grown.pageSize, 1)).toBeUndefined();
        expect(leafValues(again, 0, grown.pageSize, 0)).toEqual([-70000n, 2n ** 40n, 3n]);
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
