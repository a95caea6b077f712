/**
 * The bad-input and fault corpus (docs/bad-input.md lists every kind and what happens): each
 * kind through `gecko-pg migrate` as an operator runs it, on a fresh target. Each case asserts
 * the exit code, the message (naming file, table, key and column as they apply), where the
 * bad value went, and that nothing was lost or changed: the source file is byte for byte as it
 * was, and every source row is in the target or in the quarantine, exactly once.
 */
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { promisify } from "node:util";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectionUrl } from "../../../../migration/postgres/connection";
import type { MigrationReport } from "../../../../migration/data/report/report";
import { createMigrationFixture, geckoPgCommand, sha256, type MigrationFixture } from "../../../support/migrationFixture";
import { PROJECT_ROOT } from "../../../support/paths";

const run = promisify(execFile);

interface CliResult {
    readonly status: number;
    readonly stdout: string;
    readonly stderr: string;
    readonly report?: MigrationReport;
}

interface Case {
    readonly name: string;
    /** Makes the case's source from a copy of the base file (edit it in place, or return another path). */
    readonly source: (file: string) => string;
    readonly args?: readonly string[];
    /** Environment beside the target's URL (which `env` may replace). */
    readonly env?: (fx: MigrationFixture) => Record<string, string>;
    readonly status: number;
    /** What stderr (a failure) or the text report (stdout) says. */
    readonly says: RegExp;
    /** Prepares the target before the run (as its admin). */
    readonly target?: (fx: MigrationFixture) => Promise<void>;
    /** Further checks on the target after the run. */
    readonly check?: (fx: MigrationFixture, r: CliResult, file: string) => Promise<void>;
}

let base: string;
let baseFixture: MigrationFixture;

beforeAll(async () => {
    baseFixture = await createMigrationFixture("corpusbase");
    ({ path: base } = baseFixture.generate("base", { rows: 400, seed: 29 }));
});
afterAll(async () => baseFixture?.dispose());

/** Runs `gecko-pg migrate` on `file` against the fixture's target; the JSON report read back when written. */
async function migrate(fx: MigrationFixture, file: string, c: Case): Promise<CliResult> {
    const reportFile = path.join(fx.dir, "report.json");
    const command = geckoPgCommand(fx, "migrate", file, ["--sample-rows", "20", "--quiet", "--report", reportFile, ...(c.args ?? [])]);
    const { args } = command;
    const env = { ...command.env, ...(c.env?.(fx) ?? {}) };
    let r: { status: number; stdout: string; stderr: string };
    try {
        const out = await run(process.execPath, args, { cwd: PROJECT_ROOT, env, encoding: "utf8", timeout: 120_000 });
        r = { status: 0, stdout: out.stdout, stderr: out.stderr };
    } catch (err) {
        const e = err as { code?: number; stdout?: string; stderr?: string };
        r = { status: typeof e.code === "number" ? e.code : -1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
    }
    const report = fs.existsSync(reportFile) ? (JSON.parse(fs.readFileSync(reportFile, "utf8")) as MigrationReport) : undefined;
    return { ...r, ...(report ? { report } : {}) };
}

/** Edits a copy of the source with SQL (the collector's file itself is never touched). */
const edit =
    (sql: string, ...params: unknown[]) =>
    (file: string): string => {
        const db = new Database(file);
        db.pragma("foreign_keys = OFF"); // the collector's files hold orphans: SQLite enforces no foreign keys by default
        db.prepare(sql).run(...params);
        db.close();
        return file;
    };

/** Rebuilds `table` without its constraints (as a hand-edited or older file may be), then runs `sql`. */
const unconstrained =
    (table: string, sql: string) =>
    (file: string): string => {
        const db = new Database(file);
        db.pragma("foreign_keys = OFF");
        const cols = (db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[]).map((c) => c.name);
        db.exec(
            `CREATE TABLE ${table}_loose AS SELECT * FROM ${table}; DROP TABLE ${table}; ` +
                `CREATE TABLE ${table} (${cols.join(", ")}); INSERT INTO ${table} SELECT * FROM ${table}_loose; DROP TABLE ${table}_loose; ${sql}`,
        );
        db.close();
        return file;
    };

/** A key of the base file's table (by rowid order). */
function keyOf(table: string, column = "id", offset = 3): string {
    const db = new Database(base, { readonly: true });
    try {
        return String(db.prepare(`SELECT ${column} FROM ${table} ORDER BY rowid LIMIT 1 OFFSET ?`).pluck().get(offset));
    } finally {
        db.close();
    }
}

/** The file's bytes as a hash; a directory or a missing path as what it is. */
function fingerprint(file: string): string | null {
    return fs.existsSync(file) && fs.statSync(file).isFile() ? sha256(file) : fs.existsSync(file) ? "directory" : null;
}

/** The set-aside values of the target (table, key, column, raw value, reason). */
async function setAside(fx: MigrationFixture) {
    return fx.query<{ table_name: string; key: string; column_name: string; raw_value: string | null; reason: string }>(
        "SELECT table_name, row_key->>'id' AS key, column_name, raw_value, reason FROM gecko_quarantine.set_aside_values ORDER BY id",
    );
}

async function quarantined(fx: MigrationFixture) {
    return fx.query<{ table_name: string; stage: string; key: string; column_name: string | null; reason: string }>(
        "SELECT table_name, stage, row_key->>'id' AS key, column_name, reason FROM gecko_quarantine.rows ORDER BY id",
    );
}

/** Every source row is in the target or quarantined, once: the report's counts agree for every table. */
function nothingLost(r: CliResult): void {
    expect(r.report, r.stderr).toBeDefined();
    for (const t of r.report!.tables) expect(t.validation?.countsMatch, t.table).toBe(true);
    for (const t of r.report!.tables) expect(t.validation?.mismatchedBuckets, t.table).toEqual([]);
}

const pool = () => keyOf("pools");
const trade = () => keyOf("trades");
const dex = () => keyOf("dexes", "id", 0);

const CASES: readonly Case[] = [
    // The file itself.
    { name: "a missing file", source: (f) => f + ".absent", status: 2, says: /source not found: .*\.absent/ },
    {
        name: "a directory",
        source: (f) => (fs.mkdirSync(f + ".d"), f + ".d"),
        status: 2,
        says: /SQLite source .*\.d is a directory, not a file/,
    },
    {
        name: "an empty file",
        source: (f) => (fs.writeFileSync(f, ""), f),
        status: 2,
        says: /not a collector database: .* is empty \(0 bytes\)/,
    },
    {
        name: "a text file",
        source: (f) => (fs.writeFileSync(f, "pools,tokens\n1,2\n"), f),
        status: 2,
        says: /not a SQLite database: .* does not start with the SQLite header/,
    },
    {
        name: "a truncated file",
        source: (f) => (fs.truncateSync(f, Math.floor(fs.statSync(f).size / 2)), f),
        status: 2,
        says: /SQLite source .* is malformed/,
    },
    {
        name: "a corrupt data page",
        source: (f) => {
            // Garbage over a page in the middle of the file: past the schema, inside some table's rows.
            const pages = fs.statSync(f).size / 4096;
            const fd = fs.openSync(f, "r+");
            fs.writeSync(fd, Buffer.alloc(4096, 0x5a), 0, 4096, Math.floor(pages / 2) * 4096);
            fs.closeSync(fd);
            return f;
        },
        status: 2,
        says: /SQLite source .* is malformed: .*\(quick_check: /,
    },
    {
        name: "a SQLite file of another program",
        source: (f) => {
            fs.rmSync(f);
            const db = new Database(f);
            db.exec("CREATE TABLE recipes (id INTEGER PRIMARY KEY, name TEXT)");
            db.close();
            return f;
        },
        status: 2,
        says: /not a collector database: .* has none of .*pools.* \(it holds recipes\)/,
    },
    {
        name: "a partial file (core tables missing)",
        source: edit("DROP TABLE trades"),
        status: 2,
        says: /not a complete collector database: .* lacks the core tables trades .*--allow-missing-tables/,
    },
    {
        name: "a partial file with --allow-missing-tables",
        source: edit("DROP TABLE trades"),
        args: ["--allow-missing-tables"],
        status: 0,
        says: /gecko-pg migration OK/,
        check: async (fx, r) => {
            expect(r.report!.missingTables).toContain("trades");
            expect(await fx.query("SELECT count(*)::int AS n FROM trades")).toEqual([{ n: 0 }]);
        },
    },
    {
        name: "a table the collector does not have",
        source: edit("CREATE TABLE my_notes AS SELECT 1 AS id, 'private' AS note"),
        status: 0,
        says: /gecko-pg migration OK/,
        check: async (fx, r) => {
            expect(r.report!.skippedTables).toContainEqual({ name: "my_notes", reason: expect.stringContaining("--include-extra-tables") });
            expect(await fx.query("SELECT to_regclass('my_notes') AS t")).toEqual([{ t: null }]);
        },
    },
    // Values.
    {
        name: "invalid UTF-8 in a text column",
        source: (f) => edit("UPDATE pools SET name = CAST(x'4142ff43' AS TEXT) WHERE id = ?", pool())(f),
        status: 1,
        says: /1 values set aside/,
        check: async (fx) => {
            expect(await setAside(fx)).toEqual([
                {
                    table_name: "pools",
                    key: pool(),
                    column_name: "name",
                    raw_value: "x'4142ff43'",
                    reason: "invalid UTF-8 at byte 2 (x'4142ff43')",
                },
            ]);
            expect(await fx.query("SELECT name FROM pools WHERE id = $1", [pool()])).toEqual([{ name: null }]);
        },
    },
    {
        name: "invalid UTF-8 in a key",
        source: (f) => edit("UPDATE trades SET id = CAST(x'ff' || CAST(id AS BLOB) AS TEXT) WHERE id = ?", trade())(f),
        status: 1,
        says: /1 rows quarantined/,
        check: async (fx) => {
            const [q] = await quarantined(fx);
            expect(q).toMatchObject({ table_name: "trades", stage: "convert", column_name: "id" });
            expect(q.reason).toMatch(/^id: invalid UTF-8 at byte 0 \(x'ff/);
        },
    },
    {
        name: "NaN as text in a numeric column",
        source: (f) => edit("UPDATE pools SET reserve_usd = 'NaN' WHERE id = ?", pool())(f),
        status: 1,
        says: /1 values set aside/,
        check: async (fx) =>
            expect(await setAside(fx)).toMatchObject([{ table_name: "pools", key: pool(), column_name: "reserve_usd", raw_value: "NaN" }]),
    },
    {
        name: "Infinity in a numeric column",
        source: (f) => edit("UPDATE trades SET price_usd = 9e999 WHERE id = ?", trade())(f),
        status: 1,
        says: /1 values set aside/,
        check: async (fx) =>
            expect(await setAside(fx)).toMatchObject([
                { table_name: "trades", key: trade(), column_name: "price_usd", raw_value: "Infinity" },
            ]),
    },
    {
        name: "a numeric value that overflows its column",
        source: (f) => edit("UPDATE trades SET volume_usd = 1e40 WHERE id = ?", trade())(f),
        status: 1,
        says: /1 values set aside/,
        check: async (fx) => {
            const [v] = await setAside(fx);
            expect(v).toMatchObject({ table_name: "trades", key: trade(), column_name: "volume_usd" });
            expect(v.reason).toMatch(/overflows numeric\(26,8\).*never truncated/);
        },
    },
    {
        name: "an integer out of range",
        source: (f) => edit("UPDATE trades SET block_number = '99999999999999999999' WHERE id = ?", trade())(f),
        status: 1,
        says: /1 values set aside/,
        check: async (fx) =>
            expect(await setAside(fx)).toMatchObject([{ table_name: "trades", key: trade(), column_name: "block_number" }]),
    },
    {
        name: "an impossible date",
        source: (f) => edit("UPDATE pools SET created_at = '2024-02-30 10:00:00' WHERE id = ?", pool())(f),
        status: 1,
        says: /1 values set aside/,
        check: async (fx) =>
            expect(await setAside(fx)).toMatchObject([
                { table_name: "pools", key: pool(), column_name: "created_at", raw_value: "2024-02-30 10:00:00" },
            ]),
    },
    {
        name: "invalid JSON",
        source: (f) => edit("UPDATE pools SET metadata_json = '{\"fee\": ' WHERE id = ?", pool())(f),
        status: 1,
        says: /1 values set aside/,
        check: async (fx) => expect(await setAside(fx)).toMatchObject([{ table_name: "pools", key: pool(), column_name: "metadata_json" }]),
    },
    {
        name: "an unparseable value, accepted with --allow-quarantine",
        source: (f) => edit("UPDATE dexes SET last_updated = 'last tuesday' WHERE id = ?", dex())(f),
        args: ["--allow-quarantine"],
        status: 0,
        says: /set aside: 1 values NULL in their copied rows/,
        check: async (fx) => {
            // One bad value costs one value: the dex and everything below it are copied.
            expect(await quarantined(fx)).toEqual([]);
            expect(await fx.query("SELECT last_updated FROM dexes WHERE id = $1", [dex()])).toEqual([{ last_updated: null }]);
        },
    },
    {
        name: "a value too long for a NOT NULL column (the row and its descendants set aside)",
        source: (f) => edit("UPDATE dexes SET name = ? WHERE id = ?", "n".repeat(300), dex())(f),
        status: 1,
        says: /rows quarantined in gecko_quarantine\.rows/,
        check: async (fx, r) => {
            const q = await quarantined(fx);
            expect(q[0]).toMatchObject({ table_name: "dexes", key: dex(), stage: "convert", column_name: "name" });
            expect(r.report!.quarantine.examples[0].descendants).toBe(q.length - 1);
            expect(q.length).toBeGreaterThan(1);
        },
    },
    {
        name: "duplicate keys (a table rebuilt without its constraints)",
        source: (f) => unconstrained("pools", `INSERT INTO pools SELECT * FROM pools WHERE id = '${pool()}'`)(f),
        status: 1,
        says: /rows quarantined/,
        check: async (fx) => {
            const q = (await quarantined(fx)).filter((x) => x.stage === "constraint");
            expect(q).toHaveLength(1);
            expect(q[0]).toMatchObject({ table_name: "pools", key: pool() });
            expect(q[0].reason).toMatch(/duplicate key/);
            expect(await fx.query("SELECT count(*)::int AS n FROM pools WHERE id = $1", [pool()])).toEqual([{ n: 1 }]);
        },
    },
    {
        name: "NULL in a NOT NULL column (a table rebuilt without its constraints)",
        source: (f) => unconstrained("trades", `UPDATE trades SET pool_id = NULL WHERE id = '${trade()}'`)(f),
        status: 1,
        says: /1 rows quarantined/,
        check: async (fx) =>
            expect(await quarantined(fx)).toMatchObject([
                { table_name: "trades", key: trade(), column_name: "pool_id", reason: "pool_id: NULL in a NOT NULL column" },
            ]),
    },
    {
        name: "an orphan (a trade of a pool the file does not have)",
        source: (f) => edit("UPDATE trades SET pool_id = 'no_such_pool' WHERE id = ?", trade())(f),
        status: 1,
        says: /1 rows quarantined/,
        check: async (fx) => expect(await quarantined(fx)).toMatchObject([{ table_name: "trades", key: trade(), stage: "orphan" }]),
    },
    // The target and how to reach it.
    {
        name: "a malformed target URL",
        source: (f) => f,
        env: () => ({ GECKO_TARGET_URL: "postgresql://u:s3cret@host:notaport/db" }),
        status: 2,
        says: /GECKO_TARGET_URL is not a valid URL/,
        check: async (_, r) => expect(r.stderr).not.toContain("s3cret"),
    },
    {
        name: "a password in --target",
        source: (f) => f,
        args: ["--target", "postgresql://u:s3cret@localhost:5432/db"],
        status: 2,
        says: /password/,
        check: async (_, r) => expect(r.stderr + r.stdout).not.toContain("s3cret"),
    },
    {
        name: "a server that does not answer",
        source: (f) => f,
        env: () => ({ GECKO_TARGET_URL: "postgresql://u:s3cret@127.0.0.1:9/db" }),
        status: 3,
        says: /ECONNREFUSED|connect/,
        check: async (_, r) => {
            expect(r.stderr).not.toMatch(/\n\s+at /);
            expect(r.stderr).not.toContain("s3cret");
        },
    },
    {
        name: "a tablespace that runs out of space mid-copy (disk full, 53100: not transient)",
        source: (f) => f,
        // Every trades table created gets a trigger that fails its inserts as a full disk does.
        target: async (fx) => {
            await fx.query(`CREATE FUNCTION full_disk() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN RAISE EXCEPTION 'could not extend file "base/1/2": No space left on device' USING ERRCODE = 'disk_full'; END $$`);
            await fx.query(`CREATE FUNCTION arm_full_disk() RETURNS event_trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF EXISTS (SELECT 1 FROM pg_event_trigger_ddl_commands() WHERE object_identity = 'public.trades') THEN
                        CREATE TRIGGER full_disk BEFORE INSERT ON public.trades FOR EACH ROW EXECUTE FUNCTION full_disk();
                    END IF;
                END $$`);
            await fx.query(
                "CREATE EVENT TRIGGER arm_full_disk ON ddl_command_end WHEN TAG IN ('CREATE TABLE') EXECUTE FUNCTION arm_full_disk()",
            );
        },
        status: 3,
        says: /^error: copy trades chunk \d+ \(rowid \d+\.\.\d+\): could not extend file .*No space left on device \(53100\).*committed chunks kept, rerun to resume/m,
        check: async (fx, r) => {
            expect(r.report?.status).toBe("failed");
            expect(r.stderr).not.toMatch(/retried/); // not transient: no retry
            // The tables copied before trades are kept, committed.
            expect(await fx.query("SELECT count(*)::int > 0 AS kept FROM pools")).toEqual([{ kept: true }]);
            await fx.query("DROP EVENT TRIGGER arm_full_disk");
        },
    },
    {
        name: "a login without the privileges to create the schema (the collector's own role)",
        source: (f) => f,
        env: (fx) => ({ GECKO_TARGET_URL: connectionUrl(fx.app) }),
        status: 3,
        says: /applySchema: the connecting us/,
        check: async (fx) => expect(await fx.query("SELECT to_regclass('pools') AS t")).toEqual([{ t: null }]),
    },
];

describe("bad input: gecko-pg migrate", () => {
    it.each(CASES.map((c) => [c.name, c] as const))("%s", async (_, c) => {
        const fx = await createMigrationFixture("corpus");
        try {
            const copy = path.join(fx.dir, "gecko_data.db");
            fs.copyFileSync(base, copy);
            const file = c.source(copy);
            await c.target?.(fx);
            const before = fingerprint(file);
            const r = await migrate(fx, file, c);
            expect(r.status, `${r.stderr}\n${r.stdout.slice(0, 2000)}`).toBe(c.status);
            expect(r.status === 0 || r.status === 1 ? r.stdout : r.stderr).toMatch(c.says);
            expect(r.stderr, "no stack trace").not.toMatch(/\n\s+at /);
            // The source is never modified.
            expect(fingerprint(file)).toBe(before);
            if (c.status <= 1) nothingLost(r);
            await c.check?.(fx, r, file);
        } finally {
            await fx.dispose();
        }
    });

    it("covers at least 25 kinds", () => expect(CASES.length + FAULT_KINDS_ELSEWHERE.length).toBeGreaterThanOrEqual(25));
});

/**
 * Kinds proven in their own test files (docs/bad-input.md names them), counted towards the corpus:
 * faults and signals need a child process or a server-side hook of their own.
 */
const FAULT_KINDS_ELSEWHERE: readonly string[] = [
    "runMigration.faults: the copy's connection terminated mid-copy (57P01), retried and resumed",
    "runMigration.faults: a fault that outlasts --retry-seconds, exit 3",
    "runMigration.faults: a permission error mid-copy (42501), exit 3 at once",
    "runMigration.faults: SIGINT mid-copy, exit 130",
    "runMigration.faults: SIGTERM mid-copy, exit 143",
    "runMigration.faults: a signal while a statement runs long on the server, cancelled within 2 s",
    "runMigration.preflight: a target table of another shape, exit 3 before anything is created",
    "runMigration.preflight: the plan's columns with other types",
    "runMigration.preflight: the plan's key, index and sequence names held by other objects",
];
