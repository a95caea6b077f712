/**
 * Which rows may have changed since the last sync pass, found from the file's pages rather
 * than by reading every row: every page as the pass's snapshot sees it (the main file with
 * the WAL's committed frames laid over it) is hashed, and the table leaf pages whose hash
 * differs from the last pass's name the rowid ranges to compare. The b-trees are walked
 * from each table's root page to know which table a leaf belongs to (a freed page keeps its
 * old content but is no longer reachable).
 *
 * Sound because every write changes the pages it touches: a changed row is on a changed
 * leaf of its table, an inserted row too. Deleted rows leave no page behind; the pass finds
 * them by the tables' row counts (syncRanges). A change this scan cannot place (an overflow
 * page, an auto-vacuum pointer map, a schema change) sends the pass to the full comparison.
 *
 * A process that runs passes one after another (the cutover) keeps the last pass's pages in
 * memory (`keep`, a PageImage): the next scan compares bytes instead of hashing every page and
 * brings the image up to date in place, setting aside the pages it replaced; with those the
 * last pass's snapshot can still be read (pagesBefore, leavesBefore), which is how deletes
 * are found without comparing every key.
 *
 * Reads only: the main file with plain reads, the WAL as read before the snapshot.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import { NO_WAL, type WalFrames } from "./walFile";

/** 8 bytes of SHA-1 per page, page 1 first. */
export type PageHashes = Buffer;
const HASH_BYTES = 8;

/** A snapshot's pages in one buffer (with room to grow), brought up to date in place by the next scan. */
export interface PageImage {
    bytes: Buffer;
    pageCount: number;
    readonly pageSize: number;
    /** Each interior table page's children, in this snapshot. */
    children: Map<number, number[]>;
    /** The WAL this snapshot read: while its generation continues, only the frames after it can hold changes. */
    wal: { readonly salt: readonly [number, number]; readonly committedFrames: number };
}

/** What the last pass saw: its page hashes, and its pages when this process kept them. */
export interface PreviousPages {
    readonly hashes: PageHashes;
    readonly image?: PageImage;
}

export interface PageScan {
    readonly pageSize: number;
    readonly pageCount: number;
    readonly hashes: PageHashes;
    /** The schema cookie (header offset 40): it changes with every schema change. */
    readonly schemaCookie: number;
    /** Root page -> the rowid ranges of its changed leaves (sorted, merged). */
    readonly changedRanges: ReadonlyMap<number, readonly RowidRange[]>;
    /** Changed pages that are neither b-tree pages nor free: where the scan cannot tell what changed. */
    readonly unplaced: readonly number[];
    readonly changedPages: number;
    /** The numbers of the changed pages (empty without an earlier scan). */
    readonly changed: readonly number[];
    /** This snapshot's pages: the previous image brought up to date, or a new one when asked to keep them. */
    readonly image?: PageImage;
    /** The previous image's pages this scan overwrote, as they were (with the image: the last pass's snapshot). */
    readonly replaced: ReadonlyMap<number, Buffer>;
    /** The pages of the table b-tree at `root` in this snapshot. */
    treeOf(root: number): ReadonlySet<number>;
}

export interface RowidRange {
    readonly lo: bigint;
    readonly hi: bigint;
}

const LEAF_TABLE = 0x0d;
const INTERIOR_TABLE = 0x05;
const BTREE_TYPES = new Set([0x02, 0x05, 0x0a, 0x0d]);
const READ_BLOCK = 16 << 20;

/**
 * Reads the snapshot's pages (the file plus `wal`), comparing each with `previous` (none:
 * everything changed): byte for byte with its image when there is one (which this brings up
 * to date), else by hash. `keep`: without an image to update, the pages are kept in a new one.
 */
export function scanPages(
    dbPath: string,
    wal: WalFrames,
    tableRoots: ReadonlySet<number>,
    previous?: PreviousPages,
    keep = false,
): PageScan {
    const fd = fs.openSync(dbPath, "r");
    try {
        const pages = pageReader(fd, wal);
        const image =
            previous?.image ??
            (keep ? { bytes: Buffer.alloc(0), pageCount: 0, pageSize: pages.size, children: new Map(), wal: NO_WAL } : undefined);
        if (image && image.pageSize !== pages.size) return scanWith(pages, tableRoots, previous && { hashes: previous.hashes });
        return scanWith(pages, tableRoots, previous, image);
    } finally {
        fs.closeSync(fd);
    }
}

function scanWith(pages: PageSource, tableRoots: ReadonlySet<number>, previous?: PreviousPages, image?: PageImage): PageScan {
    const compareBytes = image !== undefined && previous?.image === image;
    // The same WAL generation, grown: every page that changed since is in a frame after the last pass's.
    const onlyNewFrames = compareBytes && walContinues(image.wal, pages.wal) && previous.hashes.length >= image.pageCount * HASH_BYTES;
    const hashes = Buffer.alloc(pages.count * HASH_BYTES);
    if (onlyNewFrames) previous.hashes.copy(hashes, 0, 0, Math.min(previous.hashes.length, hashes.length));
    const children = onlyNewFrames ? image.children : new Map<number, number[]>();
    const changedLeaves = new Map<number, RowidRange>();
    const otherChanged: number[] = [];
    const changed: number[] = [];
    const replaced = new Map<number, Buffer>();
    if (image) reserve(image, pages.count);
    const visit = (pgno: number, page: Buffer) => {
        const at = (pgno - 1) * HASH_BYTES;
        const header = pgno === 1 ? 100 : 0;
        if (page[header] === INTERIOR_TABLE) children.set(pgno, interiorChildren(page, header));
        else if (onlyNewFrames) children.delete(pgno);
        if (compareBytes && pgno <= image.pageCount && at + HASH_BYTES <= previous!.hashes.length) {
            const old = image.bytes.subarray((pgno - 1) * pages.size, pgno * pages.size);
            // The same bytes as the last pass saw: its hash stands, nothing to hash.
            if (page.equals(old)) {
                previous!.hashes.copy(hashes, at, at, at + HASH_BYTES);
                return;
            }
            replaced.set(pgno, Buffer.from(old));
        }
        if (image) page.copy(image.bytes, (pgno - 1) * pages.size);
        const digest = createHash("sha1").update(page).digest();
        digest.copy(hashes, at, 0, HASH_BYTES);
        // Without an earlier scan there is nothing to compare with: the caller compares every row.
        if (!previous) return;
        if (
            !compareBytes &&
            at + HASH_BYTES <= previous.hashes.length &&
            digest.compare(previous.hashes, at, at + HASH_BYTES, 0, HASH_BYTES) === 0
        )
            return;
        changed.push(pgno);
        if (page[header] === LEAF_TABLE) {
            const range = leafRowids(page, header);
            if (range) changedLeaves.set(pgno, range);
        } else if (!BTREE_TYPES.has(page[header])) otherChanged.push(pgno);
    };
    if (onlyNewFrames) {
        const since = new Set(pages.wal.framePages.slice(image.wal.committedFrames));
        for (const pgno of [...since].sort((a, b) => a - b)) if (pgno <= pages.count) visit(pgno, pages.wal.pages.get(pgno)!);
        for (const pgno of children.keys()) if (pgno > pages.count) children.delete(pgno);
    } else pages.forEach(visit);
    const free = otherChanged.length ? freelistPages(pages.read) : new Set<number>();
    const page1 = pages.read(1);
    const result: PageScan = {
        pageSize: pages.size,
        pageCount: pages.count,
        hashes,
        schemaCookie: page1.readUInt32BE(40),
        changedRanges: rangesByRoot(changedLeaves, children, tableRoots),
        unplaced: otherChanged.filter((p) => !free.has(p)),
        changedPages: previous ? changed.length : pages.count,
        changed,
        replaced,
        treeOf: (root) => treePages(root, children),
        ...(image ? { image } : {}),
    };
    if (image) {
        // The pages past the new end stay in the buffer: the last pass's snapshot may still need them.
        image.pageCount = pages.count;
        image.children = children;
        image.wal = { salt: pages.wal.salt, committedFrames: pages.wal.committedFrames };
    }
    return result;
}

/** The WAL now is the one `before` was read from (same salts, a checkpoint did not restart it), with as many frames or more. */
const walContinues = (before: PageImage["wal"], now: WalFrames) =>
    now.committedFrames > 0 &&
    now.salt[0] === before.salt[0] &&
    now.salt[1] === before.salt[1] &&
    now.committedFrames >= before.committedFrames;

/** Room in the image for `pages` pages (with a margin, so a growing file does not reallocate every pass). */
function reserve(image: PageImage, pages: number): void {
    const need = pages * image.pageSize;
    if (image.bytes.length >= need) return;
    const grown = Buffer.alloc(need + Math.min(need >> 4, 64 << 20));
    image.bytes.copy(grown, 0, 0, image.pageCount * image.pageSize);
    image.bytes = grown;
}

interface PageSource {
    readonly size: number;
    readonly count: number;
    readonly wal: WalFrames;
    forEach(visit: (pgno: number, page: Buffer) => void): void;
    read(pgno: number): Buffer;
}

/** Pages as the snapshot sees them: the WAL's newest committed version, else the main file's. */
function pageReader(fd: number, wal: WalFrames): PageSource {
    const head = Buffer.alloc(100);
    fs.readSync(fd, head, 0, 100, 0);
    const raw = head.readUInt16BE(16);
    const size = raw === 1 ? 65536 : raw || wal.pageSize;
    const fileSize = fs.fstatSync(fd).size;
    const count = wal.dbPages || (head.readUInt32BE(92) === head.readUInt32BE(24) && head.readUInt32BE(28)) || Math.floor(fileSize / size);
    return {
        size,
        count,
        wal,
        forEach: (visit) => {
            const block = Buffer.alloc(Math.max(size, Math.floor(READ_BLOCK / size) * size));
            for (let first = 1; first <= count; first += block.length / size) {
                const n = fs.readSync(fd, block, 0, block.length, (first - 1) * size);
                for (let i = 0; first + i <= count && i < block.length / size; i++) {
                    const pgno = first + i;
                    const fromWal = wal.pages.get(pgno);
                    visit(pgno, fromWal ?? (i * size < n ? block.subarray(i * size, (i + 1) * size) : Buffer.alloc(size)));
                }
            }
        },
        read: (pgno) => {
            const fromWal = wal.pages.get(pgno);
            if (fromWal) return fromWal;
            const page = Buffer.alloc(size);
            fs.readSync(fd, page, 0, size, (pgno - 1) * size);
            return page;
        },
    };
}

/**
 * The last pass's snapshot, from an image this scan brought up to date and the pages it
 * replaced: each page as it was then.
 */
export function pagesBefore(scan: PageScan, image: PageImage, pageCountBefore: number): (pgno: number) => Buffer | undefined {
    return (pgno) =>
        scan.replaced.get(pgno) ??
        (pgno >= 1 && pgno <= pageCountBefore ? image.bytes.subarray((pgno - 1) * image.pageSize, pgno * image.pageSize) : undefined);
}

/**
 * The leaves `root`'s table had in the last pass's snapshot (`before`) that changed since
 * or are no longer in its tree (`treeNow`; SQLite need not write a page it frees, so a
 * freed leaf may keep its old bytes): where every row deleted since that snapshot was.
 */
export function leavesBefore(
    before: (pgno: number) => Buffer | undefined,
    changed: ReadonlySet<number>,
    root: number,
    treeNow: ReadonlySet<number>,
): { pgno: number; page: Buffer; header: number }[] {
    const leaves: { pgno: number; page: Buffer; header: number }[] = [];
    const stack = [root];
    const seen = new Set<number>();
    while (stack.length) {
        const pgno = stack.pop()!;
        const page = seen.has(pgno) ? undefined : before(pgno);
        seen.add(pgno);
        if (!page) continue;
        const header = pgno === 1 ? 100 : 0;
        if (page[header] === INTERIOR_TABLE) stack.push(...interiorChildren(page, header));
        else if (page[header] === LEAF_TABLE && (changed.has(pgno) || !treeNow.has(pgno))) leaves.push({ pgno, page, header });
    }
    return leaves;
}

/** The child page numbers of an interior table page (cells' left pointers, then the right-most). */
function interiorChildren(page: Buffer, header: number): number[] {
    const cells = page.readUInt16BE(header + 3);
    const out: number[] = [];
    for (let i = 0; i < cells; i++) out.push(page.readUInt32BE(page.readUInt16BE(header + 12 + 2 * i)));
    out.push(page.readUInt32BE(header + 8));
    return out;
}

/** The smallest and largest rowid on a table leaf page; undefined when it holds no cells. */
function leafRowids(page: Buffer, header: number): RowidRange | undefined {
    const cells = page.readUInt16BE(header + 3);
    if (cells === 0) return undefined;
    let lo: bigint | undefined;
    let hi: bigint | undefined;
    for (let i = 0; i < cells; i++) {
        let at = page.readUInt16BE(header + 8 + 2 * i);
        at = readVarint(page, at).next; // payload size
        const rowid = readVarint(page, at).value;
        if (lo === undefined || rowid < lo) lo = rowid;
        if (hi === undefined || rowid > hi) hi = rowid;
    }
    return { lo: lo!, hi: hi! };
}

/** SQLite's big-endian varint: 7 bits per byte for up to 8 bytes, all 8 bits of a ninth; a 64-bit two's complement value. */
export function readVarint(page: Buffer, at: number): { value: bigint; next: number } {
    let v = 0n;
    for (let i = 0; i < 8; i++) {
        const b = page[at + i];
        v = (v << 7n) | BigInt(b & 0x7f);
        if ((b & 0x80) === 0) return { value: BigInt.asIntN(64, v), next: at + i + 1 };
    }
    v = (v << 8n) | BigInt(page[at + 8]);
    return { value: BigInt.asIntN(64, v), next: at + 9 };
}

/** Pages on the freelist (trunk pages and the leaves they list), from the header at offset 32. */
function freelistPages(read: (pgno: number) => Buffer): Set<number> {
    const free = new Set<number>();
    let trunk = read(1).readUInt32BE(32);
    while (trunk !== 0 && !free.has(trunk)) {
        free.add(trunk);
        const page = read(trunk);
        const n = page.readUInt32BE(4);
        for (let i = 0; i < n && 8 + 4 * i + 4 <= page.length; i++) free.add(page.readUInt32BE(8 + 4 * i));
        trunk = page.readUInt32BE(0);
    }
    return free;
}

/** Each root's changed leaves, found by walking its b-tree down from the root, as merged rowid ranges. */
function rangesByRoot(
    changedLeaves: ReadonlyMap<number, RowidRange>,
    children: ReadonlyMap<number, readonly number[]>,
    roots: ReadonlySet<number>,
): Map<number, RowidRange[]> {
    const out = new Map<number, RowidRange[]>();
    if (changedLeaves.size === 0) return out;
    for (const root of roots) {
        const ranges: RowidRange[] = [];
        const stack = [root];
        const seen = new Set<number>();
        while (stack.length) {
            const pgno = stack.pop()!;
            if (seen.has(pgno)) continue;
            seen.add(pgno);
            const leaf = changedLeaves.get(pgno);
            if (leaf) ranges.push(leaf);
            stack.push(...(children.get(pgno) ?? []));
        }
        if (ranges.length) out.set(root, mergeRanges(ranges));
    }
    return out;
}

/** Every page of the b-tree at `root`: the root, its interior pages, their children. */
function treePages(root: number, children: ReadonlyMap<number, readonly number[]>): Set<number> {
    const seen = new Set<number>();
    const stack = [root];
    while (stack.length) {
        const pgno = stack.pop()!;
        if (seen.has(pgno)) continue;
        seen.add(pgno);
        stack.push(...(children.get(pgno) ?? []));
    }
    return seen;
}

export function mergeRanges(ranges: readonly RowidRange[]): RowidRange[] {
    const sorted = [...ranges].sort((a, b) => (a.lo < b.lo ? -1 : a.lo > b.lo ? 1 : 0));
    const out: RowidRange[] = [];
    for (const r of sorted) {
        const last = out[out.length - 1];
        if (last && r.lo <= last.hi + 1n) out[out.length - 1] = { lo: last.lo, hi: r.hi > last.hi ? r.hi : last.hi };
        else out.push(r);
    }
    return out;
}
