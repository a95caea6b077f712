/**
 * PostgreSQL's `hashtextextended(text, 0)` in JS: Bob Jenkins' lookup3 as
 * PostgreSQL ships it (src/common/hashfn.c, hash_bytes_extended), over the
 * UTF-8 bytes of the text. Equal to the server's value for any deterministic
 * collation, so both sides of a checksum can use it. About 4x cheaper per row
 * than md5 here, and it allocates nothing: the result lands in `out`.
 */

/** The 64-bit hash as its signed high and unsigned low 32-bit halves. */
export interface Hash64 {
    hi: number;
    lo: number;
}

let scratch = new Uint8Array(4096);
// encodeInto writes UTF-8 into the scratch bytes without allocating (measured ~2x cheaper than Buffer#write).
const utf8 = new TextEncoder();

// Module-level functions: a closure created per call would cost an allocation per row.
function rot(x: number, k: number): number {
    return (x << k) | (x >>> (32 - k));
}

/** Little-endian word at `j`, as PostgreSQL reads it on the platforms it runs on here (x86-64, arm64). */
function word(k: Uint8Array, j: number): number {
    return k[j] | (k[j + 1] << 8) | (k[j + 2] << 16) | (k[j + 3] << 24);
}

/** hashtextextended(text, 0) into `out` (`hi` signed, `lo` unsigned); returns `out`. */
export function hashTextExtended(text: string, out: Hash64): Hash64 {
    // Worst case 3 bytes per UTF-16 unit.
    if (text.length * 3 > scratch.length) scratch = new Uint8Array(Math.max(text.length * 3, scratch.length * 2));
    return hashBytesExtended(scratch, 0, utf8.encodeInto(text, scratch).written, out);
}

/**
 * The same over UTF-8 bytes already at hand, `k[start..end)`: the copy hashes each row's
 * COPY line where it was encoded, instead of encoding the text a second time.
 */
export function hashBytesExtended(k: Uint8Array, start: number, end: number, out: Hash64): Hash64 {
    let len = end - start;
    let a = (0x9e3779b9 + len + 3923095) | 0;
    let b = a;
    let c = a;
    let i = start;
    while (len >= 12) {
        a = (a + word(k, i)) | 0;
        b = (b + word(k, i + 4)) | 0;
        c = (c + word(k, i + 8)) | 0;
        // mix(a, b, c)
        a = (a - c) | 0;
        a ^= rot(c, 4);
        c = (c + b) | 0;
        b = (b - a) | 0;
        b ^= rot(a, 6);
        a = (a + c) | 0;
        c = (c - b) | 0;
        c ^= rot(b, 8);
        b = (b + a) | 0;
        a = (a - c) | 0;
        a ^= rot(c, 16);
        c = (c + b) | 0;
        b = (b - a) | 0;
        b ^= rot(a, 19);
        a = (a + c) | 0;
        c = (c - b) | 0;
        c ^= rot(b, 4);
        b = (b + a) | 0;
        i += 12;
        len -= 12;
    }
    // The last 0..11 bytes; the lowest byte of c is reserved for the length (already added).
    if (len >= 8) {
        if (len >= 11) c = (c + (k[i + 10] << 24)) | 0;
        if (len >= 10) c = (c + (k[i + 9] << 16)) | 0;
        if (len >= 9) c = (c + (k[i + 8] << 8)) | 0;
        b = (b + word(k, i + 4)) | 0;
        a = (a + word(k, i)) | 0;
    } else if (len >= 4) {
        if (len >= 7) b = (b + (k[i + 6] << 16)) | 0;
        if (len >= 6) b = (b + (k[i + 5] << 8)) | 0;
        if (len >= 5) b = (b + k[i + 4]) | 0;
        a = (a + word(k, i)) | 0;
    } else {
        if (len >= 3) a = (a + (k[i + 2] << 16)) | 0;
        if (len >= 2) a = (a + (k[i + 1] << 8)) | 0;
        if (len >= 1) a = (a + k[i]) | 0;
    }
    // final(a, b, c)
    c ^= b;
    c = (c - rot(b, 14)) | 0;
    a ^= c;
    a = (a - rot(c, 11)) | 0;
    b ^= a;
    b = (b - rot(a, 25)) | 0;
    c ^= b;
    c = (c - rot(b, 16)) | 0;
    a ^= c;
    a = (a - rot(c, 4)) | 0;
    b ^= a;
    b = (b - rot(a, 14)) | 0;
    c ^= b;
    c = (c - rot(b, 24)) | 0;
    out.hi = b | 0;
    out.lo = c >>> 0;
    return out;
}
