/**
 * The Migration resource as the program registers it, without a server: its connection
 * stays secret, and its serialised provider loads the library in plain Node (check runs).
 * Then the provider's operations with runMigration and the session stubbed: check, the
 * diff of state written before an option existed, the options reaching runMigration, and
 * the failure messages. The provider's methods against a real PostgreSQL:
 * migration.integration.test.ts.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { Migration } from "../../../infra/migration";
import {
    checkMigration,
    createMigration,
    diffMigration,
    updateMigration,
    type MigrationResourceInputs,
    type MigrationResourceState,
} from "../../../infra/providers/migration";
import { runMigration } from "../../../migration/data/run/runMigration";
import { MissingTablesError, SourceError } from "../../../migration/data/source/sourceFile";
import { report } from "../../support/reportFixtures";
import { installMocks, plaintextPaths, settle } from "../../support/pulumiMocks";
import { PROJECT_ROOT } from "../../support/paths";

const root = PROJECT_ROOT;

vi.mock("../../../migration/data/run/runMigration", () => ({ runMigration: vi.fn() }));
// findRun's lookup of the report's row in gecko_migration.runs, without a server.
vi.mock("../../../migration/postgres/session", async (importOriginal) => ({
    ...(await importOriginal<object>()),
    withSession: async (_what: string, _spec: unknown, fn: (c: unknown) => Promise<unknown>) =>
        fn({ query: async () => ({ rows: [{ id: "41" }] }) }),
}));

describe("Migration resource", () => {
    it("keeps the connection secret and its serialised provider loads the library in plain Node", async () => {
        const connection = { host: "db.example", port: 5432, user: "postgres", password: "s3cret pw", database: "gecko" };
        const run = await installMocks({ project: "gecko-pg", stack: "test", config: {} });
        new Migration("migration", { connection, sqlitePath: "/nonexistent/gecko_data.db", sourceFingerprint: "-" });
        await settle();
        const res = run.one("pulumi-nodejs:dynamic/gecko:Migration", "migration");
        expect(res.additionalSecretOutputs).toContain("connection");
        expect(plaintextPaths(res.wireInputs, connection.password)).toEqual([]);

        const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "migration-provider-js-"));
        try {
            fs.writeFileSync(path.join(tmp, "provider.js"), String(res.inputs.__provider));
            const script =
                `require(${JSON.stringify(path.join(tmp, "provider.js"))}).handler()` +
                `.check({}, { connection: ${JSON.stringify(connection)}, sqlitePath: "/nonexistent/gecko_data.db", sourceFingerprint: "-", orphanPolicy: "skip" })` +
                `.then((r) => console.log(JSON.stringify(r)))`;
            const out = JSON.parse(
                execFileSync(process.execPath, ["-e", script], {
                    cwd: tmp,
                    env: { ...process.env, GECKO_PG_ROOT: root },
                    encoding: "utf8",
                }),
            );
            expect(out.failures).toEqual([
                { property: "sqlitePath", reason: "SQLite source not found: /nonexistent/gecko_data.db" },
                { property: "orphanPolicy", reason: "must be one of quarantine, placeholder, fail, got 'skip'" },
            ]);
        } finally {
            fs.rmSync(tmp, { recursive: true, force: true });
        }
    });
});

describe("Migration provider operations (runMigration stubbed)", () => {
    const connection = { host: "db.example", port: 5432, user: "postgres", password: "s3cret pw", database: "gecko" };
    const run = vi.mocked(runMigration);
    let tmp: string;
    let sqlitePath: string;
    let base: Record<string, unknown>;
    beforeAll(() => {
        tmp = fs.mkdtempSync(path.join(os.tmpdir(), "migration-provider-ops-"));
        sqlitePath = path.join(tmp, "gecko_data.db");
        fs.writeFileSync(sqlitePath, "SQLite format 3\0");
        base = { connection, sqlitePath, sourceFingerprint: "f1" };
    });
    afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
    beforeEach(() => run.mockReset());

    function checked(news: Record<string, unknown>): MigrationResourceInputs {
        const { inputs, failures } = checkMigration({}, news);
        expect(failures).toEqual([]);
        return inputs as unknown as MigrationResourceInputs;
    }

    it("check defaults the table, repair and ambiguous-time options, and puts repairs in one order", () => {
        expect(checked(base)).toMatchObject({
            allowMissingTables: false,
            includeExtraTables: false,
            repairs: ["python-repr"],
            ambiguousTime: "quarantine",
        });
        expect(checked({ ...base, repairs: ["utf8", "python-repr"] }).repairs).toEqual(["python-repr", "utf8"]);
        expect(checked({ ...base, repairs: [] }).repairs).toEqual([]);
    });

    it("check names each bad table, repair or ambiguous-time option", () => {
        const bad = (news: Record<string, unknown>) => checkMigration({}, { ...base, ...news }).failures;
        expect(bad({ allowMissingTables: "yes", includeExtraTables: 1, ambiguousTime: "nearest" })).toEqual([
            { property: "allowMissingTables", reason: "must be true or false, got 'yes'" },
            { property: "includeExtraTables", reason: "must be true or false, got '1'" },
            { property: "ambiguousTime", reason: "must be one of quarantine, earlier, later, got 'nearest'" },
        ]);
        for (const repairs of ["utf8", ["python-repr", "latin1"], ["utf8", "utf8"], ["none"]]) {
            expect(bad({ repairs }), JSON.stringify(repairs)).toEqual([
                {
                    property: "repairs",
                    reason: `must be a list of distinct python-repr, utf8 (empty for none), got ${JSON.stringify(repairs)}`,
                },
            ]);
        }
    });

    it("diff: state from before these options existed, with their defaults, is unchanged; each changed option is an update", () => {
        const news = checked(base) as unknown as Record<string, unknown>;
        const {
            allowMissingTables: _a,
            includeExtraTables: _i,
            repairs: _r,
            ambiguousTime: _t,
            retrySeconds: _s,
            ...older
        } = news as unknown as MigrationResourceInputs;
        expect(diffMigration(older, news)).toEqual({ changes: false, replaces: [], deleteBeforeReplace: false, detailedDiff: {} });
        const cases: Array<[Record<string, unknown>, string]> = [
            [{ allowMissingTables: true }, "allowMissingTables"],
            [{ includeExtraTables: true }, "includeExtraTables"],
            [{ repairs: ["python-repr", "utf8"] }, "repairs"],
            [{ repairs: [] }, "repairs"],
            [{ ambiguousTime: "earlier" }, "ambiguousTime"],
            [{ retrySeconds: 300 }, "retrySeconds"],
        ];
        for (const [change, key] of cases) {
            const changed = checked({ ...base, ...change }) as unknown as Record<string, unknown>;
            for (const olds of [older, news]) {
                expect(diffMigration(olds, changed).detailedDiff, key).toEqual({ [key]: { kind: "update", inputDiff: true } });
            }
        }
    });

    it("retrySeconds reaches the run; changing it alone is stored without running the migration again", async () => {
        run.mockResolvedValue(report());
        const { outs } = await createMigration(checked({ ...base, retrySeconds: 5 }));
        expect(run.mock.calls[0][0]).toMatchObject({ retrySeconds: 5 });
        expect(checkMigration({}, { ...base, retrySeconds: -1 }).failures.map((f) => f.property)).toEqual(["retrySeconds"]);
        const updated = await updateMigration(outs, checked({ ...base, retrySeconds: 300 }));
        expect(run).toHaveBeenCalledTimes(1);
        expect(updated.outs.retrySeconds).toBe(300);
    });

    it("create passes the options to runMigration and outputs the values set aside", async () => {
        run.mockResolvedValue(report({ setAsideValues: setAside(3) }));
        const inputs = checked({
            ...base,
            allowMissingTables: true,
            includeExtraTables: true,
            repairs: ["utf8"],
            ambiguousTime: "later",
            allowQuarantine: true,
        });
        const { outs } = await createMigration(inputs);
        expect(run).toHaveBeenCalledTimes(1);
        expect(run.mock.calls[0][0]).toMatchObject({
            sqlitePath,
            target: connection,
            allowMissingTables: true,
            includeExtraTables: true,
            repairs: ["utf8"],
            ambiguousTime: "later",
            allowQuarantine: true,
        });
        expect(run.mock.calls[0][0]).not.toHaveProperty("sourceFingerprint");
        expect(outs).toMatchObject({ reportRunId: 41, allowMissingTables: true, repairs: ["utf8"], ambiguousTime: "later" });
        expect(outs.summary).toMatchObject({ ok: true, rowsQuarantined: 0, valuesSetAside: 3 });
        run.mockResolvedValue(report());
        const unset = await createMigration(checked(base)).then(({ outs: o }: { outs: MigrationResourceState }) => o);
        expect(run.mock.calls[1][0]).toMatchObject({ allowMissingTables: false, includeExtraTables: false, repairs: ["python-repr"] });
        expect(unset.summary.valuesSetAside).toBe(0);
    });

    it("a run failed by values set aside says where they are and how to accept them", async () => {
        run.mockResolvedValue(
            report({ ok: false, failures: ["3 values set aside in gecko_quarantine.set_aside_values"], setAsideValues: setAside(3) }),
        );
        const error = await createMigration(checked(base)).then(
            () => undefined,
            (e: Error) => e,
        );
        expect(error?.name).toBe("MigrationFailedError");
        expect(error?.message.split("\n")).toEqual([
            `migration of ${sqlitePath} into postgres@db.example:5432/gecko failed:`,
            "  - 3 values set aside in gecko_quarantine.set_aside_values",
            "values set aside (NULL in their copied rows) are in gecko_quarantine.set_aside_values; to accept them set allowQuarantine (stack config gecko-pg:allowQuarantine true) and run pulumi up again",
            "full report: gecko_migration.runs id 41",
        ]);
        expect(error?.message).not.toContain(connection.password);
    });

    it("a source the library refuses fails with its message and the stack config to change", async () => {
        const partial = `not a complete collector database: ${sqlitePath} lacks the core tables trades (it holds dexes, pools); --allow-missing-tables migrates it as it is, those tables created empty`;
        run.mockRejectedValueOnce(new MissingTablesError(partial));
        const error = await createMigration(checked(base)).then(
            () => undefined,
            (e: Error) => e,
        );
        expect(error?.message).toBe(
            `migration of ${sqlitePath} into postgres@db.example:5432/gecko: ${partial}\n` +
                "nothing was written; to migrate this partial file as it is (those tables created empty), set stack config gecko-pg:allowMissingTables true and run pulumi up again",
        );
        expect(error?.cause).toBeInstanceOf(SourceError);

        run.mockRejectedValueOnce(new SourceError(`not a SQLite database: ${sqlitePath} does not start with the SQLite header`));
        const other = await createMigration(checked(base)).then(
            () => undefined,
            (e: Error) => e,
        );
        expect(other?.message).toContain(`does not start with the SQLite header\nnothing was written; point gecko-pg:sqlitePath at`);
        expect(other?.message).not.toContain("allowMissingTables");
    });
});

function setAside(total: number) {
    return {
        total,
        location: "gecko_quarantine.set_aside_values",
        byColumn: { "pools.name": total },
        examples: [{ table: "pools", key: '{"id":"p1"}', column: "name", rawValue: "\\xff", reason: "not UTF-8 at byte 0" }],
    };
}
