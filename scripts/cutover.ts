#!/usr/bin/env -S npx tsx
/**
 * The cutover runbook as a zx script (also `gecko-pg cutover`): drives migration/cutover
 * step by step, each step logged with its time and result, and runs the operator's hooks
 * (`--stop-collector CMD`, `--start-collector CMD`) through zx's shell. docs/runbook.md says
 * what each step guarantees and how to stop halfway.
 */
import * as path from "node:path";
import { runCutover, type CutoverReport } from "../migration/cutover/cutover";
import {
    CommandStopped,
    DEBUG_HELP,
    KEEP_PAGES_HELP,
    keepPagesBytes,
    parseFlags,
    runMain,
    SOURCE_TABLE_FLAGS,
    SOURCE_TARGET_FLAGS,
    stopSignal,
    type FlagSpec,
    saveReport,
} from "./lib/cli";

/** How long a stopped cutover may take to start the collector again before the process exits anyway. */
const RESTART_GRACE_MS = 120_000;
import { int, migrationInputFrom, str, targetFrom, UsageError, type Flags } from "./lib/options";
import { terminalLogger } from "./lib/terminal";
import { $, chalk } from "./lib/zx";

export const CUTOVER_HELP = `Usage: gecko-pg cutover [options]
       npx tsx scripts/cutover.ts [options]   (the same runbook script)

cutover: move the running collector from the SQLite file to PostgreSQL with a short write freeze:
  preflight    target migrated and validated, the collector's configuration found, a way to stop it
  catch-up     sync passes until one fits in half the freeze budget
  freeze       take the SQLite write lock (the collector's writes wait, they do not fail), final sync
               pass, proof that nothing committed, --stop-collector; on a budget overrun: release,
               back off, catch up, try again (--attempts)
  verify       nothing committed after the final pass; the changed tables checked against their checksums
  record       the cutover recorded in PostgreSQL (gecko_migration.cutovers)
  configure    --collector-config points the collector at PostgreSQL (the old file kept beside it)
  start        --start-collector
  Any step before 'record' can fail or be interrupted safely: the collector stays on SQLite (started again
  with --start-collector when it had been stopped). A rerun after 'record' finishes what is left.

Cutover
  --stop-collector CMD       shell command that stops the collector (run while the lock is held)
  --start-collector CMD      shell command that starts it (after its configuration names PostgreSQL)
  --collector-stopped        the collector is stopped already (instead of --stop-collector)
  --collector-config FILE    the collector's config.yaml (its database: block is replaced) or *.env file
  --freeze-seconds S         longest the collector's writes may wait (default 2)
  --lock-wait-ms N           longest to wait for the collector's write in progress (default 5000)
  --attempts N               freeze attempts (default 5)
  --catch-up-passes N        sync passes before the first freeze at most (default 20)
${KEEP_PAGES_HELP}
  --app-role NAME            the collector's role in the configuration written (default gecko_collector)
  env GECKO_COLLECTOR_PASSWORD  its password, written into the configuration (mode 0600); without it the
                             URL carries none (the collector then needs PGPASSWORD or ~/.pgpass)
  --dry-run                  everything up to the freeze, then say what would be done

Source and target as for sync (--sqlite, GECKO_TARGET_URL, --source-time-zone, ...; see gecko-pg sync --help).
  --report PATH              the JSON report (default reports/cutover-<time>.json)
  --json                     print the JSON report
${DEBUG_HELP}

Exit status: 0 cut over (or --dry-run ok), 2 usage error, 3 not cut over (the report says at which step and why),
130/143 stopped by SIGINT/SIGTERM before its next step: nothing switched, the lock released, a collector the
stop hook stopped started again on SQLite (a second signal ends it at once; after the switch is recorded a
signal waits for the configuration and the start hook). See docs/runbook.md, stopping halfway.
`;

export const CUTOVER_FLAGS: FlagSpec = {
    boolean: ["json", "quiet", "dry-run", "collector-stopped", ...SOURCE_TABLE_FLAGS],
    string: [
        ...SOURCE_TARGET_FLAGS,
        "orphans",
        "stop-collector",
        "start-collector",
        "collector-config",
        "freeze-seconds",
        "lock-wait-ms",
        "attempts",
        "catch-up-passes",
        "keep-pages-mib",
    ],
};

/** A hook: the operator's shell command through zx; its failure names the command and its output. */
export function shellHook(what: string, command: string | undefined): (() => Promise<void>) | undefined {
    if (!command) return undefined;
    return async () => {
        const out = await $`sh -c ${command}`.nothrow();
        if (out.exitCode !== 0) throw new Error(`${what} (${command}) exited ${out.exitCode}: ${out.stderr.trim() || out.stdout.trim()}`);
    };
}

export async function cutoverCommand(flags: Flags): Promise<number> {
    if (flags.help) {
        process.stdout.write(CUTOVER_HELP);
        return 0;
    }
    const input = migrationInputFrom(flags);
    const target = targetFrom(flags);
    const freezeSeconds = Number(str(flags, "freeze-seconds") ?? 2);
    if (!(freezeSeconds > 0)) throw new UsageError("--freeze-seconds must be a positive number");
    const configPath = str(flags, "collector-config");
    const logger = terminalLogger({ quiet: Boolean(flags.quiet) });
    const report = await runCutover({
        input,
        freezeBudgetSeconds: freezeSeconds,
        lockWaitMs: int(flags, "lock-wait-ms", 5000),
        attempts: Math.max(1, int(flags, "attempts", 5)),
        catchUpPasses: Math.max(1, int(flags, "catch-up-passes", 20)),
        keepPagesBytes: keepPagesBytes(flags),
        collectorConfigPath: configPath && path.resolve(configPath),
        collector: {
            postgres: {
                host: target.host,
                port: target.port,
                database: target.database,
                user: str(flags, "app-role") ?? "gecko_collector",
            },
            password: process.env.GECKO_COLLECTOR_PASSWORD ?? "",
        },
        stopCollector: shellHook("--stop-collector", str(flags, "stop-collector")),
        startCollector: shellHook("--start-collector", str(flags, "start-collector")),
        collectorStopped: Boolean(flags["collector-stopped"]),
        dryRun: Boolean(flags["dry-run"]),
        logger,
        // The start hook may run after a stop: give it time before the process exits anyway.
        signal: stopSignal(RESTART_GRACE_MS),
    });
    const file = await saveReport(flags, "cutover", report);
    process.stdout.write((flags.json ? JSON.stringify(report, null, 2) : renderCutoverReport(report)) + "\n");
    if (report.interrupted) throw new CommandStopped(`${report.error} (report: ${file})`, true);
    process.stderr.write(`${report.ok ? chalk.green("OK") : chalk.red("NOT CUT OVER")}: report: ${file}\n`);
    return report.ok ? 0 : 3;
}

export function renderCutoverReport(r: CutoverReport): string {
    const lines = [`gecko-pg cutover ${r.ok ? (r.dryRun ? "DRY RUN OK" : "OK") : "FAILED"}  (${r.startedAt} -> ${r.finishedAt})`];
    lines.push(`source  ${r.source}`, `target  ${r.target}`);
    for (const s of r.steps)
        lines.push(`  ${s.ok ? "ok  " : "FAIL"} ${s.step.padEnd(18)} ${s.seconds.toFixed(2).padStart(7)} s  ${s.detail}`);
    for (const a of r.attempts) {
        lines.push(
            `  freeze attempt ${a.attempt}: ${a.outcome}; writes waited ${a.heldSeconds.toFixed(2)} s (lock wait ${a.lockWaitMs} ms, final pass ${a.finalPassSeconds.toFixed(2)} s, ${a.finalPassChanges} changes)`,
        );
    }
    if (r.cutover) lines.push(`cutover #${r.cutover.id} at ${r.cutover.switchedAt}${r.resumed ? " (finished by this run)" : ""}`);
    if (r.error) lines.push(`not cut over: ${r.error}`);
    lines.push(`total ${r.totalSeconds.toFixed(2)} s`);
    return lines.join("\n");
}

if (require.main === module) runMain(async (argv) => cutoverCommand(parseFlags(argv, CUTOVER_FLAGS)));
