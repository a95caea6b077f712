/** What every script's entry point shares: flag parsing and how a failure ends the process. */
import { UsageError, type Flags } from "./options";
import { chalk, minimist } from "./zx";

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
