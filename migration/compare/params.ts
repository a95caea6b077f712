/**
 * The parameters the compared queries run with, drawn from the SQLite file so they select real
 * rows: the busiest and the quietest pool of each table, every timeframe a pool has, time windows
 * around a partition bound (ohlcv_data is partitioned by UTC month) and around each change of the
 * collector host's UTC offset (DST), thresholds near a pool's median, sampled keys for the ORM's
 * reads. Every choice is deterministic for a given file.
 */
import type Database from "better-sqlite3";
import type { Instant } from "../data/convert/timestamp";
import { utcOffsetAt } from "../data/convert/timeZone";
import type { TableMapping } from "../data/plan/tableMapping";
import { sqliteIdent } from "../postgres/sql";
import { sourceHas, sourceName } from "./columns";
import { IN_LIST } from "./query";

export interface PoolChoice {
    /** `busy`, `quiet`, or `given` (named by the operator). */
    readonly label: string;
    readonly id: string;
    /** Its rows in the table it was drawn from. */
    readonly rows: number;
}

export interface TimeWindow {
    /** E.g. `partition bound 2025-03-01`, `DST change 2025-03-09`. */
    readonly label: string;
    readonly from: Instant;
    readonly to: Instant;
}

export interface DrawnParameters {
    readonly hostZone: string;
    /** First and last OHLCV candle (their true epoch), when there are candles. */
    readonly span?: { readonly from: Instant; readonly to: Instant };
    readonly windows: readonly TimeWindow[];
    readonly tradePools: readonly PoolChoice[];
    /** With every timeframe each pool has. */
    readonly ohlcvPools: readonly (PoolChoice & { readonly timeframes: readonly string[] })[];
    readonly historyPools: readonly PoolChoice[];
    readonly watchlistPools: readonly string[];
    readonly network?: string;
    readonly volumeThreshold?: number;
    readonly signalThreshold?: number;
    readonly retentionCutoff?: Instant;
    readonly activityCheckCutoff?: Instant;
    /** For `id IN (...)`: 500 ids, trades of the busy pool and ids no trade has. */
    readonly tradeIds: readonly string[];
    /** Sampled row keys per table, for the ORM's reads by key. */
    readonly keys: Readonly<Record<string, readonly (string | bigint)[]>>;
    readonly notes: readonly string[];
}

const HOUR = 3600;
const DAY = 24 * HOUR;
/** Half a window: 36 h on each side of a bound catches three 12h candles either side. */
const HALF_WINDOW = 36 * HOUR;
const RETENTION_DAYS = 90;
const KEYS_PER_TABLE = 12;
/** Of those: at most this many stored ones, the rest unknown. */
const IN_LIST_STORED = 400;

type Mappings = ReadonlyMap<string, TableMapping>;

export function drawParameters(
    db: Database.Database,
    mappings: Mappings,
    hostZone: string,
    givenPools: readonly string[] = [],
): DrawnParameters {
    const notes: string[] = [];
    const span = ohlcvSpan(db, mappings);
    const tradePools = poolsOf(db, mappings, "trades", givenPools);
    const ohlcvPools = poolsOf(db, mappings, "ohlcv_data", givenPools).map((p) => ({ ...p, timeframes: timeframesOf(db, p.id) }));
    const windows = span ? [...partitionWindows(db, span, ohlcvPools[0]?.id), ...dstWindows(span, hostZone)] : [];
    if (!span) notes.push("no OHLCV candles: no time windows drawn");
    else if (!windows.some((w) => w.label.startsWith("DST")))
        notes.push(`no UTC offset change of ${hostZone} between the first and last candle`);
    const busyTrades = tradePools.find((p) => p.label === "busy");
    return {
        hostZone,
        span,
        windows,
        tradePools,
        ohlcvPools,
        historyPools: poolsOf(db, mappings, "new_pools_history", givenPools),
        watchlistPools: activeWatchlistPools(db, mappings),
        network: mostCommon(db, mappings, "new_pools_history", "network_id"),
        volumeThreshold: busyTrades && roundNumber(median(db, "trades", "volume_usd", "pool_id = ?", [busyTrades.id])),
        signalThreshold: sourceHas(mappings, "new_pools_history", "signal_score")
            ? median(db, "new_pools_history", "signal_score", "signal_score IS NOT NULL", [])
            : undefined,
        retentionCutoff: span && { epochSeconds: Math.max(span.to.epochSeconds - RETENTION_DAYS * DAY, midpoint(span)), micros: 0 },
        activityCheckCutoff: span && { epochSeconds: span.to.epochSeconds - 14 * DAY, micros: 0 },
        tradeIds: busyTrades ? tradeIds(db, busyTrades.id) : [],
        keys: sampledKeys(db, mappings),
        notes,
    };
}

const midpoint = (span: { from: Instant; to: Instant }) => Math.floor((span.from.epochSeconds + span.to.epochSeconds) / 2);

/** The candles' true epoch span (ohlcv_data.timestamp, whatever the clock of `datetime`). */
function ohlcvSpan(db: Database.Database, mappings: Mappings): DrawnParameters["span"] {
    if (!sourceHas(mappings, "ohlcv_data", "timestamp")) return undefined;
    const r = db
        .prepare(`SELECT min("timestamp") AS lo, max("timestamp") AS hi FROM ohlcv_data WHERE typeof("timestamp") = 'integer'`)
        .get() as { lo: bigint | null; hi: bigint | null };
    if (r.lo === null || r.hi === null) return undefined;
    return { from: { epochSeconds: Number(r.lo), micros: 0 }, to: { epochSeconds: Number(r.hi), micros: 0 } };
}

/**
 * A window around a UTC month start inside the span, where the rows it selects sit in two
 * partitions: the month start with the most candles of `pool` around it, so the window selects rows.
 */
function partitionWindows(db: Database.Database, span: NonNullable<DrawnParameters["span"]>, pool: string | undefined): TimeWindow[] {
    const near = db.prepare(`SELECT count(*) AS n FROM ohlcv_data WHERE pool_id = ? AND "timestamp" BETWEEN ? AND ?`);
    const candles = (bound: number) =>
        pool === undefined ? 0 : Number((near.get(pool, bound - HALF_WINDOW, bound + HALF_WINDOW) as { n: bigint }).n);
    let best: number | undefined;
    for (let bound = nextMonthStart(span.from.epochSeconds); bound < span.to.epochSeconds; bound = nextMonthStart(bound)) {
        if (best === undefined || candles(bound) > candles(best)) best = bound;
    }
    return best === undefined ? [] : [windowAround(`partition bound ${new Date(best * 1000).toISOString().slice(0, 10)}`, best)];
}

function nextMonthStart(epochSeconds: number): number {
    const d = new Date(epochSeconds * 1000);
    return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1) / 1000;
}

/** A window around each change of the host's UTC offset inside the span (at most two). */
function dstWindows(span: NonNullable<DrawnParameters["span"]>, zone: string): TimeWindow[] {
    const windows: TimeWindow[] = [];
    for (let t = span.from.epochSeconds; t < span.to.epochSeconds && windows.length < 2; t += DAY) {
        if (utcOffsetAt(zone, t) === utcOffsetAt(zone, t + DAY)) continue;
        let [lo, hi] = [t, t + DAY];
        while (hi - lo > 1) {
            const mid = Math.floor((lo + hi) / 2);
            if (utcOffsetAt(zone, mid) === utcOffsetAt(zone, lo)) lo = mid;
            else hi = mid;
        }
        windows.push(windowAround(`DST change ${new Date(hi * 1000).toISOString().slice(0, 10)}`, hi));
    }
    return windows;
}

function windowAround(label: string, at: number): TimeWindow {
    return { label, from: { epochSeconds: at - HALF_WINDOW, micros: 0 }, to: { epochSeconds: at + HALF_WINDOW, micros: 0 } };
}

/** The pool with the most rows in `table`, the one with the fewest (at least one), and the operator's. */
function poolsOf(db: Database.Database, mappings: Mappings, table: string, given: readonly string[]): PoolChoice[] {
    if (!sourceHas(mappings, table, "pool_id")) return [];
    const pick = (direction: "DESC" | "ASC") =>
        db
            .prepare(
                `SELECT pool_id AS id, count(*) AS n FROM ${sqliteIdent(table)} GROUP BY pool_id ORDER BY n ${direction}, pool_id LIMIT 1`,
            )
            .get() as { id: string; n: bigint } | undefined;
    const [busy, quiet] = [pick("DESC"), pick("ASC")];
    const count = db.prepare(`SELECT count(*) AS n FROM ${sqliteIdent(table)} WHERE pool_id = ?`);
    const out: PoolChoice[] = [];
    if (busy) out.push({ label: "busy", id: String(busy.id), rows: Number(busy.n) });
    if (quiet && quiet.id !== busy?.id) out.push({ label: "quiet", id: String(quiet.id), rows: Number(quiet.n) });
    for (const id of given) out.push({ label: "given", id, rows: Number((count.get(id) as { n: bigint }).n) });
    return out;
}

function timeframesOf(db: Database.Database, pool: string): string[] {
    return (db.prepare("SELECT DISTINCT timeframe AS t FROM ohlcv_data WHERE pool_id = ? ORDER BY 1").all(pool) as { t: unknown }[]).map(
        (r) => String(r.t),
    );
}

function activeWatchlistPools(db: Database.Database, mappings: Mappings): string[] {
    if (!sourceHas(mappings, "watchlist", "is_active")) return [];
    return (db.prepare("SELECT pool_id AS p FROM watchlist WHERE is_active = 1 ORDER BY rowid LIMIT 20").all() as { p: unknown }[]).map(
        (r) => String(r.p),
    );
}

function mostCommon(db: Database.Database, mappings: Mappings, table: string, column: string): string | undefined {
    if (!sourceHas(mappings, table, column)) return undefined;
    const c = sqliteIdent(sourceName(mappings.get(table)!, column));
    const r = db
        .prepare(`SELECT ${c} AS v FROM ${sqliteIdent(table)} WHERE ${c} IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1`)
        .get() as { v: unknown } | undefined;
    return r ? String(r.v) : undefined;
}

function median(db: Database.Database, table: string, column: string, where: string, params: unknown[]): number | undefined {
    const c = sqliteIdent(column);
    const n = Number(
        (
            db
                .prepare(`SELECT count(*) AS n FROM ${sqliteIdent(table)} WHERE ${where} AND typeof(${c}) IN ('real', 'integer')`)
                .get(...params) as { n: bigint }
        ).n,
    );
    if (n === 0) return undefined;
    const sql = `SELECT ${c} AS v FROM ${sqliteIdent(table)} WHERE ${where} AND typeof(${c}) IN ('real', 'integer') ORDER BY ${c} LIMIT 1 OFFSET ?`;
    return Number((db.prepare(sql).get(...params, Math.floor(n / 2)) as { v: number | bigint }).v);
}

/**
 * The power of ten at or below `n`: a round threshold, as the collector would use, and unlikely
 * to sit on a stored double whose rounding to the declared scale could move it across.
 */
function roundNumber(n: number | undefined): number | undefined {
    if (n === undefined || !(n > 0)) return n;
    return 10 ** Math.floor(Math.log10(n));
}

function tradeIds(db: Database.Database, pool: string): string[] {
    const stored = (
        db.prepare("SELECT id FROM trades WHERE pool_id = ? ORDER BY rowid LIMIT ?").all(pool, IN_LIST_STORED) as { id: unknown }[]
    ).map((r) => String(r.id));
    const unknown = Array.from({ length: IN_LIST - stored.length }, (_, i) => `compare_no_such_trade_${i}`);
    return [...stored, ...unknown];
}

/** Up to KEYS_PER_TABLE row keys per table, spread evenly over its rowids (index seeks, no scan). */
function sampledKeys(db: Database.Database, mappings: Mappings): Record<string, (string | bigint)[]> {
    const keys: Record<string, (string | bigint)[]> = {};
    for (const m of mappings.values()) {
        const src = m.source;
        if (m.extra || !src || src.withoutRowid || src.minRowid === null || src.maxRowid === null || m.target.rowKey.length !== 1) continue;
        if (!sourceHas(mappings, m.target.name, m.target.rowKey[0])) continue;
        const key = sqliteIdent(sourceName(m, m.target.rowKey[0]));
        const seek = db.prepare(`SELECT ${key} AS k FROM ${sqliteIdent(src.name)} WHERE rowid >= ? ORDER BY rowid LIMIT 1`);
        const [lo, hi] = [src.minRowid, src.maxRowid];
        const found = new Map<string, string | bigint>();
        for (let i = 0; i < KEYS_PER_TABLE; i++) {
            const at = lo + ((hi - lo) * BigInt(i)) / BigInt(KEYS_PER_TABLE - 1);
            const r = seek.get(at) as { k: string | bigint | null } | undefined;
            if (r && r.k !== null) found.set(String(r.k), r.k);
        }
        keys[m.target.name] = [...found.values()];
    }
    return keys;
}
