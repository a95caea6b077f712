#!/usr/bin/env -S npx tsx
/**
 * The gecko-pg command line (package.json bin `gecko-pg`, and `npm run migrate --`): `migrate`, `validate`,
 * `plan`, `upgrade`, `partitions`, `sync`, `cutover` (scripts/cutover.ts), `compare` (scripts/compare.ts), `rollback` (scripts/rollback.ts), `schema-sql`, `collector-config`.
 * Orchestration only; the work is in migration/.
 */
import { Client } from "pg";
import * as path from "node:path";
import { clientConfig, describeConnection } from "../migration/postgres/connection";
import { watchConnection } from "../migration/postgres/transient";
import { planMigrationWithPreflight, renderPlan } from "../migration/data/plan/planMigration";
import { renderReport, RunStopped, runMigration, runValidation } from "../migration/data/run/runMigration";
import type { MigrationReport } from "../migration/data/report/report";
import { addFuturePartitions } from "../migration/schema/partitionMaintenance";
import { renderSchemaSql } from "../migration/schema/render";
import { upgradeTarget } from "../migration/schema/target";
import { clockOverridesFrom, int, migrationInputFrom, sqlitePathFrom, str, targetFrom, UsageError, type Flags } from "./lib/options";
import { terminalLogger } from "./lib/terminal";
import { chalk, fs } from "./lib/zx";
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
import { collectorConfig, COLLECTOR_DATABASES, renderEnv, type CollectorDatabase } from "../migration/cutover/collectorConfig";
import { renderSyncReport, syncPassRetrying, type SyncReport } from "../migration/cutover/sync";
import { finalizeCutover } from "../migration/cutover/cutoverRecord";
import { COMPARE_FLAGS, compareCommand } from "./compare";
import { CUTOVER_FLAGS, cutoverCommand } from "./cutover";
import { ROLLBACK_FLAGS, rollbackCommand } from "./rollback";

/** Option groups, shown under each command that takes them. */
const SECTIONS = {
    source: `Source
  --sqlite PATH              the collector's gecko_data.db (env GECKO_SQLITE_PATH); opened read-only
  --source-time-zone ZONE    IANA zone of the collector host, for its local-clock columns (default UTC)
  --clock table.col=utc|local  override a column's clock (repeatable)
  --ambiguous-time POLICY    a local time a DST change repeats or skips, which nothing in its row decides
                             (ohlcv_data.datetime is decided by its own timestamp): quarantine (default) |
                             earlier | later (PostgreSQL's reading)
  --repair LIST              values stored instead of set aside, counted, their raw form kept in
                             gecko_quarantine.repairs: python-repr (a Python literal in a JSON column, e.g.
                             {'fee_tier': '0.25'} or None; recovered exactly), utf8 (TEXT whose bytes are not
                             UTF-8, stored with U+FFFD for each bad sequence; lossy, never in a key). Default
                             python-repr; none sets them all aside. Give the same on every command for one target
  --allow-missing-tables     accept a file lacking some of the collector's core tables (collection_metadata,
                             dexes, ohlcv_data, pools, tokens, trades, watchlist): created empty (default: exit 2)
  --include-extra-tables     copy the file's tables the collector does not have (default: listed, not copied)`,
    target: `Target (passwords only from the environment)
  env GECKO_TARGET_URL       postgresql://user:password@host:port/gecko_terminal_collector (or DATABASE_URL)
  --host/--port/--user/--database/--sslmode with env PGPASSWORD
  --target URL               the same URL without its password (refused with one), the password from env PGPASSWORD
  --owner-role NAME          role owning the tables (default gecko_owner); the user must be able to SET ROLE to it
  --app-role NAME            the collector's role (default gecko_collector)
  --database-time-zone ZONE  TimeZone set on the database (default UTC)`,
    copy: `Copy and validation
  --chunk-rows N             rows per chunk / transaction / checkpoint (default 50000)
  --copy-lanes N             connections copying chunks at once (default 2)
  --convert-workers N        threads reading and converting rows for the lanes, all on one source
                             snapshot (default 0: the main thread converts). For machines with cores
                             to spare beyond PostgreSQL's; ~100 MB of memory each
  --orphans POLICY           rows whose foreign key has no parent: quarantine (default) | placeholder | fail
  --allow-quarantine         exit 0 even when rows were quarantined
  --sample-rows N            rows per table compared field by field (default 200)
  --retry-seconds S          how long a transient fault (lost connection, server restarting, deadlock) is
                             retried on fresh connections, resuming from the committed chunks, before the
                             run fails with exit 3 (default 60; migrate, validate, and sync's passes)`,
    partitions: `Partitions
  --months N                 months ahead (default 3)
  --from/--to EPOCH          schema-sql: the span of ohlcv_data partitions (epoch seconds; default now)`,
    sync: `Sync
  --passes N                 passes at most, stopping after one that found nothing to change (default 1)
  --full                     compare every table even when the file is as the last successful run left it
${KEEP_PAGES_HELP}
  --orphans POLICY           new rows whose parent the target lacks: quarantine (default) | fail
  --retry-seconds S          how long a pass is made again after a transient fault (lost connection, server
                             restarting, deadlock; a failed pass left nothing) before exit 3 (default 60)`,
    collector: `Collector configuration (no connection is made; the target gives host, port and database)
  --use sqlite|postgresql    which database the collector is pointed at (default postgresql)
  --sqlite PATH              the collector's SQLite file: the database for sqlite, the rollback fallback otherwise
  --app-role NAME            the collector's role (default gecko_collector)
  --show-password            print the collector's password from env GECKO_COLLECTOR_PASSWORD (hidden otherwise)
  --format text|yaml|env|json  config.yaml block and environment lines (text, default), one of them, or JSON`,
    output: `Output
  --report PATH              write the JSON report there (default reports/<command>-<time>.json)
  --json                     print JSON on stdout instead of text
  --quiet                    no progress
${DEBUG_HELP}
  -h, --help                 this help; <command> --help: that command's`,
} as const;

type Section = keyof typeof SECTIONS;

const COMMANDS: Record<string, { readonly summary: string; readonly sections: readonly Section[] }> = {
    migrate: {
        summary: `create the schema, copy the SQLite file in chunks, build indexes and foreign keys, validate
               (resumable: a rerun after a crash finishes the job; after success it copies nothing)`,
        sections: ["source", "target", "copy", "output"],
    },
    validate: {
        summary: "validate only: re-read the whole source and compare checksums, counts, samples, schema",
        sections: ["source", "target", "copy", "output"],
    },
    plan: {
        summary: `show what would be copied (tables, rows, chunks, drift, partitions, clock check); no writes.
               With a target configured, also the preflight (read-only): each object in the target of another
               shape than migrate would create, which makes migrate stop before creating anything (exit 3)`,
        sections: ["source", "target", "output"],
    },
    upgrade: {
        summary: `bring a target migrated by an earlier gecko-pg to this schema version in place (no source,
               no re-copy, no table rewrite; new indexes built CONCURRENTLY); then run validate`,
        sections: ["target", "output"],
    },
    partitions: {
        summary: "create ohlcv_data partitions from this month to --months ahead (run monthly, e.g. from cron)",
        sections: ["target", "partitions", "output"],
    },
    sync: {
        summary: `catch-up: bring a migrated target to the source's current state (inserts, in-place updates,
               deletes; rows matched by key); one transaction per pass; --passes N repeats until nothing changed`,
        sections: ["source", "target", "sync", "output"],
    },
    cutover: {
        summary: `move the running collector to PostgreSQL: catch-up passes, a write freeze of at most --freeze-seconds
               (the final pass), stop hook, verify, record, configuration, start hook (gecko-pg cutover --help)`,
        sections: [],
    },
    compare: {
        summary: `run the collector's read queries on the SQLite file and on PostgreSQL with the same parameters and say
               per query whether the answers agree: equal, null-order, unstable or different (gecko-pg compare --help)`,
        sections: [],
    },
    rollback: {
        summary: `after a cutover: every row the collector wrote to PostgreSQL back into the SQLite file (after a
               byte-for-byte backup), then the collector back to the file (gecko-pg rollback --help)`,
        sections: [],
    },
    finalize: {
        summary: "end the fallback period after a cutover: remove the change capture a rollback needs (rollback is then refused)",
        sections: ["target", "output"],
    },
    "schema-sql": { summary: "print the target schema SQL for --from/--to (epoch seconds) without connecting", sections: ["partitions"] },
    "collector-config": {
        summary: "print the collector's database configuration (config.yaml block, environment lines) for sqlite or postgresql",
        sections: ["collector", "target", "output"],
    },
};

const USAGE = "Usage: gecko-pg <command> [options]    (npx gecko-pg ..., or npm run migrate -- ...)";
const EXIT_STATUS =
    "Exit status: 0 ok, 1 validation failed or rows quarantined (without --allow-quarantine), 2 usage error or a source file that cannot be the collector's (named with the cause), 3 run error (one line naming the step; committed chunks kept, rerun to resume), 130/143 interrupted by SIGINT/SIGTERM.";

/** Every command and every option group; or one command's summary and its groups. */
function helpText(command?: string): string {
    if (command && COMMANDS[command]) {
        const c = COMMANDS[command];
        return [
            `Usage: gecko-pg ${command} [options]`,
            "",
            `${command}: ${c.summary}`,
            ...c.sections.map((s) => `\n${SECTIONS[s]}`),
            "",
            EXIT_STATUS,
            "",
        ].join("\n");
    }
    const commands = Object.entries(COMMANDS).map(
        ([name, c]) => `  ${name.padEnd(17)}${c.summary.replace(/\n {15}/g, "\n" + " ".repeat(19))}`,
    );
    return [USAGE, "", "Commands", ...commands, ...Object.values(SECTIONS).map((s) => `\n${s}`), "", EXIT_STATUS, ""].join("\n");
}

const FLAGS: FlagSpec = {
    boolean: ["json", "quiet", "allow-quarantine", "show-password", "full", ...SOURCE_TABLE_FLAGS],
    string: [
        ...SOURCE_TARGET_FLAGS,
        "orphans",
        "chunk-rows",
        "copy-lanes",
        "convert-workers",
        "sample-rows",
        "months",
        "from",
        "to",
        "format",
        "use",
        "passes",
        "keep-pages-mib",
        "retry-seconds",
    ],
};

type Logger = ReturnType<typeof terminalLogger>;

async function main(argv: string[]): Promise<number> {
    // The cutover runbook, the comparison and the rollback have their own options (scripts/<command>.ts).
    if (argv[0] === "cutover") return cutoverCommand(parseFlags(argv.slice(1), CUTOVER_FLAGS));
    if (argv[0] === "compare") return compareCommand(parseFlags(argv.slice(1), COMPARE_FLAGS));
    if (argv[0] === "rollback") return rollbackCommand(parseFlags(argv.slice(1), ROLLBACK_FLAGS));
    const flags = parseFlags(argv, FLAGS);
    const command = flags._[0];
    if (flags.help || !command) {
        process.stdout.write(helpText(command));
        return command || flags.help ? 0 : 2;
    }
    const logger = terminalLogger({ quiet: Boolean(flags.quiet) });
    switch (command) {
        case "migrate":
        case "validate":
            return migrateOrValidate(command, flags, logger);
        case "plan":
            return showPlan(flags);
        case "upgrade":
            return upgradeInPlace(flags, logger);
        case "partitions":
            return addPartitions(flags);
        case "schema-sql":
            return printSchemaSql(flags);
        case "collector-config":
            return printCollectorConfig(flags);
        case "sync":
            return syncPasses(flags, logger);
        case "finalize":
            return finalize(flags);
        default:
            throw new UsageError(`unknown command '${command}' (see --help)`);
    }
}

/** `migrate` / `validate`: after the preflight, the run and its report. */
async function migrateOrValidate(command: "migrate" | "validate", flags: Flags, logger: Logger): Promise<number> {
    const input = migrationInputFrom(flags);
    await preflight(input.sqlitePath, input.target);
    logger.info(`${command}: ${input.sqlitePath} -> ${describeConnection(input.target)}`);
    const hooks = { signal: stopSignal() };
    try {
        const report = command === "migrate" ? await runMigration(input, logger, hooks) : await runValidation(input, logger, hooks);
        return finish(command, report, flags);
    } catch (err) {
        if (!(err instanceof RunStopped)) throw err;
        const file = await saveReport(flags, command, err.report);
        // validate writes nothing but its report: there is nothing to keep, only to run again.
        const kept =
            command === "validate"
                ? "rerun to validate"
                : err.interrupted
                  ? "committed work kept; rerun to resume"
                  : "committed chunks kept, rerun to resume";
        throw new CommandStopped(`${err.message}; ${kept} (report: ${file})`, err.interrupted, { cause: err });
    }
}

/** `plan`: what would be copied, and the preflight when a target is configured; no writes. Conflicts are shown, not an error. */
async function showPlan(flags: Flags): Promise<number> {
    const input = {
        sqlitePath: sqlitePathFrom(flags),
        chunkRows: int(flags, "chunk-rows", 50_000),
        sourceTimeZone: str(flags, "source-time-zone", "GECKO_SOURCE_TIME_ZONE"),
        clockOverrides: clockOverridesFrom(flags),
        allowMissingTables: Boolean(flags["allow-missing-tables"]),
        includeExtraTables: Boolean(flags["include-extra-tables"]),
    };
    const configured =
        ["target", "host"].some((f) => str(flags, f) !== undefined) ||
        ["GECKO_TARGET_URL", "DATABASE_URL", "PGHOST"].some((e) => process.env[e]);
    const target = configured ? { connection: targetFrom(flags), ownerRole: str(flags, "owner-role") ?? "gecko_owner" } : undefined;
    const plan = await planMigrationWithPreflight(input, target);
    process.stdout.write((flags.json ? JSON.stringify(plan, null, 2) : renderPlan(plan)) + "\n");
    return 0;
}

/** `upgrade`: an earlier gecko-pg's target brought to this schema version in place. */
async function upgradeInPlace(flags: Flags, logger: Logger): Promise<number> {
    const target = targetFrom(flags);
    const client = new Client(clientConfig(target, { application_name: "gecko-pg upgrade" }));
    watchConnection(client);
    await client.connect();
    try {
        logger.info(`upgrade: ${describeConnection(target)}`);
        const roles = {
            ownerRole: str(flags, "owner-role") ?? "gecko_owner",
            appRole: str(flags, "app-role") ?? "gecko_collector",
            timeZone: str(flags, "database-time-zone") ?? "UTC",
        };
        const result = await upgradeTarget(client, roles, logger);
        const text = [
            `schema version ${result.before.join(", ")} -> ${result.version}`,
            ...result.changes.map((c) => `  ${c}`),
            result.changes.length ? "" : "  up to date",
        ]
            .filter(Boolean)
            .join("\n");
        process.stdout.write((flags.json ? JSON.stringify(result, null, 2) : text) + "\n");
    } finally {
        await client.end();
    }
    return 0;
}

/** `partitions`: ohlcv_data partitions from this month to --months ahead. */
async function addPartitions(flags: Flags): Promise<number> {
    const target = targetFrom(flags);
    const client = new Client(clientConfig(target));
    watchConnection(client);
    await client.connect();
    try {
        const changes = await addFuturePartitions(client, int(flags, "months", 3), {
            ownerRole: str(flags, "owner-role") ?? "gecko_owner",
        });
        process.stdout.write(
            flags.json
                ? JSON.stringify(changes, null, 2) + "\n"
                : changes.length
                  ? changes.map((c) => `${JSON.stringify(c)}`).join("\n") + "\n"
                  : "partitions up to date\n",
        );
    } finally {
        await client.end();
    }
    return 0;
}

/** `schema-sql`: the target schema for --from/--to, without connecting. */
function printSchemaSql(flags: Flags): number {
    const from = Number(str(flags, "from") ?? Math.floor(Date.now() / 1000));
    const to = Number(str(flags, "to") ?? from);
    process.stdout.write(
        renderSchemaSql({
            ownerRole: str(flags, "owner-role") ?? "gecko_owner",
            appRole: str(flags, "app-role") ?? "gecko_collector",
            timeZone: str(flags, "database-time-zone") ?? "UTC",
            partitionSpan: { fromEpoch: from, toEpoch: to },
        }) + "\n",
    );
    return 0;
}

/** `sync`: passes until one finds nothing to change, at most --passes. */
async function syncPasses(flags: Flags, logger: Logger): Promise<number> {
    const input = migrationInputFrom(flags);
    await preflight(input.sqlitePath, input.target);
    const passes = int(flags, "passes", 1);
    const reports: SyncReport[] = [];
    for (let i = 0; i < passes; i++) {
        const report = await syncPassRetrying(input, logger, { full: Boolean(flags.full), keepPagesBytes: keepPagesBytes(flags) });
        reports.push(report);
        if (!flags.json) process.stdout.write(renderSyncReport(report) + "\n");
        if (report.changes === 0) break;
    }
    if (flags.json) process.stdout.write(JSON.stringify(reports, null, 2) + "\n");
    return 0;
}

/** `finalize`: the cutover's fallback period ends. */
async function finalize(flags: Flags): Promise<number> {
    const record = await finalizeCutover(targetFrom(flags), str(flags, "owner-role") ?? "gecko_owner");
    process.stdout.write(
        flags.json
            ? JSON.stringify(record, null, 2) + "\n"
            : `cutover #${record.id} (${record.switchedAt}) finalized at ${record.finalizedAt}; no rollback from here\n`,
    );
    return 0;
}

/** `collector-config`: the collector's database block and environment lines; the password only when asked. */
function printCollectorConfig(flags: Flags): number {
    const database = str(flags, "use") ?? "postgresql";
    if (!COLLECTOR_DATABASES.includes(database as CollectorDatabase))
        throw new UsageError(`--use must be sqlite or postgresql, got '${database}'`);
    const format = str(flags, "format") ?? (flags.json ? "json" : "text");
    if (!["text", "yaml", "env", "json"].includes(format))
        throw new UsageError(`--format must be text, yaml, env or json, got '${format}'`);
    const password = flags["show-password"] ? process.env.GECKO_COLLECTOR_PASSWORD : undefined;
    if (flags["show-password"] && !password) throw new UsageError("--show-password prints env GECKO_COLLECTOR_PASSWORD, which is not set");
    const sqlite = str(flags, "sqlite", "GECKO_SQLITE_PATH");
    const target = database === "postgresql" ? targetFrom(flags) : undefined;
    const c = collectorConfig({
        database: database as CollectorDatabase,
        sqlitePath: sqlite && path.resolve(sqlite),
        postgres: target && {
            host: target.host,
            port: target.port,
            database: target.database,
            user: str(flags, "app-role") ?? "gecko_collector",
        },
        password,
    });
    const text = {
        yaml: c.yaml,
        env: renderEnv(c.env),
        json: JSON.stringify(c, null, 2) + "\n",
        text: `# config.yaml\n${c.yaml}\n# or the environment\n${renderEnv(c.env)}`,
    }[format as "text"];
    process.stdout.write(text);
    return 0;
}

/** The source is readable and the target answers, before anything is written. */
async function preflight(sqlitePath: string, target: ReturnType<typeof targetFrom>): Promise<void> {
    if (!(await fs.pathExists(sqlitePath))) throw new UsageError(`source not found: ${sqlitePath}`);
    const client = new Client(clientConfig(target, { connectionTimeoutMillis: 10_000 }));
    watchConnection(client);
    try {
        await client.connect();
        await client.query("SELECT 1");
    } catch (cause) {
        throw new Error(`cannot connect to ${describeConnection(target)}: ${(cause as Error).message}`, { cause });
    } finally {
        await client.end().catch(() => undefined);
    }
}

async function finish(command: string, report: MigrationReport, flags: Flags): Promise<number> {
    const file = await saveReport(flags, command, report);
    process.stdout.write((flags.json ? JSON.stringify(report, null, 2) : renderReport(report)) + "\n");
    const failed = report.tables.filter(
        (t) => !t.validation || !t.validation.countsMatch || t.validation.mismatchedBuckets.length || t.validation.sampleMismatches.length,
    ).length;
    process.stderr.write(
        `${report.ok ? chalk.green("OK") : chalk.red("FAILED")}: ${report.tables.length - failed} tables ok, ${failed} failed; report: ${file}\n`,
    );
    return report.ok ? 0 : 1;
}

runMain(main);
