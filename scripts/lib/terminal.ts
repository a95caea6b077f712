/** Terminal rendering shared by the scripts: progress lines and a logger. */
import { chalk } from "./zx";
import type { MigrationLogger, ProgressEvent } from "../../migration/options";

function fmtDuration(s: number | undefined): string {
    if (s === undefined || !Number.isFinite(s)) return "--";
    if (s < 60) return `${s.toFixed(0)}s`;
    return `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, "0")}s`;
}

export function progressLine(e: ProgressEvent): string {
    const pct = e.rowsTotal ? Math.min(100, (100 * e.rowsDone) / e.rowsTotal) : 100;
    return `${e.table.padEnd(20)} ${String(e.rowsDone).padStart(10)}/${e.rowsTotal} rows ${pct.toFixed(0).padStart(3)}%  ${Math.round(e.rowsPerSecond).toLocaleString("en-US")} rows/s  ETA ${fmtDuration(e.etaSeconds)}`;
}

/** Logs to stderr (stdout stays clean for --json); progress redraws one line on a TTY. */
export function terminalLogger(opts: { quiet?: boolean } = {}): MigrationLogger {
    const tty = Boolean(process.stderr.isTTY);
    let lastPlain = 0;
    let open = false;
    const clear = () => {
        if (open) process.stderr.write("\n");
        open = false;
    };
    return {
        info: (m) => {
            if (opts.quiet) return;
            clear();
            process.stderr.write(chalk.dim(m) + "\n");
        },
        warn: (m) => {
            clear();
            process.stderr.write(chalk.yellow(`warning: ${m}`) + "\n");
        },
        progress: (e) => {
            if (opts.quiet) return;
            const done = e.rowsDone >= e.rowsTotal;
            if (tty) {
                process.stderr.write("\r" + progressLine(e));
                open = true;
                if (done) clear();
            } else if (done || Date.now() - lastPlain > 2000) {
                lastPlain = Date.now();
                process.stderr.write(progressLine(e) + "\n");
            }
        },
    };
}
