/**
 * This project: the database provisioned as scripts/demo.ts does (access plan:
 * owner + app role, grants, default privileges, TimeZone), then `runMigration`
 * in a child process (scripts/bench/runGeckoPg.ts) so its RSS is its own.
 * Phases come from the report's timings: load = copy (convert + checksum + COPY,
 * PK/UNIQUE maintained meanwhile), index = orphans + postLoad (the orphan sweep over
 * every foreign key, secondary indexes CONCURRENTLY, foreign keys, sequences,
 * ANALYZE, grants), validate.
 */
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { planAccess } from "../../../migration/setup/accessPlan";
import { applyAccess } from "../../../migration/setup/applyAccess";
import { connectionUrl } from "../../../migration/postgres/connection";
import type { MigrationReport } from "../../../migration/data/report/report";
import { runMeasured } from "../lib/measure";
import type { ContenderContext, ContenderResult } from "../lib/types";

export interface GeckoPgOptions {
    readonly ownerRole: string;
    readonly appRole: string;
    readonly sourceTimeZone: string;
    /** Write a V8 CPU profile of the child into this directory. */
    readonly cpuProfDir?: string;
    /** Label in the results (default `gecko-pg`). */
    readonly label?: string;
    /** Passed as --convert-workers (default: the library's choice). */
    readonly convertWorkers?: number;
}

const RUNNER = path.join(__dirname, "..", "runGeckoPg.ts");

export async function runGeckoPg(ctx: ContenderContext, o: GeckoPgOptions): Promise<ContenderResult & { report?: MigrationReport }> {
    const contender = o.label ?? "gecko-pg";
    const target = { ...ctx.admin, database: ctx.database };
    const plan = planAccess({ database: ctx.database, ownerRole: o.ownerRole, appRole: o.appRole, timezone: "UTC" });
    await applyAccess(ctx.admin, plan, randomBytes(18).toString("base64url"));

    const reportFile = path.join(ctx.workDir, `${contender}-${ctx.database}.report.json`);
    const nodeArgs = ["--import", "tsx", ...(o.cpuProfDir ? ["--cpu-prof", "--cpu-prof-dir", o.cpuProfDir] : []), RUNNER];
    const args = [
        ...nodeArgs,
        "--sqlite",
        ctx.sqlitePath,
        "--report",
        reportFile,
        "--owner-role",
        o.ownerRole,
        "--app-role",
        o.appRole,
        "--source-time-zone",
        o.sourceTimeZone,
        ...(o.convertWorkers === undefined ? [] : ["--convert-workers", String(o.convertWorkers)]),
    ];
    ctx.log(`${contender}: runMigration at ${ctx.scale.toLocaleString("en-US")} rows`);
    const run = await runMeasured(process.execPath, args, {
        env: { ...process.env, GECKO_BENCH_TARGET_URL: connectionUrl(target), FORCE_COLOR: "0" },
        timeFile: path.join(ctx.workDir, `${contender}-${ctx.database}.time`),
        postmasterPid: ctx.postmasterPid,
        onStderrLine: (l) => ctx.log(`${contender}: ${l.trim()}`),
    });
    const report = fs.existsSync(reportFile) ? (JSON.parse(fs.readFileSync(reportFile, "utf8")) as MigrationReport) : undefined;
    const sourceRows = report ? report.tables.reduce((a, t) => a + t.sourceRows, 0) : 0;
    if (!report || (run.code !== 0 && run.code !== 1)) {
        return {
            contender,
            scale: ctx.scale,
            database: ctx.database,
            ok: false,
            error: `runner exited ${run.code}: ${run.stderrTail.slice(-2000)}`,
            sourceRows,
            loadedRows: 0,
            phases: {},
            totalSeconds: run.usage.wallSeconds,
            loadRowsPerSecond: 0,
            totalRowsPerSecond: 0,
            usage: run.usage,
            notes: [],
        };
    }
    const t = report.timings;
    const phases: Record<string, number> = {
        load: t.copy ?? 0,
        // The orphan sweep checks every foreign key before the keys are added: it belongs to the build.
        index: (t.orphans ?? 0) + (t.postLoad ?? 0),
        validate: t.validate ?? 0,
        schema: t.schema ?? 0,
        orphans: t.orphans ?? 0,
        introspect: (t.introspect ?? 0) + (t.clockCheck ?? 0),
        runMigration: t.total ?? 0,
    };
    return {
        contender,
        scale: ctx.scale,
        database: ctx.database,
        ok: report.ok,
        ...(report.ok ? {} : { error: `report not ok: ${report.failures.join("; ")}` }),
        sourceRows,
        loadedRows: report.tables.reduce((a, x) => a + (x.validation ? x.validation.targetRows - x.validation.placeholderRows : 0), 0),
        phases,
        totalSeconds: run.usage.wallSeconds,
        loadRowsPerSecond: sourceRows / (phases.load || Infinity),
        totalRowsPerSecond: sourceRows / run.usage.wallSeconds,
        usage: run.usage,
        details: {
            convertWorkers: report.options.convertWorkers,
            copySecondsPerTable: Object.fromEntries(report.tables.map((x) => [x.table, x.copySeconds])),
            timings: t,
            quarantined: report.quarantine.total,
        },
        notes: ["total = child wall time (node + tsx start-up included); runMigration = the report's own total"],
        report,
    };
}
