/**
 * IANA time zone arithmetic with the runtime's ICU data (`Intl.DateTimeFormat`),
 * no tz library: UTC offsets at an instant, and naive local time -> UTC with
 * PostgreSQL's rules for DST gaps and overlaps.
 *
 * Offsets are looked up once per zone and year: the year is sampled every 6
 * hours and each change located to the second by bisection, so converting a
 * value is table arithmetic. Two offset changes less than 6 hours apart would
 * be missed (no zone has such rules in the years collector data covers).
 * ICU's tz data version can differ from the server's; for past years of
 * well-known zones they agree.
 */
import { civilFromDays, civilSeconds } from "./civil";

/** How a naive local time maps to an instant. */
export type LocalTimeKind = "exact" | "ambiguous" | "nonexistent";

export interface LocalResolution {
    /** The instant, seconds since the epoch (UTC). */
    readonly epochSeconds: number;
    /** Offset east of UTC applied, in seconds. */
    readonly offsetSeconds: number;
    readonly kind: LocalTimeKind;
    /** For an ambiguous or nonexistent time: the instant the transition's other offset gives. */
    readonly otherEpochSeconds?: number;
}

interface Transition {
    /** First instant (epoch seconds) with the new offset. */
    readonly at: number;
    readonly before: number;
    readonly after: number;
}

interface YearRules {
    /** Offset at the first second of the year (UTC). */
    readonly startOffset: number;
    /** Changes with yearStart < at <= nextYearStart, ascending. */
    readonly transitions: readonly Transition[];
}

const SAMPLE_STEP = 6 * 3600;
const zones = new Map<string, Zone>();

/**
 * Validates an IANA zone name and returns ICU's canonical spelling
 * (`america/chicago` -> `America/Chicago`). Throws a clear error otherwise.
 */
export function canonicalTimeZone(name: string): string {
    if (typeof name !== "string" || name.trim() === "")
        throw new Error("time zone: expected an IANA zone name such as 'UTC' or 'America/Chicago', got an empty value");
    // Offset strings mean opposite things in POSIX and ISO notation; insist on a zone name.
    if (/^[+-]?\d/.test(name))
        throw new Error(
            `time zone '${name}': a UTC offset is not a zone name; use an IANA name such as 'America/Chicago' (or 'Etc/GMT+6' for a fixed UTC-06:00)`,
        );
    try {
        return new Intl.DateTimeFormat("en-US", { timeZone: name }).resolvedOptions().timeZone;
    } catch (cause) {
        throw new Error(`time zone '${name}' is not a known IANA zone name (e.g. 'UTC', 'Europe/Berlin', 'America/Chicago')`, { cause });
    }
}

/** UTC offset (seconds east) of `zone` at an instant. */
export function utcOffsetAt(zone: string, epochSeconds: number): number {
    return zoneFor(zone).offsetAt(epochSeconds);
}

/**
 * The instant a naive wall-clock time in `zone` denotes, decided like
 * PostgreSQL's DetermineTimeZoneOffset:
 * - in a spring-forward gap (nonexistent time) the offset in force before
 *   the transition is used, so 02:30 on a 02:00->03:00 day becomes 03:30;
 * - in a fall-back overlap (ambiguous time) the offset in force after the
 *   transition is used, i.e. the LATER of the two instants (01:30 on a
 *   02:00->01:00 day is read as standard time).
 * `localSeconds` is the wall clock read as if it were UTC (civilSeconds).
 */
export function localToUtc(zone: string, localSeconds: number): LocalResolution {
    return zoneFor(zone).localToUtc(localSeconds);
}

/**
 * The wall-clock spans a DST fall-back repeats in `zone` between two instants, as local
 * seconds (civilSeconds): each [from, to) names two instants, one per offset.
 */
export function repeatedSpans(zone: string, fromEpoch: number, toEpoch: number): { readonly from: number; readonly to: number }[] {
    return zoneFor(zone).repeatedSpans(fromEpoch, toEpoch);
}

function zoneFor(name: string): Zone {
    let zone = zones.get(name);
    if (!zone) {
        zone = new Zone(canonicalTimeZone(name));
        zones.set(name, zone);
    }
    return zone;
}

class Zone {
    private readonly format: Intl.DateTimeFormat | undefined;
    private readonly years = new Map<number, YearRules>();

    constructor(name: string) {
        this.format =
            name === "UTC" || name === "Etc/UTC"
                ? undefined
                : new Intl.DateTimeFormat("en-US", {
                      timeZone: name,
                      hourCycle: "h23",
                      era: "short",
                      year: "numeric",
                      month: "numeric",
                      day: "numeric",
                      hour: "numeric",
                      minute: "numeric",
                      second: "numeric",
                  });
    }

    offsetAt(t: number): number {
        if (!this.format) return 0;
        const rules = this.rulesOf(yearOf(t));
        let offset = rules.startOffset;
        for (const tr of rules.transitions) {
            if (tr.at > t) break;
            offset = tr.after;
        }
        return offset;
    }

    localToUtc(local: number): LocalResolution {
        if (!this.format) return { epochSeconds: local, offsetSeconds: 0, kind: "exact" };
        // PostgreSQL looks for the first transition after (local - 1 day) read as an instant.
        const from = local - 86400;
        const tr = this.nextTransition(from, 3 * 86400);
        let offset: number;
        if (!tr) offset = this.offsetAt(from);
        else {
            const beforeTime = local - tr.before;
            const afterTime = local - tr.after;
            if (beforeTime < tr.at && afterTime < tr.at) offset = tr.before;
            else if (beforeTime > tr.at && afterTime >= tr.at) offset = tr.after;
            else offset = beforeTime > afterTime ? tr.before : tr.after; // gap: before; overlap: after
        }
        const kind = this.classify(local, tr);
        if (kind === "exact" || !tr) return { epochSeconds: local - offset, offsetSeconds: offset, kind };
        const other = offset === tr.before ? tr.after : tr.before;
        return { epochSeconds: local - offset, offsetSeconds: offset, kind, otherEpochSeconds: local - other };
    }

    private classify(local: number, tr: Transition | undefined): LocalTimeKind {
        if (!tr || tr.before === tr.after) return "exact";
        const valid = [tr.before, tr.after].filter((o) => this.offsetAt(local - o) === o).length;
        return valid === 2 ? "ambiguous" : valid === 0 ? "nonexistent" : "exact";
    }

    /** First transition with from < at <= from + within. */
    private nextTransition(from: number, within: number): Transition | undefined {
        for (const year of [yearOf(from), yearOf(from) + 1]) {
            for (const tr of this.rulesOf(year).transitions) {
                if (tr.at > from + within) return undefined;
                if (tr.at > from) return tr;
            }
        }
        return undefined;
    }

    repeatedSpans(fromEpoch: number, toEpoch: number): { from: number; to: number }[] {
        if (!this.format) return [];
        const out: { from: number; to: number }[] = [];
        for (let year = yearOf(fromEpoch); year <= yearOf(toEpoch); year++)
            for (const tr of this.rulesOf(year).transitions)
                if (tr.after < tr.before && tr.at >= fromEpoch && tr.at <= toEpoch)
                    out.push({ from: tr.at + tr.after, to: tr.at + tr.before });
        return out;
    }

    private rulesOf(year: number): YearRules {
        let rules = this.years.get(year);
        if (!rules) {
            rules = this.scanYear(year);
            this.years.set(year, rules);
        }
        return rules;
    }

    private scanYear(year: number): YearRules {
        const start = civilSeconds(year, 1, 1, 0, 0, 0);
        const end = civilSeconds(year + 1, 1, 1, 0, 0, 0);
        const startOffset = this.intlOffset(start);
        const transitions: Transition[] = [];
        let prevT = start;
        let prevOffset = startOffset;
        for (let t = Math.min(start + SAMPLE_STEP, end); ; t = Math.min(t + SAMPLE_STEP, end)) {
            const offset = this.intlOffset(t);
            if (offset !== prevOffset) {
                let lo = prevT; // offset(lo) === prevOffset, offset(hi) !== prevOffset
                let hi = t;
                while (hi - lo > 1) {
                    const mid = Math.floor((lo + hi) / 2);
                    if (this.intlOffset(mid) === prevOffset) lo = mid;
                    else hi = mid;
                }
                transitions.push({ at: hi, before: prevOffset, after: offset });
            }
            prevT = t;
            prevOffset = offset;
            if (t === end) break;
        }
        return { startOffset, transitions };
    }

    private intlOffset(t: number): number {
        const parts: Record<string, string> = {};
        for (const p of this.format!.formatToParts(new Date(t * 1000))) parts[p.type] = p.value;
        const year = parts.era === "BC" || parts.era === "B" ? 1 - Number(parts.year) : Number(parts.year);
        return (
            civilSeconds(year, Number(parts.month), Number(parts.day), Number(parts.hour), Number(parts.minute), Number(parts.second)) - t
        );
    }
}

function yearOf(epochSeconds: number): number {
    return civilFromDays(Math.floor(epochSeconds / 86400)).year;
}
