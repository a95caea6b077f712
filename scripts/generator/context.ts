/**
 * State shared by the table generators: the connection, random streams, the
 * clocks, the time span and the reference entities (dexes, tokens, pools)
 * that the growing tables point at.
 */
import type Database from "better-sqlite3";
import { LocalClock, pythonText, sqliteText } from "./clock";
import type { Rng } from "./prng";
import { TableWriter } from "./tableWriter";
import { findTable, type GeneratedTable, type VariantLayout } from "./variants";

export interface TokenInfo {
    readonly id: string;
    readonly address: string;
    readonly name: string;
    readonly symbol: string;
    readonly priceUsd: number;
}

export interface PoolInfo {
    readonly id: string;
    readonly address: string;
    readonly name: string;
    readonly dexId: string;
    readonly base: TokenInfo;
    readonly quote: TokenInfo;
    /** Pool creation instant, epoch microseconds. */
    readonly createdUs: number;
    readonly reserveUsd: number;
    /** Price oscillation parameters: price(t) = base price * (1 + amp * sin(t / period + phase)). */
    readonly amp: number;
    readonly periodSec: number;
    readonly phase: number;
}

/** Rowid-alias ids as the collector leaves them: increasing, with gaps where rows were deleted or inserts rolled back. */
export class IdSequence {
    private last = 0;
    constructor(
        private readonly rng: Rng,
        private readonly gapChance = 0.02,
    ) {}
    next(): number {
        this.last += 1 + (this.rng.chance(this.gapChance) ? this.rng.int(1, 40) : 0);
        return this.last;
    }
}

export interface GenContext {
    readonly db: Database.Database;
    readonly rng: Rng;
    readonly layout: VariantLayout;
    readonly clock: LocalClock;
    /** Time span of the growing tables, epoch microseconds. */
    readonly startUs: number;
    readonly endUs: number;
    readonly counts: Record<GeneratedTable, number>;
    readonly dexIds: string[];
    readonly tokens: TokenInfo[];
    /** Sorted by creation time (the `altered` variant's ALTER then splits old from new pools). */
    readonly pools: PoolInfo[];
    readonly watchlistPoolIds: string[];
    readonly onRows: (rows: number) => void;
}

/** A writer for `table`, or null when the variant lacks the table or its count is 0. */
export function writerFor(ctx: GenContext, table: GeneratedTable): TableWriter | null {
    const layout = findTable(ctx.layout, table);
    const count = ctx.counts[table] ?? 0;
    if (!layout) return null;
    const writer = new TableWriter(ctx.db, layout, count, ctx.onRows);
    return count > 0 ? writer : (writer.finish(), null);
}

/** The pool's base-token price in USD at an instant (epoch microseconds). */
export function priceAt(pool: PoolInfo, us: number): number {
    return pool.base.priceUsd * (1 + pool.amp * Math.sin(us / 1e6 / pool.periodSec + pool.phase));
}

/** A UTC column written by Python (`datetime.utcnow()`). */
export const utcPython = (us: number): string => pythonText(us);

/** A column written by CURRENT_TIMESTAMP (UTC, whole seconds). */
export const utcSqlite = (us: number): string => sqliteText(us);

/** A column written by Python with the host's local clock (`datetime.now()`, `fromtimestamp`). */
export const localPython = (ctx: GenContext, us: number): string => pythonText(ctx.clock.wallUs(us));

/** A created_at/updated_at column: the same column holds CURRENT_TIMESTAMP text and Python text. */
export function mixedUtc(rng: Rng, us: number, pSqlite = 0.5): string {
    return rng.chance(pSqlite) ? sqliteText(us) : pythonText(us);
}

/** An instant with random microseconds, `seconds` after `us`. */
export function later(rng: Rng, us: number, minSec: number, maxSec: number): number {
    return us + rng.int(minSec, maxSec) * 1e6 + rng.int(0, 999_999);
}
