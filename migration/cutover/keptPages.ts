/**
 * The last committed pass's pages, kept in this process for the next pass (the cutover runs
 * its passes one after another): the next scan compares bytes instead of hashing every page,
 * bringing the kept pages up to date in place, and the keys the changed leaves held then are
 * read from the pages it replaced, so deletes are found without comparing every key
 * (syncRanges). A pass takes the kept pages out before it changes them and puts them back only
 * once it committed; they are used only while the target's sync state holds their hashes.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import { leafValues, type CellValue } from "./leafCells";
import { leavesBefore, pagesBefore, type PageHashes, type PageImage, type PageScan } from "./pageScan";

interface Kept {
    readonly hashes: PageHashes;
    readonly image: PageImage;
}

const kept = new Map<string, Kept>();

/** Memory a pass may use for the pages when nothing else is said: a quarter of this machine's. */
export const DEFAULT_KEEP_BYTES = Math.floor(os.totalmem() / 4);

/** Takes out the pages kept for `key` (source file and target), if they are what the target's sync state says the last pass saw. */
export function takeKeptImage(key: string, hashes: PageHashes | undefined): PageImage | undefined {
    const k = kept.get(key);
    kept.delete(key);
    return k && hashes && k.hashes.equals(hashes) ? k.image : undefined;
}

/** After the pass committed: its pages are what the next pass compares with. */
export function keepImage(key: string, hashes: PageHashes, image: PageImage | undefined): void {
    if (image) kept.set(key, { hashes, image });
}

/** Whether a pass may keep the file's pages (the file and its WAL, with a margin to grow) within `limit` bytes. */
export function fitsInMemory(dbPath: string, limit: number): boolean {
    const size = (p: string) => (fs.existsSync(p) ? fs.statSync(p).size : 0);
    return limit > 0 && 1.1 * (size(dbPath) + size(`${dbPath}-wal`)) <= limit;
}

/** The source as the last pass saw it: what its changed (and since freed) leaves held. */
export interface PreviousSnapshot {
    /** One column (its record position, or "rowid") of every row on them; undefined when a value is off the page. */
    valuesOf(root: number, column: number | "rowid"): CellValue[] | undefined;
}

/** From a scan that brought kept pages up to date (`pageCountBefore`: their page count before it). */
export function previousSnapshot(scan: PageScan, pageCountBefore: number): PreviousSnapshot | undefined {
    if (!scan.image) return undefined;
    const before = pagesBefore(scan, scan.image, pageCountBefore);
    const page1 = before(1);
    // Text is read as UTF-8 only (header offset 56); a file in UTF-16 falls back to the census.
    const utf8 = page1 !== undefined && page1.readUInt32BE(56) === 1;
    const usable = scan.pageSize - (page1?.[20] ?? 0);
    const changed = new Set(scan.changed);
    const leaves = (root: number) => leavesBefore(before, changed, root, scan.treeOf(root));
    return {
        valuesOf: (root, column) => {
            if (column !== "rowid" && !utf8) return undefined;
            const out: CellValue[] = [];
            for (const leaf of leaves(root)) {
                const values = leafValues(leaf.page, leaf.header, usable, column);
                if (!values) return undefined;
                out.push(...values);
            }
            return out;
        },
    };
}
