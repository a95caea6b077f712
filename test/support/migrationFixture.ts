/**
 * A migration target for one test: a scratch database provisioned with the
 * access plan (owner + app role, grants, default privileges, TimeZone), a temp
 * dir for generated SQLite files, and shortcuts to run the migration and query
 * the result. Roles are cluster-wide and test files run concurrently, so role
 * names carry a random suffix; `dispose()` drops the database, then the roles.
 */
import { createHash, randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import Database from "better-sqlite3";
import { Client, type QueryResultRow } from "pg";
import { planAccess } from "../../migration/setup/accessPlan";
import { applyAccessSql } from "../../migration/setup/applyAccess";
import type { MigrationInput, MigrationLogger } from "../../migration/data/options";
import { clientConfig, connectionUrl, parseConnectionUrl, type ConnectionSpec } from "../../migration/postgres/connection";
import type { MigrationReport, TableReport } from "../../migration/data/report/report";
import { runMigration, runValidation, type RunHooks } from "../../migration/data/run/runMigration";
import { generateCollectorDb, type CollectorDbOptions, type GenerationManifest } from "../../scripts/generator/collectorDb";
import { adminUrl, createScratchDatabase, withClient, type ScratchDatabase } from "./db";
import { PROJECT_ROOT } from "./paths";

/** Zone of the generated collector host: not UTC, so a wrong clock policy shifts local columns by 5-6 hours. */
export const HOST_ZONE = "America/Chicago";

export interface MigrationFixture {
    readonly db: ScratchDatabase;
    /** Admin (superuser) connection to the scratch database: the migration's target. */
    readonly target: ConnectionSpec;
    readonly ownerRole: string;
    readonly appRole: string;
    /** LOGIN connection as the collector's role. */
    readonly app: ConnectionSpec;
    /** Temp dir for SQLite files (removed by dispose). */
    readonly dir: string;
    /** Writes a collector database into the temp dir (host zone HOST_ZONE unless given). */
    generate(name: string, options?: Omit<CollectorDbOptions, "path">): { path: string; manifest: GenerationManifest };
    /** Migration input for `sqlitePath` with this fixture's target and roles. */
    input(sqlitePath: string, options?: Partial<MigrationInput>): MigrationInput;
    migrate(sqlitePath: string, options?: Partial<MigrationInput>, hooks?: RunHooks, logger?: MigrationLogger): Promise<MigrationReport>;
    validate(sqlitePath: string, options?: Partial<MigrationInput>): Promise<MigrationReport>;
    /** Runs SQL on the target as the admin (session TimeZone UTC). */
    query<T extends QueryResultRow = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
    dispose(): Promise<void>;
}

export async function createMigrationFixture(label = "mig"): Promise<MigrationFixture> {
    const suffix = randomBytes(4).toString("hex");
    const ownerRole = `gecko_owner_${suffix}`;
    const appRole = `gecko_collector_${suffix}`;
    const appPassword = `app-${randomBytes(6).toString("hex")}`;
    const db = await createScratchDatabase(label);
    const target = parseConnectionUrl(db.url);
    const plan = planAccess({ database: db.name, ownerRole, appRole, timezone: "UTC" });
    await withClient(db.url, (c) => applyAccessSql(c, plan, appPassword));
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `gecko-${label}-`));
    const admin = new Client(clientConfig(target));
    await admin.connect();
    await admin.query("SET TimeZone = 'UTC'");

    const input = (sqlitePath: string, options: Partial<MigrationInput> = {}): MigrationInput => ({
        sqlitePath,
        target,
        ownerRole,
        appRole,
        sourceTimeZone: HOST_ZONE,
        sampleRows: 25,
        ...options,
    });
    return {
        db,
        target,
        ownerRole,
        appRole,
        app: { ...target, user: appRole, password: appPassword },
        dir,
        generate(name, options = {}) {
            const file = path.join(dir, `${name}.db`);
            const manifest = generateCollectorDb({ hostTimeZone: HOST_ZONE, overwrite: true, ...options, path: file });
            return { path: file, manifest };
        },
        input,
        migrate: (p, o, hooks, logger) => runMigration(input(p, o), logger, hooks),
        validate: (p, o) => runValidation(input(p, o)),
        async query<T extends QueryResultRow>(sql: string, params?: unknown[]) {
            return (await admin.query<T>(sql, params)).rows;
        },
        async dispose() {
            await admin.end().catch(() => undefined);
            await db.drop();
            await withClient(adminUrl(), async (c) => {
                for (const role of [appRole, ownerRole]) await c.query(`DROP ROLE IF EXISTS ${role}`);
            });
            fs.rmSync(dir, { recursive: true, force: true });
        },
    };
}

/**
 * `gecko-pg COMMAND` against the fixture's target, as an operator runs it: the node arguments
 * (the CLI entry, the source, its zone, the roles, then `extra`) and the environment (the
 * target's URL in GECKO_TARGET_URL, no colour).
 */
export function geckoPgCommand(
    fx: MigrationFixture,
    command: string,
    sqlitePath: string,
    extra: readonly string[] = [],
): { readonly args: string[]; readonly env: NodeJS.ProcessEnv } {
    return {
        args: [
            path.join(PROJECT_ROOT, "scripts", "gecko-pg.js"),
            command,
            "--sqlite",
            sqlitePath,
            "--source-time-zone",
            HOST_ZONE,
            "--owner-role",
            fx.ownerRole,
            "--app-role",
            fx.appRole,
            ...extra,
        ],
        env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", GECKO_TARGET_URL: connectionUrl(fx.target), FORCE_COLOR: "0" },
    };
}

/** sha256 of a file, or null when it does not exist. */
export function sha256(file: string): string | null {
    if (!fs.existsSync(file)) return null;
    return createHash("sha256").update(fs.readFileSync(file)).digest("hex");
}

/** The report's entry for `table` (throws when absent, so assertions read naturally). */
export function tableReport(report: MigrationReport, table: string): TableReport {
    const t = report.tables.find((x) => x.table === table);
    if (!t) throw new Error(`report has no table ${table}; tables: ${report.tables.map((x) => x.table).join(", ")}`);
    return t;
}

/** Reads all rows of a query against the SQLite file (read-only, integers as bigint-safe numbers where they fit). */
export function sqliteAll<T = Record<string, unknown>>(sqlitePath: string, sql: string, ...params: unknown[]): T[] {
    const db = new Database(sqlitePath, { readonly: true, fileMustExist: true });
    try {
        return db.prepare(sql).all(...params) as T[];
    } finally {
        db.close();
    }
}
