/**
 * The collector's write mix (collector-facts.md, "Queries the collector runs most" 4, 5, 6)
 * as data: which operation, with which parameters, and the SQL each store gets.
 *
 * The SQL is the shape SQLAlchemy 2.0 emits (test/migration/schema/applySchema.compat.integration.test.ts): `?` and plain
 * values for pysqlite, `$n` with `::timestamp` casts for naive datetimes on PostgreSQL.
 *
 * Transaction boundaries follow each driver, because that is what the collector gets:
 * - pysqlite (Python's sqlite3, legacy transaction control) issues its implicit
 *   `BEGIN` (DEFERRED) only before INSERT/UPDATE/DELETE, so the trade ingest's
 *   `SELECT id ... IN (...)` runs outside the write transaction and the INSERT starts
 *   it: `SELECT`; `BEGIN; INSERT ...; COMMIT`.
 * - psycopg2 opens a transaction before the first statement of any kind:
 *   `BEGIN; SELECT; INSERT ...; COMMIT`.
 * OHLCV: one upsert per transaction by default (the collector writes row by row and
 * commits per row; `ohlcvPerCommit` > 1 models committing per fetched batch: one series'
 * consecutive candles in time order, as the API returns them, so two collectors that
 * fetch the same window lock its rows in the same order).
 *
 * Pure: no database access here (the worker executes the plans).
 */
import { pythonText } from "../../generator/clock";
import { Rng } from "../../generator/prng";

export const OP_NAMES = ["trade_ingest", "ohlcv_upsert", "pool_update"] as const;
export type OpName = (typeof OP_NAMES)[number];

export type Store = "sqlite" | "postgres";

/** Existing rows the write mix touches, picked from the source database by the orchestrator. */
export interface Workload {
    /** Pools every collector updates (the watchlist's): the contended rows. */
    readonly hotPools: readonly string[];
    /** OHLCV series of the hot pools with their newest candle. */
    readonly ohlcvSeries: readonly {
        readonly poolId: string;
        readonly timeframe: string;
        readonly seconds: number;
        readonly lastTimestamp: number;
    }[];
    /** Recent trade ids: the overlap a re-fetched trade page has with what is stored. */
    readonly knownTradeIds: readonly string[];
    /** Epoch second the data ends at; new trades are stamped just after it. */
    readonly endEpoch: number;
}

export interface MixOptions {
    /** Relative weights of the three operations. */
    readonly weights: Readonly<Record<OpName, number>>;
    /** Trades per ingest batch (the collector sends up to 500). */
    readonly tradeBatch: number;
    /** Share of each trade batch that is already stored (0..1). */
    readonly knownShare: number;
    /** OHLCV upserts per commit (1: commit per row). */
    readonly ohlcvPerCommit: number;
    /**
     * Client time (ms) spent inside the open write transaction after each write statement:
     * a model of a collector that keeps its session's transaction open while it works
     * (parsing the next page, ORM bookkeeping, awaiting the API). 0: none.
     */
    readonly inTxnMs: number;
}

export const DEFAULT_MIX: MixOptions = {
    weights: { trade_ingest: 1, ohlcv_upsert: 3, pool_update: 2 },
    tradeBatch: 100,
    knownShare: 0.2,
    ohlcvPerCommit: 1,
    inTxnMs: 0,
};

/** One statement: SQL text and positional parameters. */
export interface Statement {
    readonly sql: string;
    readonly params: readonly unknown[];
}

/**
 * One operation as the store executes it. `select` runs first (outside the write
 * transaction on SQLite, inside it on PostgreSQL); `buildWrites` gets the ids the
 * select found and returns the statements of the write transaction.
 */
export interface OpPlan {
    readonly name: OpName;
    readonly select?: Statement;
    readonly buildWrites: (found: ReadonlySet<string>) => readonly Statement[];
}

const TRADE_COLUMNS = [
    "id",
    "pool_id",
    "block_number",
    "tx_hash",
    "tx_from_address",
    "from_token_amount",
    "to_token_amount",
    "price_usd",
    "volume_usd",
    "side",
    "block_timestamp",
    "created_at",
] as const;
const TIMESTAMP_COLUMNS = new Set(["block_timestamp", "created_at", "datetime", "last_updated"]);

function placeholders(store: Store, columns: readonly string[], offset: number): string {
    return columns
        .map((c, i) => (store === "sqlite" ? "?" : TIMESTAMP_COLUMNS.has(c) ? `$${offset + i + 1}::timestamp` : `$${offset + i + 1}`))
        .join(", ");
}

// The texts depend only on (store, row count): built once, not per operation (the
// benchmark's own CPU competes with the server on a small machine).
const sqlCache = new Map<string, string>();
function cached(key: string, build: () => string): string {
    let sql = sqlCache.get(key);
    if (sql === undefined) sqlCache.set(key, (sql = build()));
    return sql;
}

/** `SELECT trades.id FROM trades WHERE trades.id IN (...)` */
export function tradeSelectSql(store: Store, n: number): string {
    return cached(`select/${store}/${n}`, () => buildTradeSelectSql(store, n));
}

function buildTradeSelectSql(store: Store, n: number): string {
    const marks = Array.from({ length: n }, (_, i) => (store === "sqlite" ? "?" : `$${i + 1}`)).join(", ");
    return `SELECT trades.id FROM trades WHERE trades.id IN (${marks})`;
}

/** Multi-row `INSERT INTO trades ... ON CONFLICT (id) DO NOTHING` for `rows` rows. */
export function tradeInsertSql(store: Store, rows: number): string {
    return cached(`insert/${store}/${rows}`, () => buildTradeInsertSql(store, rows));
}

function buildTradeInsertSql(store: Store, rows: number): string {
    const values = Array.from({ length: rows }, (_, r) => `(${placeholders(store, TRADE_COLUMNS, r * TRADE_COLUMNS.length)})`).join(", ");
    return `INSERT INTO trades (${TRADE_COLUMNS.join(", ")}) VALUES ${values} ON CONFLICT (id) DO NOTHING`;
}

const OHLCV_COLUMNS = [
    "pool_id",
    "timeframe",
    "timestamp",
    "open_price",
    "high_price",
    "low_price",
    "close_price",
    "volume_usd",
    "datetime",
    "created_at",
] as const;

/** Row-by-row OHLCV upsert on the collector's unique key. */
export function ohlcvUpsertSql(store: Store): string {
    return cached(`ohlcv/${store}`, () => buildOhlcvUpsertSql(store));
}

function buildOhlcvUpsertSql(store: Store): string {
    return (
        `INSERT INTO ohlcv_data (${OHLCV_COLUMNS.join(", ")}) VALUES (${placeholders(store, OHLCV_COLUMNS, 0)}) ` +
        `ON CONFLICT (pool_id, timeframe, timestamp) DO UPDATE SET open_price = excluded.open_price, high_price = excluded.high_price, ` +
        `low_price = excluded.low_price, close_price = excluded.close_price, volume_usd = excluded.volume_usd, datetime = excluded.datetime`
    );
}

/** The lock hot spot: `UPDATE pools SET ..., last_updated = ? WHERE id = ?`. */
export function poolUpdateSql(store: Store): string {
    return store === "sqlite"
        ? "UPDATE pools SET reserve_usd = ?, activity_score = ?, last_updated = ? WHERE pools.id = ?"
        : "UPDATE pools SET reserve_usd = $1, activity_score = $2, last_updated = $3::timestamp WHERE pools.id = $4";
}

/** Naive UTC text as SQLAlchemy binds a Python datetime (6 fraction digits). */
const naive = (epochMs: number) => pythonText(Math.round(epochMs) * 1000);

/**
 * Draws operations for one writer. Deterministic per (seed, worker); trade ids carry
 * `tag` and the worker number so concurrent writers and later runs never collide
 * by accident (only the planted `knownShare` overlaps).
 */
export class OpSource {
    private readonly rng: Rng;
    private readonly total: number;
    private counter = 0;

    constructor(
        private readonly store: Store,
        private readonly workload: Workload,
        private readonly mix: MixOptions,
        private readonly tag: string,
        private readonly worker: number,
        seed: number,
    ) {
        if (!workload.hotPools.length || !workload.ohlcvSeries.length) throw new Error("workload needs hot pools and OHLCV series");
        this.rng = new Rng(seed).fork(`${tag}/${worker}`);
        this.total = OP_NAMES.reduce((s, n) => s + Math.max(0, mix.weights[n]), 0);
        if (!(this.total > 0)) throw new Error("at least one operation weight must be positive");
    }

    next(): OpPlan {
        let x = this.rng.next() * this.total;
        for (const name of OP_NAMES) {
            x -= Math.max(0, this.mix.weights[name]);
            if (x < 0) return this.plan(name);
        }
        return this.plan("pool_update");
    }

    plan(name: OpName): OpPlan {
        switch (name) {
            case "trade_ingest":
                return this.tradeIngest();
            case "ohlcv_upsert":
                return this.ohlcvUpsert();
            case "pool_update":
                return this.poolUpdate();
        }
    }

    private tradeIngest(): OpPlan {
        const { rng, workload, mix, store } = this;
        const poolId = rng.pick(workload.hotPools);
        const known = workload.knownTradeIds.length ? Math.round(mix.tradeBatch * mix.knownShare) : 0;
        const ids: string[] = [];
        for (let i = 0; i < known; i++) ids.push(rng.pick(workload.knownTradeIds));
        const epoch = workload.endEpoch + Math.floor((Date.now() / 1000) % 86_400);
        while (ids.length < mix.tradeBatch) {
            const n = this.counter++;
            const block = 290_000_000 + Math.floor((epoch - 1_725_000_000) * 2.5);
            ids.push(`solana_${block}_bench${this.tag}w${this.worker}n${n}_${n % 13}_${epoch}`);
        }
        const unique = [...new Set(ids)];
        return {
            name: "trade_ingest",
            select: { sql: tradeSelectSql(store, unique.length), params: unique },
            buildWrites: (found) => {
                const fresh = unique.filter((id) => !found.has(id));
                if (!fresh.length) return [];
                const params: unknown[] = [];
                const now = Date.now();
                for (const id of fresh) {
                    const price = rng.range(0.0001, 200);
                    const volume = rng.range(1, 25_000);
                    const buy = rng.chance(0.55);
                    params.push(
                        id,
                        poolId,
                        290_000_000 + rng.int(0, 1e6),
                        `tx${rng.u32().toString(36)}`,
                        `w${rng.int(0, 5000)}`,
                        volume / (buy ? 1 : price),
                        volume / (buy ? price : 1),
                        price,
                        volume,
                        buy ? "buy" : "sell",
                        naive(epoch * 1000),
                        naive(now),
                    );
                }
                return [{ sql: tradeInsertSql(store, fresh.length), params }];
            },
        };
    }

    private ohlcvUpsert(): OpPlan {
        const { rng, workload, mix, store } = this;
        const statements: Statement[] = [];
        const batch = mix.ohlcvPerCommit;
        // One series per transaction, its candles consecutive and oldest first. Re-fetched
        // windows overlap what is stored: about half update a candle, half add one.
        const s = rng.pick(workload.ohlcvSeries);
        const first = rng.int(-40, Math.max(-40, 40 - batch + 1));
        for (let i = 0; i < batch; i++) {
            const ts = s.lastTimestamp + (first + i) * s.seconds;
            const open = rng.range(0.5, 2);
            const close = open * rng.range(0.98, 1.02);
            statements.push({
                sql: ohlcvUpsertSql(store),
                params: [
                    s.poolId,
                    s.timeframe,
                    ts,
                    open,
                    Math.max(open, close) * 1.01,
                    Math.min(open, close) * 0.99,
                    close,
                    rng.range(0, 50_000),
                    naive(ts * 1000),
                    naive(Date.now()),
                ],
            });
        }
        return { name: "ohlcv_upsert", buildWrites: () => statements };
    }

    private poolUpdate(): OpPlan {
        const { rng, workload, store } = this;
        const statement: Statement = {
            sql: poolUpdateSql(store),
            params: [
                rng.range(1_000, 5_000_000),
                Math.round(rng.range(0, 100) * 100) / 100,
                naive(Date.now()),
                rng.pick(workload.hotPools),
            ],
        };
        return { name: "pool_update", buildWrites: () => [statement] };
    }
}
