/** What every script's entry point shares: flag parsing and how a failure ends the process. */
import { SourceError } from "../../migration/data/source/sourceFile";
import { int, str, UsageError, type Flags } from "./options";
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
    "repair",
    "ambiguous-time",
    "report",
] as const;

/** The boolean options of what is read from the source (scripts/lib/options.ts reads them). */
export const SOURCE_TABLE_FLAGS = ["allow-missing-tables", "include-extra-tables"] as const;

/** `--keep-pages-mib N`: the most memory a sync pass may keep the file's pages in for the next pass (unset: the default). */
export const keepPagesBytes = (flags: Flags): number | undefined =>
    str(flags, "keep-pages-mib") === undefined ? undefined : int(flags, "keep-pages-mib", 0) * 1024 * 1024;

export const KEEP_PAGES_HELP = `  --keep-pages-mib N         memory for keeping the file's pages between passes in this process (about the
                             file's size), so the next pass compares bytes and finds deletes without a
                             census (default: a quarter of this machine's memory; 0: keep nothing)`;

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
            // Bad input (a flag, or a source file that cannot be the collector's) exits 2; a fault exits 3.
            const usage = err instanceof UsageError || err instanceof SourceError;
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
