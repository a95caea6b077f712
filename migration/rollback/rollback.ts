/**
 * The rollback (the migration plan's phase 6), as named steps:
 *
 *   preflight -> stop the collector -> restore an unfinished rollback's backup -> check the file
 *   -> backup -> write back -> finish (capture disarmed, recorded) -> configuration -> start it
 *
 * After a cutover the collector writes to PostgreSQL, and the change capture the cutover armed
 * lists every row it inserted, updated or deleted. The rollback writes each of those rows back
 * into the SQLite file in the collector's storage format (or deletes it there), in one SQLite
 * transaction, after a byte-for-byte backup; then points the collector at the file again. It is
 * the one command that modifies the source file. A key that also changed in the file after the
 * cutover is a conflict: reported with its key, never overwritten. Killed at any step, a rerun
 * restores the backup first and starts over, so it converges.
 */
import Database from "better-sqlite3";
import * as fs from "node:fs";
import { describeConnection } from "../postgres/connection";
import { asRoleInTransaction, withSession } from "../postgres/session";
import { TARGET_TABLES } from "../schema/tables";
import { DEFAULT_OPTIONS, type MigrationInput, type MigrationLogger } from "../data/options";
import { conversionFor } from "../data/plan/conversion";
import { inCopyOrder, mapSourceToTarget, type TableMapping } from "../data/plan/tableMapping";
import { introspectSource } from "../data/source/introspect";
import { openSourceSnapshot } from "../data/source/snapshot";
import { disarmChangeCapture } from "../cutover/changeCapture";
import { collectorConfig, type CollectorConfigInput } from "../cutover/collectorConfig";
import { writeCollectorConfig } from "../cutover/configFile";
import { cutoverState, type CutoverRecord } from "../cutover/cutoverRecord";
import { stepRecorder, type StepRecord, type Steps } from "../cutover/steps";
import { backupSource, restoreBackup, sha256Of, type SourceBackup } from "./backup";
import { conflictingKeys, sqliteChangesSinceCutover, type SqliteChanges } from "./sqliteChanges";
import { writeBackTable, type InexactValue, type WriteBackResult } from "./writeBack";

export interface RollbackOptions {
    readonly input: MigrationInput;
    /** Where the backup of the SQLite file goes (a new directory). */
    readonly backupDir: string;
    readonly collectorConfigPath?: string;
    readonly collector?: Omit<CollectorConfigInput, "database" | "sqlitePath">;
    readonly stopCollector?: () => Promise<void>;
    readonly startCollector?: () => Promise<void>;
    readonly collectorStopped?: boolean;
    /** Write back even though the file changed after the cutover (keys changed on both sides are still skipped). */
    readonly acceptSqliteChanges?: boolean;
    /** Test hook: runs inside the SQLite transaction, before COMMIT. */
    readonly beforeCommit?: () => void | Promise<void>;
    readonly logger: MigrationLogger;
}

export interface RollbackReport {
    readonly tool: "gecko-pg";
    readonly kind: "rollback";
    readonly ok: boolean;
    readonly startedAt: string;
    readonly finishedAt: string;
    readonly source: string;
    readonly target: string;
    readonly steps: readonly StepRecord[];
    readonly cutover?: string;
    readonly backup?: SourceBackup;
    /** Per table: rows written back and deleted. */
    readonly tables: Readonly<Record<string, { readonly upserted: number; readonly deleted: number; readonly numericsAsText: number }>>;
    /** Keys changed in PostgreSQL and in the file after the cutover: not written back. */
    readonly conflicts: readonly { readonly table: string; readonly key: string }[];
    readonly inexact: readonly InexactValue[];
    readonly error?: string;
}

interface Run {
    readonly o: RollbackOptions;
    readonly steps: Steps;
    readonly t0: Date;
    tables: RollbackReport["tables"];
    conflicts: RollbackReport["conflicts"];
    inexact: InexactValue[];
    backup?: SourceBackup;
    cutover?: CutoverRecord;
}

export async function runRollback(o: RollbackOptions): Promise<RollbackReport> {
    const run: Run = { o, steps: stepRecorder(o.logger, "rollback"), t0: new Date(), tables: {}, conflicts: [], inexact: [] };
    try {
        run.cutover = await run.steps.run(
            "preflight",
            () => preflight(o),
            (c) => `cutover #${c.id} at ${c.switchedAt}`,
        );
        if (o.stopCollector) await run.steps.run("stop-collector", o.stopCollector, () => "the collector (on PostgreSQL) was stopped");
        const earlier = await run.steps.run(
            "restore-unfinished",
            () => restoreUnfinished(o, run.cutover!),
            (r) => r.detail,
        );
        const changes = await run.steps.run("check-sqlite", () => checkSqlite(o), describeSqliteChanges);
        run.backup = await run.steps.run(
            "backup",
            async () => earlier.backup ?? (await takeBackup(o, run.cutover!)),
            (b) => `${b.files.length} files in ${b.dir}`,
        );
        await run.steps.run(
            "write-back",
            () => writeBack(run, changes),
            (r) => `${r.upserted} rows written back, ${r.deleted} deleted, ${run.conflicts.length} conflicts`,
        );
        await run.steps.run(
            "finish",
            () => finish(o, run),
            () => "change capture removed; the rollback recorded",
        );
        if (o.collectorConfigPath)
            await run.steps.run(
                "configure",
                async () => configureSqlite(o),
                (b) => `${o.collectorConfigPath} names the SQLite file again (before: ${b})`,
            );
        if (o.startCollector)
            await run.steps.run("start-collector", o.startCollector, () => "the collector was started on the SQLite file");
        return report(run, run.conflicts.length === 0);
    } catch (err) {
        return report(run, false, (err as Error).message);
    }
}

function report(run: Run, ok: boolean, error?: string): RollbackReport {
    return {
        tool: "gecko-pg",
        kind: "rollback",
        ok,
        startedAt: run.t0.toISOString(),
        finishedAt: new Date().toISOString(),
        source: run.o.input.sqlitePath,
        target: describeConnection(run.o.input.target),
        steps: run.steps.records,
        ...(run.cutover ? { cutover: run.cutover.id } : {}),
        ...(run.backup ? { backup: run.backup } : {}),
        tables: run.tables,
        conflicts: run.conflicts,
        inexact: run.inexact,
        ...(error ? { error } : {}),
    };
}

const ownerOf = (o: RollbackOptions) => o.input.ownerRole ?? DEFAULT_OPTIONS.ownerRole;

async function preflight(o: RollbackOptions): Promise<CutoverRecord> {
    if (!fs.existsSync(o.input.sqlitePath)) throw new Error(`SQLite file not found: ${o.input.sqlitePath}`);
    const { recorded } = await cutoverState(o.input.target);
    if (!recorded) throw new Error(`no cutover to roll back in ${describeConnection(o.input.target)}`);
    if (recorded.finalizedAt)
        throw new Error(`the cutover was finalized at ${recorded.finalizedAt}: nothing was captured since, no rollback`);
    if (!o.stopCollector && !o.collectorStopped)
        throw new Error("no way to stop the collector: give --stop-collector CMD, or --collector-stopped when it is stopped already");
    return recorded;
}

/** A rollback killed after it wrote into the file: its backup goes back first (and serves again), and this run starts over. */
async function restoreUnfinished(o: RollbackOptions, cutover: CutoverRecord): Promise<{ backup?: SourceBackup; detail: string }> {
    const backup = await withSession("rollback", o.input.target, async (c) => {
        const r = await c.query<{ b: SourceBackup | null }>(
            "SELECT report->'rollbackBackup' AS b FROM gecko_migration.cutovers WHERE id = $1",
            [cutover.id],
        );
        return r.rows[0]?.b ?? undefined;
    });
    if (!backup) return { detail: "no earlier rollback" };
    const unchanged =
        backup.files.every((f) => fs.existsSync(f.original) && sha256Of(f.original) === f.sha256) &&
        backup.files.length === fileCount(o.input.sqlitePath);
    if (unchanged) return { backup, detail: `an earlier rollback's backup in ${backup.dir}: the file is as it was` };
    restoreBackup(backup, o.input.sqlitePath);
    return { backup, detail: `restored the file from the unfinished rollback's backup in ${backup.dir}` };
}

const fileCount = (db: string) => [db, `${db}-wal`].filter((f) => fs.existsSync(f)).length;

/** Source mappings and conversion, from the file as it is. */
function sourceMappings(db: Database.Database): TableMapping[] {
    const mapping = mapSourceToTarget(introspectSource(db), TARGET_TABLES);
    return inCopyOrder(mapping.tables).filter((m) => m.source && !m.extra);
}

async function checkSqlite(o: RollbackOptions): Promise<SqliteChanges> {
    const snapshot = openSourceSnapshot(o.input.sqlitePath);
    try {
        const changes = await withSession("rollback", o.input.target, (c) =>
            sqliteChangesSinceCutover(snapshot.db, o.input.sqlitePath, c, sourceMappings(snapshot.db)),
        );
        const changed = !changes.known || changes.countsMoved.length > 0 || [...changes.keys.values()].some((k) => k.size > 0);
        if (changed && !o.acceptSqliteChanges)
            throw new Error(
                `the SQLite file changed after the cutover (${describeSqliteChanges(changes)}); rerun with --accept-sqlite-changes to write back anyway`,
            );
        return changes;
    } finally {
        snapshot.close();
    }
}

function describeSqliteChanges(c: SqliteChanges): string {
    if (!c.known) return "no record of the file at the cutover (gecko_migration.sync_state): changes cannot be told";
    const keys = [...c.keys].filter(([, k]) => k.size).map(([t, k]) => `${t}: ${k.size} keys on changed pages`);
    return keys.length || c.countsMoved.length
        ? [...keys, ...c.countsMoved.map((t) => `${t}: row count moved`)].join("; ")
        : "unchanged since the cutover";
}

/** The backup, recorded in PostgreSQL before the file is touched (a rerun finds it). */
async function takeBackup(o: RollbackOptions, cutover: CutoverRecord): Promise<SourceBackup> {
    if (fs.existsSync(o.backupDir) && fs.readdirSync(o.backupDir).length) throw new Error(`backup directory ${o.backupDir} is not empty`);
    const backup = backupSource(o.input.sqlitePath, o.backupDir);
    await withSession("rollback", o.input.target, (c) =>
        c.query(`UPDATE gecko_migration.cutovers SET report = report || jsonb_build_object('rollbackBackup', $2::jsonb) WHERE id = $1`, [
            cutover.id,
            JSON.stringify(backup),
        ]),
    );
    return backup;
}

/** Every captured key, table by table, in one SQLite transaction. */
async function writeBack(run: Run, changes: SqliteChanges): Promise<{ upserted: number; deleted: number }> {
    const o = run.o;
    const conversion = conversionFor({
        sourceTimeZone: o.input.sourceTimeZone ?? DEFAULT_OPTIONS.sourceTimeZone,
        clockOverrides: o.input.clockOverrides,
        repairs: o.input.repairs,
        ambiguousTime: o.input.ambiguousTime,
    });
    const db = new Database(o.input.sqlitePath, { fileMustExist: true, timeout: 5000 });
    db.defaultSafeIntegers(true);
    try {
        return await withSession("rollback", o.input.target, async (pg) => {
            const captured = await pg.query<{ table_name: string; keys: string[] }>(
                "SELECT table_name, array_agg(DISTINCT row_key) AS keys FROM gecko_migration.changes GROUP BY table_name",
            );
            const byTable = new Map(captured.rows.map((r) => [r.table_name, r.keys]));
            db.exec("BEGIN IMMEDIATE");
            let total = { upserted: 0, deleted: 0 };
            for (const m of sourceMappings(db)) {
                const keys = byTable.get(m.target.name) ?? [];
                const onChangedPages = changes.keys.get(m.target.name) ?? new Set<string>();
                const clash = new Set(
                    await conflictingKeys(
                        db,
                        pg,
                        m,
                        conversion,
                        keys.filter((k) => onChangedPages.has(k)),
                    ),
                );
                run.conflicts = [...run.conflicts, ...keys.filter((k) => clash.has(k)).map((key) => ({ table: m.target.name, key }))];
                const r: WriteBackResult = await writeBackTable(
                    db,
                    pg,
                    m,
                    conversion,
                    keys.filter((k) => !clash.has(k)),
                );
                run.tables = {
                    ...run.tables,
                    [m.target.name]: { upserted: r.upserted, deleted: r.deleted, numericsAsText: r.numericsAsText },
                };
                run.inexact.push(...r.inexact);
                total = { upserted: total.upserted + r.upserted, deleted: total.deleted + r.deleted };
            }
            await o.beforeCommit?.();
            db.exec("COMMIT");
            return total;
        });
    } catch (err) {
        if (db.inTransaction) db.exec("ROLLBACK");
        throw err;
    } finally {
        db.close();
    }
}

/** PostgreSQL stops capturing, the cutover is marked rolled back (sync works again, from a full pass). */
async function finish(o: RollbackOptions, run: Run): Promise<void> {
    await withSession("rollback", o.input.target, (c) =>
        asRoleInTransaction(c, ownerOf(o), async () => {
            await disarmChangeCapture(c);
            await c.query("DELETE FROM gecko_migration.sync_state");
            await c.query(
                `UPDATE gecko_migration.cutovers SET report = report || jsonb_build_object('rolledBackAt', now(), 'rollback', $2::jsonb) WHERE id = $1`,
                [run.cutover!.id, JSON.stringify({ tables: run.tables, conflicts: run.conflicts, inexact: run.inexact.length })],
            );
        }),
    );
}

function configureSqlite(o: RollbackOptions): string {
    const config = collectorConfig({ ...(o.collector ?? {}), database: "sqlite", sqlitePath: o.input.sqlitePath });
    return writeCollectorConfig(o.collectorConfigPath!, config, new Date().toISOString().replace(/[:.]/g, "-"));
}
