/**
 * The SQLite WAL file read as a plain file, never through SQLite and never written: which
 * pages the committed frames hold, and their content. Format: sqlite.org/fileformat2.html#walformat
 * (a 32-byte header, then frames of a 24-byte header and one page; a frame counts only when
 * its salts match the header's and its running checksum is right, and only up to the last
 * commit frame).
 */
import * as fs from "node:fs";

export interface WalFrames {
    readonly pageSize: number;
    /** Salts of this WAL generation: a checkpoint that restarts the WAL changes them. */
    readonly salt: readonly [number, number];
    /** Valid frames up to and including the last commit frame. */
    readonly committedFrames: number;
    /** The database size in pages after the last commit (0 when the WAL holds no commit). */
    readonly dbPages: number;
    /** For each page the WAL holds, its newest committed version. */
    readonly pages: ReadonlyMap<number, Buffer>;
    /** The page number of each committed frame, in order (frame n at index n - 1). */
    readonly framePages: readonly number[];
}

const WAL_HEADER = 32;
const FRAME_HEADER = 24;
const MAGIC_LE = 0x377f0682;
const MAGIC_BE = 0x377f0683;

export const NO_WAL: WalFrames = { pageSize: 0, salt: [0, 0], committedFrames: 0, dbPages: 0, pages: new Map(), framePages: [] };

/** `<db>-wal` as it is now; a missing, empty or foreign file holds no frames. */
export function readWal(dbPath: string): WalFrames {
    let bytes: Buffer;
    try {
        bytes = fs.readFileSync(`${dbPath}-wal`);
    } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ENOENT") return NO_WAL;
        throw new Error(`cannot read the WAL of ${dbPath}: ${(err as Error).message}`, { cause: err });
    }
    return parseWal(bytes);
}

export function parseWal(bytes: Buffer): WalFrames {
    if (bytes.length < WAL_HEADER) return NO_WAL;
    const magic = bytes.readUInt32BE(0);
    if (magic !== MAGIC_LE && magic !== MAGIC_BE) return NO_WAL;
    const bigEndian = magic === MAGIC_BE;
    const pageSize = bytes.readUInt32BE(8) === 1 ? 65536 : bytes.readUInt32BE(8);
    const salt: [number, number] = [bytes.readUInt32BE(16), bytes.readUInt32BE(20)];
    let sum = checksum(bytes, 0, 24, [0, 0], bigEndian);
    if (sum[0] !== bytes.readUInt32BE(24) || sum[1] !== bytes.readUInt32BE(28)) return { ...NO_WAL, pageSize, salt };
    const pending = new Map<number, Buffer>();
    const pages = new Map<number, Buffer>();
    const framePages: number[] = [];
    let frames = 0;
    let committedFrames = 0;
    let dbPages = 0;
    for (let at = WAL_HEADER; at + FRAME_HEADER + pageSize <= bytes.length; at += FRAME_HEADER + pageSize) {
        if (bytes.readUInt32BE(at + 8) !== salt[0] || bytes.readUInt32BE(at + 12) !== salt[1]) break;
        sum = checksum(bytes, at, 8, sum, bigEndian);
        sum = checksum(bytes, at + FRAME_HEADER, pageSize, sum, bigEndian);
        if (sum[0] !== bytes.readUInt32BE(at + 16) || sum[1] !== bytes.readUInt32BE(at + 20)) break;
        frames++;
        framePages.push(bytes.readUInt32BE(at));
        pending.set(bytes.readUInt32BE(at), bytes.subarray(at + FRAME_HEADER, at + FRAME_HEADER + pageSize));
        const commitSize = bytes.readUInt32BE(at + 4);
        if (commitSize !== 0) {
            // A commit frame: everything up to here is committed.
            for (const [pgno, page] of pending) pages.set(pgno, page);
            pending.clear();
            committedFrames = frames;
            dbPages = commitSize;
        }
    }
    framePages.length = committedFrames;
    return { pageSize, salt, committedFrames, dbPages, pages, framePages };
}

/** SQLite's WAL checksum: pairs of 32-bit words, in the byte order the magic number names. */
function checksum(bytes: Buffer, at: number, length: number, seed: readonly [number, number], bigEndian: boolean): [number, number] {
    let s0 = seed[0];
    let s1 = seed[1];
    for (let i = at; i < at + length; i += 8) {
        const x0 = bigEndian ? bytes.readUInt32BE(i) : bytes.readUInt32LE(i);
        const x1 = bigEndian ? bytes.readUInt32BE(i + 4) : bytes.readUInt32LE(i + 4);
        s0 = (s0 + x0 + s1) >>> 0;
        s1 = (s1 + x1 + s0) >>> 0;
    }
    return [s0, s1];
}
