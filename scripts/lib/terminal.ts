/** Terminal rendering shared by the scripts: progress lines and a logger. */
import { chalk } from "./zx";
import type { MigrationLogger } from "../../migration/data/options";
import { progressLine } from "../../migration/data/report/progress";

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
