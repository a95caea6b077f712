/**
 * The schema and migration stages of the Pulumi program under mocks: when the
 * Migration resource exists, what it depends on, what it is given, and that no
 * password leaks; plus the validation of the migration config keys.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { sourceFingerprint } from "../../migration/data/source/snapshot";
import { resolveSqliteSource, StackConfigError, validateStackConfig } from "../../infra/config";
import { installMocks, isWireSecret, plaintextPaths, resolve, settle, type MockRun, type RecordedResource } from "../support/pulumiMocks";

const ADMIN_PASSWORD = "adm1n pw/with:odd@chars";
const APP_PASSWORD = "c0llector p@ss/word?#%";
const SECRETS = { "gecko-pg:adminPassword": ADMIN_PASSWORD, "gecko-pg:appPassword": APP_PASSWORD };
const PASSWORDS = [ADMIN_PASSWORD, APP_PASSWORD, encodeURIComponent(ADMIN_PASSWORD), encodeURIComponent(APP_PASSWORD)];

const T = {
    settings: "pulumi-nodejs:dynamic/gecko:ServerSettings",
    schema: "pulumi-nodejs:dynamic/gecko:Schema",
    migration: "pulumi-nodejs:dynamic/gecko:Migration",
    database: "postgresql:index/database:Database",
    role: "postgresql:index/role:Role",
    grant: "postgresql:index/grant:Grant",
    defaults: "postgresql:index/defaultPrivileges:DefaultPrivileges",
    container: "docker:index/container:Container",
};

/** What the providers would return; the summary is what a real run reports (no credentials). */
const SUMMARY = {
    ok: true,
    failures: [],
    warnings: 0,
    tables: 12,
    rowsSource: 3029,
    rowsTarget: 3029,
    rowsQuarantined: 0,
    finishedAt: "2025-06-01T00:00:00.000Z",
    seconds: 3.5,
};

type Program = typeof import("../../infra/index");

async function runProgram(stack: string, config: Record<string, string>): Promise<{ mock: MockRun; program: Program }> {
    const mock = await installMocks({
        project: "gecko-pg",
        stack,
        config: { ...SECRETS, ...config },
        secretKeys: Object.keys(SECRETS),
        outputs: (type) => {
            if (type === T.settings) return { effective: {}, pendingRestart: [] };
            if (type === T.schema) return { version: 1, tables: ["dexes", "pools"], changes: 0, postLoad: "deferred" };
            if (type === T.migration) return { summary: SUMMARY, reportRunId: 7, extraTables: [] };
            return {};
        },
    });
    vi.resetModules();
    const program: Program = await import("../../infra/index.js");
    await Promise.all(Object.values(program).map((o) => (pulumi.Output.isInstance(o) ? resolve(o as pulumi.Output<unknown>) : o)));
    await settle();
    return { mock, program };
}

/** Every resource `r` depends on, directly or through other resources' dependencies. */
function dependencyClosure(mock: MockRun, r: RecordedResource): Set<string> {
    const byUrn = new Map(mock.resources.map((x) => [x.urn, x]));
    const seen = new Set<string>();
    const todo = [...r.dependencies];
    while (todo.length) {
        const urn = todo.pop()!;
        if (seen.has(urn)) continue;
        seen.add(urn);
        todo.push(...(byUrn.get(urn)?.dependencies ?? []));
    }
    return seen;
}

function expectNoPlaintextPasswords(mock: MockRun) {
    for (const r of mock.resources) {
        for (const secret of PASSWORDS) expect(plaintextPaths(r.wireInputs, secret), `${r.type}/${r.name}`).toEqual([]);
    }
}

async function expectOutputsSafe(program: Program) {
    for (const [name, value] of Object.entries(program)) {
        if (!pulumi.Output.isInstance(value)) continue;
        const { value: v, secret } = await resolve(value as pulumi.Output<unknown>);
        if (secret) continue;
        const text = JSON.stringify(v) ?? "";
        for (const s of PASSWORDS) expect(text.includes(s), `output ${name}`).toBe(false);
    }
}

let dir: string;
let sqlitePath: string;
beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "stack-migration-"));
    sqlitePath = path.join(dir, "gecko_data.db");
    fs.writeFileSync(sqlitePath, "SQLite format 3\0");
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("with gecko-pg:sqlitePath (stack prod)", () => {
    let mock: MockRun;
    let program: Program;
    beforeAll(async () => {
        ({ mock, program } = await runProgram("prod", {
            "gecko-pg:sqlitePath": sqlitePath,
            "gecko-pg:sourceTimeZone": "Europe/Berlin",
            "gecko-pg:clockOverrides": '{"pools.last_updated":"local"}',
            "gecko-pg:orphanPolicy": "placeholder",
            "gecko-pg:chunkRows": "20000",
            "gecko-pg:allowQuarantine": "true",
            "gecko-pg:allowMissingTables": "true",
            "gecko-pg:retrySeconds": "300",
            "gecko-pg:includeExtraTables": "true",
            "gecko-pg:repairs": "utf8, python-repr",
            "gecko-pg:ambiguousTime": "later",
            "gecko-pg:collectorTimeZone": "America/New_York",
        }));
    });

    it("creates one Schema deferring the post-load phase and one Migration", () => {
        expect(mock.ofType(T.migration)).toHaveLength(1);
        expect(mock.one(T.schema).inputs).toMatchObject({
            deferPostLoad: true,
            ownerRole: "gecko_owner",
            appRole: "gecko_collector",
            timeZone: "America/New_York",
            dropOnDelete: false,
        });
    });

    it("runs the migration after the schema, the settings and every access resource", () => {
        const migration = mock.one(T.migration);
        const schema = mock.one(T.schema);
        const after = dependencyClosure(mock, migration);
        for (const dep of [
            schema,
            mock.one(T.settings),
            mock.one(T.database),
            ...mock.ofType(T.role),
            ...mock.ofType(T.grant),
            ...mock.ofType(T.defaults),
            mock.one(T.container),
        ]) {
            expect(after.has(dep.urn), `${dep.type}/${dep.name}`).toBe(true);
        }
        expect(migration.dependencies).toContain(schema.urn);
        // And the schema itself waits for the settings (a restart must not cut the DDL).
        expect(dependencyClosure(mock, schema).has(mock.one(T.settings).urn)).toBe(true);
        expect(dependencyClosure(mock, mock.one(T.settings)).has(migration.urn)).toBe(false);
    });

    it("passes the source, its fingerprint and the options from config", () => {
        expect(mock.one(T.migration).inputs).toMatchObject({
            sqlitePath,
            sourceFingerprint: sourceFingerprint(sqlitePath),
            ownerRole: "gecko_owner",
            appRole: "gecko_collector",
            sourceTimeZone: "Europe/Berlin",
            clockOverrides: { "pools.last_updated": "local" },
            orphanPolicy: "placeholder",
            chunkRows: 20000,
            allowQuarantine: true,
            allowMissingTables: true,
            retrySeconds: 300,
            includeExtraTables: true,
            repairs: ["python-repr", "utf8"],
            ambiguousTime: "later",
            databaseTimeZone: "America/New_York",
            dropOnDelete: false,
        });
    });

    it("gives both resources the admin connection to the collector database, as a secret", () => {
        for (const type of [T.schema, T.migration]) {
            const r = mock.one(type);
            expect(r.inputs.connection).toMatchObject({
                host: "127.0.0.1",
                port: 5432,
                user: "postgres",
                password: ADMIN_PASSWORD,
                database: "gecko_terminal_collector",
            });
            expect(isWireSecret(r.wireInputs.connection), type).toBe(true);
            expect(r.additionalSecretOutputs, type).toContain("connection");
        }
        expectNoPlaintextPasswords(mock);
    });

    it("exports the schema version and the migration summary, neither secret nor carrying a password", async () => {
        expect(await resolve(program.schemaVersion)).toEqual({ value: 1, secret: false });
        expect(await resolve(program.migration!)).toEqual({ value: { ...SUMMARY, reportRunId: 7 }, secret: false });
        await expectOutputsSafe(program);
    });

    it("changes the fingerprint input when the source file changes", async () => {
        const before = mock.one(T.migration).inputs.sourceFingerprint;
        fs.appendFileSync(sqlitePath, "more pages");
        const again = await runProgram("prod", { "gecko-pg:sqlitePath": sqlitePath });
        expect(again.mock.one(T.migration).inputs.sourceFingerprint).not.toBe(before);
    });
});

describe("without gecko-pg:sqlitePath", () => {
    it("has no Migration and lets the Schema apply both phases", async () => {
        const { mock, program } = await runProgram("prod", {});
        expect(mock.ofType(T.migration)).toEqual([]);
        expect(mock.one(T.schema).inputs.deferPostLoad).toBe(false);
        expect(dependencyClosure(mock, mock.one(T.schema)).has(mock.one(T.database).urn)).toBe(true);
        expect(program.migration).toBeUndefined();
        expect((await resolve(program.schemaVersion)).value).toBe(1);
        expectNoPlaintextPasswords(mock);
    });

    it("drops data on delete on an unprotected dev stack that asks for it", async () => {
        const { mock } = await runProgram("dev", { "gecko-pg:dropDataOnDelete": "true", "gecko-pg:sqlitePath": sqlitePath });
        expect(mock.one(T.schema).inputs.dropOnDelete).toBe(true);
        expect(mock.one(T.migration).inputs.dropOnDelete).toBe(true);
    });
});

describe("a source file that does not exist", () => {
    it("fails at preview with a config error naming gecko-pg:sqlitePath", async () => {
        const missing = path.join(dir, "nope", "gecko_data.db");
        const attempt = runProgram("prod", { "gecko-pg:sqlitePath": missing });
        await expect(attempt).rejects.toMatchObject({ name: "StackConfigError", fields: ["gecko-pg:sqlitePath"] });
        await expect(attempt).rejects.toThrow(`gecko-pg:sqlitePath is '${missing}' but ${missing} does not exist or is not a file`);
    });

    it("resolves a relative path against the project directory, and refuses a directory", () => {
        expect(resolveSqliteSource("gecko_data.db", dir)).toBe(sqlitePath);
        expect(() => resolveSqliteSource(dir)).toThrow(StackConfigError);
    });
});

describe("validateStackConfig: migration keys", () => {
    const secrets = { adminPassword: ADMIN_PASSWORD, appPassword: APP_PASSWORD };

    it.each([
        ["dropDataOnDelete on a protected stack", "prod", { dropDataOnDelete: "true" }, ["gecko-pg:dropDataOnDelete"]],
        ["dropDataOnDelete with protect set on dev", "dev", { dropDataOnDelete: "true", protect: "true" }, ["gecko-pg:dropDataOnDelete"]],
        ["an unknown orphan policy", "prod", { orphanPolicy: "ignore" }, ["gecko-pg:orphanPolicy"]],
        ["chunkRows of 0", "prod", { chunkRows: "0" }, ["gecko-pg:chunkRows"]],
        ["an unknown source time zone", "prod", { sourceTimeZone: "Mars/Olympus" }, ["gecko-pg:sourceTimeZone"]],
        ["clock overrides that are not JSON", "prod", { clockOverrides: "{pools" }, ["gecko-pg:clockOverrides"]],
        ["a clock override with another clock", "prod", { clockOverrides: '{"pools.last_updated":"cet"}' }, ["gecko-pg:clockOverrides"]],
        ["allowQuarantine that is not a boolean", "prod", { allowQuarantine: "yes" }, ["gecko-pg:allowQuarantine"]],
        ["allowMissingTables that is not a boolean", "prod", { allowMissingTables: "1" }, ["gecko-pg:allowMissingTables"]],
        ["includeExtraTables that is not a boolean", "prod", { includeExtraTables: "all" }, ["gecko-pg:includeExtraTables"]],
        ["a negative retrySeconds", "prod", { retrySeconds: "-1" }, ["gecko-pg:retrySeconds"]],
        ["an unknown repair", "prod", { repairs: "python-repr,latin1" }, ["gecko-pg:repairs"]],
        ["an empty repair list (none is spelled none)", "prod", { repairs: "" }, ["gecko-pg:repairs"]],
        ["none among repairs", "prod", { repairs: "none,utf8" }, ["gecko-pg:repairs"]],
        ["an unknown ambiguousTime", "prod", { ambiguousTime: "nearest" }, ["gecko-pg:ambiguousTime"]],
    ])("rejects %s", (_label, stack, overrides, fields) => {
        let error: unknown;
        try {
            validateStackConfig({ ...secrets, ...overrides }, stack);
        } catch (e) {
            error = e;
        }
        expect(error).toBeInstanceOf(StackConfigError);
        expect((error as StackConfigError).fields).toEqual(fields);
        for (const s of Object.values(secrets)) expect((error as Error).message).not.toContain(s);
    });

    it("has no migration without sqlitePath, and the defaults with it", () => {
        const without = validateStackConfig(secrets, "prod");
        expect(without.migration).toBeUndefined();
        expect(without.dropDataOnDelete).toBe(false);
        expect(validateStackConfig({ ...secrets, sqlitePath: "data/gecko_data.db" }, "prod").migration).toEqual({
            sqlitePath: "data/gecko_data.db",
            sourceTimeZone: "UTC",
            clockOverrides: {},
            orphanPolicy: "quarantine",
            chunkRows: 50000,
            allowQuarantine: false,
            allowMissingTables: false,
            retrySeconds: 60,
            includeExtraTables: false,
            repairs: ["python-repr"],
            ambiguousTime: "quarantine",
        });
        expect(validateStackConfig({ ...secrets, dropDataOnDelete: "true" }, "dev").dropDataOnDelete).toBe(true);
    });

    it.each([
        ["python-repr", ["python-repr"]],
        ["utf8", ["utf8"]],
        [" utf8 , python-repr ", ["python-repr", "utf8"]],
        ["utf8,utf8", ["utf8"]],
        ["none", []],
        [["utf8"], ["utf8"]],
    ])("reads repairs %j as %j", (repairs, expected) => {
        const m = validateStackConfig({ ...secrets, sqlitePath: "x.db", repairs }, "prod").migration;
        expect(m?.repairs).toEqual(expected);
    });
});

describe("the collector's configuration (gecko-pg:collectorDatabase)", () => {
    const secrets = { adminPassword: ADMIN_PASSWORD, appPassword: APP_PASSWORD };

    it("auto: the SQLite file while one is migrated, PostgreSQL without one; sqlite without a file is refused", () => {
        expect(validateStackConfig({ ...secrets, sqlitePath: "data/gecko_data.db" }, "prod").collectorDatabase).toBe("sqlite");
        expect(validateStackConfig(secrets, "prod").collectorDatabase).toBe("postgresql");
        expect(validateStackConfig({ ...secrets, sqlitePath: "x.db", collectorDatabase: "postgresql" }, "prod").collectorDatabase).toBe(
            "postgresql",
        );
        for (const bad of [{ collectorDatabase: "sqlite" }, { collectorDatabase: "mysql", sqlitePath: "x.db" }]) {
            expect(() => validateStackConfig({ ...secrets, ...bad }, "prod")).toThrow(/gecko-pg:collectorDatabase/);
        }
    });

    it("before the cutover points the collector at its SQLite file; the flip to postgresql is a plain output a preview shows", async () => {
        const before = await runProgram("prod", { "gecko-pg:sqlitePath": sqlitePath });
        expect(before.program.collectorDatabase).toBe("sqlite");
        const beforeConfig = await resolve(before.program.collectorConfig);
        expect(beforeConfig.secret).toBe(true);
        expect(beforeConfig.value).toMatchObject({ database: "sqlite", url: `sqlite:///${sqlitePath}` });
        expect(beforeConfig.value.env).toBe(`GECKO_DB_URL='sqlite:///${sqlitePath}'\n`);

        const after = await runProgram("prod", { "gecko-pg:sqlitePath": sqlitePath, "gecko-pg:collectorDatabase": "postgresql" });
        expect(after.program.collectorDatabase).toBe("postgresql");
        const { value, secret } = await resolve(after.program.collectorConfig);
        expect(secret).toBe(true);
        expect(value.url).toBe(`postgresql://gecko_collector:${encodeURIComponent(APP_PASSWORD)}@127.0.0.1:5432/gecko_terminal_collector`);
        expect(value.yaml).toContain(`  # rollback: url: "sqlite:///${sqlitePath}"`);
        expect(value.yaml).toContain("  pool_size: 20\n  max_overflow: 30\n  timeout: 30\n");
        expect(value.env).toContain(`POSTGRES_PASSWORD='${APP_PASSWORD}'`);
        for (const p of PASSWORDS)
            expect(
                plaintextPaths(
                    after.mock.resources.map((r) => r.wireInputs),
                    p,
                ),
            ).toEqual([]);
    });
});
