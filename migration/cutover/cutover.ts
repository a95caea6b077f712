/**
 * The cutover (the migration plan's phases 3, 4 and 6), as named steps:
 *
 *   preflight -> catch-up -> freeze (final pass, proof, stop the collector) -> verify
 *   -> switch (the collector's configuration, the cutover recorded) -> start the collector
 *
 * Safe to abort at any step before the switch: until then the collector's configuration
 * still names the SQLite file, and an abort after the collector was stopped starts it again
 * on SQLite; so does a stop asked for (`signal`), at the next step. After the switch is
 * recorded a stop waits for the configuration and the start hook. The freeze holds the file's write lock (freeze.ts) only for the final pass and
 * the stop hook; when the final pass overruns the budget the lock is released at once, the
 * cutover backs off, catches up and tries again (gh-ost's cut-over), every attempt reported.
 * Resumable: a rerun after the switch finishes what is left (configuration, start hook).
 */
import { describeConnection } from "../postgres/connection";
import * as fs from "node:fs";
import { DEFAULT_OPTIONS, type MigrationInput, type MigrationLogger } from "../data/options";
import { collectorConfig, type CollectorConfigInput } from "./collectorConfig";
import { writeCollectorConfig } from "./configFile";
import { acquireWriteFreeze, FreezeTimeout, type WriteFreeze } from "./freeze";
import { cutoverState, recordCutover, markCollectorStarted, requireValidated, type CutoverRecord } from "./cutoverRecord";
import { stepRecorder, type StepRecord, type Steps } from "./steps";
import { syncPass, syncPassRetrying, type SyncReport } from "./sync";
import { validateChangedTables } from "./validateChanged";
import { Interrupted, throwIfInterrupted } from "../postgres/transient";

export interface CutoverOptions {
    readonly input: MigrationInput;
    /** Longest the collector's writes may wait: the final pass must fit (default 2 s). */
    readonly freezeBudgetSeconds: number;
    /** Longest to wait for the collector's write in progress when taking the lock (default 5 s). */
    readonly lockWaitMs: number;
    /** Freeze attempts before giving up (default 5). */
    readonly attempts: number;
    /** Catch-up passes at most before the first freeze (default 20). */
    readonly catchUpPasses: number;
    /** Memory the sync passes may keep the file's pages in (syncPass; default there). */
    readonly keepPagesBytes?: number;
    /** The collector's config.yaml (or *.env) to point at PostgreSQL. */
    readonly collectorConfigPath?: string;
    /** The collector's side of the configuration (its role, and its password when it is to be written). */
    readonly collector: Omit<CollectorConfigInput, "database" | "sqlitePath">;
    readonly stopCollector?: () => Promise<void>;
    readonly startCollector?: () => Promise<void>;
    /** The operator stopped the collector already: the freeze then only proves that nothing writes. */
    readonly collectorStopped?: boolean;
    readonly dryRun?: boolean;
    readonly logger: MigrationLogger;
    /**
     * Stops the cutover before its next step (SIGINT/SIGTERM): nothing switched, the lock released,
     * and a collector the stop hook stopped started again on SQLite. Ignored once the switch is recorded.
     */
    readonly signal?: AbortSignal;
}

export interface FreezeAttempt {
    readonly attempt: number;
    readonly lockWaitMs: number;
    /** How long the lock was held (the collector's writes waited at most this long). */
    readonly heldSeconds: number;
    readonly finalPassSeconds: number;
    readonly finalPassChanges: number;
    readonly outcome: "frozen" | "overran" | "lock-busy" | "not-quiet";
}

export interface CutoverReport {
    readonly tool: "gecko-pg";
    readonly kind: "cutover";
    readonly ok: boolean;
    readonly dryRun: boolean;
    /** The cutover was recorded by an earlier run; this one finished what was left. */
    readonly resumed: boolean;
    readonly startedAt: string;
    readonly finishedAt: string;
    /** From the command to the collector started on PostgreSQL. */
    readonly totalSeconds: number;
    readonly source: string;
    readonly target: string;
    readonly steps: readonly StepRecord[];
    readonly attempts: readonly FreezeAttempt[];
    readonly freeze?: FreezeAttempt;
    readonly cutover?: CutoverRecord;
    readonly configBackup?: string;
    readonly error?: string;
    /** The cutover stopped because a stop was asked for (`signal`); `error` says where. */
    readonly interrupted?: boolean;
}

export class CutoverAborted extends Error {}

/** The whole cutover; the report says what happened at each step, also when it failed. */
export async function runCutover(o: CutoverOptions): Promise<CutoverReport> {
    const t0 = new Date();
    const steps = stepRecorder(o.logger);
    const attempts: FreezeAttempt[] = [];
    const base = { t0, steps, attempts, o };
    try {
        const state = await steps.run(
            "preflight",
            () => preflight(o),
            (s) => s.detail,
        );
        if (state.recorded) return await finishSwitch(base, state.recorded, true);
        throwIfInterrupted(o.signal, "preflight");
        const last = await steps.run(
            "catch-up",
            () => catchUp(o),
            (r) => `last pass ${r.seconds.toFixed(2)} s, ${r.report.changes} changes`,
        );
        if (o.dryRun) {
            await steps.run(
                "dry-run",
                async () => dryRunPlan(o, last.seconds),
                (s) => s,
            );
            return report(base, true);
        }
        const frozen = await steps.run("freeze", () => freezeWithRetries(o, attempts), freezeDetail);
        let switched = false;
        try {
            throwIfInterrupted(o.signal, "the freeze");
            await steps.run(
                "verify",
                () => verifyAfterFreeze(o, frozen.freeze),
                (s) => s,
            );
            throwIfInterrupted(o.signal, "verify");
            const record = await steps.run(
                "record",
                () =>
                    recordCutover(
                        o.input.target,
                        o.input.ownerRole ?? DEFAULT_OPTIONS.ownerRole,
                        cutoverRecordOf(frozen.report, frozen.attempt, attempts),
                    ),
                (r) => `cutover #${r.id}`,
            );
            switched = true;
            return await finishSwitch(base, record, false, frozen.attempt);
        } finally {
            frozen.freeze.close();
            if (!switched && o.stopCollector && o.startCollector) {
                // Nothing switched: the collector's configuration still names the SQLite file.
                await steps
                    .run("restart-on-sqlite", o.startCollector, () => "the collector was started again on the SQLite file")
                    .catch(() => undefined);
            }
        }
    } catch (err) {
        const interrupted = err instanceof Interrupted;
        const stopped = interrupted
            ? "; nothing was switched, the collector runs on SQLite (if a stop hook stopped it, the start hook ran again)"
            : "";
        return report(base, false, { error: `${(err as Error).message}${stopped}`, ...(interrupted ? { interrupted } : {}) });
    }
}

const passOptions = (o: CutoverOptions) => (o.keepPagesBytes === undefined ? {} : { keepPagesBytes: o.keepPagesBytes });

interface Base {
    readonly t0: Date;
    readonly steps: Steps;
    readonly attempts: FreezeAttempt[];
    readonly o: CutoverOptions;
}

function report(b: Base, ok: boolean, extra: Partial<CutoverReport> = {}): CutoverReport {
    const finished = new Date();
    return {
        tool: "gecko-pg",
        kind: "cutover",
        ok,
        dryRun: Boolean(b.o.dryRun),
        resumed: false,
        startedAt: b.t0.toISOString(),
        finishedAt: finished.toISOString(),
        totalSeconds: (finished.getTime() - b.t0.getTime()) / 1000,
        source: b.o.input.sqlitePath,
        target: describeConnection(b.o.input.target),
        steps: b.steps.records,
        attempts: b.attempts,
        ...extra,
    };
}

/** The switch's second half: the collector's configuration written, then the collector started. */
async function finishSwitch(b: Base, record: CutoverRecord, resumed: boolean, freeze?: FreezeAttempt): Promise<CutoverReport> {
    const { o, steps } = b;
    if (record.collectorStarted) return report(b, true, { resumed, cutover: record, ...(freeze ? { freeze } : {}) });
    const configBackup = o.collectorConfigPath
        ? await steps.run(
              "configure",
              async () => writeCollectorConfig(o.collectorConfigPath!, postgresConfig(o), record.switchedAt.replace(/[:.]/g, "-")),
              (backup) => `${o.collectorConfigPath} now names PostgreSQL (before: ${backup})`,
          )
        : undefined;
    if (o.startCollector) await steps.run("start-collector", o.startCollector, () => "the collector was started");
    await markCollectorStarted(o.input.target, record.id);
    return report(b, true, {
        resumed,
        cutover: { ...record, collectorStarted: true },
        ...(freeze ? { freeze } : {}),
        ...(configBackup ? { configBackup } : {}),
    });
}

function postgresConfig(o: CutoverOptions) {
    return collectorConfig({ ...o.collector, database: "postgresql", sqlitePath: o.input.sqlitePath });
}

/** Target migrated and validated, no cutover yet (else: resume), the configuration found, a way to stop the collector. */
async function preflight(o: CutoverOptions): Promise<{ recorded?: CutoverRecord; detail: string }> {
    const state = await cutoverState(o.input.target);
    if (state.recorded)
        return {
            recorded: state.recorded,
            detail: `cut over already at ${state.recorded.switchedAt} (cutover #${state.recorded.id}): finishing`,
        };
    await requireValidated(o.input.target);
    if (o.collectorConfigPath) postgresConfig(o); // fails early on a configuration it cannot write
    if (o.collectorConfigPath && !fs.existsSync(o.collectorConfigPath))
        throw new CutoverAborted(`the collector's configuration ${o.collectorConfigPath} does not exist`);
    if (!o.dryRun && !o.stopCollector && !o.collectorStopped)
        throw new CutoverAborted(
            "no way to stop the collector: give --stop-collector CMD, or --collector-stopped when it is stopped already",
        );
    return {
        detail: `target ${describeConnection(o.input.target)} validated; ${o.collectorConfigPath ? `configuration ${o.collectorConfigPath}` : "no configuration file to write"}`,
    };
}

/** Sync passes until one is short enough to run inside the freeze. */
async function catchUp(o: CutoverOptions): Promise<{ report: SyncReport; seconds: number }> {
    let last: { report: SyncReport; seconds: number } | undefined;
    for (let i = 0; i < o.catchUpPasses; i++) {
        throwIfInterrupted(o.signal, "catch-up");
        const t0 = Date.now();
        const r = await syncPassRetrying(o.input, o.logger, passOptions(o));
        last = { report: r, seconds: (Date.now() - t0) / 1000 };
        if (last.seconds <= o.freezeBudgetSeconds / 2) return last;
    }
    throw new CutoverAborted(
        `after ${o.catchUpPasses} passes a pass still takes ${last!.seconds.toFixed(2)} s, more than half the freeze budget (${o.freezeBudgetSeconds} s)`,
    );
}

function dryRunPlan(o: CutoverOptions, lastPassSeconds: number): string {
    return [
        `would take the write lock (waiting at most ${o.lockWaitMs} ms), run a final pass (the last took ${lastPassSeconds.toFixed(2)} s; budget ${o.freezeBudgetSeconds} s, ${o.attempts} attempts)`,
        o.stopCollector ? "stop the collector with the hook" : "prove the stopped collector writes nothing",
        o.collectorConfigPath ? `point ${o.collectorConfigPath} at PostgreSQL` : "write no configuration file",
        "record the cutover in PostgreSQL",
        o.startCollector ? "start the collector with the hook" : "leave starting the collector to the operator",
    ].join("; ");
}

interface Frozen {
    readonly freeze: WriteFreeze;
    readonly report: SyncReport;
    readonly attempt: FreezeAttempt;
}

const freezeDetail = (f: Frozen) =>
    `attempt ${f.attempt.attempt}: writes waited ${f.attempt.heldSeconds.toFixed(2)} s (lock wait ${f.attempt.lockWaitMs} ms, final pass ${f.attempt.finalPassSeconds.toFixed(2)} s, ${f.attempt.finalPassChanges} changes)`;

/** Freeze, final pass, proof, stop hook; on an overrun release at once, back off, catch up, try again. */
async function freezeWithRetries(o: CutoverOptions, attempts: FreezeAttempt[]): Promise<Frozen> {
    for (let n = 1; n <= o.attempts; n++) {
        throwIfInterrupted(o.signal, "the freeze");
        const frozen = await freezeOnce(o, n);
        attempts.push(frozen.attempt);
        if (frozen.freeze) return frozen as Frozen;
        o.logger.warn(`cutover freeze attempt ${n}: ${frozen.attempt.outcome}; backing off`);
        await new Promise((r) => setTimeout(r, Math.min(8000, 500 * 2 ** (n - 1))));
        await syncPassRetrying(o.input, o.logger, passOptions(o)); // catch up again before the next attempt
    }
    throw new CutoverAborted(`no freeze fitted the budget of ${o.freezeBudgetSeconds} s in ${o.attempts} attempts; nothing was switched`);
}

async function freezeOnce(o: CutoverOptions, n: number): Promise<{ freeze?: WriteFreeze; report?: SyncReport; attempt: FreezeAttempt }> {
    let freeze: WriteFreeze;
    try {
        freeze = acquireWriteFreeze(o.input.sqlitePath, o.lockWaitMs);
    } catch (err) {
        if (!(err instanceof FreezeTimeout)) throw err;
        return {
            attempt: {
                attempt: n,
                lockWaitMs: o.lockWaitMs,
                heldSeconds: 0,
                finalPassSeconds: 0,
                finalPassChanges: 0,
                outcome: "lock-busy",
            },
        };
    }
    const attempt = (outcome: FreezeAttempt["outcome"], r?: SyncReport, passSeconds = 0): FreezeAttempt => ({
        attempt: n,
        lockWaitMs: freeze.lockWaitMs,
        heldSeconds: freeze.heldMs() / 1000,
        finalPassSeconds: passSeconds,
        finalPassChanges: r?.changes ?? 0,
        outcome,
    });
    try {
        const t0 = Date.now();
        const r = await syncPass(o.input, o.logger, passOptions(o));
        const passSeconds = (Date.now() - t0) / 1000;
        if (freeze.heldMs() > o.freezeBudgetSeconds * 1000) {
            const a = attempt("overran", r, passSeconds);
            freeze.close();
            return { attempt: a };
        }
        if (!freeze.quiet().quiet) {
            const a = attempt("not-quiet", r, passSeconds);
            freeze.close();
            return { attempt: a };
        }
        // Before the collector is stopped: a stop asked for now leaves it running, nothing to restart.
        throwIfInterrupted(o.signal, "the freeze");
        await o.stopCollector?.();
        const a = attempt("frozen", r, passSeconds);
        freeze.releaseLock();
        return { freeze, report: r, attempt: a };
    } catch (err) {
        freeze.close();
        throw err;
    }
}

/** Nothing committed after the final pass (the collector is stopped), then the changed tables checked against their checksums. */
async function verifyAfterFreeze(o: CutoverOptions, freeze: WriteFreeze): Promise<string> {
    await new Promise((r) => setTimeout(r, 200)); // a collector the hook did not stop would commit its waiting write now
    const q = freeze.quiet();
    if (!q.quiet)
        throw new CutoverAborted(
            `the SQLite file changed after the final pass (${q.detail}): the collector still writes to it; not switching`,
        );
    const checked = await validateChangedTables(o.input, o.logger);
    if (checked.failures.length) throw new CutoverAborted(`validation of the changed tables failed: ${checked.failures.join("; ")}`);
    return `${q.detail}; ${checked.tables.length ? `validated ${checked.tables.join(", ")}` : "no table changed since the last validation"}`;
}

function cutoverRecordOf(final: SyncReport, freeze: FreezeAttempt, attempts: readonly FreezeAttempt[]) {
    return {
        fingerprint: final.source.fingerprint,
        freeze,
        attempts,
        finalPass: { changes: final.changes, mode: final.mode, lagSeconds: final.lagSeconds },
    };
}
