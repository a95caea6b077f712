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
        boolean: ["help", "debug", ...(spec.boolean ?? [])],
        string: [...(spec.string ?? [])],
        default: { ...(spec.default ?? {}) },
        alias: { h: "help" },
        unknown: (a: string) => {
            if (a.startsWith("-")) throw new UsageError(`unknown option ${a} (see --help)`);
            return true;
        },
    }) as Flags;
}

/** `--debug` on any command: a failure prints its causes and stack, not just its one line. */
export const DEBUG_HELP = "  --debug                    on a failure, print its causes and stack trace too";

/**
 * A command that stopped and said why (its report written): a fault (exit 3, the line printed as
 * an error) or a stop asked for by SIGINT/SIGTERM (exit 130/143, the line printed as it is).
 */
export class CommandStopped extends Error {
    override readonly name = "CommandStopped";
    constructor(
        message: string,
        readonly interrupted: boolean,
        options?: ErrorOptions,
    ) {
        super(message, options);
    }

    get exitCode(): number {
        return this.interrupted ? interruptedExitCode() : 3;
    }
}

const SIGNAL_EXIT: Readonly<Record<string, number>> = { SIGINT: 130, SIGTERM: 143 };
/** Longest a command that stops gracefully may take after a signal before the process exits anyway. */
const STOP_GRACE_MS = 5000;

const stop = {
    controller: new AbortController(),
    graceful: false,
    graceMs: STOP_GRACE_MS,
    signal: undefined as NodeJS.Signals | undefined,
};

/**
 * The signal a command watches to stop at its next safe point on SIGINT/SIGTERM (then it throws
 * `CommandStopped`, interrupted). A command that never asks is ended at once by a signal:
 * the server rolls back its open transaction.
 */
export function stopSignal(graceMs = STOP_GRACE_MS): AbortSignal {
    stop.graceful = true;
    stop.graceMs = graceMs;
    return stop.controller.signal;
}

/** 130 after SIGINT, 143 after SIGTERM (128 + the signal's number, as shells report it). */
function interruptedExitCode(): number {
    return SIGNAL_EXIT[stop.signal ?? "SIGINT"];
}

function onSignal(signal: NodeJS.Signals): void {
    // A script with handlers of its own (the collector simulator, the demo's wait) stops its own way.
    if (process.listenerCount(signal) > 1) return;
    const code = SIGNAL_EXIT[signal];
    // A second signal, or a command without safe points: end now.
    if (stop.signal || !stop.graceful) {
        process.stderr.write(
            chalk.yellow(`interrupted (${signal}); open transactions are rolled back by the server; rerun to resume`) + "\n",
        );
        process.exit(code);
    }
    stop.signal = signal;
    stop.controller.abort();
    setTimeout(() => {
        process.stderr.write(chalk.yellow(`interrupted (${signal}); did not stop within ${stop.graceMs / 1000} s, exiting`) + "\n");
        process.exit(code);
    }, stop.graceMs).unref();
}

/**
 * Runs `main` and exits with its code. A failure prints one line (its causes and stack with
 * `--debug`) and exits 2 (usage) or 3 (anything else); `CommandStopped` exits with its own
 * status. Signals and errors nothing else caught (an `error` event of a lost connection) end
 * the same way, never with a bare stack trace.
 */
export function runMain(main: (argv: string[]) => Promise<number>): void {
    const debug = process.argv.includes("--debug");
    for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, onSignal);
    const fail = (err: unknown) => process.exit(reportFailure(err, debug));
    process.on("uncaughtException", fail);
    process.on("unhandledRejection", fail);
    main(process.argv.slice(2)).then((code) => process.exit(code), fail);
}

/** Prints a failure and returns the exit status it means. */
function reportFailure(err: unknown, debug: boolean): number {
    const e = err instanceof Error ? err : new Error(String(err));
    // Bad input (a flag, or a source file that cannot be the collector's) exits 2; a fault exits 3.
    const usage = e instanceof UsageError || e instanceof SourceError;
    const interrupted = e instanceof CommandStopped && e.interrupted;
    process.stderr.write((interrupted ? chalk.yellow(e.message) : chalk.red(`error: ${e.message}`)) + "\n");
    if (debug) {
        for (let c = e.cause as Error | undefined; c; c = c.cause as Error | undefined)
            process.stderr.write(chalk.dim(`  caused by: ${c.message}`) + "\n");
        process.stderr.write(chalk.dim(e.stack ?? "") + "\n");
    }
    return e instanceof CommandStopped ? e.exitCode : usage ? 2 : 3;
}

/** Writes a command's JSON report to --report, or reports/<command>-<finished time>.json; returns the path. */
export async function saveReport(flags: Flags, command: string, report: { readonly finishedAt: string }): Promise<string> {
    const file = str(flags, "report") ?? path.join("reports", `${command}-${report.finishedAt.replace(/[:.]/g, "-")}.json`);
    await fs.ensureDir(path.dirname(file));
    await fs.writeFile(file, JSON.stringify(report, null, 2));
    return file;
}
