/**
 * The target preflight on a real server: a target object of another shape than the plan's
 * stops `migrate` before it creates anything, one line per conflict naming both shapes
 * (exit 3 on the command line), and `plan` lists the same (exit 0). The plan's own target
 * passes: half-copied after a crash, and complete after success, with no note either; a
 * column changed after the copy is named by validate's schema checks.
 * The comparison rules themselves: test/migration/schema/preflight.test.ts.
 */
import Database from "better-sqlite3";
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mapSourceToTarget } from "../../../../migration/data/plan/tableMapping";
import { renderReport } from "../../../../migration/data/report/report";
import { RunStopped } from "../../../../migration/data/run/runMigration";
import { introspectSource } from "../../../../migration/data/source/introspect";
import { createTableSql } from "../../../../migration/schema/ddl";
import { readTargetCatalog } from "../../../../migration/schema/inspect";
import { comparePlanWithTarget, TargetConflictError } from "../../../../migration/schema/preflight";
import { TARGET_TABLES, targetTable } from "../../../../migration/schema/tables";
import type { TargetTable } from "../../../../migration/schema/types";
import { withClient } from "../../../support/db";
import { createMigrationFixture, type MigrationFixture } from "../../../support/migrationFixture";
import { PROJECT_ROOT } from "../../../support/paths";
import { runCli } from "../../../support/previousVersion";

/** The tables a run of `sqlitePath` would create (the collector's with the source's extras). */
function plannedTables(sqlitePath: string): TargetTable[] {
    const db = new Database(sqlitePath, { readonly: true, fileMustExist: true });
    try {
        return mapSourceToTarget(introspectSource(db), TARGET_TABLES).tables.map((m) => m.target);
    } finally {
        db.close();
    }
}

/** The preflight of a run of `sqlitePath` against the fixture's target as it is now. */
async function preflightOf(fx: MigrationFixture, sqlitePath: string) {
    const catalog = await withClient(fx.db.url, (c) => readTargetCatalog(c, fx.ownerRole));
    return comparePlanWithTarget(catalog, plannedTables(sqlitePath));
}

/** Tables of the public schema and whether the bookkeeping schema exists: what a refused run must leave as it was. */
async function whatExists(fx: MigrationFixture) {
    const tables = await fx.query<{ name: string }>(
        "SELECT relname AS name FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'p') ORDER BY 1",
    );
    const [bookkeeping] = await fx.query<{ ok: boolean }>("SELECT to_regnamespace('gecko_migration') IS NOT NULL AS ok");
    return { tables: tables.map((t) => t.name), bookkeeping: bookkeeping.ok };
}

/** `sql` run as the owner role, as a tool sharing the database would (the objects are the owner's, the grants can reach them). */
async function asOwner(fx: MigrationFixture, sql: string): Promise<void> {
    await fx.query(`SET ROLE ${fx.ownerRole}`);
    try {
        await fx.query(sql);
    } finally {
        await fx.query("RESET ROLE");
    }
}

async function refusal(run: Promise<unknown>): Promise<TargetConflictError> {
    const err = await run.then(
        () => undefined,
        (e: unknown) => e,
    );
    // The run stops with its report (status failed); what stopped it is the preflight's refusal.
    expect(err).toBeInstanceOf(RunStopped);
    expect((err as RunStopped).report.status).toBe("failed");
    let conflict: unknown = err;
    while (conflict && !(conflict instanceof TargetConflictError)) conflict = (conflict as Error).cause;
    expect(conflict).toBeInstanceOf(TargetConflictError);
    return conflict as TargetConflictError;
}

describe("preflight: a target holding objects of another shape", () => {
    let fx: MigrationFixture;
    let source: string;

    beforeAll(async () => {
        fx = await createMigrationFixture("preflight");
        ({ path: source } = fx.generate("preflight", { rows: 300, seed: 11 }));
    });
    afterAll(async () => fx?.dispose());

    it("a pools table with other columns: refused before any table is created, each column named", async () => {
        await asOwner(fx, "CREATE TABLE pools (id text PRIMARY KEY, address text NOT NULL, pool_kind text NOT NULL)");
        const err = await refusal(fx.migrate(source));
        expect(err.conflicts).toContain("table pools: column id is text in the target, the plan has character varying(200)");
        expect(err.conflicts).toContain("table pools: column name is missing in the target, the plan has character varying(200)");
        expect(err.conflicts).toContain(
            "table pools: column pool_kind (text NOT NULL, no default) is in the target, the plan has no such column: no row the copy writes can fill it",
        );
        expect(err.message).toMatch(/^the target already holds \d+ object\(s\) of another shape .*nothing was created or changed/);
        expect(await whatExists(fx)).toEqual({ tables: ["pools"], bookkeeping: false });
    });

    it("gecko-pg plan lists the same conflicts and exits 0; gecko-pg migrate exits 3 naming them", () => {
        const roles = ["--owner-role", fx.ownerRole, "--app-role", fx.appRole];
        const plan = runCli(PROJECT_ROOT, ["plan", "--sqlite", source, ...roles], fx.db.url);
        expect(plan.code, plan.stderr).toBe(0);
        expect(plan.stdout).toMatch(/^preflight against .*: \d+ conflict\(s\); migrate would stop before creating anything \(exit 3\):$/m);
        expect(plan.stdout).toContain("  - table pools: column name is missing in the target, the plan has character varying(200)");
        expect(plan.stdout).not.toContain(new URL(fx.db.url).password);
        const alone = spawnSync(process.execPath, [path.join(PROJECT_ROOT, "scripts", "gecko-pg.js"), "plan", "--sqlite", source], {
            cwd: PROJECT_ROOT,
            env: { PATH: process.env.PATH, HOME: process.env.HOME },
            encoding: "utf8",
        });
        expect(alone.status, alone.stderr).toBe(0);
        expect(alone.stdout).toMatch(/^preflight: skipped, no target configured \(GECKO_TARGET_URL, DATABASE_URL, --target or --host\)$/m);
        const json = runCli(PROJECT_ROOT, ["plan", "--sqlite", source, "--json", ...roles], fx.db.url);
        expect(JSON.parse(json.stdout).preflight).toMatchObject({
            checked: true,
            conflicts: expect.arrayContaining(["table pools: column id is text in the target, the plan has character varying(200)"]),
        });
        const migrate = runCli(PROJECT_ROOT, ["migrate", "--sqlite", source, "--quiet", ...roles], fx.db.url);
        expect(migrate.code, migrate.stderr).toBe(3);
        expect(migrate.stderr).toContain("  - table pools: column name is missing in the target, the plan has character varying(200)");
        expect(migrate.stderr).not.toContain(new URL(fx.db.url).password);
    });

    it("the plan's columns with another type: the column and both types named", async () => {
        await fx.query("DROP TABLE pools");
        await asOwner(fx, createTableSql(targetTable("pools")));
        await fx.query("ALTER TABLE pools ALTER COLUMN reserve_usd TYPE numeric(10,2)");
        const err = await refusal(fx.migrate(source));
        expect(err.conflicts).toEqual(["table pools: column reserve_usd is numeric(10,2) in the target, the plan has numeric(26,8)"]);
        expect(await whatExists(fx)).toEqual({ tables: ["pools"], bookkeeping: false });
    });

    it("the plan's own table made by another role: post-load could not index it, the owner named", async () => {
        await fx.query("DROP TABLE pools");
        await fx.query(createTableSql(targetTable("pools")));
        const err = await refusal(fx.migrate(source));
        expect(err.conflicts).toEqual([
            `table pools is owned by ${new URL(fx.db.url).username} in the target, the plan has it owned by ${fx.ownerRole}: ` +
                `post-load builds its indexes and keys as ${fx.ownerRole}, which PostgreSQL allows only an owner (ALTER ... OWNER TO ${fx.ownerRole})`,
        ]);
        expect(await whatExists(fx)).toEqual({ tables: ["pools"], bookkeeping: false });
    });

    it("the plan's key and index names used by another table, a sequence name by a stray sequence", async () => {
        await fx.query("DROP TABLE pools");
        await asOwner(fx, "CREATE TABLE legacy_pools (id int CONSTRAINT pools_pkey PRIMARY KEY, v numeric)");
        await asOwner(fx, "CREATE INDEX idx_trades_volume_usd ON legacy_pools (v)");
        await asOwner(fx, "CREATE SEQUENCE watchlist_id_seq");
        const err = await refusal(fx.migrate(source));
        expect(err.conflicts).toEqual([
            "pools_pkey is an index on legacy_pools in the target, the plan has it as the primary key of pools",
            "idx_trades_volume_usd is an index on legacy_pools in the target, the plan has it as an index on trades",
            "sequence watchlist_id_seq is owned by no column in the target, the plan has it as the identity sequence of watchlist.id",
        ]);
        expect(await whatExists(fx)).toEqual({ tables: ["legacy_pools"], bookkeeping: false });
    });

    it("another table the owner role cannot grant on: the schema step's GRANT would fail on it", async () => {
        await fx.query("DROP TABLE legacy_pools; DROP SEQUENCE watchlist_id_seq");
        await fx.query("CREATE TABLE operator_notes (id int)");
        const err = await refusal(fx.migrate(source));
        expect(err.conflicts).toEqual([
            `operator_notes is a table owned by ${new URL(fx.db.url).username} on which ${fx.ownerRole} holds no privilege: the run's GRANT on all tables in the schema fails on it ` +
                `(make ${fx.ownerRole} its owner, grant ${fx.ownerRole} a privilege on it, or move it to another schema)`,
        ]);
        expect(await whatExists(fx)).toEqual({ tables: ["operator_notes"], bookkeeping: false });
    });

    it("what does not collide is a note, and the run goes ahead", async () => {
        await fx.query(`ALTER TABLE operator_notes OWNER TO ${fx.ownerRole}`);
        const found = await preflightOf(fx, source);
        expect(found).toEqual({ conflicts: [], notes: ["operator_notes (a table) is not the plan's: left as it is"] });
        const report = await fx.migrate(source, { allowQuarantine: true });
        expect(report.failures).toEqual([]);
        // The report names what the target holds beside the plan.
        expect(report.warnings).toContain("preflight: operator_notes (a table) is not the plan's: left as it is");
    });
});

describe("preflight: the plan's own target passes", () => {
    let fx: MigrationFixture;
    let source: string;

    beforeAll(async () => {
        fx = await createMigrationFixture("preflightown");
        // Extra tables and columns too: they are the plan's as well.
        ({ path: source } = fx.generate("own", { variant: "extended", rows: 600, seed: 12 }));
    });
    afterAll(async () => fx?.dispose());

    it("a resume after a crash mid-copy (before post-load): no conflict, and the rerun completes", async () => {
        const crash = fx.migrate(
            source,
            { chunkRows: 50, copyLanes: 1 },
            {
                beforeChunkCommit: (chunk) => {
                    if (chunk.table === "trades" && chunk.chunkNo === 2) throw new Error("simulated crash");
                },
            },
        );
        await expect(crash).rejects.toThrow(/simulated crash/);
        expect(await preflightOf(fx, source)).toEqual({ conflicts: [], notes: [] });
        const report = await fx.migrate(source, { chunkRows: 50, allowQuarantine: true });
        expect(report.failures).toEqual([]);
        expect(report.ok).toBe(true);
    });

    it("a rerun after success: the catalog as PostgreSQL prints it is exactly the plan's, no conflict and no note", async () => {
        expect(await preflightOf(fx, source)).toEqual({ conflicts: [], notes: [] });
        const again = await fx.migrate(source, { chunkRows: 50, allowQuarantine: true });
        expect(again.ok).toBe(true);
        const plan = runCli(PROJECT_ROOT, ["plan", "--sqlite", source, "--owner-role", fx.ownerRole], fx.db.url);
        expect(plan.code, plan.stderr).toBe(0);
        expect(plan.stdout).toMatch(/^preflight against .*: no conflict with what migrate would create$/m);
    });

    it("a column type changed after the copy: validate names it among the schema checks, not only as checksum mismatches", async () => {
        await fx.query("ALTER TABLE pools ALTER COLUMN reserve_usd TYPE numeric(20,2)");
        const report = await fx.validate(source);
        expect(report.ok).toBe(false);
        expect(report.schema.problems).toContain(
            "table pools: column reserve_usd is numeric(20,2) in the target, the plan has numeric(26,8)",
        );
        expect(renderReport(report)).toContain(
            "  - table pools: column reserve_usd is numeric(20,2) in the target, the plan has numeric(26,8)",
        );
    });
});
