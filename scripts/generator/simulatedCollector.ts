/**
 * A simulated GeckoTerminal collector: writes into a collector SQLite file the
 * way the Python collector does (collector-facts.md, "Queries the collector
 * runs most" 4, 5, 6, 10 and its bookkeeping updates), at a steady tick rate,
 * and logs every committed row, so a sync or cutover tool running next to it
 * can be checked for lost writes and for the write errors it causes.
 *
 * The connection is set up as SQLAlchemy's pysqlite engine leaves it: WAL,
 * busy_timeout 30 s, foreign keys off, automatic checkpoints ON (1000 pages;
 * unlike liveWriter, which keeps its writes in the WAL on purpose).
 *
 * Log: one JSON line per affected row, appended after its COMMIT:
 *   {"seq":n,"op":"insert"|"update"|"upsert"|"delete","table":"trades","key":"<primary key as text>","at":<epoch ms>}
 * and one per failed transaction: {"seq":n,"op":"error","kind":"trade_ingest","code":"SQLITE_BUSY","message":"...","at":...}.
 * A row is logged only once its transaction committed (a SIGKILL between COMMIT and the append
 * can lose log lines, never invent them). The CLI is scripts/simulate-collector.ts.
 */
import Database from "better-sqlite3";
import * as fs from "node:fs";
import { performance } from "node:perf_hooks";
import { LocalClock, pythonText } from "./clock";
import { slotAt, tradeId, TIMEFRAMES } from "./market";
import { Rng } from "./prng";
import { solanaAddress, txSignature } from "./shapes";

export type WriteOp = "insert" | "update" | "upsert" | "delete";

export interface LoggedWrite {
    readonly seq: number;
    readonly op: WriteOp;
    readonly table: string;
    readonly key: string;
    readonly at: number;
}

export interface LoggedError {
    readonly seq: number;
    readonly op: "error";
    /** Which write failed (`trade_ingest`, `pool_update`, ...). */
    readonly kind: string;
    readonly code?: string;
    readonly message: string;
    readonly at: number;
}

/** The column each logged `key` is the value of, per table. */
export const LOGGED_KEY_COLUMNS: Readonly<Record<string, string>> = {
    trades: "id",
    ohlcv_data: "id",
    pools: "id",
    watchlist: "id",
    collection_metadata: "collector_type",
};

export interface SimulatedCollectorOptions {
    /** The collector SQLite file (must exist). */
    readonly file: string;
    /** JSON-lines log, appended to. */
    readonly log: string;
    /** One write per tick. Default 100 ms: a busy collector. */
    readonly tickMs?: number;
    /** Seed of the write mix and the written values. Default 1. */
    readonly seed?: number;
    /** Stop after this many seconds. Default: only when `signal` aborts. */
    readonly seconds?: number;
    /** IANA zone of the collector host, for local-clock columns. Default: this process's zone. */
    readonly hostTimeZone?: string;
    /** SQLite busy timeout. Default 30,000 ms, the collector's. */
    readonly busyTimeoutMs?: number;
    /** Ticks between two retention deletes of a table. Default 20 (every 2 s at the default tick: a stress schedule; a real collector runs its retention far less often). */
    readonly retentionEveryTicks?: number;
    /** Stops the loop after the current tick (its transaction finishes first). */
    readonly signal?: AbortSignal;
    /** Called once, after the first tick committed. */
    readonly onReady?: () => void;
}

export interface SimulatorSummary {
    readonly ticks: number;
    readonly commits: number;
    /** Logged row changes. */
    readonly rows: number;
    readonly errors: number;
    /** Longest time a BEGIN IMMEDIATE waited for the write lock. */
    readonly maxWaitMs: number;
    readonly seconds: number;
    /** Write kinds this file cannot take (missing table, column or rows), with the reason. */
    readonly skipped: readonly string[];
}

interface RowChange {
    readonly op: WriteOp;
    readonly table: string;
    readonly key: unknown;
}

const change = (op: WriteOp, table: string) => (key: unknown) => ({ op, table, key });

const DEFAULT_TICK_MS = 100;
const DEFAULT_BUSY_TIMEOUT_MS = 30_000;

/** The collector's connection, and the log every commit appends to. */
class WriteSession {
    ticks = 0;
    commits = 0;
    rows = 0;
    errors = 0;
    maxWaitMs = 0;
    constructor(
        readonly db: Database.Database,
        private readonly logFd: number,
        private seq: number,
    ) {}

    /**
     * One write transaction: BEGIN IMMEDIATE (timed: that is the wait for the write lock), the body,
     * COMMIT, then the log lines. Errors are counted and logged, never thrown: the collector retries later.
     */
    transaction(kind: string, body: () => RowChange[]): RowChange[] | null {
        try {
            this.begin();
            const changes = body();
            this.db.exec("COMMIT");
            this.commits++;
            this.logChanges(changes);
            return changes;
        } catch (error) {
            this.rollback();
            this.fail(kind, error);
            return null;
        }
    }

    /** Counts and logs a failed write (a failed read outside the transaction, such as the trade ingest's check, too). */
    fail(kind: string, error: unknown): void {
        this.errors++;
        const { code, message } = error as Error & { code?: string };
        this.append([{ seq: ++this.seq, op: "error", kind, code, message, at: Date.now() }]);
    }

    private begin(): void {
        const started = performance.now();
        try {
            this.db.exec("BEGIN IMMEDIATE");
        } finally {
            this.maxWaitMs = Math.max(this.maxWaitMs, performance.now() - started);
        }
    }

    rollback(): void {
        try {
            if (this.db.inTransaction) this.db.exec("ROLLBACK");
        } catch {
            // SQLite already rolled back (e.g. after SQLITE_FULL); nothing is left to undo.
        }
    }

    private logChanges(changes: readonly RowChange[]): void {
        const at = Date.now();
        this.rows += changes.length;
        this.append(changes.map((c) => ({ seq: ++this.seq, op: c.op, table: c.table, key: String(c.key), at })));
    }

    private append(lines: readonly (LoggedWrite | LoggedError)[]): void {
        if (lines.length) fs.writeSync(this.logFd, lines.map((l) => JSON.stringify(l) + "\n").join(""));
    }
}

/** What a write kind is built from. */
interface KindContext {
    readonly db: Database.Database;
    readonly rng: Rng;
    readonly clock: LocalClock;
}

/** Runs one write (one or more transactions); true when at least one committed. */
type RunWrite = (session: WriteSession) => boolean;

interface KindSpec {
    readonly name: string;
    readonly table: string;
    /** Columns the write needs: a file without them (schema drift) skips the kind. */
    readonly columns: readonly string[];
    /** Share of the ticks' random draw; occasional kinds have `every` instead. */
    readonly weight?: number;
    /** Runs on tick `offset`, then every `ticks` ticks. */
    readonly every?: { readonly ticks: number; readonly offset: number };
    /** Loads what the write needs; throws when the file cannot take it (no rows, no constraint). */
    readonly create: (ctx: KindContext) => RunWrite;
}

const pluckAll = <T>(db: Database.Database, sql: string, ...params: unknown[]): T[] =>
    db
        .prepare(sql)
        .pluck()
        .all(...params) as T[];

const marks = (n: number) => Array.from({ length: n }, () => "?").join(", ");
const nowUs = () => Date.now() * 1000;

/** Prepared statements per row count (multi-row INSERT and IN lists). */
function statementsByCount(db: Database.Database, sql: (n: number) => string): (n: number) => Database.Statement {
    const cache = new Map<number, Database.Statement>();
    return (n) => {
        let stmt = cache.get(n);
        if (!stmt) cache.set(n, (stmt = db.prepare(sql(n)).pluck()));
        return stmt;
    };
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

/** One trade as the collector stores it: block time UTC (the id ends in its epoch second), amounts REAL. */
function newTrade(rng: Rng, pools: readonly string[], id?: string): unknown[] {
    const epoch = Math.floor(Date.now() / 1000) - rng.int(0, 120); // a page of recent trades
    const tx = txSignature(rng);
    const price = rng.logRange(1e-6, 3);
    const amount = rng.logRange(1, 1e6);
    const buy = rng.chance(0.55);
    return [
        id ?? tradeId(slotAt(epoch), tx, rng.int(0, 8), epoch),
        rng.pick(pools),
        slotAt(epoch),
        tx,
        solanaAddress(rng),
        buy ? (amount * price) / 150 : amount,
        buy ? amount : (amount * price) / 150,
        price,
        amount * price,
        buy ? "buy" : "sell",
        pythonText(epoch * 1e6),
        pythonText(nowUs()),
    ];
}

/** The newest trade ids, which a re-fetched trade page overlaps with. */
class RecentKeys {
    constructor(
        readonly items: string[],
        private readonly cap: number,
    ) {}
    add(keys: readonly string[]): void {
        this.items.push(...keys);
        if (this.items.length > this.cap) this.items.splice(0, this.items.length - this.cap);
    }
}

/** Trade ingest: `SELECT id ... IN (...)`, then one multi-row INSERT ... ON CONFLICT(id) DO NOTHING of 20-200 trades, ~10% known. */
function tradeIngest({ db, rng }: KindContext): RunWrite {
    const pools = pluckAll<string>(db, "SELECT id FROM pools ORDER BY rowid DESC LIMIT 200");
    if (!pools.length) throw new Error("no pools to write trades for");
    const known = new RecentKeys(pluckAll<string>(db, "SELECT id FROM trades ORDER BY rowid DESC LIMIT 1000"), 1000);
    const select = statementsByCount(db, (n) => `SELECT id FROM trades WHERE id IN (${marks(n)})`);
    const cols = TRADE_COLUMNS.join(", ");
    const row = `(${marks(TRADE_COLUMNS.length)})`;
    // RETURNING lists exactly the rows inserted: the conflicting ones are not.
    const insert = statementsByCount(
        db,
        (n) => `INSERT INTO trades (${cols}) VALUES ${Array(n).fill(row).join(", ")} ON CONFLICT(id) DO NOTHING RETURNING id`,
    );
    return (session) => {
        const n = rng.int(20, 200);
        const duplicates = known.items.length ? Math.round(n * 0.1) : 0;
        const rows = Array.from({ length: n }, (_, i) => newTrade(rng, pools, i < duplicates ? rng.pick(known.items) : undefined));
        // pysqlite runs the existence check before its implicit BEGIN, outside the write transaction.
        select(n).all(...rows.map((r) => r[0]));
        const changes = session.transaction("trade_ingest", () =>
            (insert(n).all(...rows.flat()) as string[]).map(change("insert", "trades")),
        );
        known.add((changes ?? []).map((c) => String(c.key)));
        return changes !== null;
    };
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

/** One (pool, timeframe) candle series and its newest candle. */
interface Series {
    readonly poolId: string;
    readonly timeframe: string;
    readonly seconds: number;
    last: number;
    open: number;
    close: number;
}

const TIMEFRAME_SECONDS = new Map(TIMEFRAMES);
// Defect rows hold NULL, NaN-as-NULL or text prices: a series starts from 1 then.
const positiveOr = (value: unknown, fallback: number) => (Number(value) > 0 && Number.isFinite(Number(value)) ? Number(value) : fallback);

/** The file's series with their newest candle; a file without candles gets hourly series of its newest pools. */
function loadSeries(db: Database.Database): Series[] {
    type Newest = { pool_id: string; timeframe: string; last: unknown; open: unknown; close: unknown };
    // A bare column next to max() comes from the max row in SQLite: the newest candle's prices.
    const newest = db
        .prepare(
            "SELECT pool_id, timeframe, max(timestamp) AS last, open_price AS open, close_price AS close " +
                "FROM ohlcv_data GROUP BY pool_id, timeframe",
        )
        .all() as Newest[];
    const series = newest
        .filter((s) => TIMEFRAME_SECONDS.has(s.timeframe) && Number.isSafeInteger(Number(s.last)))
        .map((s) => ({
            poolId: s.pool_id,
            timeframe: s.timeframe,
            seconds: TIMEFRAME_SECONDS.get(s.timeframe) ?? 3600,
            last: Number(s.last),
            open: positiveOr(s.open, 1),
            close: positiveOr(s.close, 1),
        }));
    if (series.length) return series;
    const hour = Math.floor(Date.now() / 3_600_000) * 3600;
    const pools = pluckAll<string>(db, "SELECT id FROM pools ORDER BY rowid DESC LIMIT 10");
    return pools.map((poolId) => ({ poolId, timeframe: "1h", seconds: 3600, last: hour - 3600, open: 1, close: 1 }));
}

/** The candle at `timestamp`: the newest one updated in place (same open), or the next one opening at the last close. */
function candleValues(rng: Rng, clock: LocalClock, s: Series, timestamp: number): unknown[] {
    const open = timestamp === s.last ? s.open : s.close;
    const close = open * (1 + (rng.next() - 0.5) * 0.02);
    const high = Math.max(open, close) * (1 + rng.next() * 0.01);
    const low = Math.min(open, close) * (1 - rng.next() * 0.01);
    const datetime = pythonText(clock.wallUs(timestamp * 1e6)); // fromtimestamp(): the host's wall clock
    return [s.poolId, s.timeframe, timestamp, open, high, low, close, rng.logRange(10, 50_000), datetime, pythonText(nowUs())];
}

/** OHLCV ingest, row by row as the collector commits it: 1-4 candles of one series, about half updating its newest candle. */
function ohlcvIngest({ db, rng, clock }: KindContext): RunWrite {
    const series = loadSeries(db);
    if (!series.length) throw new Error("no candle series and no pools to start one");
    const upsert = db
        .prepare(
            `INSERT INTO ohlcv_data (${OHLCV_COLUMNS.join(", ")}) VALUES (${marks(OHLCV_COLUMNS.length)}) ` +
                "ON CONFLICT(pool_id, timeframe, timestamp) DO UPDATE SET open_price = excluded.open_price, " +
                "high_price = excluded.high_price, low_price = excluded.low_price, close_price = excluded.close_price, " +
                "volume_usd = excluded.volume_usd RETURNING id",
        )
        .pluck();
    return (session) => {
        const s = rng.pick(series);
        let committed = false;
        for (let i = rng.int(1, 4); i > 0; i--) {
            const timestamp = rng.chance(0.5) ? s.last : s.last + s.seconds;
            const values = candleValues(rng, clock, s, timestamp);
            const changes = session.transaction("ohlcv_ingest", () => upsert.all(...values).map(change("upsert", "ohlcv_data")));
            if (!changes) continue;
            [s.last, s.open, s.close] = [timestamp, values[3] as number, values[6] as number];
            committed = true;
        }
        return committed;
    };
}

/** The lock hot spot: `UPDATE pools SET reserve_usd = ?, last_updated = ? WHERE id = ?` for 1-5 pools in one commit. */
function poolUpdate({ db, rng }: KindContext): RunWrite {
    const pools = pluckAll<string>(db, "SELECT id FROM pools ORDER BY rowid DESC LIMIT 100");
    if (!pools.length) throw new Error("no pools");
    const update = db.prepare("UPDATE pools SET reserve_usd = ?, last_updated = ? WHERE id = ?");
    return (session) => {
        const picked = [...new Set(Array.from({ length: rng.int(1, 5) }, () => rng.pick(pools)))];
        const reserves = picked.map(() => rng.logRange(1_000, 5e6));
        const changes = session.transaction("pool_update", () =>
            picked.filter((id, i) => update.run(reserves[i], pythonText(nowUs()), id).changes > 0).map(change("update", "pools")),
        );
        return changes !== null;
    };
}

/**
 * Retention: `DELETE FROM <table> WHERE <column> < ?` with a threshold that cuts the 5-50 oldest rows
 * (the collector's is 90 days; a small slice keeps a test file alive). RETURNING logs each deleted key.
 */
function retention(table: string, column: string) {
    return ({ db, rng }: KindContext): RunWrite => {
        const nth = db.prepare(`SELECT ${column} FROM ${table} WHERE ${column} IS NOT NULL ORDER BY ${column} LIMIT 1 OFFSET ?`).pluck();
        // Ties at the nth value would delete nothing: then cut just above the oldest value instead.
        const above = db.prepare(`SELECT min(${column}) FROM ${table} WHERE ${column} > (SELECT min(${column}) FROM ${table})`).pluck();
        const remove = db.prepare(`DELETE FROM ${table} WHERE ${column} < ? RETURNING ${LOGGED_KEY_COLUMNS[table]}`).pluck();
        const oldest = db.prepare(`SELECT min(${column}) FROM ${table}`).pluck();
        return (session) => {
            const offset = rng.int(5, 50);
            const changes = session.transaction(`${table}_retention`, () => {
                let threshold = nth.get(offset);
                if (threshold === undefined) return []; // too few rows left to trim
                if (threshold === oldest.get()) threshold = above.get();
                return threshold === null ? [] : remove.all(threshold).map(change("delete", table));
            });
            return changes !== null;
        };
    };
}

/** `UPDATE watchlist SET is_active = ?, updated_at = ? WHERE id = ?` on one entry. */
function watchlistUpdate({ db, rng }: KindContext): RunWrite {
    const ids = pluckAll<number>(db, "SELECT id FROM watchlist");
    if (!ids.length) throw new Error("no watchlist entries");
    const update = db.prepare("UPDATE watchlist SET is_active = ?, updated_at = ? WHERE id = ?");
    return (session) => {
        const id = rng.pick(ids);
        const active = rng.chance(0.8) ? 1 : 0;
        const changes = session.transaction("watchlist_update", () =>
            update.run(active, pythonText(nowUs()), id).changes > 0 ? [change("update", "watchlist")(id)] : [],
        );
        return changes !== null;
    };
}

/** A collector run's bookkeeping: last_run (host-local clock) and run_count + 1. */
function metadataUpdate({ db, rng, clock }: KindContext): RunWrite {
    const types = pluckAll<string>(db, "SELECT collector_type FROM collection_metadata");
    if (!types.length) throw new Error("no collection_metadata rows");
    const update = db.prepare(
        "UPDATE collection_metadata SET last_run = ?, run_count = coalesce(run_count, 0) + 1 WHERE collector_type = ?",
    );
    return (session) => {
        const type = rng.pick(types);
        const changes = session.transaction("metadata_update", () =>
            update.run(pythonText(clock.wallUs(nowUs())), type).changes > 0 ? [change("update", "collection_metadata")(type)] : [],
        );
        return changes !== null;
    };
}

/** The write mix: three frequent writes drawn by weight, four occasional ones on a fixed tick schedule. */
const KINDS: readonly KindSpec[] = [
    { name: "trade_ingest", table: "trades", columns: TRADE_COLUMNS, weight: 30, create: tradeIngest },
    { name: "ohlcv_ingest", table: "ohlcv_data", columns: ["id", ...OHLCV_COLUMNS], weight: 40, create: ohlcvIngest },
    { name: "pool_update", table: "pools", columns: ["id", "reserve_usd", "last_updated"], weight: 30, create: poolUpdate },
    {
        name: "trades_retention",
        table: "trades",
        columns: ["id", "block_timestamp"],
        every: { ticks: 20, offset: 5 },
        create: retention("trades", "block_timestamp"),
    },
    {
        name: "ohlcv_data_retention",
        table: "ohlcv_data",
        columns: ["id", "datetime"],
        every: { ticks: 20, offset: 15 },
        create: retention("ohlcv_data", "datetime"),
    },
    {
        name: "watchlist_update",
        table: "watchlist",
        columns: ["id", "is_active", "updated_at"],
        every: { ticks: 30, offset: 8 },
        create: watchlistUpdate,
    },
    {
        name: "metadata_update",
        table: "collection_metadata",
        columns: ["collector_type", "last_run", "run_count"],
        every: { ticks: 50, offset: 22 },
        create: metadataUpdate,
    },
];

interface ReadyKind {
    readonly spec: KindSpec;
    readonly run: RunWrite;
}

/** Why the file cannot take `spec` (PRAGMA table_info), or null. */
function missingSchema(db: Database.Database, spec: KindSpec): string | null {
    const present = new Set(pluckAll<string>(db, "SELECT name FROM pragma_table_info(?)", spec.table));
    if (!present.size) return `no table ${spec.table}`;
    const missing = spec.columns.filter((c) => !present.has(c));
    return missing.length ? `${spec.table} lacks ${missing.join(", ")}` : null;
}

/** Builds every kind the file can take; the others are listed with the reason. */
function prepareKinds(ctx: KindContext, seed: number, retentionEvery?: number): { kinds: ReadyKind[]; skipped: string[] } {
    const kinds: ReadyKind[] = [];
    const skipped: string[] = [];
    for (const listed of KINDS) {
        const spec =
            retentionEvery && listed.name.endsWith("_retention") && listed.every
                ? { ...listed, every: { ticks: retentionEvery, offset: listed.every.offset % retentionEvery } }
                : listed;
        const missing = missingSchema(ctx.db, spec);
        if (missing) {
            skipped.push(`${spec.name}: ${missing}`);
            continue;
        }
        try {
            kinds.push({ spec, run: spec.create({ ...ctx, rng: new Rng(seed).fork(spec.name) }) });
        } catch (error) {
            skipped.push(`${spec.name}: ${(error as Error).message}`);
        }
    }
    if (!kinds.some((k) => k.spec.weight)) throw new Error(`no frequent write fits this file (${skipped.join("; ")})`);
    return { kinds, skipped };
}

/** Picks each tick's write: a due occasional one first (queued, so none is lost to a collision), else one by weight. */
class WriteMix {
    private readonly due: ReadyKind[] = [];
    private readonly weighted: ReadyKind[];
    private readonly total: number;

    constructor(
        private readonly kinds: readonly ReadyKind[],
        private readonly rng: Rng,
    ) {
        this.weighted = kinds.filter((k) => k.spec.weight);
        this.total = this.weighted.reduce((sum, k) => sum + (k.spec.weight ?? 0), 0);
    }

    next(tick: number): ReadyKind {
        for (const k of this.kinds) if (k.spec.every && tick % k.spec.every.ticks === k.spec.every.offset) this.due.push(k);
        const queued = this.due.shift();
        if (queued) return queued;
        let r = this.rng.next() * this.total;
        for (const k of this.weighted) if ((r -= k.spec.weight ?? 0) < 0) return k;
        return this.weighted[this.weighted.length - 1];
    }
}

/** Opens the file as the collector's SQLAlchemy engine does. */
function openLikeCollector(file: string, busyTimeoutMs: number): Database.Database {
    const db = new Database(file, { fileMustExist: true, timeout: busyTimeoutMs });
    try {
        db.pragma("journal_mode = WAL");
        db.pragma("foreign_keys = OFF");
        db.pragma("wal_autocheckpoint = 1000"); // SQLite's default, stated: checkpoints run as the collector's do
        return db;
    } catch (error) {
        db.close();
        throw error;
    }
}

/** Sleeps `ms`, waking early when `signal` aborts. */
function pause(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
        const done = () => {
            clearTimeout(timer);
            signal?.removeEventListener("abort", done);
            resolve();
        };
        const timer = setTimeout(done, Math.max(0, ms));
        signal?.addEventListener("abort", done, { once: true });
    });
}

/** Ticks at a fixed rate until stopped; a tick that ran late starts the schedule again instead of bursting. */
async function tickLoop(session: WriteSession, mix: WriteMix, options: SimulatedCollectorOptions): Promise<void> {
    const tickMs = options.tickMs ?? DEFAULT_TICK_MS;
    const deadline = options.seconds === undefined ? Infinity : performance.now() + options.seconds * 1000;
    let ready = false;
    let nextAt = performance.now();
    while (!options.signal?.aborted && performance.now() < deadline) {
        const kind = mix.next(session.ticks++);
        let committed = false;
        try {
            committed = kind.run(session);
        } catch (error) {
            session.fail(kind.spec.name, error);
        }
        if (committed && !ready) {
            ready = true;
            options.onReady?.();
        }
        const now = performance.now();
        nextAt = Math.max(nextAt + tickMs, now);
        await pause(Math.min(nextAt, deadline) - now, options.signal);
    }
}

/**
 * Runs the simulated collector on `options.file` until `options.signal` aborts or
 * `options.seconds` pass. A transaction in progress always finishes (the loop is
 * synchronous within a tick), so a stop never leaves a half-written tick.
 */
export async function runSimulatedCollector(options: SimulatedCollectorOptions): Promise<SimulatorSummary> {
    const started = performance.now();
    const seed = options.seed ?? 1;
    const clock = new LocalClock(options.hostTimeZone ?? Intl.DateTimeFormat().resolvedOptions().timeZone);
    const db = openLikeCollector(options.file, options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS);
    let logFd: number | undefined;
    try {
        logFd = fs.openSync(options.log, "a+");
        const { kinds, skipped } = prepareKinds({ db, clock, rng: new Rng(seed) }, seed, options.retentionEveryTicks);
        const session = new WriteSession(db, logFd, lastSeq(logFd));
        try {
            await tickLoop(session, new WriteMix(kinds, new Rng(seed).fork("mix")), options);
        } finally {
            session.rollback();
        }
        const { ticks, commits, rows, errors } = session;
        const seconds = Math.round(performance.now() - started) / 1000;
        return { ticks, commits, rows, errors, maxWaitMs: Math.round(session.maxWaitMs), seconds, skipped };
    } finally {
        if (logFd !== undefined) fs.closeSync(logFd);
        db.close();
    }
}

/** The seq of the log's last line (0 for a new log), so a run appending to an earlier run's log keeps seq increasing. */
function lastSeq(logFd: number): number {
    const size = fs.fstatSync(logFd).size;
    const tail = Buffer.alloc(Math.min(size, 64 * 1024));
    fs.readSync(logFd, tail, 0, tail.length, size - tail.length);
    const last = tail.toString("utf8").trimEnd().split("\n").pop();
    return last ? (JSON.parse(last) as { seq: number }).seq : 0;
}

/** Parses a simulator log. An unterminated last line (the writer was killed mid-append) is ignored. */
export function readCollectorLog(path: string): { writes: LoggedWrite[]; errors: LoggedError[] } {
    const text = fs.readFileSync(path, "utf8");
    const lines = text.split("\n");
    lines.pop(); // the text after the last newline: "" or a torn line
    const writes: LoggedWrite[] = [];
    const errors: LoggedError[] = [];
    for (const line of lines) {
        if (!line) continue;
        const entry = JSON.parse(line) as LoggedWrite | LoggedError;
        if (entry.op === "error") errors.push(entry);
        else writes.push(entry);
    }
    return { writes, errors };
}

export type RowState = "present" | "absent";

/** Per table, each logged key's final state: "absent" when its last write was a delete, else "present". */
export function expectedRows(writes: readonly LoggedWrite[]): Map<string, Map<string, RowState>> {
    const byTable = new Map<string, Map<string, RowState>>();
    for (const w of [...writes].sort((a, b) => a.seq - b.seq)) {
        let keys = byTable.get(w.table);
        if (!keys) byTable.set(w.table, (keys = new Map()));
        keys.set(w.key, w.op === "delete" ? "absent" : "present");
    }
    return byTable;
}
