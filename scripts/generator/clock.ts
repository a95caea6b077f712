/**
 * Datetime text exactly as the collector writes it, and the host-local wall
 * clock some of its columns use.
 *
 * Instants are epoch microseconds (exact in a float64 until year 2255). A
 * "wall" value is the same kind of number read as naive fields: for UTC
 * columns it equals the instant, for local columns it is shifted by the host
 * zone's offset at that instant.
 */

const pad2 = (n: number) => (n < 10 ? "0" : "") + n;

// Millions of rows each format two datetimes: date text is cached per day, the time computed by arithmetic.
const days = new Map<number, string>();

function dayText(day: number): string {
    let text = days.get(day);
    if (text === undefined) {
        const d = new Date(day * 86_400_000);
        text = `${d.getUTCFullYear()}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())}`;
        if (days.size > 100_000) days.clear();
        days.set(day, text);
    }
    return text;
}

function secondsText(sec: number): string {
    const day = Math.floor(sec / 86_400);
    let s = sec - day * 86_400;
    const h = Math.floor(s / 3600);
    s -= h * 3600;
    const m = Math.floor(s / 60);
    s -= m * 60;
    return `${dayText(day)} ${pad2(h)}:${pad2(m)}:${pad2(s)}`;
}

/** `YYYY-MM-DD HH:MM:SS.ffffff`: how SQLAlchemy stores a Python datetime (always 6 fraction digits, offset dropped). */
export function pythonText(wallUs: number): string {
    const sec = Math.floor(wallUs / 1e6);
    const micro = wallUs - sec * 1e6;
    return `${secondsText(sec)}.${micro < 100_000 ? String(micro).padStart(6, "0") : micro}`;
}

/** `YYYY-MM-DD HH:MM:SS`: how SQLite's CURRENT_TIMESTAMP is stored (UTC, no fraction). */
export function sqliteText(wallUs: number): string {
    return secondsText(Math.floor(wallUs / 1e6));
}

/** ISO-8601 variants found in hand-edited rows. */
export function isoText(wallUs: number, suffix: "" | "Z" | "+00:00", separator: "T" | " ", fraction: boolean): string {
    const text = fraction ? pythonText(wallUs) : sqliteText(wallUs);
    return text.replace(" ", separator) + suffix;
}

/** Parses either collector shape back into wall microseconds (naive fields read as UTC). */
export function parseNaiveText(text: string): number {
    const m = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?$/.exec(text);
    if (!m) throw new Error(`not a collector datetime: '${text}'`);
    const ms = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]);
    return ms * 1000 + (m[7] ? Number(m[7].padEnd(6, "0")) : 0);
}

/** Checks an IANA zone name, throwing an error that names the option. */
export function assertTimeZone(zone: string): void {
    try {
        new Intl.DateTimeFormat("en-US", { timeZone: zone });
    } catch (cause) {
        throw new Error(`hostTimeZone '${zone}' is not a valid IANA time zone`, { cause });
    }
}

/**
 * The collector host's wall clock (Python's `datetime.fromtimestamp`/`now()`).
 * Offsets come from Intl and are cached per 15-minute bucket: every real zone
 * changes offset on a quarter hour, and Intl is far too slow to call per row.
 */
export class LocalClock {
    private readonly format: Intl.DateTimeFormat | null;
    private readonly offsets = new Map<number, number>();
    private lastBucket = NaN;
    private lastOffset = 0;

    constructor(readonly zone: string) {
        assertTimeZone(zone);
        this.format =
            zone === "UTC"
                ? null
                : new Intl.DateTimeFormat("en-US", {
                      timeZone: zone,
                      hourCycle: "h23",
                      year: "numeric",
                      month: "2-digit",
                      day: "2-digit",
                      hour: "2-digit",
                      minute: "2-digit",
                      second: "2-digit",
                  });
    }

    /** Zone offset in milliseconds at the instant `epochMs` (local = UTC + offset). */
    offsetMs(epochMs: number): number {
        if (!this.format) return 0;
        const bucket = Math.floor(epochMs / 900_000);
        if (bucket === this.lastBucket) return this.lastOffset;
        let offset = this.offsets.get(bucket);
        if (offset === undefined) {
            const at = bucket * 900_000;
            const parts: Record<string, number> = {};
            for (const p of this.format.formatToParts(new Date(at))) {
                if (p.type !== "literal") parts[p.type] = Number(p.value);
            }
            offset = Date.UTC(parts.year, parts.month - 1, parts.day, parts.hour, parts.minute, parts.second) - at;
            this.offsets.set(bucket, offset);
        }
        this.lastBucket = bucket;
        this.lastOffset = offset;
        return offset;
    }

    /** The host's naive wall clock for an instant, in microseconds. */
    wallUs(epochUs: number): number {
        return epochUs + this.offsetMs(Math.floor(epochUs / 1000)) * 1000;
    }
}
