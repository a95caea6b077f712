/**
 * Evidence in the order of the collector's writes: a local time a DST fall-back repeats,
 * decided by the rows around it. The collector appends one pool's sightings
 * (`new_pools_history`) as time goes on, so within a pool, in rowid order, the instants never
 * go back. In the repeated hour a run of one pool's rows whose wall clock drops once was
 * written across the change (the rows before the drop in the first pass, the rest in the
 * second); a run that does not drop is placed by its neighbours (a row before it already
 * past the first pass's reading, or a row after it still before the second's). Anything
 * else stays undecided: the operator's policy (`--ambiguous-time`) applies to it.
 *
 * Reads the snapshot only: the rows of the repeated hours and their neighbours.
 */
import type Database from "better-sqlite3";
import { sqliteIdent } from "../../postgres/sql";
import type { RawValue, SqliteValue } from "../convert/result";
import { formatTimestamp, parseTimestamp } from "../convert/timestamp";
import { localToUtc, repeatedSpans } from "../convert/timeZone";
import { zoneOf, type TimezonePolicy } from "../convert/timezonePolicy";
import type { TableMapping } from "./tableMapping";

/** `table.column` -> the column grouping rows whose instants never go back in rowid order. */
export const ORDER_EVIDENCE: Readonly<Record<string, string>> = {
    "new_pools_history.collected_at": "pool_id",
};

/** `table.column` -> source rowid -> the instant decided (canonical timestamptz text). */
export type DecidedTimes = Readonly<Record<string, Readonly<Record<string, string>>>>;

/** A value of the repeated hour: its wall clock and its two readings (epoch seconds, the fraction included). */
export interface Ambiguous {
    readonly rowid: bigint;
    readonly local: number;
    readonly earlier: number;
    readonly later: number;
}

export function decideByOrder(db: Database.Database, policy: TimezonePolicy, tables: readonly TableMapping[]): DecidedTimes {
    const decided: Record<string, Record<string, string>> = {};
    for (const [key, groupColumn] of Object.entries(ORDER_EVIDENCE)) {
        const [table, column] = key.split(".");
        const mapping = tables.find((m) => m.target.name === table && m.source);
        const sourceOf = (name: string) => {
            const c = mapping?.columns.find((x) => x.target.name === name)?.source;
            return c?.kind === "column" ? c.name : undefined;
        };
        const [col, group] = [sourceOf(column), sourceOf(groupColumn)];
        const zone = zoneOf(policy, table, column);
        if (!mapping || !col || !group || zone === "UTC") continue;
        const found = decideTable(db, zone, sqliteIdent(mapping.source!.name), sqliteIdent(col), sqliteIdent(group));
        if (Object.keys(found).length) decided[key] = found;
    }
    return decided;
}

function decideTable(db: Database.Database, zone: string, t: string, col: string, group: string): Record<string, string> {
    const range = db.prepare(`SELECT min(${col}), max(${col}) FROM ${t}`).raw(true).get() as RawValue[];
    const [lo, hi] = range.map((v) => localSecondsOf(v));
    if (lo === undefined || hi === undefined) return {};
    const out: Record<string, string> = {};
    const inSpan = db
        .prepare(`SELECT rowid, ${group}, ${col} FROM ${t} WHERE ${col} >= ? AND ${col} < ? ORDER BY ${group}, rowid`)
        .raw(true);
    const before = db.prepare(`SELECT ${col} FROM ${t} WHERE ${group} = ? AND rowid < ? ORDER BY rowid DESC LIMIT 1`).pluck();
    const after = db.prepare(`SELECT ${col} FROM ${t} WHERE ${group} = ? AND rowid > ? ORDER BY rowid LIMIT 1`).pluck();
    for (const span of repeatedSpans(zone, lo - 2 * 86400, hi + 2 * 86400)) {
        // The collector's own text sorts as its wall clock: the repeated hour's rows by a range.
        const runs = new Map<RawValue, NonNullable<ReturnType<typeof ambiguous>>[]>();
        for (const [rowid, g, value] of inSpan.iterate(wallText(span.from), wallText(span.to)) as IterableIterator<RawValue[]>) {
            const a = ambiguous(rowid as bigint, value, zone);
            if (a) runs.set(g, [...(runs.get(g) ?? []), a]);
        }
        for (const [g, run] of runs) {
            const instant = (v: unknown) => (v === undefined ? undefined : exactInstant(v as RawValue, zone));
            const choice = decideRun(run, instant(before.get(g, run[0].rowid)), instant(after.get(g, run[run.length - 1].rowid)));
            if (!choice) continue;
            run.forEach((a, i) => (out[String(a.rowid)] = choice[i] === "earlier" ? a.earlierText : a.laterText));
        }
    }
    return out;
}

type Reading = "earlier" | "later";

/**
 * Which reading each of one pool's run of values in the repeated hour is (rowid order), given
 * the instants of the rows just before and after it; undefined when the order does not decide.
 */
export function decideRun(run: readonly Ambiguous[], previous: number | undefined, next: number | undefined): Reading[] | undefined {
    const drops = run.flatMap((a, i) => (i > 0 && a.local < run[i - 1].local ? [i] : []));
    let choice: Reading[];
    if (drops.length === 1) choice = run.map((_, i) => (i < drops[0] ? "earlier" : "later"));
    else if (drops.length > 1) return undefined;
    else if (previous !== undefined && previous > run[0].earlier) choice = run.map(() => "later");
    else if (next !== undefined && next < run[run.length - 1].later) choice = run.map(() => "earlier");
    else return undefined;
    // The neighbours must agree: the instants never go back.
    const sequence = [previous, ...run.map((a, i) => a[choice[i]]), next].filter((x): x is number => x !== undefined);
    return sequence.every((x, i) => i === 0 || x >= sequence[i - 1]) ? choice : undefined;
}

function ambiguous(rowid: bigint, value: RawValue, zone: string): (Ambiguous & { earlierText: string; laterText: string }) | undefined {
    if (value === null) return undefined;
    const p = parseTimestamp(value as SqliteValue);
    if (typeof p === "string" || p.kind !== "naive") return undefined;
    const r = localToUtc(zone, p.localSeconds);
    if (r.kind !== "ambiguous" || r.otherEpochSeconds === undefined) return undefined;
    const [earlier, later] = [Math.min(r.epochSeconds, r.otherEpochSeconds), Math.max(r.epochSeconds, r.otherEpochSeconds)];
    const fraction = p.micros / 1e6;
    return {
        rowid,
        local: p.localSeconds + fraction,
        earlier: earlier + fraction,
        later: later + fraction,
        earlierText: formatTimestamp({ epochSeconds: earlier, micros: p.micros }),
        laterText: formatTimestamp({ epochSeconds: later, micros: p.micros }),
    };
}

/** A neighbour's instant, when its value names exactly one. */
function exactInstant(value: RawValue, zone: string): number | undefined {
    if (value === null) return undefined;
    const p = parseTimestamp(value as SqliteValue);
    if (typeof p === "string") return undefined;
    if (p.kind === "absolute") return p.epochSeconds + p.micros / 1e6;
    const r = localToUtc(zone, p.localSeconds);
    return r.kind === "exact" ? r.epochSeconds + p.micros / 1e6 : undefined;
}

function localSecondsOf(value: RawValue | undefined): number | undefined {
    if (value === null || value === undefined) return undefined;
    const p = parseTimestamp(value as SqliteValue);
    if (typeof p === "string") return undefined;
    return p.kind === "naive" ? p.localSeconds : p.epochSeconds;
}

/** Local seconds as the collector writes them, to the second: `YYYY-MM-DD HH:MM:SS`. */
const wallText = (local: number) => formatTimestamp({ epochSeconds: local, micros: 0 }).slice(0, 19);
