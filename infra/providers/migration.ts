/**
 * The `gecko:Migration` dynamic resource's operations (infra/migration.ts calls
 * one function per provider method): the same `runMigration` stage as the CLI,
 * run by `pulumi up`.
 *
 * - create/update run the migration (resumable: a rerun copies only chunks not
 *   yet done, including rows appended to the source since) and validate. An update
 *   for a changed source first runs a sync pass (in-place updates and deletes
 *   too); after a recorded cutover it copies nothing (PostgreSQL is the primary). A
 *   report with `ok: false` throws an Error listing the report's failures, so
 *   `pulumi up` fails and the state keeps the previous outputs (create: no
 *   resource; the next `up` resumes from the checkpoints).
 * - diff: never a replacement. The source fingerprint, the source path, every
 *   migration option and the target (host, port, database) are updates that
 *   rerun the migration; `dropOnDelete`, `reportPath` and a new admin user,
 *   password or sslmode are updates that only store the new value (so a later
 *   delete logs in with the credentials in force). An option absent from the
 *   state (written before the option existed) counts as its default.
 * - A source the library refuses (SourceError: missing, not SQLite, damaged, not
 *   the collector's, partial) fails with its message and the stack config to change.
 * - delete leaves the migrated data alone unless `dropOnDelete`: then it
 *   empties the collector tables, drops the extra tables the migration created,
 *   and clears checkpoints and quarantine (keeping gecko_migration.runs, the
 *   run history), in one transaction.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { Client } from "pg";
import {
    DEFAULT_AMBIGUOUS_TIME,
    DEFAULT_OPTIONS,
    DEFAULT_REPAIRS,
    REPAIRS,
    silentLogger,
    type AmbiguousTime,
    type MigrationInput,
    type MigrationLogger,
    type OrphanPolicy,
    type Repair,
} from "../../migration/data/options";
import { lineLogger } from "../../migration/data/report/progress";
import { summarize, type MigrationReport } from "../../migration/data/report/report";
import { syncPass } from "../../migration/cutover/sync";
import { recordedCutover } from "../../migration/data/copy/checkpointStore";
import { removeMigratedData } from "../../migration/data/run/removeMigratedData";
import { runMigration } from "../../migration/data/run/runMigration";
import { MissingTablesError, SourceError } from "../../migration/data/source/sourceFile";
import { describeConnection, type ConnectionSpec } from "../../migration/postgres/connection";
import { pgMessage, withSession } from "../../migration/postgres/session";
import { MIGRATION_SCHEMA, qualified } from "../../migration/schema/ddl";
import {
    checkBoolean,
    checkConnection,
    CREDENTIAL_KEYS,
    checkIdentifier,
    checkTimeZone,
    diffConnection,
    diffValues,
    isUnknown,
    resourceDiff,
    resourceId,
    type CheckFailure,
    type CheckResult,
    type PropertyDiff,
    type ResourceDiff,
} from "./kit";

/** `summarize(report)` plus the values set aside (absent in the state of runs before it was counted). */
export type MigrationSummary = ReturnType<typeof summarize> & { readonly valuesSetAside?: number };

const ORPHAN_POLICIES: readonly OrphanPolicy[] = ["quarantine", "placeholder", "fail"];
const AMBIGUOUS_TIMES: readonly AmbiguousTime[] = ["quarantine", "earlier", "later"];

/** Inputs of the Migration resource as the provider receives them (after `check`: defaults filled in). */
export interface MigrationResourceInputs {
    /** Admin connection to the collector database (must be able to SET ROLE ownerRole); kept as a secret. */
    readonly connection: ConnectionSpec;
    /** The collector's SQLite file; opened read-only. */
    readonly sqlitePath: string;
    /** `sourceFingerprint(sqlitePath)` computed by the program: a changed source means an update (a rerun). */
    readonly sourceFingerprint: string;
    readonly ownerRole: string;
    readonly appRole: string;
    readonly sourceTimeZone: string;
    readonly clockOverrides: Readonly<Record<string, "utc" | "local">>;
    readonly orphanPolicy: OrphanPolicy;
    readonly chunkRows: number;
    readonly allowQuarantine: boolean;
    /** Accept a source lacking some of the collector's core tables (created empty); default false: refused. */
    readonly allowMissingTables: boolean;
    /** Seconds a transient fault is retried (runMigration's retrySeconds); default 60. */
    readonly retrySeconds: number;
    /** Copy the source's tables the collector does not have; default false: listed in the report only. */
    readonly includeExtraTables: boolean;
    /** Values stored instead of set aside, in REPAIRS' order; default `["python-repr"]`, `[]` for none. */
    readonly repairs: readonly Repair[];
    readonly ambiguousTime: AmbiguousTime;
    readonly sampleRows: number;
    readonly databaseTimeZone: string;
    /** Empty the migrated tables on delete. Default false (dev only). */
    readonly dropOnDelete: boolean;
    /** Optional file the full JSON report of each run is written to. */
    readonly reportPath?: string;
}

/** Stored state: the inputs plus where the last run's report is. No credentials beyond `connection`. */
export interface MigrationResourceState extends MigrationResourceInputs {
    readonly summary: MigrationSummary;
    /** Row id in gecko_migration.runs holding the full JSON report of the last run. */
    readonly reportRunId: number;
    /** Absolute path the last report was written to, when `reportPath` was set. */
    readonly reportFile?: string;
    /** Tables beyond the collector schema the migration created from the source (dropped by a dropOnDelete delete). */
    readonly extraTables: string[];
}

/**
 * Progress and phases as lines on the provider host's console, which `pulumi up` shows
 * (the CLI passes a dynamic provider's output through; its log API does not reach the engine).
 */
export function upLogger(): MigrationLogger {
    return lineLogger((line) => console.log(line), "gecko-pg migration: ");
}

/** A run whose report says `ok: false`; the message lists its failures (never a password). */
export class MigrationFailedError extends Error {
    constructor(
        readonly failures: readonly string[],
        readonly reportRunId: number | undefined,
        message: string,
    ) {
        super(message);
        this.name = "MigrationFailedError";
    }
}

/** Inputs whose change reruns the migration. */
const RUN_KEYS = [
    "sqlitePath",
    "sourceFingerprint",
    "ownerRole",
    "appRole",
    "sourceTimeZone",
    "clockOverrides",
    "orphanPolicy",
    "chunkRows",
    "allowQuarantine",
    "allowMissingTables",
    "includeExtraTables",
    "repairs",
    "ambiguousTime",
    "sampleRows",
    "databaseTimeZone",
] as const;
/** Inputs that only change what the state remembers. */
const STATE_KEYS = ["dropOnDelete", "reportPath", "retrySeconds"] as const;

/**
 * What `check` fills in for an unset input. The diff reads an input absent from the state
 * as its default too: state written before an input existed does not rerun the migration
 * unless the new input's value differs from the default.
 */
const INPUT_DEFAULTS: Readonly<Record<string, unknown>> = {
    ownerRole: DEFAULT_OPTIONS.ownerRole,
    appRole: DEFAULT_OPTIONS.appRole,
    sourceTimeZone: DEFAULT_OPTIONS.sourceTimeZone,
    clockOverrides: {},
    orphanPolicy: DEFAULT_OPTIONS.orphanPolicy,
    chunkRows: DEFAULT_OPTIONS.chunkRows,
    allowQuarantine: DEFAULT_OPTIONS.allowQuarantine,
    allowMissingTables: false,
    retrySeconds: DEFAULT_OPTIONS.retrySeconds,
    includeExtraTables: false,
    repairs: DEFAULT_REPAIRS,
    ambiguousTime: DEFAULT_AMBIGUOUS_TIME,
    sampleRows: DEFAULT_OPTIONS.sampleRows,
    databaseTimeZone: DEFAULT_OPTIONS.databaseTimeZone,
    dropOnDelete: false,
};

/** `values` with INPUT_DEFAULTS for every unset input. */
function withDefaults(values: Readonly<Record<string, unknown>>): Record<string, unknown> {
    return { ...INPUT_DEFAULTS, ...Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined)) };
}

/** Shape checks and defaults; the source file must exist (this runs at preview too). */
export function checkMigration(_olds: unknown, news: Record<string, unknown>): CheckResult {
    const failures: CheckFailure[] = [];
    const fail = (property: string, reason: string) => failures.push({ property, reason });
    const inputs = withDefaults(news);
    checkConnection(inputs.connection, fail);
    const sqlitePath = inputs.sqlitePath;
    if (!isUnknown(sqlitePath)) {
        if (typeof sqlitePath !== "string" || sqlitePath === "") fail("sqlitePath", "required: path of the collector's SQLite file");
        else if (!isFile(sqlitePath)) fail("sqlitePath", `SQLite source not found: ${sqlitePath}`);
    }
    if (!isUnknown(inputs.sourceFingerprint) && (typeof inputs.sourceFingerprint !== "string" || inputs.sourceFingerprint === "")) {
        fail("sourceFingerprint", "required: sourceFingerprint(sqlitePath), so a changed source triggers an update");
    }
    checkIdentifier(inputs.ownerRole, "ownerRole", fail);
    checkIdentifier(inputs.appRole, "appRole", fail);
    checkTimeZone(inputs.sourceTimeZone, "sourceTimeZone", fail);
    checkTimeZone(inputs.databaseTimeZone, "databaseTimeZone", fail);
    checkClockOverrides(inputs.clockOverrides, fail);
    if (!isUnknown(inputs.orphanPolicy) && !ORPHAN_POLICIES.includes(inputs.orphanPolicy as OrphanPolicy)) {
        fail("orphanPolicy", `must be one of ${ORPHAN_POLICIES.join(", ")}, got '${String(inputs.orphanPolicy)}'`);
    }
    checkInteger(inputs.chunkRows, "chunkRows", 1, fail);
    checkInteger(inputs.sampleRows, "sampleRows", 0, fail);
    checkBoolean(inputs.allowQuarantine, "allowQuarantine", fail);
    checkBoolean(inputs.allowMissingTables, "allowMissingTables", fail);
    checkInteger(inputs.retrySeconds, "retrySeconds", 0, fail);
    checkBoolean(inputs.includeExtraTables, "includeExtraTables", fail);
    inputs.repairs = checkRepairs(inputs.repairs, fail);
    if (!isUnknown(inputs.ambiguousTime) && !AMBIGUOUS_TIMES.includes(inputs.ambiguousTime as AmbiguousTime)) {
        fail("ambiguousTime", `must be one of ${AMBIGUOUS_TIMES.join(", ")}, got '${String(inputs.ambiguousTime)}'`);
    }
    checkBoolean(inputs.dropOnDelete, "dropOnDelete", fail);
    if (
        inputs.reportPath !== undefined &&
        !isUnknown(inputs.reportPath) &&
        (typeof inputs.reportPath !== "string" || inputs.reportPath === "")
    ) {
        fail("reportPath", "must be a file path");
    }
    return { inputs, failures };
}

export function diffMigration(olds: Partial<MigrationResourceState>, news: Record<string, unknown>): ResourceDiff {
    const detailedDiff: Record<string, PropertyDiff> = {};
    diffConnection(olds.connection, news.connection, detailedDiff);
    diffValues(withDefaults(olds), withDefaults(news), [...RUN_KEYS, ...STATE_KEYS], detailedDiff);
    return resourceDiff(detailedDiff);
}

export async function createMigration(
    inputs: MigrationResourceInputs,
    logger: MigrationLogger = silentLogger,
): Promise<{ id: string; outs: MigrationResourceState }> {
    return { id: resourceId(inputs.connection), outs: await migrate(inputs, logger) };
}

/** Reruns the migration when the source, an option or the target changed; otherwise only stores the new inputs. */
export async function updateMigration(
    olds: MigrationResourceState,
    news: MigrationResourceInputs,
    logger: MigrationLogger = silentLogger,
): Promise<{ outs: MigrationResourceState }> {
    const changed = Object.keys(diffMigration(olds, news as unknown as Record<string, unknown>).detailedDiff);
    const storeOnly = [...STATE_KEYS, ...CREDENTIAL_KEYS.map((k) => `connection.${k}`)] as readonly string[];
    const rerun = changed.some((k) => !storeOnly.includes(k));
    if (!rerun) {
        return {
            outs: {
                ...onlyInputs(news),
                summary: olds.summary,
                reportRunId: olds.reportRunId,
                extraTables: olds.extraTables,
                ...(olds.reportFile ? { reportFile: olds.reportFile } : {}),
            },
        };
    }
    const cutover = await withSession("migration", news.connection, async (c) =>
        (await c.query<{ ok: boolean }>("SELECT to_regclass('gecko_migration.cutovers') IS NOT NULL AS ok")).rows[0].ok
            ? recordedCutover(c)
            : undefined,
    );
    if (cutover) {
        // PostgreSQL is the collector's database now; the file is the rollback fallback and copies nothing.
        logger.info(`the collector was cut over at ${cutover.switchedAt.toISOString()}: nothing copied from ${news.sqlitePath}`);
        return { outs: { ...onlyInputs(news), summary: olds.summary, reportRunId: olds.reportRunId, extraTables: olds.extraTables } };
    }
    if (changed.every((k) => k === "sourceFingerprint") && olds.summary?.ok) await catchUp(news, logger);
    return { outs: await migrate(news, logger) };
}

/** The source moved under a migrated target: a sync pass brings its in-place updates and deletes, then the run validates. */
async function catchUp(inputs: MigrationResourceInputs, logger: MigrationLogger): Promise<void> {
    try {
        const r = await syncPass(toMigrationInput(inputs), logger);
        logger.info(`sync: ${r.changes} changes (${r.mode})`);
    } catch (cause) {
        throw new Error(`sync of ${inputs.sqlitePath} into ${describeConnection(inputs.connection)}: ${(cause as Error).message}`, {
            cause,
        });
    }
}

/** Nothing unless `dropOnDelete`; then removes the migrated data. Throws on failure (Pulumi keeps the resource). */
export async function deleteMigration(props: MigrationResourceState): Promise<void> {
    if (props.dropOnDelete !== true) return;
    await withSession("migration delete", props.connection, async (client) => {
        try {
            await removeMigratedData(client, props.ownerRole, props.extraTables ?? []);
        } catch (cause) {
            throw new Error(
                `migration delete: removing the migrated data in ${describeConnection(props.connection)} failed: ${pgMessage(cause)}`,
                { cause },
            );
        }
    });
}

/** The run's options: the inputs that rerun it, but for the fingerprint (the program's, not the run's). */
function toMigrationInput(i: MigrationResourceInputs): MigrationInput {
    const { sourceFingerprint: _fingerprint, ...options } = pick(i, RUN_KEYS);
    // How long faults are retried changes no result: an option of the run, not a reason to rerun it.
    return { ...options, ...(i.retrySeconds === undefined ? {} : { retrySeconds: i.retrySeconds }), target: i.connection };
}

/** Pulumi state cannot hold `undefined`: copy the inputs, leaving out unset optional keys. */
function onlyInputs(i: MigrationResourceInputs): MigrationResourceInputs {
    return { connection: i.connection, ...pick(i, [...RUN_KEYS, ...STATE_KEYS]) } as MigrationResourceInputs;
}

/** The `keys` of `inputs` that are set. */
function pick<K extends keyof MigrationResourceInputs>(
    inputs: MigrationResourceInputs,
    keys: readonly K[],
): Pick<MigrationResourceInputs, K> {
    return Object.fromEntries(keys.filter((k) => inputs[k] !== undefined).map((k) => [k, inputs[k]])) as Pick<MigrationResourceInputs, K>;
}

async function migrate(inputs: MigrationResourceInputs, logger: MigrationLogger): Promise<MigrationResourceState> {
    const where = describeConnection(inputs.connection);
    let report: MigrationReport;
    try {
        report = await runMigration(toMigrationInput(inputs), logger);
    } catch (cause) {
        const hint = cause instanceof SourceError ? sourceHint(cause, inputs) : "";
        throw new Error(`migration of ${inputs.sqlitePath} into ${where}: ${(cause as Error).message}${hint}`, { cause });
    }
    const reportRunId = await withSession("migration", inputs.connection, (client) => findRun(client, report));
    const reportFile = inputs.reportPath ? writeReport(inputs.reportPath, report) : undefined;
    if (!report.ok) throw failed(inputs, report, reportRunId, reportFile);
    return {
        ...onlyInputs(inputs),
        summary: { ...summarize(report), valuesSetAside: report.setAsideValues?.total ?? 0 },
        reportRunId,
        extraTables: report.tables
            .filter((t) => t.extra)
            .map((t) => t.table)
            .sort(),
        ...(reportFile ? { reportFile } : {}),
    };
}

function failed(
    inputs: MigrationResourceInputs,
    report: MigrationReport,
    runId: number,
    reportFile: string | undefined,
): MigrationFailedError {
    const lines = [
        `migration of ${inputs.sqlitePath} into ${describeConnection(inputs.connection)} failed:`,
        ...report.failures.map((f) => `  - ${f}`),
    ];
    if (report.quarantine.total > 0 && !inputs.allowQuarantine) {
        lines.push(
            `quarantined rows are in ${report.quarantine.location}; to accept them set allowQuarantine (stack config gecko-pg:allowQuarantine true) and run pulumi up again`,
        );
    }
    const setAside = report.setAsideValues;
    if (setAside && setAside.total > 0 && !inputs.allowQuarantine) {
        lines.push(
            `values set aside (NULL in their copied rows) are in ${setAside.location}; to accept them set allowQuarantine (stack config gecko-pg:allowQuarantine true) and run pulumi up again`,
        );
    }
    lines.push(`full report: ${MIGRATION_SCHEMA}.runs id ${runId}${reportFile ? ` and ${reportFile}` : ""}`);
    return new MigrationFailedError(report.failures, runId, lines.join("\n"));
}

/**
 * The stack's way out of a source the library refused (bad input: nothing was written). Its
 * message names the CLI's flag; a stack user sets config instead.
 */
function sourceHint(error: SourceError, inputs: MigrationResourceInputs): string {
    if (error instanceof MissingTablesError && !inputs.allowMissingTables)
        return "\nnothing was written; to migrate this partial file as it is (those tables created empty), set stack config gecko-pg:allowMissingTables true and run pulumi up again";
    // A page found damaged mid-run: the chunks committed before it are kept.
    const written = /; found at /.test(error.message) ? "the chunks copied before it are kept" : "nothing was written";
    return `\n${written}; point gecko-pg:sqlitePath at a readable, undamaged copy of the collector's SQLite file (gecko_data.db)`;
}

/** runMigration stores every report in gecko_migration.runs; find this one's row. */
async function findRun(client: Client, report: MigrationReport): Promise<number> {
    const r = await client.query<{ id: string }>(
        `SELECT id FROM ${qualified("runs", MIGRATION_SCHEMA)} WHERE report->>'startedAt' = $1 AND report->>'finishedAt' = $2 ORDER BY id DESC LIMIT 1`,
        [report.startedAt, report.finishedAt],
    );
    if (!r.rows[0]) throw new Error(`migration: the run finished at ${report.finishedAt} is not in ${MIGRATION_SCHEMA}.runs`);
    return Number(r.rows[0].id);
}

function writeReport(reportPath: string, report: MigrationReport): string {
    const file = path.resolve(reportPath);
    try {
        fs.mkdirSync(path.dirname(file), { recursive: true });
        fs.writeFileSync(file, JSON.stringify(report, null, 2) + "\n");
    } catch (cause) {
        throw new Error(`migration: cannot write the report to ${file}: ${(cause as Error).message}`, { cause });
    }
    return file;
}

function isFile(p: string): boolean {
    try {
        return fs.statSync(p).isFile();
    } catch {
        return false;
    }
}

function checkInteger(value: unknown, property: string, min: number, fail: (property: string, reason: string) => void): void {
    if (!isUnknown(value) && !(Number.isSafeInteger(value) && (value as number) >= min))
        fail(property, `must be an integer >= ${min}, got '${String(value)}'`);
}

/** Known names, no repeats; returns them in REPAIRS' order, so one set is one input whatever order it was given in. */
function checkRepairs(value: unknown, fail: (property: string, reason: string) => void): unknown {
    if (isUnknown(value)) return value;
    if (!Array.isArray(value) || value.some((r) => !(REPAIRS as readonly unknown[]).includes(r)) || new Set(value).size !== value.length) {
        fail("repairs", `must be a list of distinct ${REPAIRS.join(", ")} (empty for none), got ${JSON.stringify(value)}`);
        return value;
    }
    return REPAIRS.filter((r) => value.includes(r));
}

function checkClockOverrides(value: unknown, fail: (property: string, reason: string) => void): void {
    if (isUnknown(value)) return;
    if (typeof value !== "object" || value === null || Array.isArray(value))
        return fail("clockOverrides", `must be an object of "table.column" -> "utc" | "local"`);
    for (const [column, clock] of Object.entries(value)) {
        if (!/^[A-Za-z_]\w*\.[A-Za-z_]\w*$/.test(column) || (clock !== "utc" && clock !== "local")) {
            fail(`clockOverrides.${column}`, `must be "table.column": "utc" | "local", got ${JSON.stringify(clock)}`);
        }
    }
}
