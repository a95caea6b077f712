/** What every script's entry point shares: flag parsing and how a failure ends the process. */
import { str, UsageError, type Flags } from "./options";
import * as path from "node:path";
import { chalk, fs, minimist } from "./zx";

/** The options every command that reads the source and writes the target takes (scripts/lib/options.ts reads them). */
export const SOURCE_TARGET_FLAGS = [
    "sqlite",
    "target",
    "host",
    "port",
    "user",
    "database",
    "sslmode",
    "owner-role",
    "app-role",
    "source-time-zone",
    "database-time-zone",
    "clock",
    "report",
] as const;

export interface FlagSpec {
    readonly boolean?: readonly string[];
    readonly string?: readonly string[];
    readonly default?: Readonly<Record<string, unknown>>;
}

/** minimist with `-h` for `--help` and unknown options refused. */
export function parseFlags(argv: readonly string[], spec: FlagSpec): Flags {
    return minimist([...argv], {
        boolean: ["help", ...(spec.boolean ?? [])],
        string: [...(spec.string ?? [])],
        default: { ...(spec.default ?? {}) },
        alias: { h: "help" },
        unknown: (a: string) => {
            if (a.startsWith("-")) throw new UsageError(`unknown option ${a} (see --help)`);
            return true;
        },
    }) as Flags;
}

/**
 * Runs `main` and exits with its code; an error prints its message and its
 * causes and exits 2 (usage) or 3 (anything else).
 */
export function runMain(main: (argv: string[]) => Promise<number>): void {
    main(process.argv.slice(2)).then(
        (code) => process.exit(code),
        (err: unknown) => {
            const usage = err instanceof UsageError;
            process.stderr.write(chalk.red(`error: ${(err as Error).message}`) + "\n");
            for (let c = (err as Error).cause as Error | undefined; c && !usage; c = c.cause as Error | undefined) {
                process.stderr.write(chalk.dim(`  caused by: ${c.message}`) + "\n");
            }
            process.exit(usage ? 2 : 3);
        },
    );
}

/** Writes a command's JSON report to --report, or reports/<command>-<finished time>.json; returns the path. */
export async function saveReport(flags: Flags, command: string, report: { readonly finishedAt: string }): Promise<string> {
    const file = str(flags, "report") ?? path.join("reports", `${command}-${report.finishedAt.replace(/[:.]/g, "-")}.json`);
    await fs.ensureDir(path.dirname(file));
    await fs.writeFile(file, JSON.stringify(report, null, 2));
    return file;
}
