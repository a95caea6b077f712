/**
 * Child runner for the throughput benchmark: one `runMigration` in its own
 * process, so its memory and CPU are measured apart from the harness.
 *
 *   GECKO_BENCH_TARGET_URL=postgresql://... node --import tsx scripts/bench/runGeckoPg.ts \
 *     --sqlite FILE --report OUT.json [--owner-role R] [--app-role R] [--source-time-zone Z] [--convert-workers N] [--quiet]
 *
 * The target (with its password) comes from the environment only. Writes the
 * report JSON to --report; exit 0 when the report is ok, 1 when not, 3 on a run error.
 */
import * as fs from "node:fs";
import { parseConnectionUrl } from "../../migration/postgres/connection";
import { runMigration } from "../../migration/data/run/runMigration";
import { int, str, UsageError, type Flags } from "../lib/options";
import { terminalLogger } from "../lib/terminal";
import { minimist } from "../lib/zx";

async function main(argv: string[]): Promise<number> {
    const flags = minimist(argv, {
        boolean: ["quiet"],
        string: ["sqlite", "report", "owner-role", "app-role", "source-time-zone", "convert-workers"],
    }) as Flags;
    const url = process.env.GECKO_BENCH_TARGET_URL;
    if (!url) throw new UsageError("GECKO_BENCH_TARGET_URL is not set");
    const sqlitePath = str(flags, "sqlite");
    const reportPath = str(flags, "report");
    if (!sqlitePath || !reportPath) throw new UsageError("--sqlite and --report are required");
    const report = await runMigration(
        {
            sqlitePath,
            target: parseConnectionUrl(url),
            ownerRole: str(flags, "owner-role") ?? "gecko_owner",
            appRole: str(flags, "app-role") ?? "gecko_collector",
            sourceTimeZone: str(flags, "source-time-zone") ?? "UTC",
            ...(str(flags, "convert-workers") === undefined ? {} : { convertWorkers: int(flags, "convert-workers", 0) }),
        },
        terminalLogger({ quiet: Boolean(flags.quiet) }),
    );
    fs.writeFileSync(reportPath, JSON.stringify(report, null, 2));
    return report.ok ? 0 : 1;
}

main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
        process.stderr.write(`error: ${(err as Error).message}\n`);
        for (let c = (err as Error).cause as Error | undefined; c; c = c.cause as Error | undefined)
            process.stderr.write(`  caused by: ${c.message}\n`);
        process.exit(err instanceof UsageError ? 2 : 3);
    },
);
