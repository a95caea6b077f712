/**
 * The collector's read queries (collector-facts.md items 1, 2, 3, 7, 8, 9, 11) in both
 * dialects, with parameters from the data, plus runners and plan capture.
 *
 * Differences between the two renderings are the ones SQLAlchemy makes: `is_active = 1`
 * vs `= true`, `?` vs `$n::timestamp` for naive datetimes, strftime vs date_trunc for
 * hourly buckets. Window bounds end in `.5` seconds so no stored value equals a bound
 * (SQLite compares the text, PostgreSQL the instant: equal bounds would differ by a row).
 */
import type Database from "better-sqlite3";
import type { Client, QueryArrayConfig } from "pg";
import { median } from "../lib/stats";
import type { PgStatementMode } from "./protocol";
import { mogrify } from "./psycopg2";
import type { ReadParams } from "./workload";

export interface Sql {
    readonly sql: string;
    readonly params: readonly unknown[];
}

export interface ReadQuery {
    /** Short id: the facts item number plus a variant suffix. */
    readonly id: string;
    readonly title: string;
    readonly sqlite: Sql;
    readonly postgres: Sql;
    /** Follow-up run once per returned row with that row's `column` (item 1: each pool by id). */
    readonly perRow?: { readonly column: string; readonly sqlite: string; readonly postgres: string };
    /** Index names (regular expressions) the PostgreSQL plan is meant to use; none: a full scan is the plan. */
    readonly plannedIndexes?: readonly string[];
    /** The query bounds ohlcv_data's partition key, so the plan should skip partitions. */
    readonly expectPruning?: boolean;
}

const DAY = 86_400;

/** Naive UTC text `YYYY-MM-DD HH:MM:SS.500000` (half a second past the epoch second). */
export function boundText(epochSec: number): string {
    return new Date(epochSec * 1000).toISOString().slice(0, 19).replace("T", " ") + ".500000";
}

function both(
    sqlite: string,
    postgres: string,
    params: readonly unknown[],
    pgParams: readonly unknown[] = params,
): Pick<ReadQuery, "sqlite" | "postgres"> {
    return { sqlite: { sql: sqlite, params }, postgres: { sql: postgres, params: pgParams } };
}

/** The collector's read queries in facts order: items 1, 2, 3, 7, 8, 9, 11. */
export function readQueries(p: ReadParams): ReadQuery[] {
    return [
        ...watchlistQueries(),
        ...ohlcvQueries(p),
        ...tradeQueries(p),
        ...historyQueries(p),
        ...statsQueries(p),
        ...poolStatsQueries(p),
        ...discoveryQueries(p),
    ];
}

const OHLCV_COLUMNS =
    "ohlcv_data.id, ohlcv_data.pool_id, ohlcv_data.timeframe, ohlcv_data.timestamp, ohlcv_data.open_price, ohlcv_data.high_price, ohlcv_data.low_price, ohlcv_data.close_price, ohlcv_data.volume_usd, ohlcv_data.datetime, ohlcv_data.created_at";

/** Item 1: the active watchlist, then each of its pools by id. */
function watchlistQueries(): ReadQuery[] {
    return [
        {
            id: "1",
            title: "active watchlist, then each pool by id",
            ...both(
                "SELECT * FROM watchlist WHERE watchlist.is_active = 1",
                "SELECT * FROM watchlist WHERE watchlist.is_active = true",
                [],
            ),
            perRow: {
                column: "pool_id",
                sqlite: "SELECT * FROM pools WHERE pools.id = ?",
                postgres: "SELECT * FROM pools WHERE pools.id = $1",
            },
            plannedIndexes: ["^pools_pkey$"],
        },
    ];
}

/** Item 2: a pool's OHLCV series of one timeframe (30-day window, with the partition key, or all). */
function ohlcvQueries(p: ReadParams): ReadQuery[] {
    const end = p.endEpoch;
    const ohlcvFrom = end - 30 * DAY;
    return [
        {
            id: "2",
            title: "OHLCV pool+timeframe, 30-day datetime window, ORDER BY datetime",
            ...both(
                `SELECT ${OHLCV_COLUMNS} FROM ohlcv_data WHERE ohlcv_data.pool_id = ? AND ohlcv_data.timeframe = ? AND ohlcv_data.datetime BETWEEN ? AND ? ORDER BY ohlcv_data.datetime`,
                `SELECT ${OHLCV_COLUMNS} FROM ohlcv_data WHERE ohlcv_data.pool_id = $1 AND ohlcv_data.timeframe = $2 AND ohlcv_data.datetime BETWEEN $3::timestamp AND $4::timestamp ORDER BY ohlcv_data.datetime`,
                [p.ohlcvPool, p.ohlcvTimeframe, boundText(ohlcvFrom), boundText(end)],
            ),
            plannedIndexes: ["pool_timeframe_datetime"],
        },
        {
            id: "2ts",
            title: "same + timestamp BETWEEN (partition key: pruning)",
            ...both(
                `SELECT ${OHLCV_COLUMNS} FROM ohlcv_data WHERE ohlcv_data.pool_id = ? AND ohlcv_data.timeframe = ? AND ohlcv_data.datetime BETWEEN ? AND ? AND ohlcv_data.timestamp BETWEEN ? AND ? ORDER BY ohlcv_data.datetime`,
                `SELECT ${OHLCV_COLUMNS} FROM ohlcv_data WHERE ohlcv_data.pool_id = $1 AND ohlcv_data.timeframe = $2 AND ohlcv_data.datetime BETWEEN $3::timestamp AND $4::timestamp AND ohlcv_data.timestamp BETWEEN $5 AND $6 ORDER BY ohlcv_data.datetime`,
                [p.ohlcvPool, p.ohlcvTimeframe, boundText(ohlcvFrom), boundText(end), ohlcvFrom, end + 1],
            ),
            plannedIndexes: ["pool_timeframe_datetime|pool_timeframe_timestamp|uq_ohlcv"],
            expectPruning: true,
        },
        {
            id: "2all",
            title: "OHLCV pool+timeframe, no window, ORDER BY datetime",
            ...both(
                `SELECT ${OHLCV_COLUMNS} FROM ohlcv_data WHERE ohlcv_data.pool_id = ? AND ohlcv_data.timeframe = ? ORDER BY ohlcv_data.datetime`,
                `SELECT ${OHLCV_COLUMNS} FROM ohlcv_data WHERE ohlcv_data.pool_id = $1 AND ohlcv_data.timeframe = $2 ORDER BY ohlcv_data.datetime`,
                [p.ohlcvPool, p.ohlcvTimeframe],
            ),
            plannedIndexes: ["pool_timeframe_datetime"],
        },
    ];
}

/** Item 3: a busy pool's trades, newest first (14-day window with a volume floor, or all). */
function tradeQueries(p: ReadParams): ReadQuery[] {
    const end = p.endEpoch;
    const tradeFrom = end - 14 * DAY;
    return [
        {
            id: "3",
            title: "trades busy pool, 14-day window, volume >= 100, newest first",
            ...both(
                "SELECT * FROM trades WHERE trades.pool_id = ? AND trades.block_timestamp >= ? AND trades.block_timestamp <= ? AND trades.volume_usd >= ? ORDER BY trades.block_timestamp DESC",
                "SELECT * FROM trades WHERE trades.pool_id = $1 AND trades.block_timestamp >= $2::timestamp AND trades.block_timestamp <= $3::timestamp AND trades.volume_usd >= $4 ORDER BY trades.block_timestamp DESC",
                [p.busyTradePool, boundText(tradeFrom), boundText(end), 100],
            ),
            plannedIndexes: ["^idx_trades_pool_block_timestamp$"],
        },
        {
            id: "3all",
            title: "trades busy pool, all, newest first",
            ...both(
                "SELECT * FROM trades WHERE trades.pool_id = ? ORDER BY trades.block_timestamp DESC",
                "SELECT * FROM trades WHERE trades.pool_id = $1 ORDER BY trades.block_timestamp DESC",
                [p.busyTradePool],
            ),
            plannedIndexes: ["^idx_trades_pool_block_timestamp$"],
        },
    ];
}

/** Item 7: new_pools_history per pool and per network. */
function historyQueries(p: ReadParams): ReadQuery[] {
    const end = p.endEpoch;
    return [
        {
            id: "7a",
            title: "new_pools_history per pool since 60 days, newest first",
            ...both(
                "SELECT * FROM new_pools_history WHERE new_pools_history.pool_id = ? AND new_pools_history.collected_at >= ? ORDER BY new_pools_history.collected_at DESC",
                "SELECT * FROM new_pools_history WHERE new_pools_history.pool_id = $1 AND new_pools_history.collected_at >= $2::timestamp ORDER BY new_pools_history.collected_at DESC",
                [p.historyPool, boundText(end - 60 * DAY)],
            ),
            plannedIndexes: ["^uq_new_pools_history_pool_collected$"],
        },
        {
            id: "7b",
            title: "new_pools_history network, 7 days, signal >= 50, top 20",
            ...both(
                "SELECT * FROM new_pools_history WHERE new_pools_history.network_id = ? AND new_pools_history.collected_at >= ? AND new_pools_history.signal_score >= ? ORDER BY new_pools_history.signal_score DESC LIMIT ?",
                "SELECT * FROM new_pools_history WHERE new_pools_history.network_id = $1 AND new_pools_history.collected_at >= $2::timestamp AND new_pools_history.signal_score >= $3 ORDER BY new_pools_history.signal_score DESC LIMIT $4",
                [p.network, boundText(end - 7 * DAY), 50, 20],
            ),
            plannedIndexes: ["^idx_new_pools_history_network_collected$|^idx_new_pools_history_collected_at$"],
        },
    ];
}

/** Item 8: the statistics over new_pools_history (per network, per dex, hourly). */
function statsQueries(p: ReadParams): ReadQuery[] {
    const end = p.endEpoch;
    return [
        {
            id: "8a",
            title: "stats: new_pools_history count per network",
            ...both(
                "SELECT new_pools_history.network_id, count(*) AS n FROM new_pools_history GROUP BY new_pools_history.network_id",
                "SELECT new_pools_history.network_id, count(*) AS n FROM new_pools_history GROUP BY new_pools_history.network_id",
                [],
            ),
            // An index-only scan in network order (needs the visibility map: VACUUM after the load).
            plannedIndexes: ["^idx_new_pools_history_network_collected$"],
        },
        {
            id: "8b",
            title: "stats: new_pools_history count per dex",
            ...both(
                "SELECT new_pools_history.dex_id, count(*) AS n FROM new_pools_history GROUP BY new_pools_history.dex_id",
                "SELECT new_pools_history.dex_id, count(*) AS n FROM new_pools_history GROUP BY new_pools_history.dex_id",
                [],
            ),
            plannedIndexes: ["^idx_new_pools_history_dex_id$"],
        },
        {
            id: "8c",
            title: "stats: hourly buckets, 7 days (distinct pools, avg reserve, sum volume)",
            ...both(
                "SELECT strftime('%Y-%m-%d %H:00:00', collected_at) AS hour, count(DISTINCT pool_id) AS pools, avg(reserve_in_usd) AS avg_reserve, sum(volume_usd_h24) AS volume FROM new_pools_history WHERE collected_at >= ? GROUP BY hour ORDER BY hour",
                "SELECT date_trunc('hour', collected_at) AS hour, count(DISTINCT pool_id) AS pools, avg(reserve_in_usd) AS avg_reserve, sum(volume_usd_h24) AS volume FROM new_pools_history WHERE collected_at >= $1::timestamp GROUP BY 1 ORDER BY 1",
                [boundText(end - 7 * DAY)],
            ),
            plannedIndexes: ["^idx_new_pools_history_collected_at$|^idx_new_pools_history_network_collected$"],
        },
    ];
}

/** Item 9: one pool's OHLCV and trade statistics. */
function poolStatsQueries(p: ReadParams): ReadQuery[] {
    return [
        {
            id: "9a",
            title: "per-pool OHLCV stats: count, min/max datetime per timeframe",
            ...both(
                "SELECT timeframe, count(*) AS n, min(datetime) AS first, max(datetime) AS last FROM ohlcv_data WHERE pool_id = ? GROUP BY timeframe",
                "SELECT timeframe, count(*) AS n, min(datetime) AS first, max(datetime) AS last FROM ohlcv_data WHERE pool_id = $1 GROUP BY timeframe",
                [p.ohlcvPool],
            ),
            plannedIndexes: ["pool_timeframe_datetime|pool_timeframe_timestamp|uq_ohlcv"],
        },
        {
            id: "9b",
            title: "per-pool trade stats: sum/avg/max volume, min/max block_timestamp",
            ...both(
                "SELECT sum(volume_usd) AS total, avg(volume_usd) AS mean, max(volume_usd) AS top, min(block_timestamp) AS first, max(block_timestamp) AS last FROM trades WHERE pool_id = ?",
                "SELECT sum(volume_usd) AS total, avg(volume_usd) AS mean, max(volume_usd) AS top, min(block_timestamp) AS first, max(block_timestamp) AS last FROM trades WHERE pool_id = $1",
                [p.busyTradePool],
            ),
            plannedIndexes: ["^idx_trades_pool_block_timestamp$"],
        },
    ];
}

/** Item 11: pool discovery (by activity score; due for an activity check). */
function discoveryQueries(p: ReadParams): ReadQuery[] {
    const end = p.endEpoch;
    return [
        {
            id: "11a",
            title: "discovery: all pools ORDER BY activity_score DESC",
            ...both("SELECT * FROM pools ORDER BY pools.activity_score DESC", "SELECT * FROM pools ORDER BY pools.activity_score DESC", []),
        },
        {
            id: "11b",
            title: "discovery: due for an activity check, LIMIT 100",
            ...both(
                "SELECT * FROM pools WHERE pools.discovery_source IN ('auto', 'auto_new') AND pools.collection_priority != 'paused' AND (pools.last_activity_check IS NULL OR pools.last_activity_check < ?) LIMIT 100",
                "SELECT * FROM pools WHERE pools.discovery_source IN ('auto', 'auto_new') AND pools.collection_priority != 'paused' AND (pools.last_activity_check IS NULL OR pools.last_activity_check < $1::timestamp) LIMIT 100",
                [boundText(end - 7 * DAY)],
            ),
        },
    ];
}

/**
 * Executes a query as the collector would; returns the rows of the main statement plus the follow-ups'.
 *
 * Both runners hand rows back as arrays of the values as the store returns them, with no
 * client-side type conversion: better-sqlite3 gives SQLite's stored text for datetimes and
 * JSON, so the PostgreSQL runner takes every column as text too (node-pg would otherwise
 * build a Date per timestamp and parse every jsonb, work the SQLite side never does; in
 * the full-table reads that was a third of the PostgreSQL time). What is timed is the
 * store, the round trips and the transfer, not a JS driver's conversions.
 */
export interface ReadRunner {
    run(q: ReadQuery): Promise<RunCount>;
}

export interface RunCount {
    /** Rows of the main statement plus the follow-ups'. */
    readonly rows: number;
    /** Statements executed: 1, or 1 + a follow-up per row (item 1). */
    readonly statements: number;
}

export function sqliteRunner(db: Database.Database): ReadRunner {
    const cache = new Map<string, Database.Statement>();
    const stmt = (sql: string) => {
        let s = cache.get(sql);
        if (!s) cache.set(sql, (s = db.prepare(sql).raw(true)));
        return s;
    };
    return {
        run: async (q) => {
            const main = stmt(q.sqlite.sql);
            const rows = main.all(...(q.sqlite.params as unknown[])) as unknown[][];
            let n = rows.length;
            if (q.perRow) {
                const column = main.columns().findIndex((c) => c.name === q.perRow!.column);
                const follow = stmt(q.perRow.sqlite);
                for (const r of rows) n += follow.all(r[column]).length;
            }
            return { rows: n, statements: q.perRow ? 1 + rows.length : 1 };
        },
    };
}

/** Every column as the server's text: no conversion on the client (see ReadRunner). */
const AS_TEXT = { getTypeParser: () => (value: string) => value };

/** The statement as the given driver mode sends it: literals inlined (psycopg2) or `$n` parameters. */
export function pgQuery(sql: Sql, mode: PgStatementMode): QueryArrayConfig {
    return mode === "psycopg2"
        ? { text: mogrify(sql.sql, sql.params), rowMode: "array", types: AS_TEXT }
        : { text: sql.sql, values: sql.params as unknown[], rowMode: "array", types: AS_TEXT };
}

export function postgresRunner(client: Client, mode: PgStatementMode): ReadRunner {
    return {
        run: async (q) => {
            const { rows, fields } = await client.query(pgQuery(q.postgres, mode));
            let n = rows.length;
            if (q.perRow) {
                const column = fields.findIndex((f) => f.name === q.perRow!.column);
                for (const r of rows) n += (await client.query(pgQuery({ sql: q.perRow.postgres, params: [r[column]] }, mode))).rows.length;
            }
            return { rows: n, statements: q.perRow ? 1 + rows.length : 1 };
        },
    };
}

export interface Timing {
    readonly medianMs: number;
    readonly runsMs: readonly number[];
    readonly rows: number;
    /** Statements per run: each one a round trip on PostgreSQL. */
    readonly statements: number;
}

/** `warmup` untimed runs, then `runs` timed ones; the median. */
export async function timeQuery(runner: ReadRunner, q: ReadQuery, runs: number, warmup = 1): Promise<Timing> {
    let count: RunCount = { rows: 0, statements: 0 };
    for (let i = 0; i < warmup; i++) count = await runner.run(q);
    const runsMs: number[] = [];
    for (let i = 0; i < runs; i++) {
        const t0 = performance.now();
        count = await runner.run(q);
        runsMs.push(performance.now() - t0);
    }
    return { medianMs: median(runsMs), runsMs, ...count };
}

export interface PostgresPlan {
    /** EXPLAIN (ANALYZE, BUFFERS) text of each statement (item 1: the list and one pool lookup). */
    readonly text: string;
    readonly indexes: readonly string[];
    /** Relations scanned, partitions included. */
    readonly relations: readonly string[];
    readonly nodes: readonly string[];
    readonly executionMs: number;
    readonly planningMs: number;
    /** Converting the result to text for the wire (EXPLAIN's SERIALIZE, PostgreSQL 17+; null before). */
    readonly serializeMs: number | null;
    readonly sharedHit: number;
    readonly sharedRead: number;
}

function walk(plan: unknown, out: { relations: string[]; indexes: string[]; nodes: string[]; hit: number; read: number }): void {
    if (Array.isArray(plan)) plan.forEach((p) => walk(p, out));
    else if (plan && typeof plan === "object") {
        const o = plan as Record<string, unknown>;
        if (typeof o["Relation Name"] === "string") out.relations.push(o["Relation Name"]);
        if (typeof o["Index Name"] === "string") out.indexes.push(o["Index Name"]);
        if (typeof o["Node Type"] === "string") out.nodes.push(o["Node Type"]);
        if (Array.isArray(o.Plans)) o.Plans.forEach((p) => walk(p, out));
    }
}

/** EXPLAIN (ANALYZE, BUFFERS) of the query (and, for item 1, of one follow-up), with the parameters as `mode` sends them. */
export async function explainPostgres(client: Client, q: ReadQuery, mode: PgStatementMode, serialize: boolean): Promise<PostgresPlan> {
    const statements: Sql[] = [q.postgres];
    if (q.perRow) {
        const { rows } = await client.query(q.postgres.sql, q.postgres.params as unknown[]);
        if (rows.length) statements.push({ sql: q.perRow.postgres, params: [rows[0][q.perRow.column]] });
    }
    const out = { relations: [] as string[], indexes: [] as string[], nodes: [] as string[], hit: 0, read: 0 };
    const texts: string[] = [];
    let executionMs = 0;
    let planningMs = 0;
    let serializeMs = 0;
    const options = serialize ? "ANALYZE, BUFFERS, SERIALIZE" : "ANALYZE, BUFFERS";
    const explain = async (options: string, s: Sql) => {
        const sent = mode === "psycopg2" ? { sql: mogrify(s.sql, s.params), params: [] } : s;
        return (await client.query(`EXPLAIN (${options}) ${sent.sql}`, sent.params as unknown[])).rows;
    };
    for (const s of statements) {
        const json = (await explain(`${options}, FORMAT JSON`, s))[0]["QUERY PLAN"][0];
        walk(json.Plan, out);
        out.hit += Number(json.Plan["Shared Hit Blocks"] ?? 0);
        out.read += Number(json.Plan["Shared Read Blocks"] ?? 0);
        executionMs += Number(json["Execution Time"] ?? 0);
        planningMs += Number(json["Planning Time"] ?? 0);
        serializeMs += Number(json.Serialization?.Time ?? 0);
        const text = (await explain(options, s)).map((r) => r["QUERY PLAN"]).join("\n");
        texts.push(text);
    }
    return {
        text: texts.join("\n\n"),
        indexes: [...new Set(out.indexes)],
        relations: [...new Set(out.relations)],
        nodes: [...new Set(out.nodes)],
        executionMs,
        planningMs,
        serializeMs: serialize ? serializeMs : null,
        sharedHit: out.hit,
        sharedRead: out.read,
    };
}

/** Median time of `SELECT 1` as `mode` sends it: the cost of one round trip, the floor of every PostgreSQL read. */
export async function roundTripMs(client: Client, mode: PgStatementMode, runs = 50): Promise<number> {
    const q = pgQuery({ sql: "SELECT 1", params: [] }, mode);
    for (let i = 0; i < 5; i++) await client.query(q);
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
        const t0 = performance.now();
        await client.query(q);
        times.push(performance.now() - t0);
    }
    return median(times);
}

/** SQLite's EXPLAIN QUERY PLAN, one line. */
export function explainSqlite(db: Database.Database, q: ReadQuery): string {
    const rows = db.prepare(`EXPLAIN QUERY PLAN ${q.sqlite.sql}`).all(...(q.sqlite.params as unknown[])) as { detail: string }[];
    const main = rows.map((r) => r.detail).join("; ");
    if (!q.perRow) return main;
    const follow = (db.prepare(`EXPLAIN QUERY PLAN ${q.perRow.sqlite}`).all("x") as { detail: string }[]).map((r) => r.detail).join("; ");
    return `${main} | per row: ${follow}`;
}
