/** Turns "rows done so far" into throttled progress events with rate and ETA. */
import type { MigrationLogger, ProgressEvent } from "../options";

export class ProgressMeter {
    private readonly started = Date.now();
    private lastEmit = 0;

    constructor(
        private readonly table: string,
        private readonly rowsTotal: number,
        private readonly logger: MigrationLogger,
        private readonly intervalMs = 250,
    ) {}

    update(rowsDone: number, force = false): void {
        const now = Date.now();
        if (!force && now - this.lastEmit < this.intervalMs) return;
        this.lastEmit = now;
        const seconds = (now - this.started) / 1000;
        const rate = seconds > 0 ? rowsDone / seconds : 0;
        const left = Math.max(0, this.rowsTotal - rowsDone);
        this.logger.progress?.({
            table: this.table,
            rowsDone,
            rowsTotal: this.rowsTotal,
            rowsPerSecond: rate,
            etaSeconds: rate > 0 ? left / rate : undefined,
        });
    }

    finish(rowsDone = this.rowsTotal): void {
        this.update(rowsDone, true);
    }
}

function fmtDuration(s: number | undefined): string {
    if (s === undefined || !Number.isFinite(s)) return "--";
    if (s < 60) return `${s.toFixed(0)}s`;
    return `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, "0")}s`;
}

export function progressLine(e: ProgressEvent): string {
    const pct = e.rowsTotal ? Math.min(100, (100 * e.rowsDone) / e.rowsTotal) : 100;
    return `${e.table.padEnd(20)} ${String(e.rowsDone).padStart(10)}/${e.rowsTotal} rows ${pct.toFixed(0).padStart(3)}%  ${Math.round(e.rowsPerSecond).toLocaleString("en-US")} rows/s  ETA ${fmtDuration(e.etaSeconds)}`;
}

/**
 * A logger of plain lines for a process whose output someone else shows, e.g. the Pulumi
 * provider host (the CLI passes a dynamic provider's console output through): progress at
 * most every `progressEveryMs` per table, and each table's last line.
 */
export function lineLogger(write: (line: string) => void, prefix: string, progressEveryMs = 5000): MigrationLogger {
    const last = new Map<string, number>();
    return {
        info: (m) => write(`${prefix}${m}`),
        warn: (m) => write(`${prefix}warning: ${m}`),
        progress: (e) => {
            const done = e.rowsDone >= e.rowsTotal;
            const now = Date.now();
            const previous = last.get(e.table);
            if (!done && previous !== undefined && now - previous < progressEveryMs) return;
            last.set(e.table, now);
            write(`${prefix}${progressLine(e)}`);
        },
    };
}
