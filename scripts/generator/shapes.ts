/**
 * Value shapes of GeckoTerminal data on Solana: ids, addresses, names, JSON
 * text as Python's json.dumps writes it.
 */
import type { Rng } from "./prng";

/** Network prefix of every GeckoTerminal id in a Solana collector. */
export const NETWORK = "solana";

/** Well-known quote tokens: most pools trade against one of them. */
export const QUOTE_TOKENS = [
    { address: "So11111111111111111111111111111111111111112", name: "Wrapped SOL", symbol: "SOL", decimals: 9, priceUsd: 150 },
    { address: "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v", name: "USD Coin", symbol: "USDC", decimals: 6, priceUsd: 1 },
    { address: "Es9vMFrzaCERmJfrF4H2FYD4KCoNkY11McCe8BenwNYB", name: "USDT", symbol: "USDT", decimals: 6, priceUsd: 1 },
] as const;

/** GeckoTerminal dex ids on Solana and their display names. */
export const DEXES: readonly (readonly [id: string, name: string])[] = [
    ["raydium", "Raydium"],
    ["raydium-clmm", "Raydium (CLMM)"],
    ["raydium-cp-swap", "Raydium (CP Swap)"],
    ["orca", "Orca"],
    ["meteora", "Meteora"],
    ["meteora-dlmm", "Meteora DLMM"],
    ["pumpswap", "PumpSwap"],
    ["pump-fun", "Pump.fun"],
    ["lifinity-v2", "Lifinity V2"],
    ["fluxbeam", "FluxBeam"],
    ["phoenix", "Phoenix"],
    ["openbook", "OpenBook"],
    ["saber", "Saber"],
    ["aldrin", "Aldrin"],
    ["crema", "Crema Finance"],
    ["invariant-solana", "Invariant"],
    ["goosefx", "GooseFX"],
    ["saros-amm", "Saros AMM"],
    ["stepn", "Stepn"],
    ["cropper", "Cropper"],
    ["dexlab", "Dexlab"],
];

const WORDS = [
    "Moon",
    "Doge",
    "Cat",
    "Pepe",
    "Based",
    "Giga",
    "Chad",
    "Frog",
    "Bonk",
    "Wif",
    "Hat",
    "Turbo",
    "Solar",
    "Pixel",
    "Rocket",
    "Banana",
    "Degen",
    "Shiba",
    "Goat",
    "Whale",
    "Laser",
    "Neko",
    "Fomo",
    "Kitty",
    "Sigma",
    "Alpha",
    "Quantum",
    "Meme",
    "Baby",
    "King",
    "Popcat",
    "Mochi",
    "Dragon",
    "Ponke",
    "Zeus",
    "Gme",
    "Trump",
];

/** A Solana public key (base58, 43-44 chars); some end in `pump` like pump.fun mints. */
export function solanaAddress(rng: Rng): string {
    if (rng.chance(0.3)) return rng.base58(40) + "pump";
    return rng.base58(rng.chance(0.8) ? 44 : 43);
}

/** A transaction signature (base58, 87-88 chars). */
export function txSignature(rng: Rng): string {
    return rng.base58(rng.chance(0.9) ? 88 : 87);
}

/** `solana_<address>`: GeckoTerminal's id for pools and tokens. */
export function networkId(address: string): string {
    return `${NETWORK}_${address}`;
}

/** A meme-token name and symbol. */
export function tokenName(rng: Rng): { name: string; symbol: string } {
    const a = rng.pick(WORDS);
    const b = rng.chance(0.6) ? rng.pick(WORDS) : "";
    const name = b && b !== a ? `${a} ${b}` : a;
    const symbol = rng.chance(0.2)
        ? `$${name.replace(" ", "").toUpperCase().slice(0, 6)}`
        : name.replace(" ", "").toUpperCase().slice(0, rng.int(3, 8));
    return { name, symbol };
}

/** Python json.dumps output (`", "` and `": "` separators) of a flat or nested object. */
export function pyJson(value: unknown): string {
    return JSON.stringify(value, null, 1)
        .replace(/\n\s*/g, " ")
        .replace(/\[ /g, "[")
        .replace(/ \]/g, "]")
        .replace(/\{ /g, "{")
        .replace(/ \}/g, "}");
}

/** A JSON metadata column: `{}` most of the time, sometimes a real object. */
export function metadataJson(rng: Rng, build: () => Record<string, unknown>, pObject = 0.1): string {
    return rng.chance(pObject) ? pyJson(build()) : "{}";
}
