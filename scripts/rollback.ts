#!/usr/bin/env -S npx tsx
/**
 * The rollback as a zx script (also `gecko-pg rollback`): after a cutover, every row the
 * collector wrote to PostgreSQL goes back into the SQLite file, and the collector back to the
 * file. The hooks run through zx's shell. docs/runbook.md#rollback says what it guarantees.
 */
import * as path from "node:path";
import { runRollback, type RollbackReport } from "../migration/rollback/rollback";
import { DEBUG_HELP, parseFlags, runMain, SOURCE_TARGET_FLAGS, type FlagSpec, saveReport } from "./lib/cli";
import { migrationInputFrom, str, targetFrom, UsageError, type Flags } from "./lib/options";
import { terminalLogger } from "./lib/terminal";
import { chalk } from "./lib/zx";
import { shellHook } from "./cutover";

export const ROLLBACK_HELP = `Usage: gecko-pg rollback [options]
       npx tsx scripts/rollback.ts [options]   (the same script)

rollback: after a cutover, bring every row the collector inserted, updated or deleted in PostgreSQL
back into the SQLite file (its own storage format: REAL numerics, its datetime text in each column's
clock, 0/1 booleans, JSON text, the same ids), then point the collector at the file again:
  preflight           a cutover recorded; a way to stop the collector
  stop-collector      --stop-collector (the collector, now on PostgreSQL)
  restore-unfinished  an earlier rollback that was interrupted: its backup goes back first
  check-sqlite        the file unchanged since the cutover (else refused, see --accept-sqlite-changes)
  backup              a byte-for-byte copy of the file and its WAL into --backup DIR, under the write lock
  write-back          one SQLite transaction; a key changed in both stores is a conflict, never overwritten
  finish              change capture removed, the rollback recorded (sync works again)
  configure / start   --collector-config names the SQLite file again; --start-collector

Rollback
  --backup DIR               where the backup goes (required; a new or empty directory)
  --stop-collector CMD       shell command that stops the collector
  --start-collector CMD      shell command that starts it (after its configuration names the file)
  --collector-stopped        the collector is stopped already (instead of --stop-collector)
  --collector-config FILE    the collector's config.yaml or *.env to point at the SQLite file again
  --accept-sqlite-changes    write back although the file changed after the cutover (conflicting keys still skipped)

Source and target as for sync (--sqlite, GECKO_TARGET_URL, --source-time-zone, --clock, ...).
  --report PATH              the JSON report (default reports/rollback-<time>.json)
  --json                     print the JSON report
${DEBUG_HELP}

Exit status: 0 rolled back, 1 rolled back with conflicts to settle (listed), 2 usage error, 3 not rolled back,
130/143 ended by SIGINT/SIGTERM (a rerun restores an unfinished rollback's backup first).
`;

export const ROLLBACK_FLAGS: FlagSpec = {
    boolean: ["json", "quiet", "collector-stopped", "accept-sqlite-changes"],
    string: [...SOURCE_TARGET_FLAGS, "backup", "stop-collector", "start-collector", "collector-config"],
};

export async function rollbackCommand(flags: Flags): Promise<number> {
    if (flags.help) {
        process.stdout.write(ROLLBACK_HELP);
        return 0;
    }
    const backup = str(flags, "backup");
    if (!backup) throw new UsageError("--backup DIR is required: the file's backup goes there before anything is written");
    const input = migrationInputFrom(flags);
    const target = targetFrom(flags);
    const configPath = str(flags, "collector-config");
    const report = await runRollback({
        input,
        backupDir: path.resolve(backup),
        collectorConfigPath: configPath && path.resolve(configPath),
        collector: {
            postgres: {
                host: target.host,
                port: target.port,
                database: target.database,
                user: str(flags, "app-role") ?? "gecko_collector",
            },
        },
        stopCollector: shellHook("--stop-collector", str(flags, "stop-collector")),
        startCollector: shellHook("--start-collector", str(flags, "start-collector")),
        collectorStopped: Boolean(flags["collector-stopped"]),
        acceptSqliteChanges: Boolean(flags["accept-sqlite-changes"]),
        logger: terminalLogger({ quiet: Boolean(flags.quiet) }),
    });
    const file = await saveReport(flags, "rollback", report);
    process.stdout.write((flags.json ? JSON.stringify(report, null, 2) : renderRollbackReport(report)) + "\n");
    process.stderr.write(`${report.ok ? chalk.green("OK") : chalk.red(report.error ? "NOT ROLLED BACK" : "CONFLICTS")}: report: ${file}\n`);
    return report.ok ? 0 : report.error ? 3 : 1;
}

export function renderRollbackReport(r: RollbackReport): string {
    const lines = [`gecko-pg rollback ${r.ok ? "OK" : r.error ? "FAILED" : "DONE WITH CONFLICTS"}  (${r.startedAt} -> ${r.finishedAt})`];
    lines.push(`source  ${r.source}`, `target  ${r.target}`);
    for (const s of r.steps)
        lines.push(`  ${s.ok ? "ok  " : "FAIL"} ${s.step.padEnd(18)} ${s.seconds.toFixed(2).padStart(7)} s  ${s.detail}`);
    for (const [table, t] of Object.entries(r.tables)) {
        if (t.upserted + t.deleted)
            lines.push(
                `  ${table}: ${t.upserted} written back, ${t.deleted} deleted${t.numericsAsText ? `, ${t.numericsAsText} numerics kept exact as text` : ""}`,
            );
    }
    for (const c of r.conflicts)
        lines.push(`  conflict: ${c.table} ${c.key} changed in both stores after the cutover; the file's row was kept`);
    for (const v of r.inexact) lines.push(`  inexact: ${v.table} ${v.key} ${v.column} = ${v.value}: ${v.reason}`);
    if (r.backup)
        lines.push(
            `backup  ${r.backup.dir} (${r.backup.files.map((f) => `${path.basename(f.original)} sha256 ${f.sha256.slice(0, 16)}…`).join(", ")})`,
        );
    if (r.error) lines.push(`not rolled back: ${r.error}`);
    return lines.join("\n");
}

if (require.main === module) runMain(async (argv) => rollbackCommand(parseFlags(argv, ROLLBACK_FLAGS)));
