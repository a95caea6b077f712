/**
 * Texts for the checksum tests: every tail length of lookup3's 12-byte blocks, multi-byte
 * UTF-8 (up to 4 bytes), quotes, backslashes, control characters, and one long text.
 */
const ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";

export function hashSamples(): string[] {
    const out: string[] = [];
    for (let n = 0; n <= 40; n++) out.push(ALPHABET.slice(0, n));
    out.push(
        "é",
        "ß€",
        "日本語テキスト",
        "😀 emoji 😀",
        "a\u00ff\u0100b".repeat(7),
        "it's",
        "back\\slash",
        "tab\tnew\nline",
        "x".repeat(10_000),
    );
    // Deterministic mixed strings: every length 0..36, code points up to U+018F (1- and 2-byte UTF-8).
    for (let n = 0; n < 120; n++)
        out.push(Array.from({ length: n % 37 }, (_, i) => String.fromCharCode(32 + ((n * 7 + i * 13) % 400))).join(""));
    return out;
}
