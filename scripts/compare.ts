#!/usr/bin/env -S npx tsx
/**
 * `gecko-pg compare` (also runnable alone): the collector's reads on the SQLite file and on
 * PostgreSQL, side by side (migration/compare, docs/compare.md). Writes the JSON report, prints
 * the table or the JSON, and exits 0 when no query differs.
 */

import { runCompare } from "../migration/compare/runCompare";
import { renderCompareReport } from "../migration/compare/render";
import { exitStatusOf } from "../migration/compare/report";
import { DEBUG_HELP, parseFlags, runMain, SOURCE_TARGET_FLAGS, type FlagSpec, saveReport } from "./lib/cli";
import { int, list, migrationInputFrom, UsageError, type Flags } from "./lib/options";
import { terminalLogger } from "./lib/terminal";
import { chalk, fs } from "./lib/zx";

export const COMPARE_HELP = `Usage: gecko-pg compare [options]
       npx tsx scripts/compare.ts [options]   (the same command)

compare: run the collector's read queries on the SQLite file and on PostgreSQL with the same parameters,
and say per query whether the collector gets the same answer from both. Read only on both sides.
  queries      its frequent reads (watchlist, pools by id, OHLCV by pool/timeframe/window, trades by pool/
               window/volume, trade ids before an insert, new-pool history, statistics, retention counts,
               discovery) and its ORM's read of every mapped column by key, for each table
  parameters   drawn from the file: the busiest and quietest pool, every timeframe, windows across an
               ohlcv_data partition bound and across each DST change of --source-time-zone, sampled keys
  answers      as the collector sees them: numerics at the declared scale, timestamps in their column's
               clock, rows compared as sets where ORDER BY is absent or ties; each query runs twice per side
  verdicts     equal | null-order (equal once NULLs sort as PostgreSQL sorts them) | unstable (the query does
               not determine its rows, e.g. LIMIT without ORDER BY; PostgreSQL's rows are still ones SQLite
               could return) | different (the first differing rows, with the columns that differ)

Compare
  --pool ID                  compare this pool too (repeatable), besides the busy and quiet ones drawn
  --query PREFIX             only the queries whose id starts with PREFIX (repeatable), e.g. ohlcv. or orm.pools
  --differences N            differing rows listed per query (default 5)

Source and target as for migrate (--sqlite, GECKO_TARGET_URL, --source-time-zone, --clock, --database-time-zone;
see gecko-pg migrate --help). Run it on a file that is not being written, or right after a sync pass: rows the
collector wrote since the last pass show as differences.
  --report PATH              the JSON report (default reports/compare-<time>.json)
  --json                     print the JSON report
${DEBUG_HELP}
  --quiet                    no progress

Exit status: 0 every query equal, null-order or unstable; 1 a query differs; 2 usage error; 3 run error;
130/143 ended by SIGINT/SIGTERM.
`;

export const COMPARE_FLAGS: FlagSpec = {
    boolean: ["json", "quiet"],
    string: [...SOURCE_TARGET_FLAGS, "pool", "query", "differences"],
};

export async function compareCommand(flags: Flags): Promise<number> {
    if (flags.help) {
        process.stdout.write(COMPARE_HELP);
        return 0;
    }
    if (flags._.length) throw new UsageError(`compare takes no arguments, got '${flags._.join(" ")}'`);
    const input = migrationInputFrom(flags);
    if (!(await fs.pathExists(input.sqlitePath))) throw new UsageError(`source not found: ${input.sqlitePath}`);
    const shownDifferences = int(flags, "differences", 5);
    const logger = terminalLogger({ quiet: Boolean(flags.quiet) });
    let report;
    try {
        report = await runCompare({ input, pools: list(flags, "pool"), only: list(flags, "query"), shownDifferences, logger });
    } catch (error) {
        // A run error is one line: what failed and why, no stack.
        const message = (error as Error).message;
        process.stderr.write(chalk.red(`error: ${message.startsWith("compare: ") ? message : `compare: ${message}`}`) + "\n");
        return 3;
    }
    const file = await saveReport(flags, "compare", report);
    process.stdout.write((flags.json ? JSON.stringify(report, null, 2) : renderCompareReport(report)) + "\n");
    const s = report.summary;
    const line = `${s.equal} equal, ${s["null-order"]} null-order, ${s.unstable} unstable, ${s.different} different; report: ${file}`;
    process.stderr.write(`${report.ok ? chalk.green("OK") : chalk.red("DIFFERENT")}: ${line}\n`);
    return exitStatusOf(report);
}

if (require.main === module) runMain(async (argv) => compareCommand(parseFlags(argv, COMPARE_FLAGS)));
