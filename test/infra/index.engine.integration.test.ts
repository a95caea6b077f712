/**
 * Tests of the real artifact (issue 11, item 6): the program as the Pulumi CLI
 * loads it, and its dynamic providers as the engine runs them.
 *
 * - infra/index.ts is loaded in a plain-Node child process through the SDK's
 *   vendored ts-node (type checking on), under mocks, in three modes: docker
 *   (dev stack), external with a superuser admin, external managed (admin not a
 *   superuser). The external stacks point at a PostgreSQL of this file's own.
 * - Each dynamic provider's `__provider` text recorded from that run (not a
 *   re-serialisation under vitest) is driven through the SDK's provider host
 *   over gRPC, as the engine does: preview check with unknowns, create, the
 *   diff of an unchanged stack (must be clean), read (refresh), update, delete.
 *   The host starts in the project directory WITHOUT GECKO_PG_ROOT, like the
 *   engine's pulumi-resource-pulumi-nodejs plugin.
 * - The docker and postgresql resources' inputs are checked against the rules
 *   the providers document in their own type declarations.
 */
import Database from "better-sqlite3";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { planAccess } from "../../migration/setup/accessPlan";
import { applyAccess } from "../../migration/setup/applyAccess";
import { startLocalPostgres, type LocalPostgres } from "../../migration/postgres/localServer";
import { TARGET_TABLES } from "../../migration/schema/tables";
import { sourceFingerprint } from "../../migration/data/source/snapshot";
import { generateCollectorDb } from "../../scripts/generator/collectorDb";
import { withClient } from "../support/db";
import { EngineProgramError, runEngineProgram, type EngineProgramRun } from "../support/engineProgram";
import { inputRuleViolations } from "../support/providerDocs";
import {
    HostCallError,
    PROJECT_ROOT,
    registeredProvider,
    serializeProvider,
    startProviderHost,
    stripSecrets,
    UNKNOWN,
    urnOf,
    type Props,
    type ProviderHost,
} from "../support/providerHost";
import { isWireSecret, plaintextPaths, type RecordedResource, RESOURCE_TYPES } from "../support/pulumiMocks";

const T = RESOURCE_TYPES;
const APP_PASSWORD = "c0llector p@ss/word?#%";
const DOCKER_ADMIN_PASSWORD = "adm1n pw/with:odd@chars";
const COLLECTOR_TABLES = TARGET_TABLES.map((t) => t.name);

// Roles are cluster-wide and names show up in errors: random suffixes even on this file's own server.
const suffix = randomBytes(4).toString("hex");
const names = { database: `engine_${suffix}`, ownerRole: `engine_owner_${suffix}`, appRole: `engine_app_${suffix}` };
const managedAdmin = { user: `engine_cloudadmin_${suffix}`, password: `managed-${randomBytes(6).toString("hex")}` };

/** The engine runs the host in the project directory; GECKO_PG_ROOT is not something it sets. */
const engineEnv = (): NodeJS.ProcessEnv => {
    const env = { ...process.env };
    delete env.GECKO_PG_ROOT;
    return env;
};

// ALTER SYSTEM changes the whole server: this file's own, never the shared one.
let server: LocalPostgres;
let dir: string;
let sqlitePath: string;
let devConfig: Record<string, string>;
let runs: { dev: EngineProgramRun; superuser: EngineProgramRun; managed: EngineProgramRun };

const sql = <R extends Record<string, unknown> = Record<string, unknown>>(database: string, text: string, params: unknown[] = []) =>
    withClient(
        `postgresql://${encodeURIComponent(server.user)}:${encodeURIComponent(server.password)}@${server.host}:${server.port}/${database}`,
        (c) => c.query<R>(text, params).then((r) => r.rows),
    );

beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "gecko-stack-engine-"));
    sqlitePath = path.join(dir, "gecko_data.db");
    generateCollectorDb({ path: sqlitePath, rows: 600, seed: 11, hostTimeZone: "UTC" });
    devConfig = await devStackConfig();
    server = await startLocalPostgres({ ignoreDatabaseUrl: true });

    const external = (user: string, password: string, superuser: boolean): Record<string, string> => ({
        "gecko-pg:mode": "external",
        "gecko-pg:externalHost": server.host,
        "gecko-pg:externalPort": String(server.port),
        "gecko-pg:externalAdminUser": user,
        "gecko-pg:adminPassword": password,
        "gecko-pg:externalSslmode": "disable",
        "gecko-pg:externalSuperuser": String(superuser),
        "gecko-pg:serverVersion": String(server.major),
        "gecko-pg:database": names.database,
        "gecko-pg:ownerRole": names.ownerRole,
        "gecko-pg:appRole": names.appRole,
        "gecko-pg:appPassword": APP_PASSWORD,
        "gecko-pg:protect": "false",
        "gecko-pg:dropDataOnDelete": "true",
        "gecko-pg:serverSettings": JSON.stringify({ work_mem: "8MB" }),
    });
    const secretKeys = ["gecko-pg:adminPassword", "gecko-pg:appPassword"];
    const provision = async () => {
        // What the stack's access stage (DatabaseAccess) leaves behind, done as SQL.
        const plan = planAccess({ ...names, timezone: "UTC" });
        await applyAccess(
            { host: server.host, port: server.port, user: server.user, password: server.password, database: "postgres" },
            plan,
            APP_PASSWORD,
        );
        // Like a managed service's admin: may create roles and databases, may not ALTER SYSTEM.
        await sql("postgres", `CREATE ROLE ${managedAdmin.user} LOGIN CREATEROLE CREATEDB PASSWORD '${managedAdmin.password}'`);
    };
    const [dev, superuser, managed] = await Promise.all([
        runEngineProgram({ stack: "dev", config: devConfig, secretKeys, outputs: { [T.image]: { imageId: "sha256:0123456789abcdef" } } }),
        runEngineProgram({
            stack: "ci",
            config: {
                ...external(server.user, server.password, true),
                "gecko-pg:sqlitePath": sqlitePath,
                "gecko-pg:allowQuarantine": "true",
            },
            secretKeys,
        }),
        runEngineProgram({ stack: "ci", config: external(managedAdmin.user, managedAdmin.password, false), secretKeys }),
        provision(),
    ]);
    runs = { dev, superuser, managed };
}, 180_000);

afterAll(async () => {
    await server?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

/** Pulumi.yaml defaults + Pulumi.dev.yaml + the two secrets, as the CLI passes them for `-s dev`. */
async function devStackConfig(): Promise<Record<string, string>> {
    const { YAML } = await import("zx"); // ESM-only: a dynamic import from this CommonJS file
    const project = YAML.parse(fs.readFileSync(path.join(PROJECT_ROOT, "Pulumi.yaml"), "utf8")) as {
        config: Record<string, { default?: unknown }>;
    };
    const dev = YAML.parse(fs.readFileSync(path.join(PROJECT_ROOT, "Pulumi.dev.yaml"), "utf8")) as { config: Record<string, unknown> };
    const config: Record<string, string> = {};
    for (const [k, decl] of Object.entries(project.config)) if (decl.default !== undefined) config[k] = String(decl.default);
    for (const [k, v] of Object.entries(dev.config)) config[k] = String(v);
    return { ...config, "gecko-pg:adminPassword": DOCKER_ADMIN_PASSWORD, "gecko-pg:appPassword": APP_PASSWORD };
}

describe("infra/index.ts loaded like the Pulumi CLI loads it", () => {
    it("goes through the SDK's vendored ts-node with this project's TypeScript, type checking on", () => {
        for (const run of Object.values(runs)) {
            expect(fs.realpathSync(run.loader.tsnode)).toBe(
                fs.realpathSync(path.join(PROJECT_ROOT, "node_modules/@pulumi/pulumi/vendor/ts-node@7.0.1")),
            );
            // eslint-disable-next-line @typescript-eslint/no-require-imports
            expect(run.loader.typescriptVersion).toBe((require("typescript") as typeof import("typescript")).version);
            expect(run.loader.typeCheck).toBe(true);
            expect(run.exports).toEqual(expect.arrayContaining(["collectorDatabaseUrl", "host", "port", "database", "schemaVersion"]));
        }
    });

    it("fails on a type error: the loader type-checks, it does not only transpile", async () => {
        const file = path.join(dir, "typeError.ts");
        fs.writeFileSync(file, `const port: number = "5432";\nexport { port };\n`);
        const error = await runEngineProgram({ stack: "dev", config: {}, program: file }).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(EngineProgramError);
        expect(error).toMatchObject({ stage: "program", errorName: "TSError" });
        expect((error as Error).message).toMatch(/TS2322: Type 'string' is not assignable to type 'number'/);
    });

    it("docker mode (dev stack): container, volume and image, the access resources, AdminPassword, ServerSettings and Schema", () => {
        const { dev } = runs;
        expect([T.image, T.volume, T.container, T.pgProvider, T.database].map((t) => dev.ofType(t).length)).toEqual([1, 1, 1, 1, 1]);
        expect(
            dev
                .ofType(T.role)
                .map((r) => r.inputs.name)
                .sort(),
        ).toEqual([devConfig["gecko-pg:appRole"], devConfig["gecko-pg:ownerRole"]].sort());
        expect(dev.one(T.container).inputs.name).toBe(devConfig["gecko-pg:containerName"]);
        expect(dev.one(T.settings, "settings").inputs).toMatchObject({
            mode: "apply",
            restart: { kind: "docker", containerName: devConfig["gecko-pg:containerName"] },
        });
        expect(dev.one(T.schema, "schema").inputs).toMatchObject({ deferPostLoad: false, dropOnDelete: true });
        expect(dev.one(T.adminPassword).inputs).toMatchObject({ password: DOCKER_ADMIN_PASSWORD, connection: { user: "postgres" } });
        expect(dev.ofType(T.migration)).toEqual([]);
        expectDynamicResourcesWellFormed(dev, [T.adminPassword, T.settings, T.schema]);
    });

    it("external mode, superuser admin: no docker resources; ServerSettings (apply), Schema and Migration", () => {
        const { superuser: run } = runs;
        expect(run.resources.filter((r) => r.type.startsWith("docker:"))).toEqual([]);
        expect(run.ofType(T.database).map((r) => r.inputs.name)).toEqual([names.database]);
        expect(run.ofType(T.grantRole)).toEqual([]);
        expect(run.one(T.settings, "settings").inputs).toMatchObject({
            mode: "apply",
            restart: { kind: "none" },
            settings: { work_mem: "8MB" },
        });
        expect(run.one(T.schema, "schema").inputs).toMatchObject({
            deferPostLoad: true,
            ownerRole: names.ownerRole,
            appRole: names.appRole,
        });
        expect(run.one(T.migration, "migration").inputs).toMatchObject({ sqlitePath, sourceFingerprint: sourceFingerprint(sqlitePath) });
        expect(run.one(T.migration).dependencies).toContain(run.one(T.schema).urn);
        expectDynamicResourcesWellFormed(run, [T.settings, T.schema, T.migration]);
    });

    it("external managed mode (admin not a superuser): ServerSettings only reports, and the admin joins the owner role", () => {
        const { managed: run } = runs;
        expect(run.resources.filter((r) => r.type.startsWith("docker:"))).toEqual([]);
        expect(run.one(T.settings, "settings").inputs).toMatchObject({
            mode: "report",
            restart: { kind: "none" },
            connection: { user: managedAdmin.user },
        });
        expect(run.one(T.grantRole).inputs).toMatchObject({ role: managedAdmin.user, grantRole: names.ownerRole });
        expect(run.one(T.pgProvider).inputs).toMatchObject({ superuser: "false", username: managedAdmin.user });
        expectDynamicResourcesWellFormed(run, [T.settings, T.schema]);
    });
});

/**
 * The expected dynamic resources exist (others may too); each has a plain-string __provider
 * on the wire, and no password of the config appears outside a secret envelope.
 */
function expectDynamicResourcesWellFormed(run: EngineProgramRun, expected: string[]) {
    const dynamic = run.resources.filter((r) => r.type.startsWith("pulumi-nodejs:dynamic"));
    expect(dynamic.map((r) => r.type)).toEqual(expect.arrayContaining(expected));
    const passwords = [APP_PASSWORD, DOCKER_ADMIN_PASSWORD, server.password, managedAdmin.password];
    for (const r of dynamic) {
        expect(typeof r.wireInputs.__provider, r.type).toBe("string");
        expect(r.wireInputs.__provider as string, r.type).toMatch(/^exports\.handler = /);
        for (const p of passwords) expect(plaintextPaths(r.wireInputs, p), r.type).toEqual([]);
        if ((r.inputs.connection as { password?: string } | undefined)?.password !== undefined)
            expect(isWireSecret(r.wireInputs.connection), r.type).toBe(true);
    }
}

/**
 * One dynamic resource's life under the engine: `program` is its recorded registration,
 * `state`/`inputs` what the engine's state file would hold after each step.
 */
class EngineResource {
    readonly urn: string;
    id = "";
    inputs: Props = {};
    state: Props = {};

    /** `retarget`: inputs replaced for every step (e.g. a docker-mode connection pointed at this file's server). */
    constructor(
        readonly host: ProviderHost,
        readonly program: RecordedResource,
        readonly retarget: Props = {},
    ) {
        this.urn = urnOf(program.type, program.name, "ci");
    }

    /** The program's inputs as the engine sends them (secrets stripped), with `changes` applied. */
    news(changes: Props = {}): Props {
        return { ...stripSecrets(this.program.wireInputs), ...this.retarget, ...changes };
    }

    /** `pulumi preview` of a new stack: what is unknown yet must pass check and stay unknown. */
    async previewWithUnknowns(): Promise<void> {
        const keys = Object.keys(this.news()).filter((k) => k !== "__provider");
        const cases = [...keys.map((k) => [k]), keys];
        for (const unknown of cases) {
            const news = this.news(Object.fromEntries(unknown.map((k) => [k, UNKNOWN])));
            const checked = await this.host.check(this.urn, {}, news);
            expect(checked.failures, `${this.program.type} with ${unknown.join(", ")} unknown`).toEqual([]);
            for (const k of unknown) expect(checked.inputs[k], `${this.program.type}: ${k}`).toBe(UNKNOWN);
        }
    }

    /** `pulumi up` of a new stack. */
    async create(): Promise<Props> {
        const checked = await this.host.check(this.urn, {}, this.news());
        expect(checked.failures).toEqual([]);
        const created = await this.host.create(this.urn, checked.inputs);
        this.id = created.id;
        this.inputs = checked.inputs;
        this.state = created.outs;
        return created.outs;
    }

    /** `pulumi preview` of the stack with `changes` applied to the program's inputs. */
    async preview(changes: Props = {}) {
        const checked = await this.host.check(this.urn, this.inputs, this.news(changes));
        expect(checked.failures).toEqual([]);
        return { checked: checked.inputs, diff: await this.host.diff(this.urn, this.id, this.state, checked.inputs, this.inputs) };
    }

    /** `pulumi refresh`. */
    async refresh(): Promise<Props> {
        const read = await this.host.read(this.urn, this.id, this.state, this.inputs);
        expect(read.id).toBe(this.id);
        this.state = read.props;
        if (read.inputs) this.inputs = read.inputs;
        return read.props;
    }

    /** `pulumi up` with `changes`: the diff must show an update (never a replacement). */
    async update(changes: Props): Promise<Props> {
        const { checked, diff } = await this.preview(changes);
        expect(diff).toMatchObject({ changes: "some", replaces: [] });
        const updated = await this.host.update(this.urn, this.id, this.state, checked, this.inputs);
        this.inputs = checked;
        this.state = updated.outs;
        return updated.outs;
    }

    /** A preview with one input unknown (an upstream resource changes) must not fail and must not claim "no change". */
    async previewUnknown(key: string): Promise<void> {
        const { diff } = await this.preview({ [key]: UNKNOWN });
        expect(["some", "unknown"], `${this.program.type}: diff with ${key} unknown`).toContain(diff.changes);
    }

    async destroy(): Promise<void> {
        await this.host.delete(this.urn, this.id, this.state, this.inputs);
    }
}

describe("the dynamic providers through the SDK's provider host (cwd = project, no GECKO_PG_ROOT)", () => {
    let host: ProviderHost;
    let schema: EngineResource;
    let migration: EngineResource;
    beforeAll(async () => {
        host = await startProviderHost({ cwd: PROJECT_ROOT, env: engineEnv() });
        schema = new EngineResource(host, runs.superuser.one(T.schema, "schema"));
        migration = new EngineResource(host, runs.superuser.one(T.migration, "migration"));
    });
    afterAll(async () => host?.stop());

    const tables = async () =>
        await sql<{ name: string; owner: string }>(
            names.database,
            `SELECT relname AS name, pg_get_userbyid(relowner) AS owner FROM pg_class
          WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'p') AND NOT relispartition AND relname = ANY($1) ORDER BY 1`,
            [COLLECTOR_TABLES],
        );
    const databaseTimeZone = async () =>
        (
            await sql<{ setconfig: string[] }>(
                names.database,
                "SELECT setconfig FROM pg_db_role_setting WHERE setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database()) AND setrole = 0",
            )
        )[0]?.setconfig;
    const count = async (table: string) =>
        (await sql<{ n: number }>(names.database, `SELECT count(*)::int AS n FROM public."${table}"`))[0].n;

    it("preview of a new stack: check accepts every input unknown, alone and all at once, for every dynamic resource", async () => {
        for (const program of [
            runs.superuser.one(T.schema),
            runs.superuser.one(T.migration),
            runs.superuser.one(T.settings),
            runs.managed.one(T.settings),
            runs.dev.one(T.adminPassword),
        ]) {
            await new EngineResource(host, program).previewWithUnknowns();
        }
    });

    it("the same provider serialised in-process (vitest) is the SDK's text for it, differs from the CLI's, and also runs in the host", async () => {
        const { Schema, schemaProvider } = await import("../../infra/schema.js");
        const program = runs.superuser.one(T.schema, "schema");
        const news = stripSecrets(program.wireInputs);
        const { __provider: _cli, ...args } = news;
        const inProcess = await registeredProvider(T.schema, () => new Schema("schema", args as never));
        expect(inProcess).toBe(await serializeProvider(schemaProvider));
        expect(inProcess).not.toBe(program.wireInputs.__provider); // compiled by vitest, not by the CLI's ts-node
        const checked = await host.check(urnOf(T.schema, "schema"), {}, { ...news, __provider: inProcess });
        expect(checked).toMatchObject({ failures: [], inputs: { __provider: inProcess, ownerRole: names.ownerRole } });
    });

    it("Schema: create builds the tables as the owner; an unchanged stack previews clean, also after a refresh", async () => {
        const outs = await schema.create();
        expect(outs).toMatchObject({ postLoad: "deferred", timeZone: "UTC", tables: [...COLLECTOR_TABLES].sort() });
        expect(schema.id).toBe(`${server.host}:${server.port}/${names.database}`);
        expect((await tables()).map((t) => t.owner)).toEqual(COLLECTOR_TABLES.map(() => names.ownerRole));

        expect((await schema.preview()).diff).toMatchObject({ changes: "none", replaces: [] });
        expect(await schema.refresh()).toEqual(outs); // no read method: the host returns the state
        expect((await schema.preview()).diff).toMatchObject({ changes: "none", replaces: [] });
        await schema.previewUnknown("ownerRole");
    });

    it("Migration: create copies the source; an unchanged stack (fingerprint recomputed) previews clean; a changed source updates (sync, then validation)", async () => {
        const outs = await migration.create();
        // Progress goes to the host's console, which `pulumi up` passes through.
        await expect.poll(() => lines(host, "stdout")).toContainEqual(expect.stringMatching(/^gecko-pg migration: /));
        const summary = outs.summary as { ok: boolean; rowsSource: number; rowsTarget: number; rowsQuarantined: number };
        expect(summary.ok).toBe(true);
        expect(summary.rowsTarget + summary.rowsQuarantined).toBe(summary.rowsSource);
        expect(await count("trades")).toBeGreaterThan(0);

        // The next `pulumi preview` recomputes the fingerprint from the file the migration just read.
        const unchanged = { sourceFingerprint: sourceFingerprint(sqlitePath) };
        expect((await migration.preview(unchanged)).diff).toMatchObject({ changes: "none", replaces: [] });
        await migration.refresh();
        expect((await migration.preview(unchanged)).diff).toMatchObject({ changes: "none", replaces: [] });
        await migration.previewUnknown("connection");

        const [{ id: modelId }] = await sql<{ id: string }>(names.database, "SELECT id FROM trades ORDER BY id LIMIT 1");
        const added = appendTrades(modelId, 3);
        // The collector also changes candles in place and deletes old trades: only a sync pass sees those.
        const [{ id: candle }] = await sql<{ id: string }>(names.database, "SELECT id::text AS id FROM ohlcv_data ORDER BY id LIMIT 1");
        changeSource((db) => {
            db.prepare("UPDATE ohlcv_data SET close_price = 4242.5 WHERE id = ?").run(Number(candle));
            db.prepare("DELETE FROM trades WHERE id = ?").run(modelId);
        });
        const before = await count("trades");
        const updated = await migration.update({ sourceFingerprint: sourceFingerprint(sqlitePath) });
        expect(updated.summary).toMatchObject({ ok: true, rowsSource: summary.rowsSource + added - 1 });
        expect(await count("trades")).toBe(before + added - 1);
        expect(await sql(names.database, "SELECT 1 FROM trades WHERE id = $1", [modelId])).toEqual([]);
        expect(await sql(names.database, "SELECT close_price::float8 AS c FROM ohlcv_data WHERE id = $1", [candle])).toEqual([
            { c: 4242.5 },
        ]);
        expect((await migration.preview({ sourceFingerprint: sourceFingerprint(sqlitePath) })).diff.changes).toBe("none");
    });

    it("Schema: an update of timeZone sets the database's TimeZone and previews clean afterwards", async () => {
        expect(await databaseTimeZone()).toEqual(["TimeZone=UTC"]);
        const outs = await schema.update({ timeZone: "Europe/Berlin" });
        expect(outs).toMatchObject({ timeZone: "Europe/Berlin" });
        expect(await databaseTimeZone()).toEqual(["TimeZone=Europe/Berlin"]);
        expect((await schema.preview({ timeZone: "Europe/Berlin" })).diff.changes).toBe("none");
    });

    it("delete (dropDataOnDelete): the Migration empties its tables, then the Schema drops them", async () => {
        await migration.destroy();
        expect(await count("trades")).toBe(0);
        expect((await tables()).length).toBe(COLLECTOR_TABLES.length);
        await schema.destroy();
        expect(await tables()).toEqual([]);
    });

    it("ServerSettings (apply, superuser): ALTER SYSTEM on create, clean preview and refresh, work_mem update, RESET on delete", async () => {
        const settings = new EngineResource(host, runs.superuser.one(T.settings, "settings"));
        const show = async (name: string) => (await sql<{ v: string }>("postgres", `SELECT current_setting($1) AS v`, [name]))[0].v;
        const autoConf = async () =>
            Object.fromEntries(
                (
                    await sql<{ name: string; setting: string }>(
                        "postgres",
                        "SELECT lower(name) AS name, setting FROM pg_file_settings WHERE sourcefile LIKE '%postgresql.auto.conf' ORDER BY seqno",
                    )
                ).map((r) => [r.name, r.setting]),
            );

        const outs = await settings.create();
        expect(outs.effective).toMatchObject({ work_mem: "8MB" });
        expect(outs.pendingRestart).toContain("shared_buffers");
        expect(await show("work_mem")).toBe("8MB");
        expect(await autoConf()).toMatchObject({ work_mem: "8MB", shared_buffers: "256MB" });

        expect((await settings.preview()).diff).toMatchObject({ changes: "none", replaces: [] });
        expect((await settings.refresh()).effective).toMatchObject({ work_mem: "8MB" });
        expect((await settings.preview()).diff).toMatchObject({ changes: "none", replaces: [] });
        await settings.previewUnknown("settings");

        // The host drops detailed diffs: the restart a change needs is a line on its console.
        const desired = settings.news().settings as Props;
        expect((await settings.preview({ settings: { ...desired, shared_buffers: "192MB" } })).diff.changes).toBe("some");
        await expect
            .poll(() => lines(host, "stdout"))
            .toContainEqual(expect.stringMatching(/^gecko-pg settings: a server restart is needed for shared_buffers/));

        const updated = await settings.update({ settings: { ...desired, work_mem: "16MB" } });
        expect(updated.effective).toMatchObject({ work_mem: "16MB" });
        expect(await show("work_mem")).toBe("16MB");
        expect((await settings.preview({ settings: { ...desired, work_mem: "16MB" } })).diff.changes).toBe("none");

        await settings.destroy();
        expect(await autoConf()).toEqual({});
        expect(await show("work_mem")).toBe("4MB");
    });

    it("AdminPassword (docker mode, retargeted at a role of this server): create with the password in force, clean preview, rotation on update", async () => {
        const role = `engine_dockeradmin_${suffix}`;
        await sql("postgres", `CREATE ROLE ${role} LOGIN PASSWORD '${DOCKER_ADMIN_PASSWORD}'`);
        const program = runs.dev.one(T.adminPassword);
        const connection = { ...(stripSecrets(program.wireInputs).connection as Props), host: server.host, port: server.port, user: role };
        const password = new EngineResource(host, program, { connection });
        const login = (pw: string) =>
            withClient(`postgresql://${role}:${encodeURIComponent(pw)}@${server.host}:${server.port}/postgres`, async () => true).catch(
                () => false,
            );

        await password.create();
        expect((await password.preview()).diff).toMatchObject({ changes: "none", replaces: [] });
        await password.refresh();
        expect((await password.preview()).diff).toMatchObject({ changes: "none", replaces: [] });

        const rotated = `rotated ${randomBytes(6).toString("hex")}/:@`;
        await password.update({ password: rotated });
        expect([await login(rotated), await login(DOCKER_ADMIN_PASSWORD)]).toEqual([true, false]);
        expect((await password.preview({ password: rotated })).diff.changes).toBe("none");
        await password.destroy();
        await sql("postgres", `DROP ROLE ${role}`);
    });

    it("ServerSettings (report, admin not a superuser): changes nothing, lists the parameter group, warns through the host's output", async () => {
        const settings = new EngineResource(host, runs.managed.one(T.settings, "settings"));
        const before = await sql("postgres", "SELECT name, setting FROM pg_file_settings ORDER BY seqno");
        const outs = await settings.create();
        const drift = outs.parameterGroup as { name: string; desired: string; actual: string | null }[];
        expect(drift).toContainEqual(expect.objectContaining({ name: "random_page_cost", desired: "1.1", actual: "4" }));
        expect(drift).toContainEqual(expect.objectContaining({ name: "work_mem", desired: "8MB", actual: "4MB" }));
        expect(await sql("postgres", "SELECT name, setting FROM pg_file_settings ORDER BY seqno")).toEqual(before);
        // A real engine gives the host no engine address: pulumi.log.warn goes to stderr, which the engine passes through.
        await expect
            .poll(() => lines(host, "stderr"))
            .toContainEqual(
                expect.stringMatching(
                    /^warning: \[runtime\] server settings to set in the server's parameter group .*work_mem = 8MB \(now 4MB\)/,
                ),
            );

        expect((await settings.preview()).diff).toMatchObject({ changes: "none", replaces: [] });
        await settings.refresh();
        expect((await settings.preview()).diff).toMatchObject({ changes: "none", replaces: [] });

        const updated = await settings.update({ settings: { work_mem: "16MB" } });
        expect(updated.parameterGroup).toContainEqual(expect.objectContaining({ name: "work_mem", desired: "16MB", actual: "4MB" }));
        await settings.destroy();
        expect(await sql("postgres", "SELECT name, setting FROM pg_file_settings ORDER BY seqno")).toEqual(before);
    });
});

describe("the provider host's environment", () => {
    it("with an engine address (PULUMI_NODEJS_ENGINE), the report-mode warning reaches the engine as a structured warning", async () => {
        const host = await startProviderHost({ cwd: PROJECT_ROOT, env: engineEnv(), fakeEngine: true });
        try {
            const settings = new EngineResource(host, runs.managed.one(T.settings, "settings"));
            await settings.create();
            await expect
                .poll(() => host.logs().filter((l) => l.source === "engine"))
                .toContainEqual(
                    expect.objectContaining({
                        severity: "warning",
                        message: expect.stringMatching(/^server settings to set in the server's parameter group/),
                    }),
                );
        } finally {
            await host.stop();
        }
    });

    it("outside the project without GECKO_PG_ROOT, every method fails naming Pulumi.yaml and GECKO_PG_ROOT, not with a stack trace", async () => {
        const outside = path.join(dir, "outside"); // no Pulumi.yaml in or above it; removed with `dir`
        fs.mkdirSync(outside);
        const host = await startProviderHost({ cwd: outside, env: engineEnv() });
        try {
            const program = runs.superuser.one(T.schema, "schema");
            const schema = new EngineResource(host, program);
            for (const attempt of [() => host.check(schema.urn, {}, schema.news()), () => host.create(schema.urn, schema.news())]) {
                const error = await attempt().then(
                    () => undefined,
                    (e: unknown) => e,
                );
                expect(error).toBeInstanceOf(HostCallError);
                const details = (error as HostCallError).details;
                expect(details).toContain(`cannot find Pulumi.yaml in or above ${fs.realpathSync(outside)}`);
                expect(details).toContain("set GECKO_PG_ROOT");
                expect(details).not.toMatch(/\n\s+at /);
            }
        } finally {
            await host.stop();
        }
        // The same directory with GECKO_PG_ROOT pointing at the project: the provider loads.
        const rooted = await startProviderHost({ cwd: outside, env: { ...engineEnv(), GECKO_PG_ROOT: PROJECT_ROOT } });
        try {
            const schema = new EngineResource(rooted, runs.superuser.one(T.schema, "schema"));
            expect((await rooted.check(schema.urn, {}, schema.news())).failures).toEqual([]);
        } finally {
            await rooted.stop();
        }
    });
});

describe("docker and postgresql inputs against the providers' documented rules", () => {
    const checked = () =>
        Object.values(runs).flatMap((run) =>
            run.resources.filter((r) => /^(docker|postgresql):|^pulumi:providers:(docker|postgresql)$/.test(r.type)),
        );

    it("every docker and postgresql registration, in all three modes, satisfies them", () => {
        const resources = checked();
        expect(new Set(resources.map((r) => r.type)).size).toBeGreaterThanOrEqual(9);
        for (const r of resources) expect(inputRuleViolations(r), `${r.type}/${r.name}`).toEqual([]);
    });

    it("the container's memory is the configured MB count (the unit the docker provider documents), not bytes", () => {
        expect(runs.dev.one(T.container).inputs.memory).toBe(Number(devConfig["gecko-pg:serverMemoryMb"]));
    });

    it("the rules catch what the providers would reject", () => {
        const container = runs.dev.one(T.container);
        const broken = (inputs: Props): RecordedResource => ({ ...container, inputs: { ...container.inputs, ...inputs } });
        const hc = container.inputs.healthcheck as Props;
        const cases: Array<[Props, RegExp]> = [
            [{ healthcheck: { ...hc, interval: "2" } }, /healthcheck\.interval.*duration/],
            [{ healthcheck: { ...hc, timeout: "5 seconds" } }, /healthcheck\.timeout.*duration/],
            [{ healthcheck: { ...hc, tests: undefined } }, /healthcheck\.tests.*required/],
            [{ ports: [{ internal: 5432, external: 70000 }] }, /ports\[0\]\.external.*port/],
            [{ ports: [{ internal: 5432, ip: "localhost" }] }, /ports\[0\]\.ip.*IP address/],
            [{ memory: 2 * 1024 ** 3 }, /memory.*MB/],
            [{ restart: "sometimes" }, /restart.*one of/],
            [{ waitTimeout: 1.5 }, /waitTimeout.*seconds/],
            [{ healthCheck: hc }, /healthCheck.*not an input/],
        ];
        for (const [inputs, expected] of cases)
            expect(inputRuleViolations(broken(inputs)), JSON.stringify(inputs)).toContainEqual(expect.stringMatching(expected));

        const grant = runs.dev.ofType("postgresql:index/grant:Grant").find((g) => g.inputs.objectType === "schema")!;
        const brokenGrant = (inputs: Props): RecordedResource => ({ ...grant, inputs: { ...grant.inputs, ...inputs } });
        expect(inputRuleViolations(brokenGrant({ objectType: "tables" }))).toContainEqual(expect.stringMatching(/objectType.*one of/));
        expect(inputRuleViolations(brokenGrant({ privileges: ["USAGE", "READ"] }))).toContainEqual(
            expect.stringMatching(/privileges.*READ/),
        );
        expect(inputRuleViolations(brokenGrant({ objects: ["t1"] }))).toContainEqual(expect.stringMatching(/objects.*objectType/));
        expect(inputRuleViolations(brokenGrant({ schema: undefined }))).toContainEqual(expect.stringMatching(/schema.*required/));
        const provider = runs.dev.one(T.pgProvider);
        expect(inputRuleViolations({ ...provider, inputs: { ...provider.inputs, port: "0" } })).toContainEqual(
            expect.stringMatching(/port.*port/),
        );
    });
});

/** What the host printed on `source` so far (its output arrives independently of the gRPC answers: poll). */
const lines = (host: ProviderHost, source: "stdout" | "stderr") =>
    host
        .logs()
        .filter((l) => l.source === source)
        .map((l) => l.message);

/** Appends `n` trades (copies of a migrated one) to the source, like a collector still writing. */
function changeSource(change: (db: Database.Database) => void): void {
    const db = new Database(sqlitePath);
    try {
        change(db);
    } finally {
        db.close();
    }
}

function appendTrades(modelId: string, n: number): number {
    const db = new Database(sqlitePath);
    try {
        const model = db.prepare("SELECT * FROM trades WHERE id = ?").get(modelId) as Record<string, unknown>;
        const columns = Object.keys(model);
        const insert = db.prepare(`INSERT INTO trades (${columns.join(", ")}) VALUES (${columns.map((c) => `@${c}`).join(", ")})`);
        for (let i = 1; i <= n; i++) insert.run({ ...model, id: `${modelId}_appended_${i}` });
    } finally {
        db.close();
    }
    return n;
}
