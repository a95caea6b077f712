/**
 * Which clock each DATETIME column of the collector was written in, and the
 * collector host's zone: the collector stores naive wall-clock times and mixes
 * clocks per column (see collector-facts.md, "Timezones").
 */
import { canonicalTimeZone } from "./timeZone";

/** `utc`: the naive value is UTC. `local`: it is the collector host's wall clock. */
export type Clock = "utc" | "local";

export interface TimezonePolicy {
    /** Canonical IANA zone of the collector host (for `local` columns). */
    readonly hostZone: string;
    /** Clock per `table.column`, defaults merged with overrides. Columns not listed are `utc`. */
    readonly clocks: Readonly<Record<string, Clock>>;
}

export interface TimezonePolicyOptions {
    /** IANA zone of the collector host. Default `UTC`. */
    readonly hostZone?: string;
    /** Per-column clock overrides, e.g. `{ "pools.last_updated": "local" }`. */
    readonly overrides?: Readonly<Record<string, Clock>>;
}

/**
 * Default clocks from the collector's code. Everything absent here is `utc`,
 * including `pools.last_updated`: usually CURRENT_TIMESTAMP (UTC), but some
 * collector versions write local time into it; when the host is not on UTC,
 * check a sample and override to `local` if it runs ahead/behind by the offset.
 */
export const DEFAULT_CLOCKS: Readonly<Record<string, Clock>> = {
    "ohlcv_data.datetime": "local", // fromtimestamp(timestamp)
    "new_pools_history.collected_at": "local",
    "collection_metadata.last_run": "local",
    "collection_metadata.last_success": "local",
};

/** Builds a policy; throws naming the bad zone, override key or clock value. */
export function createTimezonePolicy(options: TimezonePolicyOptions = {}): TimezonePolicy {
    const hostZone = canonicalTimeZone(options.hostZone ?? "UTC");
    const clocks: Record<string, Clock> = { ...DEFAULT_CLOCKS };
    for (const [key, clock] of Object.entries(options.overrides ?? {})) {
        if (!/^[A-Za-z_][A-Za-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*$/.test(key)) {
            throw new Error(`timezone override '${key}': expected 'table.column', e.g. 'pools.last_updated'`);
        }
        if (clock !== "utc" && clock !== "local") {
            throw new Error(`timezone override '${key}': clock must be 'utc' or 'local', got '${String(clock)}'`);
        }
        clocks[key] = clock;
    }
    return { hostZone, clocks };
}

/** The clock a column was written in. */
export function clockOf(policy: TimezonePolicy, table: string, column: string): Clock {
    return Object.hasOwn(policy.clocks, `${table}.${column}`) ? policy.clocks[`${table}.${column}`]! : "utc";
}

/** The IANA zone a column's naive values are read in: `UTC`, or the host zone for `local` columns. */
export function zoneOf(policy: TimezonePolicy, table: string, column: string): string {
    return clockOf(policy, table, column) === "local" ? policy.hostZone : "UTC";
}
