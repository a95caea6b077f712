/**
 * Measures the clock actually present in the source data, so a wrong
 * TimezonePolicy shows up before the copy rather than as shifted timestamps:
 * - `ohlcv_data.datetime` (naive, written as the host's local time) against
 *   `ohlcv_data.timestamp` (true epoch);
 * - `trades.block_timestamp` (naive, should be UTC) against the epoch second
 *   that ends each trade id (`solana_{block}_{tx}_{logidx}_{epoch}`).
 * Each check reads a bounded sample spread evenly over the table's rowid
 * range (index seeks, no full scan) and returns findings as data; the report
 * decides how to print them.
 */
import type { Database } from "better-sqlite3";
import { parseTimestamp } from "../convert/timestamp";
import { utcOffsetAt } from "../convert/timeZone";
import { type TimezonePolicy, clockOf, zoneOf } from "../convert/timezonePolicy";
import type { RawValue, SqliteValue } from "../convert/result";

/** Share of usable sampled rows that must match the policy for it to count as agreeing (tolerates a few hand-edited rows). */
export const AGREEMENT_THRESHOLD = 0.95;

export interface ClockCheckFinding {
    /** The naive column checked, `table.column`. */
    readonly column: "ohlcv_data.datetime" | "trades.block_timestamp";
    /** What it is compared with. */
    readonly reference: string;
    /**
     * `ok`: the policy matches the data; `mismatch`: it does not (values would
     * be shifted); `absent`: table or column missing; `empty`: no rows;
     * `inconclusive`: no sampled row had both values in a usable form.
     */
    readonly status: "ok" | "mismatch" | "absent" | "empty" | "inconclusive";
    readonly rowsSampled: number;
    /** Sampled rows with a naive timestamp and a parseable epoch. */
    readonly rowsUsable: number;
    /** Most frequent (naive wall clock - true instant) in minutes; east of UTC is positive. */
    readonly dominantOffsetMinutes: number | null;
    readonly dominantCount: number;
    /** The clock the policy assigns and the zone it implies. */
    readonly policyClock: "utc" | "local";
    readonly policyZone: string;
    /** Distinct offsets (minutes) the policy expects over the sampled instants (two for a zone with DST). */
    readonly expectedOffsetsMinutes: readonly number[];
    /** Usable rows whose offset equals the one the policy expects at that instant. */
    readonly rowsAgreeingWithPolicy: number;
    /** Whether at least AGREEMENT_THRESHOLD of usable rows agree; null when nothing could be measured. */
    readonly policyAgrees: boolean | null;
    /** One human sentence summarising the finding. */
    readonly message: string;
}

export interface ClockCheckOptions {
    /** Rows read per check, spread over the rowid range. Default 2000. */
    readonly sampleSize?: number;
}

/** Runs both clock checks against an open (read-only is enough) SQLite database. */
export function checkClocks(db: Database, policy: TimezonePolicy, options: ClockCheckOptions = {}): ClockCheckFinding[] {
    const sampleSize = options.sampleSize ?? 2000;
    return [
        runCheck(db, policy, sampleSize, {
            table: "ohlcv_data",
            column: "datetime",
            needs: ["timestamp"],
            reference: "ohlcv_data.timestamp (epoch)",
            select: "timestamp AS epoch, datetime AS naive",
            epochOf: (row) => row.epoch,
        }),
        runCheck(db, policy, sampleSize, {
            table: "trades",
            column: "block_timestamp",
            needs: ["id"],
            reference: "epoch suffix of trades.id",
            select: "id AS epoch, block_timestamp AS naive",
            epochOf: (row) => tradeIdEpoch(row.epoch),
        }),
    ];
}

/** The epoch second that ends a trade id (`solana_{block}_{tx}_{logidx}_{epoch}`), or null. */
export function tradeIdEpoch(id: RawValue): bigint | null {
    const last = typeof id === "string" ? id.slice(id.lastIndexOf("_") + 1) : "";
    return /^\d{1,16}$/.test(last) ? BigInt(last) : null;
}

interface CheckSpec {
    readonly table: string;
    readonly column: string;
    readonly needs: readonly string[];
    readonly reference: string;
    readonly select: string;
    readonly epochOf: (row: SampleRow) => RawValue;
}

interface SampleRow {
    readonly epoch: RawValue;
    readonly naive: RawValue;
}

function runCheck(db: Database, policy: TimezonePolicy, sampleSize: number, spec: CheckSpec): ClockCheckFinding {
    const name = `${spec.table}.${spec.column}` as ClockCheckFinding["column"];
    const policyClock = clockOf(policy, spec.table, spec.column);
    const policyZone = zoneOf(policy, spec.table, spec.column);
    const base = { column: name, reference: spec.reference, policyClock, policyZone };
    const none = {
        rowsSampled: 0,
        rowsUsable: 0,
        dominantOffsetMinutes: null,
        dominantCount: 0,
        expectedOffsetsMinutes: [],
        rowsAgreeingWithPolicy: 0,
        policyAgrees: null,
    };

    const columns = new Set((db.prepare(`PRAGMA table_info("${spec.table}")`).all() as { name: string }[]).map((c) => c.name));
    const missing = columns.size === 0 ? [] : [spec.column, ...spec.needs].filter((c) => !columns.has(c));
    if (columns.size === 0 || missing.length > 0) {
        const what =
            columns.size === 0
                ? `table ${spec.table} is absent`
                : `column(s) ${missing.map((c) => `${spec.table}.${c}`).join(", ")} absent`;
        return { ...base, ...none, status: "absent", message: `${name}: not checked, ${what}` };
    }

    const rows = sample(db, spec, sampleSize);
    if (rows.length === 0) return { ...base, ...none, status: "empty", message: `${name}: not checked, ${spec.table} has no rows` };

    const counts = new Map<number, number>();
    const expected = new Set<number>();
    let usable = 0;
    let agreeing = 0;
    for (const row of rows) {
        const naive = row.naive === null ? "missing" : parseTimestamp(row.naive);
        const epochRaw = spec.epochOf(row);
        const epoch = epochRaw === null ? "missing" : parseTimestamp(epochRaw as SqliteValue);
        // Only naive wall-clock text measures a clock; values carrying an offset (or epochs) are absolute.
        if (typeof naive === "string" || naive.kind !== "naive" || typeof epoch === "string" || epoch.kind !== "absolute") continue;
        usable++;
        const observed = Math.round((naive.localSeconds - epoch.epochSeconds) / 60);
        const want = Math.round(utcOffsetAt(policyZone, epoch.epochSeconds) / 60);
        counts.set(observed, (counts.get(observed) ?? 0) + 1);
        expected.add(want);
        if (observed === want) agreeing++;
    }
    const stats = {
        rowsSampled: rows.length,
        rowsUsable: usable,
        expectedOffsetsMinutes: [...expected].sort((a, b) => a - b),
        rowsAgreeingWithPolicy: agreeing,
    };
    if (usable === 0) {
        return {
            ...base,
            ...none,
            ...stats,
            status: "inconclusive",
            message: `${name}: ${rows.length} rows sampled, none with both a naive timestamp and an epoch in ${spec.reference}`,
        };
    }
    const [dominant, dominantCount] = [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0]!;
    const policyAgrees = agreeing >= AGREEMENT_THRESHOLD * usable;
    const expectText = stats.expectedOffsetsMinutes.map(formatOffset).join(" / ");
    const message = policyAgrees
        ? `${name}: ${agreeing} of ${usable} sampled rows match the policy (${policyClock}, ${policyZone}, UTC${expectText})`
        : `${name}: only ${agreeing} of ${usable} sampled rows match the policy (${policyClock}, ${policyZone}, expects UTC${expectText}); ` +
          `the data mostly reads UTC${formatOffset(dominant)} (${dominantCount} rows) against ${spec.reference}: converted values would be shifted`;
    return {
        ...base,
        ...stats,
        dominantOffsetMinutes: dominant,
        dominantCount,
        policyAgrees,
        status: policyAgrees ? "ok" : "mismatch",
        message,
    };
}

/** Up to `size` rows spread evenly over the rowid range, one index seek each. */
function sample(db: Database, spec: CheckSpec, size: number): SampleRow[] {
    const range = db.prepare(`SELECT min(rowid) AS lo, max(rowid) AS hi FROM "${spec.table}"`).safeIntegers(true).get() as {
        lo: bigint | null;
        hi: bigint | null;
    };
    if (range.lo === null || range.hi === null) return [];
    const span = range.hi - range.lo + 1n;
    if (span <= BigInt(size)) {
        return db
            .prepare(`SELECT ${spec.select} FROM "${spec.table}" ORDER BY rowid LIMIT ${size}`)
            .safeIntegers(true)
            .all() as SampleRow[];
    }
    const seek = db
        .prepare(`SELECT rowid AS rid, ${spec.select} FROM "${spec.table}" WHERE rowid >= ? ORDER BY rowid LIMIT 1`)
        .safeIntegers(true);
    const seen = new Set<bigint>();
    const rows: SampleRow[] = [];
    for (let i = 0n; i < BigInt(size); i++) {
        const row = seek.get(range.lo + (span * i) / BigInt(size)) as (SampleRow & { rid: bigint }) | undefined;
        if (!row || seen.has(row.rid)) continue; // gaps in ids can land two seeks on one row
        seen.add(row.rid);
        rows.push({ epoch: row.epoch, naive: row.naive });
    }
    return rows;
}

function formatOffset(minutes: number): string {
    const sign = minutes < 0 ? "-" : "+";
    const m = Math.abs(minutes);
    return `${sign}${String(Math.floor(m / 60)).padStart(2, "0")}:${String(m % 60).padStart(2, "0")}`;
}
