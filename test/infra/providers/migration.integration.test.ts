/**
 * The Migration dynamic provider's methods called directly, as the Pulumi
 * engine would during `pulumi up`: a generated collector SQLite file, a
 * collector database and roles provisioned like the stack does, the Schema
 * resource first (deferPostLoad), then the migration; a source that grows; a
 * source with quarantined rows; a partial source (refused, then accepted with
 * allowMissingTables); delete with and without dropOnDelete.
 */
import Database from "better-sqlite3";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { MigrationResourceState } from "../../../infra/providers/migration";
import type { MigrationReport } from "../../../migration/data/report/report";
import { TARGET_TABLES } from "../../../migration/schema/tables";
import { sourceFingerprint } from "../../../migration/data/source/snapshot";
import { migrationProvider as provider } from "../../../infra/migration";
import { schemaProvider } from "../../../infra/schema";
import { generateCollectorDb, type GenerationManifest } from "../../../scripts/generator/collectorDb";
import { provisionTarget, targetRows, type Target } from "../../support/provisionTarget";
import { PROJECT_ROOT } from "../../support/paths";

const root = PROJECT_ROOT;
const COLLECTOR_TABLES = TARGET_TABLES.map((t) => t.name);
/** A table beyond the collector schema, so the migration creates (and a dropOnDelete delete drops) an extra table. */
const EXTRA_TABLE = "collector_notes";

const rows = targetRows;

/** Rows per table in the target, and quarantined rows per table. */
async function targetCounts(t: Target, tables: readonly string[]): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const table of tables) out[table] = (await rows<{ n: number }>(t, `SELECT count(*)::int AS n FROM public."${table}"`))[0].n;
    return out;
}
async function quarantinedCounts(t: Target): Promise<Record<string, number>> {
    const r = await rows<{ table_name: string; n: number }>(
        t,
        "SELECT table_name, count(*)::int AS n FROM gecko_quarantine.rows GROUP BY 1",
    );
    return Object.fromEntries(r.map((x) => [x.table_name, x.n]));
}

/** Schema resource create, as the stack runs it before the migration. */
async function createSchema(t: Target): Promise<void> {
    const { inputs, failures } = await schemaProvider.check!(
        {},
        { connection: t.connection, ownerRole: t.ownerRole, appRole: t.appRole, deferPostLoad: true },
    );
    expect(failures ?? []).toEqual([]);
    const created = await schemaProvider.create(inputs);
    expect(created.outs.postLoad).toBe("deferred");
}

function generateSource(dir: string, name: string, seed: number): { file: string; manifest: GenerationManifest } {
    const file = path.join(dir, name);
    const manifest = generateCollectorDb({ path: file, rows: 3000, seed });
    const db = new Database(file);
    try {
        db.exec(`CREATE TABLE ${EXTRA_TABLE} (id INTEGER PRIMARY KEY, note TEXT NOT NULL)`);
        db.prepare(`INSERT INTO ${EXTRA_TABLE} (id, note) VALUES (?, ?)`).run(1, "started collecting solana");
        db.prepare(`INSERT INTO ${EXTRA_TABLE} (id, note) VALUES (?, ?)`).run(2, "added the ohlcv job");
    } finally {
        db.close();
    }
    return { file, manifest: { ...manifest, tables: { ...manifest.tables }, totalRows: manifest.totalRows + 2 } };
}

async function checked(news: Record<string, unknown>, olds: Record<string, unknown> = {}) {
    const result = await provider.check!(olds, news);
    expect(result.failures ?? []).toEqual([]);
    return result.inputs;
}

let dir: string;
beforeAll(() => {
    process.env.GECKO_PG_ROOT = root;
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "migration-provider-"));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("Migration provider on a real PostgreSQL", () => {
    let t: Target;
    let source: { file: string; manifest: GenerationManifest };
    let created: { id: string; outs: MigrationResourceState };
    let inputs: Record<string, unknown>;
    beforeAll(async () => {
        source = generateSource(dir, "gecko_data.db", 20250601);
        t = await provisionTarget("migr_prov");
        await createSchema(t);
    });
    afterAll(() => t?.drop());

    it("check fills in the defaults and names every bad input, including a missing source", async () => {
        const base = {
            connection: t.connection,
            sqlitePath: source.file,
            sourceFingerprint: sourceFingerprint(source.file),
            ownerRole: t.ownerRole,
            appRole: t.appRole,
        };
        expect(await checked(base)).toMatchObject({
            sourceTimeZone: "UTC",
            clockOverrides: {},
            orphanPolicy: "quarantine",
            chunkRows: 50000,
            allowQuarantine: false,
            allowMissingTables: false,
            includeExtraTables: false,
            repairs: ["python-repr"],
            ambiguousTime: "quarantine",
            sampleRows: 200,
            databaseTimeZone: "UTC",
            dropOnDelete: false,
        });
        const bad = await provider.check!(
            {},
            {
                ...base,
                sqlitePath: path.join(dir, "missing.db"),
                orphanPolicy: "ignore",
                chunkRows: 0,
                sourceTimeZone: "Mars/Olympus",
                clockOverrides: { "pools.last_updated": "cet" },
                allowQuarantine: "no",
                allowMissingTables: "no",
                ambiguousTime: "nearest",
            },
        );
        expect(bad.failures).toEqual([
            { property: "sqlitePath", reason: `SQLite source not found: ${path.join(dir, "missing.db")}` },
            { property: "sourceTimeZone", reason: "must be an IANA time zone such as UTC or Europe/Berlin, got 'Mars/Olympus'" },
            { property: "clockOverrides.pools.last_updated", reason: `must be "table.column": "utc" | "local", got "cet"` },
            { property: "orphanPolicy", reason: "must be one of quarantine, placeholder, fail, got 'ignore'" },
            { property: "chunkRows", reason: "must be an integer >= 1, got '0'" },
            { property: "allowQuarantine", reason: "must be true or false, got 'no'" },
            { property: "allowMissingTables", reason: "must be true or false, got 'no'" },
            { property: "ambiguousTime", reason: "must be one of quarantine, earlier, later, got 'nearest'" },
        ]);
    });

    it("create migrates every source row, builds the post-load schema, validates and reports where the full report is", async () => {
        // allowQuarantine: the generator can plant values beyond a column's precision even without defects;
        // this test is about the copy, so quarantined rows are accepted and counted against the source.
        inputs = await checked({
            connection: t.connection,
            sqlitePath: source.file,
            sourceFingerprint: sourceFingerprint(source.file),
            ownerRole: t.ownerRole,
            appRole: t.appRole,
            chunkRows: 500,
            allowQuarantine: true,
            // The extra table is copied (and dropped by a dropOnDelete delete) only on request.
            includeExtraTables: true,
            reportPath: path.join(dir, "reports", "migration.json"),
        });
        const walBefore = fs.existsSync(`${source.file}-wal`);
        created = (await provider.create(inputs)) as { id: string; outs: MigrationResourceState };
        const { summary } = created.outs;
        // Reading the source must not change its fingerprint: the next preview of an unchanged stack is clean
        // (a read-only open of a WAL-mode file leaves an empty -wal beside one that had none).
        expect({ walBefore, fingerprint: sourceFingerprint(source.file) }).toEqual({
            walBefore: false,
            fingerprint: inputs.sourceFingerprint,
        });
        expect(created.id).toBe(`${t.connection.host}:${t.connection.port}/${t.connection.database}`);
        expect(summary.ok).toBe(true);
        expect(summary.failures).toEqual([]);
        expect(summary.rowsSource).toBe(source.manifest.totalRows);
        expect(summary.rowsTarget + summary.rowsQuarantined).toBe(summary.rowsSource);
        expect(created.outs.extraTables).toEqual([EXTRA_TABLE]);

        const counts = await targetCounts(t, [...COLLECTOR_TABLES, EXTRA_TABLE]);
        const quarantined = await quarantinedCounts(t);
        for (const [table, n] of Object.entries(source.manifest.tables)) expect(counts[table] + (quarantined[table] ?? 0), table).toBe(n);
        expect(counts[EXTRA_TABLE]).toBe(2);
        expect(Object.values(quarantined).reduce((a, b) => a + b, 0)).toBe(summary.rowsQuarantined);

        // The migration ran the post-load phase the schema deferred.
        const fks = await rows<{ n: number }>(
            t,
            "SELECT count(*)::int AS n FROM pg_constraint WHERE contype = 'f' AND conparentid = 0 AND connamespace = 'public'::regnamespace",
        );
        expect(fks[0].n).toBe(TARGET_TABLES.reduce((n, x) => n + x.foreignKeys.length, 0));

        const stored = await rows<{ ok: boolean; report: MigrationReport }>(
            t,
            "SELECT ok, report FROM gecko_migration.runs WHERE id = $1",
            [created.outs.reportRunId],
        );
        expect(stored).toHaveLength(1);
        expect(stored[0].ok).toBe(true);
        expect(stored[0].report.finishedAt).toBe(summary.finishedAt);
        expect(created.outs.reportFile).toBe(path.join(dir, "reports", "migration.json"));
        const file = fs.readFileSync(created.outs.reportFile!, "utf8");
        expect(JSON.parse(file).finishedAt).toBe(summary.finishedAt);
        for (const text of [file, JSON.stringify({ ...created.outs, connection: undefined })])
            expect(text).not.toContain(t.connection.password);
    });

    it("diff: nothing for the same source; an update for new credentials, the fingerprint, each option and the target; never a replacement", async () => {
        const olds = created.outs as unknown as Record<string, unknown>;
        const diff = (news: Record<string, unknown>) => provider.diff!(created.id, olds, news);
        expect(await diff(inputs)).toEqual({ changes: false, replaces: [], deleteBeforeReplace: false, detailedDiff: {} });
        // New credentials: an update that only stores them (next test), so a later delete logs in with them.
        expect(await diff({ ...inputs, connection: { ...t.connection, password: "rotated" } })).toMatchObject({
            changes: true,
            replaces: [],
        });
        expect(
            Object.keys(
                (
                    (await diff({ ...inputs, connection: { ...t.connection, user: "other_admin", sslmode: "require" } })) as {
                        detailedDiff: object;
                    }
                ).detailedDiff,
            ).sort(),
        ).toEqual(["connection.sslmode", "connection.user"]);
        const cases: Array<[Record<string, unknown>, string]> = [
            [{ sourceFingerprint: "0123456789abcdef" }, "sourceFingerprint"],
            [{ sqlitePath: path.join(dir, "other.db") }, "sqlitePath"],
            [{ ownerRole: "other_owner" }, "ownerRole"],
            [{ appRole: "other_app" }, "appRole"],
            [{ sourceTimeZone: "Europe/Berlin" }, "sourceTimeZone"],
            [{ clockOverrides: { "pools.last_updated": "local" } }, "clockOverrides"],
            [{ orphanPolicy: "placeholder" }, "orphanPolicy"],
            [{ chunkRows: 1000 }, "chunkRows"],
            [{ allowQuarantine: false }, "allowQuarantine"],
            [{ allowMissingTables: true }, "allowMissingTables"],
            [{ includeExtraTables: false }, "includeExtraTables"],
            [{ repairs: ["python-repr", "utf8"] }, "repairs"],
            [{ ambiguousTime: "later" }, "ambiguousTime"],
            [{ sampleRows: 10 }, "sampleRows"],
            [{ databaseTimeZone: "Asia/Tokyo" }, "databaseTimeZone"],
            [{ dropOnDelete: true }, "dropOnDelete"],
            [{ reportPath: path.join(dir, "elsewhere.json") }, "reportPath"],
            [{ connection: { ...t.connection, database: "another_db" } }, "connection.database"],
        ];
        for (const [change, key] of cases) {
            const d = (await diff({ ...inputs, ...change })) as {
                changes: boolean;
                replaces: string[];
                detailedDiff: Record<string, { kind: string }>;
            };
            expect(Object.keys(d.detailedDiff), key).toEqual([key]);
            expect(d).toMatchObject({ changes: true, replaces: [] });
            expect(d.detailedDiff[key].kind).toBe("update");
        }
    });

    it("an update of dropOnDelete alone stores it without rerunning the migration", async () => {
        const news = await checked({ ...inputs, dropOnDelete: true }, created.outs as unknown as Record<string, unknown>);
        const updated = (await provider.update!(created.id, created.outs, news)).outs as MigrationResourceState;
        expect(updated).toMatchObject({ dropOnDelete: true, reportRunId: created.outs.reportRunId, summary: created.outs.summary });
        expect(await rows(t, "SELECT id FROM gecko_migration.runs")).toHaveLength(1);
    });

    it("an update of the admin's password alone stores it without rerunning the migration (or connecting)", async () => {
        // After a rotation the state must hold the new password: a later delete logs in with it.
        const news = await checked(
            { ...inputs, connection: { ...t.connection, password: "rotated-pw-1" } },
            created.outs as unknown as Record<string, unknown>,
        );
        const updated = (await provider.update!(created.id, created.outs, news)).outs as MigrationResourceState;
        expect(updated.connection.password).toBe("rotated-pw-1");
        expect(updated).toMatchObject({ reportRunId: created.outs.reportRunId, summary: created.outs.summary });
        expect(await rows(t, "SELECT id FROM gecko_migration.runs")).toHaveLength(1);
    });

    it("copies rows appended to the source: the fingerprint changes, diff says update, update copies and validates", async () => {
        // Trades for a pool that was migrated, shaped like a migrated trade (so they convert cleanly).
        const [{ id: modelId }] = await rows<{ id: string }>(t, "SELECT id FROM trades ORDER BY id LIMIT 1");
        const db = new Database(source.file);
        const added = [1, 2, 3, 4, 5].map((i) => `${modelId}_appended_${i}`);
        try {
            const model = db.prepare("SELECT * FROM trades WHERE id = ?").get(modelId) as Record<string, unknown>;
            const columns = Object.keys(model);
            const insert = db.prepare(`INSERT INTO trades (${columns.join(", ")}) VALUES (${columns.map((c) => `@${c}`).join(", ")})`);
            for (const id of added) insert.run({ ...model, id });
        } finally {
            db.close();
        }
        const fingerprint = sourceFingerprint(source.file);
        expect(fingerprint).not.toBe(inputs.sourceFingerprint);

        const news = await checked({ ...inputs, sourceFingerprint: fingerprint }, created.outs as unknown as Record<string, unknown>);
        const d = (await provider.diff!(created.id, created.outs, news)) as { changes: boolean; detailedDiff: Record<string, unknown> };
        expect(d.changes).toBe(true);
        expect(Object.keys(d.detailedDiff)).toEqual(["sourceFingerprint"]);

        const before = await targetCounts(t, ["trades"]);
        const updated = (await provider.update!(created.id, created.outs, news)).outs as MigrationResourceState;
        expect(updated.summary.ok).toBe(true);
        expect(updated.summary.rowsSource).toBe(created.outs.summary.rowsSource + added.length);
        expect(updated.summary.rowsTarget).toBe(created.outs.summary.rowsTarget + added.length);
        expect(updated.reportRunId).toBeGreaterThan(created.outs.reportRunId);
        expect(updated.sourceFingerprint).toBe(fingerprint);
        expect((await targetCounts(t, ["trades"])).trades).toBe(before.trades + added.length);
        expect((await rows<{ id: string }>(t, "SELECT id FROM trades WHERE id = ANY($1) ORDER BY id", [added])).map((r) => r.id)).toEqual(
            [...added].sort(),
        );
        const [last] = await rows<{ report: MigrationReport }>(t, "SELECT report FROM gecko_migration.runs WHERE id = $1", [
            updated.reportRunId,
        ]);
        // A sync pass ran first and brought the new rows (and would bring in-place changes and deletes); the migrate run then validated.
        expect(last.report.tables.find((x) => x.table === "trades")?.rowsCopiedThisRun).toBe(0);
        const [pass] = await rows<{ report: { kind: string; tables: { table: string; inserted: number }[] } }>(
            t,
            "SELECT report FROM gecko_migration.runs WHERE id < $1 ORDER BY id DESC LIMIT 1",
            [updated.reportRunId],
        );
        expect(pass.report.kind).toBe("sync");
        expect(pass.report.tables.find((x) => x.table === "trades")?.inserted).toBe(added.length);
        created = { id: created.id, outs: updated };
        inputs = news;
    });

    it("delete leaves the migrated data by default; with dropOnDelete it empties the tables and clears the checkpoints, so a new create starts over", async () => {
        const tables = [...COLLECTOR_TABLES, EXTRA_TABLE];
        const before = await targetCounts(t, tables);
        await provider.delete!(created.id, { ...created.outs, dropOnDelete: false });
        expect(await targetCounts(t, tables)).toEqual(before);

        const error = await provider.delete!(created.id, {
            ...created.outs,
            dropOnDelete: true,
            connection: { ...t.connection, password: "wrong password" },
        }).then(
            () => undefined,
            (e: Error) => e,
        );
        expect(error?.message).toMatch(/^migration delete: cannot connect to .*\/migr_prov_/);
        expect(error?.message).not.toContain("wrong password");
        expect(await targetCounts(t, tables)).toEqual(before);

        await provider.delete!(created.id, { ...created.outs, dropOnDelete: true });
        expect(Object.values(await targetCounts(t, COLLECTOR_TABLES)).every((n) => n === 0)).toBe(true);
        expect(await rows(t, `SELECT to_regclass('public.${EXTRA_TABLE}') AS t`)).toEqual([{ t: null }]);
        expect(await rows(t, "SELECT * FROM gecko_migration.chunks")).toEqual([]);
        expect(await rows(t, "SELECT * FROM gecko_quarantine.rows")).toEqual([]);
        // The schema (the Schema resource's) and the run history stay.
        expect(await rows(t, "SELECT version FROM gecko_migration.schema_version")).toHaveLength(1);
        expect((await rows(t, "SELECT id FROM gecko_migration.runs")).length).toBe(3); // create, and the update's sync pass and run

        const again = (await provider.create(inputs)) as { outs: MigrationResourceState };
        expect(again.outs.summary).toMatchObject({
            ok: true,
            rowsSource: created.outs.summary.rowsSource,
            rowsTarget: created.outs.summary.rowsTarget,
        });
        expect(await targetCounts(t, tables)).toEqual(before);
    });
});

describe("Migration provider: failures fail the create", () => {
    let t: Target;
    let file: string;
    const plantedId = "planted_overflow_trade";
    const quarantinedId = "planted_long_id_".padEnd(300, "x");
    beforeAll(async () => {
        ({ file } = generateSource(dir, "quarantine.db", 7));
        const db = new Database(file);
        try {
            const model = db.prepare("SELECT * FROM trades ORDER BY rowid LIMIT 1").get() as Record<string, unknown>;
            const columns = Object.keys(model);
            const insert = db.prepare(`INSERT INTO trades (${columns.join(", ")}) VALUES (${columns.map((c) => `@${c}`).join(", ")})`);
            // A trade amount beyond numeric(38,18): never truncated; a nullable column outside every key, so the value is set aside.
            insert.run({ ...model, id: plantedId, from_token_amount: Number("123456789012345678901.5") }); // the REAL nearest: 21 integer digits
            // An id too long for its varchar(200): a key, so the row is quarantined.
            insert.run({ ...model, id: quarantinedId });
        } finally {
            db.close();
        }
        t = await provisionTarget("migr_fail");
        await createSchema(t);
    });
    afterAll(() => t?.drop());

    it("throws naming the quarantine and the values set aside when allowQuarantine is false; allowing them then succeeds", async () => {
        const inputs = await checked({
            connection: t.connection,
            sqlitePath: file,
            sourceFingerprint: sourceFingerprint(file),
            ownerRole: t.ownerRole,
            appRole: t.appRole,
        });
        const error = await provider.create(inputs).then(
            () => undefined,
            (e: Error) => e,
        );
        expect(error?.name).toBe("MigrationFailedError");
        expect(error?.message).toMatch(
            new RegExp(
                `^migration of ${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} into postgres@127\\.0\\.0\\.1:\\d+/migr_fail_\\w+ failed:\n`,
            ),
        );
        expect(error?.message).toMatch(/^ {2}- \d+ rows quarantined in gecko_quarantine\.rows/m);
        expect(error?.message).toMatch(/^ {2}- 1 values set aside in gecko_quarantine\.set_aside_values/m);
        expect(error?.message).toContain(
            "quarantined rows are in gecko_quarantine.rows; to accept them set allowQuarantine (stack config gecko-pg:allowQuarantine true)",
        );
        expect(error?.message).toContain(
            "values set aside (NULL in their copied rows) are in gecko_quarantine.set_aside_values; to accept them set allowQuarantine (stack config gecko-pg:allowQuarantine true)",
        );
        expect(error?.message).toMatch(/full report: gecko_migration\.runs id \d+$/);
        expect(error?.message).not.toContain(t.connection.password);
        const [run] = await rows<{ ok: boolean }>(t, "SELECT ok FROM gecko_migration.runs WHERE id = $1", [
            (error as unknown as { reportRunId: number }).reportRunId,
        ]);
        expect(run.ok).toBe(false);
        const planted = await rows<{ column_name: string; reason: string }>(
            t,
            "SELECT column_name, reason FROM gecko_quarantine.set_aside_values WHERE row_key->>'id' = $1",
            [plantedId],
        );
        expect(planted).toEqual([{ column_name: "from_token_amount", reason: expect.stringContaining("overflows numeric(38,18)") }]);
        expect(await rows(t, "SELECT column_name FROM gecko_quarantine.rows WHERE row_key->>'id' = $1", [quarantinedId])).toEqual([
            { column_name: "id" },
        ]);

        // The next `pulumi up` with the quarantine accepted resumes from the checkpoints and succeeds.
        const accepted = (await provider.create({ ...inputs, allowQuarantine: true })) as { outs: MigrationResourceState };
        expect(accepted.outs.summary.ok).toBe(true);
        expect(accepted.outs.summary.rowsQuarantined).toBeGreaterThanOrEqual(1);
        expect(accepted.outs.summary.valuesSetAside).toBe(1);
        expect(accepted.outs.summary.rowsTarget + accepted.outs.summary.rowsQuarantined).toBe(accepted.outs.summary.rowsSource);
    });

    it("a run that cannot start throws with its cause and no password", async () => {
        const inputs = await checked({
            connection: { ...t.connection, password: "not the password" },
            sqlitePath: file,
            sourceFingerprint: sourceFingerprint(file),
            ownerRole: t.ownerRole,
            appRole: t.appRole,
        });
        const error = await provider.create(inputs).then(
            () => undefined,
            (e: Error) => e,
        );
        expect(error?.message).toMatch(/^migration of .* into postgres@127\.0\.0\.1:\d+\/migr_fail_\w+: /);
        expect(error?.message).not.toContain("not the password");
        expect(error?.cause).toBeInstanceOf(Error);
    });
});

describe("Migration provider: a partial source file", () => {
    let t: Target;
    let file: string;
    beforeAll(async () => {
        ({ file } = generateSource(dir, "partial.db", 11));
        const db = new Database(file);
        try {
            db.exec("DROP TABLE watchlist");
        } finally {
            db.close();
        }
        t = await provisionTarget("migr_partial");
        await createSchema(t);
    });
    afterAll(() => t?.drop());

    it("fails create naming the file, the missing table and gecko-pg:allowMissingTables; with it set, create succeeds", async () => {
        const inputs = await checked({
            connection: t.connection,
            sqlitePath: file,
            sourceFingerprint: sourceFingerprint(file),
            ownerRole: t.ownerRole,
            appRole: t.appRole,
            allowQuarantine: true,
        });
        const error = await provider.create(inputs).then(
            () => undefined,
            (e: Error) => e,
        );
        expect(error?.message).toMatch(
            /^migration of .*partial\.db into postgres@127\.0\.0\.1:\d+\/migr_partial_\w+: not a complete collector database: /,
        );
        expect(error?.message).toContain(`${file} lacks the core tables watchlist`);
        expect(error?.message).toContain("set stack config gecko-pg:allowMissingTables true and run pulumi up again");
        expect(error?.message).not.toContain(t.connection.password);
        expect(await targetCounts(t, ["pools", "trades"])).toEqual({ pools: 0, trades: 0 });

        const accepted = (await provider.create({ ...inputs, allowMissingTables: true })) as { outs: MigrationResourceState };
        expect(accepted.outs.summary.ok).toBe(true);
        expect(accepted.outs.allowMissingTables).toBe(true);
        // includeExtraTables unset: the source's extra table is listed in the report, not copied.
        expect(accepted.outs.extraTables).toEqual([]);
        expect((await targetCounts(t, ["watchlist"])).watchlist).toBe(0);
        expect((await targetCounts(t, ["pools"])).pools).toBeGreaterThan(0);
        const [run] = await rows<{ report: MigrationReport }>(t, "SELECT report FROM gecko_migration.runs WHERE id = $1", [
            accepted.outs.reportRunId,
        ]);
        expect(run.report.missingTables).toContain("watchlist");
        expect(run.report.skippedTables.map((x) => x.name)).toEqual([EXTRA_TABLE]);
        expect(await rows(t, `SELECT to_regclass('public.${EXTRA_TABLE}') AS t`)).toEqual([{ t: null }]);
    });
});
