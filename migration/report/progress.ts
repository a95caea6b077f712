/** Turns "rows done so far" into throttled progress events with rate and ETA. */
import type { MigrationLogger } from "../options";

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
