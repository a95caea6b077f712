/**
 * One value of every row on a table leaf page, read from the page's cells as SQLite wrote
 * them (sqlite.org/fileformat2.html: b-tree cells, the record format). Used on pages kept
 * from the last pass, to know which keys a changed leaf held then. A value that does not lie
 * on the page itself (in an overflow page) is not read: the caller falls back.
 */
import { readVarint } from "./pageScan";

export type CellValue = bigint | number | string | Buffer | null;

/** `column`: the column's position in the record, or "rowid". Undefined when a value lies past the page (overflow). */
export function leafValues(page: Buffer, header: number, usableSize: number, column: number | "rowid"): CellValue[] | undefined {
    const cells = page.readUInt16BE(header + 3);
    const out: CellValue[] = [];
    for (let i = 0; i < cells; i++) {
        const cell = page.readUInt16BE(header + 8 + 2 * i);
        const size = readVarint(page, cell);
        const rowid = readVarint(page, size.next);
        if (column === "rowid") {
            out.push(rowid.value);
            continue;
        }
        const value = recordValue(page, rowid.next, localPayload(Number(size.value), usableSize), column);
        if (value === undefined) return undefined;
        out.push(value);
    }
    return out;
}

/** How much of a table leaf cell's payload is on the page (the rest is in overflow pages). */
function localPayload(payload: number, usable: number): number {
    const maxLocal = usable - 35;
    if (payload <= maxLocal) return payload;
    const minLocal = Math.floor(((usable - 12) * 32) / 255) - 23;
    const k = minLocal + ((payload - minLocal) % (usable - 4));
    return k <= maxLocal ? k : minLocal;
}

/** Column `column` of the record at `at` (of which `local` bytes are on the page). */
function recordValue(page: Buffer, at: number, local: number, column: number): CellValue | undefined {
    const headerSize = readVarint(page, at);
    let typeAt = headerSize.next;
    let offset = Number(headerSize.value);
    for (let c = 0; typeAt < at + Number(headerSize.value); c++) {
        const type = readVarint(page, typeAt);
        typeAt = type.next;
        const t = Number(type.value);
        const length = serialLength(t);
        if (c === column) return offset + length <= local ? decode(page, at + offset, t, length) : undefined;
        offset += length;
    }
    return undefined; // a column added later (ALTER TABLE ADD COLUMN): its default is not on the page
}

function serialLength(t: number): number {
    if (t >= 12) return (t - (t % 2 === 0 ? 12 : 13)) / 2;
    return [0, 1, 2, 3, 4, 6, 8, 8, 0, 0, 0, 0][t];
}

function decode(page: Buffer, at: number, t: number, length: number): CellValue {
    switch (t) {
        case 0:
            return null;
        case 7:
            return page.readDoubleBE(at);
        case 8:
            return 0n;
        case 9:
            return 1n;
        default:
            if (t >= 1 && t <= 6) return bigIntBE(page, at, length);
            if (t % 2 === 0) return Buffer.from(page.subarray(at, at + length));
            return page.toString("utf8", at, at + length);
    }
}

/** A big-endian two's complement integer of 1 to 8 bytes. */
function bigIntBE(page: Buffer, at: number, length: number): bigint {
    let v = 0n;
    for (let i = 0; i < length; i++) v = (v << 8n) | BigInt(page[at + i]);
    return BigInt.asIntN(length * 8, v);
}
