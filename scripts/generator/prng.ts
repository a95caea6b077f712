/**
 * A small seeded PRNG (sfc32 seeded through splitmix32) plus the draws the
 * generator needs. Own code rather than a library so a seed produces the same
 * database on every machine and Node version.
 */

const BASE58 = Buffer.from("123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz", "latin1");
const scratch = Buffer.allocUnsafe(256);

function splitmix32(state: number): () => number {
    let s = state >>> 0;
    return () => {
        s = (s + 0x9e3779b9) >>> 0;
        let z = s;
        z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
        z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
        return (z ^ (z >>> 16)) >>> 0;
    };
}

/** Deterministic random source. `fork(label)` derives an independent stream so tables don't shift each other. */
export class Rng {
    private a: number;
    private b: number;
    private c: number;
    private d: number;

    constructor(readonly seed: number) {
        const mix = splitmix32(seed);
        this.a = mix();
        this.b = mix();
        this.c = mix();
        this.d = mix();
        for (let i = 0; i < 12; i++) this.u32();
    }

    /** A new generator whose stream depends only on this generator's seed and `label`. */
    fork(label: string): Rng {
        let h = this.seed ^ 0x811c9dc5;
        for (let i = 0; i < label.length; i++) h = Math.imul(h ^ label.charCodeAt(i), 0x01000193);
        return new Rng(h >>> 0);
    }

    /** Uniform 32-bit unsigned integer (sfc32). */
    u32(): number {
        const t = (((this.a + this.b) | 0) + this.d) | 0;
        this.d = (this.d + 1) | 0;
        this.a = this.b ^ (this.b >>> 9);
        this.b = (this.c + (this.c << 3)) | 0;
        this.c = (this.c << 21) | (this.c >>> 11);
        this.c = (this.c + t) | 0;
        return t >>> 0;
    }

    /** Uniform in [0, 1). */
    next(): number {
        return this.u32() / 4294967296;
    }

    /** Uniform integer in [min, max] (inclusive). */
    int(min: number, max: number): number {
        return min + Math.floor(this.next() * (max - min + 1));
    }

    /** Uniform float in [min, max). */
    range(min: number, max: number): number {
        return min + this.next() * (max - min);
    }

    /** True with probability `p`. */
    chance(p: number): boolean {
        return this.next() < p;
    }

    pick<T>(items: readonly T[]): T {
        return items[Math.floor(this.next() * items.length)];
    }

    /** Index in [0, n) skewed towards 0: a few pools get most of the activity, as on a real DEX. */
    skewedIndex(n: number, power = 3): number {
        return Math.min(n - 1, Math.floor(n * Math.pow(this.next(), power)));
    }

    /** Log-uniform float in [min, max): prices and volumes span orders of magnitude. */
    logRange(min: number, max: number): number {
        return Math.exp(Math.log(min) + this.next() * (Math.log(max) - Math.log(min)));
    }

    /** A base58 string of `length` (<= 256) characters; five characters per 32-bit draw, built in a byte buffer for speed. */
    base58(length: number): string {
        let i = 0;
        while (i < length) {
            let r = this.u32();
            for (let k = 0; k < 5 && i < length; k++) {
                scratch[i++] = BASE58[r % 58];
                r = (r / 58) >>> 0;
            }
        }
        return scratch.toString("latin1", 0, length);
    }

    /** Lowercase hex string of `length` characters. */
    hex(length: number): string {
        let out = "";
        while (out.length < length) out += this.u32().toString(16).padStart(8, "0");
        return out.slice(0, length);
    }

    /** `count` distinct indices in [0, n), in draw order. */
    sample(n: number, count: number): number[] {
        const k = Math.min(n, count);
        const chosen = new Set<number>();
        while (chosen.size < k) chosen.add(this.int(0, n - 1));
        return [...chosen];
    }
}
