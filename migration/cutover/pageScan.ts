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
 * Reads only: the main file with plain reads, the WAL as read before the snapshot.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import type { WalFrames } from "./walFile";

/** 8 bytes of SHA-1 per page, page 1 first. */
export type PageHashes = Buffer;
const HASH_BYTES = 8;

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
}

export interface RowidRange {
    readonly lo: bigint;
    readonly hi: bigint;
}

const LEAF_TABLE = 0x0d;
const INTERIOR_TABLE = 0x05;
const BTREE_TYPES = new Set([0x02, 0x05, 0x0a, 0x0d]);
const READ_BLOCK = 16 << 20;

/** Reads the snapshot's pages (the file plus `wal`), hashing each and comparing with `previous` (none: everything changed). */
export function scanPages(dbPath: string, wal: WalFrames, tableRoots: ReadonlySet<number>, previous?: PageHashes): PageScan {
    const fd = fs.openSync(dbPath, "r");
    try {
        return scanWith(pageReader(fd, wal), tableRoots, previous);
    } finally {
        fs.closeSync(fd);
    }
}

function scanWith(pages: PageSource, tableRoots: ReadonlySet<number>, previous?: PageHashes): PageScan {
    const hashes = Buffer.alloc(pages.count * HASH_BYTES);
    const children = new Map<number, number[]>();
    const changedLeaves = new Map<number, RowidRange>();
    const otherChanged: number[] = [];
    let changedPages = 0;
    pages.forEach((pgno, page) => {
        const digest = createHash("sha1").update(page).digest();
        digest.copy(hashes, (pgno - 1) * HASH_BYTES, 0, HASH_BYTES);
        const header = pgno === 1 ? 100 : 0;
        if (page[header] === INTERIOR_TABLE) children.set(pgno, interiorChildren(page, header));
        // Without an earlier scan there is nothing to compare with: the caller compares every row.
        if (!previous) return;
        if (
            pgno * HASH_BYTES <= previous.length &&
            digest.compare(previous, (pgno - 1) * HASH_BYTES, pgno * HASH_BYTES, 0, HASH_BYTES) === 0
        )
            return;
        changedPages++;
        if (page[header] === LEAF_TABLE) {
            const range = leafRowids(page, header);
            if (range) changedLeaves.set(pgno, range);
        } else if (!BTREE_TYPES.has(page[header])) otherChanged.push(pgno);
    });
    const free = otherChanged.length ? freelistPages(pages.read) : new Set<number>();
    const page1 = pages.read(1);
    return {
        pageSize: pages.size,
        pageCount: pages.count,
        hashes,
        schemaCookie: page1.readUInt32BE(40),
        changedRanges: rangesByRoot(changedLeaves, children, tableRoots),
        unplaced: otherChanged.filter((p) => !free.has(p)),
        changedPages: previous ? changedPages : pages.count,
    };
}

interface PageSource {
    readonly size: number;
    readonly count: number;
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
function readVarint(page: Buffer, at: number): { value: bigint; next: number } {
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
