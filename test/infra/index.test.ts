/**
 * The whole Pulumi program under mocks, in both server modes, plus the config
 * schema (Pulumi.yaml / Pulumi.dev.yaml) and the pure config validation.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { planAccess } from "../../migration/setup/accessPlan";
import { parseConnectionUrl } from "../../migration/postgres/connection";
import { CONFIG_DEFAULTS, CONFIG_KEYS, SECRET_KEYS, StackConfigError, validateStackConfig } from "../../infra/config";
import {
    installMocks,
    isWireSecret,
    plaintextPaths,
    resolve,
    settle,
    type MockRun,
    type RecordedResource,
    RESOURCE_TYPES,
} from "../support/pulumiMocks";
import { PROJECT_ROOT } from "../support/paths";

const ROOT = PROJECT_ROOT;
const ADMIN_PASSWORD = "adm1n pw/with:odd@chars";
const APP_PASSWORD = "c0llector p@ss/word?#%";
const SECRETS = { "gecko-pg:adminPassword": ADMIN_PASSWORD, "gecko-pg:appPassword": APP_PASSWORD };
const SECRET_CONFIG_KEYS = Object.keys(SECRETS);
const IMAGE_ID = "sha256:0123456789abcdef";

const T = RESOURCE_TYPES;

type Program = typeof import("../../infra/index");

interface Run {
    readonly mock: MockRun;
    readonly program: Program;
}

/** Runs infra/index.ts afresh with this stack name and config. */
async function runProgram(stack: string, config: Record<string, string>): Promise<Run> {
    const mock = await installMocks({
        project: "gecko-pg",
        stack,
        config,
        secretKeys: SECRET_CONFIG_KEYS.filter((k) => k in config),
        outputs: (type) => {
            if (type === T.image) return { imageId: IMAGE_ID };
            if (type.startsWith("pulumi-nodejs:dynamic")) return { effective: { shared_buffers: "256MB" }, pendingRestart: [] };
            return {};
        },
    });
    vi.resetModules();
    const program: Program = await import("../../infra/index.js");
    await Promise.all(Object.values(program).map((o) => (pulumi.Output.isInstance(o) ? resolve(o as pulumi.Output<unknown>) : o)));
    await settle();
    return { mock, program };
}

// Exactly the settings: the schema (and migration) are dynamic resources too (index.migration.test.ts).
const settingsOf = (mock: MockRun) => mock.ofType("pulumi-nodejs:dynamic/gecko:ServerSettings");

/** Each secret must appear nowhere in the inputs of any resource except inside a secret envelope. */
function expectNoPlaintextSecrets(mock: MockRun) {
    for (const r of mock.resources) {
        for (const secret of [ADMIN_PASSWORD, APP_PASSWORD, encodeURIComponent(APP_PASSWORD)]) {
            expect(plaintextPaths(r.wireInputs, secret), `${r.type}/${r.name}`).toEqual([]);
        }
    }
}

/** Non-secret stack outputs must not contain any password, raw or URL-encoded. */
async function expectOutputsSafe(program: Program) {
    for (const [name, value] of Object.entries(program)) {
        if (!pulumi.Output.isInstance(value)) continue;
        const { value: v, secret } = await resolve(value as pulumi.Output<unknown>);
        if (secret) continue;
        const text = JSON.stringify(v) ?? "";
        for (const s of [ADMIN_PASSWORD, APP_PASSWORD, encodeURIComponent(APP_PASSWORD), encodeURIComponent(ADMIN_PASSWORD)]) {
            expect(text.includes(s), `output ${name}`).toBe(false);
        }
    }
}

/** Registration order is not deterministic: compare as sorted lists. */
const bag = <V>(items: V[]) => items.map((v) => JSON.stringify(v)).sort();

function expectAccessMatchesPlan(mock: MockRun, plan: ReturnType<typeof planAccess>) {
    const grants = mock.ofType(T.grant).map((g) => g.inputs);
    expect(
        bag(
            grants.map(({ role, objectType, schema, privileges, database }) => ({
                role,
                objectType,
                schema,
                privileges: [...(privileges as string[])].sort(),
                database,
            })),
        ),
    ).toEqual(
        bag(
            plan.grants.map((g) => ({
                role: g.role,
                objectType: g.objectType,
                schema: g.schema,
                privileges: [...g.privileges],
                database: plan.database,
            })),
        ),
    );
    // The drifting form: a table/sequence grant over "all objects" would read back every new table.
    expect(grants.filter((g) => g.objectType === "table" || g.objectType === "sequence")).toEqual([]);
    const defaults = mock.ofType(T.defaults).map((d) => d.inputs);
    expect(
        bag(
            defaults.map(({ owner, role, schema, objectType, privileges, database }) => ({
                owner,
                role,
                schema,
                objectType,
                privileges: [...(privileges as string[])].sort(),
                database,
            })),
        ),
    ).toEqual(
        bag(
            plan.defaultPrivileges.map((d) => ({
                owner: d.owner,
                role: d.role,
                schema: d.schema,
                objectType: d.objectType,
                privileges: [...d.privileges],
                database: plan.database,
            })),
        ),
    );
    expect(bag(mock.ofType(T.role).map((r) => [r.inputs.name, r.inputs.login === true]))).toEqual(
        bag(plan.roles.map((r) => [r.name, r.login])),
    );
}

const defaultPlan = (nonSuperuserAdmin?: string) =>
    planAccess({
        database: "gecko_terminal_collector",
        ownerRole: "gecko_owner",
        appRole: "gecko_collector",
        timezone: "UTC",
        nonSuperuserAdmin,
    });

describe("docker mode (stack prod)", () => {
    let run: Run;
    const r = (type: string): RecordedResource => run.mock.one(type);
    beforeAll(async () => {
        run = await runProgram("prod", {
            "gecko-pg:mode": "docker",
            "gecko-pg:hostPort": "15432",
            "gecko-pg:serverMemoryMb": "1536",
            "docker:host": "unix:///run/docker.sock",
            ...SECRETS,
        });
    });

    it("creates the image, volume and container, then access and settings", () => {
        const counts = (type: string) => run.mock.ofType(type).length;
        expect([T.image, T.volume, T.container, T.pgProvider, T.database].map(counts)).toEqual([1, 1, 1, 1, 1]);
        expect([T.role, T.grant, T.defaults, T.grantRole].map(counts)).toEqual([2, 3, 2, 0]);
        expect(settingsOf(run.mock)).toHaveLength(1);
        expect(counts("gecko:server:PostgresServer")).toBe(1);
        expect(counts("gecko:access:DatabaseAccess")).toBe(1);
    });

    it("runs a pinned image with its data on a named volume", () => {
        expect(r(T.image).inputs.name).toBe("postgres:17.6-bookworm");
        const c = r(T.container).inputs;
        expect(c.image).toBe(IMAGE_ID);
        expect(c.volumes).toEqual([{ volumeName: r(T.volume).inputs.name, containerPath: "/var/lib/postgresql/data" }]);
        expect(r(T.volume).inputs.name).toBe("gecko-pg-data");
    });

    it("waits for a TCP healthcheck, publishes on 127.0.0.1 only and sets no -c flags", () => {
        const c = r(T.container).inputs;
        expect((c.healthcheck as { tests: string[] }).tests).toEqual(["CMD", "pg_isready", "-h", "127.0.0.1", "-U", "postgres"]);
        expect(c.wait).toBe(true);
        expect(c.waitTimeout).toBeGreaterThan(0);
        expect(c.ports).toEqual([{ internal: 5432, external: 15432, ip: "127.0.0.1", protocol: "tcp" }]);
        expect(c.command ?? []).not.toContain("-c");
        expect(c.entrypoints).toBeUndefined();
        expect(c.memory).toBe(1536);
        expect(c.restart).toBe("unless-stopped");
        expect(c.envs).toEqual([`POSTGRES_PASSWORD=${ADMIN_PASSWORD}`]);
        expect(isWireSecret(r(T.container).wireInputs.envs)).toBe(true);
        expect(r(T.container).deleteBeforeReplace).toBe(true);
    });

    it("rotates a changed admin password inside the server instead of replacing the container (which would keep the old one)", () => {
        const container = r(T.container);
        expect(container.ignoreChanges).toContain("envs");
        const rotation = run.mock.one(T.adminPassword);
        expect(rotation.inputs.password).toBe(ADMIN_PASSWORD);
        expect(isWireSecret(rotation.wireInputs.password)).toBe(true);
        expect(rotation.additionalSecretOutputs).toContain("password");
        expect(rotation.dependencies).toContain(container.urn);
        // Everything that logs in as the admin waits for the rotation.
        expect(r(T.pgProvider).dependencies).toContain(rotation.urn);
    });

    it("stops PostgreSQL cleanly on replace and destroy instead of killing it", () => {
        const c = r(T.container).inputs;
        // SIGINT: PostgreSQL's fast shutdown (SIGTERM is "smart": it waits for every client to leave).
        expect(c.stopSignal).toBe("SIGINT");
        // Without destroyGraceSeconds the docker provider removes the container by force (SIGKILL).
        expect(c.destroyGraceSeconds).toBeGreaterThanOrEqual(30);
        expect(c.stopTimeout).toBeGreaterThanOrEqual(30);
    });

    it("connects the postgresql provider only after the container is healthy", () => {
        const provider = r(T.pgProvider);
        expect(provider.dependencies).toContain(r(T.container).urn);
        // Provider configuration travels as strings.
        expect(provider.inputs).toMatchObject({
            host: "127.0.0.1",
            port: "15432",
            username: "postgres",
            database: "postgres",
            sslmode: "disable",
            superuser: "true",
            expectedVersion: "17.6",
            connectTimeout: "15",
        });
        expect(provider.inputs.password).toBe(ADMIN_PASSWORD);
        expect(isWireSecret(provider.wireInputs.password)).toBe(true);
        for (const type of [T.database, T.role, T.grant, T.defaults]) {
            for (const res of run.mock.ofType(type)) expect(res.provider.startsWith(`${provider.urn}::`), res.name).toBe(true);
        }
    });

    it("declares exactly the planned grants and default privileges", () => {
        expectAccessMatchesPlan(run.mock, defaultPlan());
        const app = run.mock.ofType(T.role).find((x) => x.inputs.name === "gecko_collector")!;
        expect(app.inputs.password).toBe(APP_PASSWORD);
        expect(run.mock.ofType(T.role).find((x) => x.inputs.name === "gecko_owner")!.inputs.password).toBeUndefined();
    });

    it("orders the settings after the container and every access resource, restarting the container", () => {
        const settings = settingsOf(run.mock)[0];
        const before = [r(T.container), r(T.database), ...run.mock.ofType(T.grant), ...run.mock.ofType(T.defaults)];
        for (const dep of before) expect(settings.dependencies, dep.name).toContain(dep.urn);
        expect(settings.inputs.restart).toEqual({
            kind: "docker",
            containerName: "gecko-pg-postgres",
            dockerHost: "unix:///run/docker.sock",
        });
        expect(settings.inputs.serverMemoryMb).toBe(1536);
    });

    it("protects the volume and the database on a non-dev stack", () => {
        expect(r(T.volume).protect).toBe(true);
        expect(r(T.database).protect).toBe(true);
    });

    it("keeps passwords secret in every resource input and output", async () => {
        expectNoPlaintextSecrets(run.mock);
        expect(r(T.container).additionalSecretOutputs).toContain("envs");
        const url = await resolve(run.program.collectorDatabaseUrl);
        expect(url.secret).toBe(true);
        expect(url.value.startsWith("postgresql://gecko_collector:")).toBe(true);
        expect(url.value).toContain(`:${encodeURIComponent(APP_PASSWORD)}@127.0.0.1:15432/gecko_terminal_collector`);
        expect(parseConnectionUrl(url.value)).toMatchObject({
            user: "gecko_collector",
            password: APP_PASSWORD,
            host: "127.0.0.1",
            port: 15432,
        });
        await expectOutputsSafe(run.program);
    });

    it("exports the non-secret endpoint and the settings results", async () => {
        const p = run.program;
        expect((await resolve(p.host)).value).toBe("127.0.0.1");
        expect((await resolve(p.port)).value).toBe(15432);
        expect((await resolve(p.database)).value).toBe("gecko_terminal_collector");
        expect((await resolve(p.appRole)).value).toBe("gecko_collector");
        expect((await resolve(p.effectiveSettings!)).value).toEqual({ shared_buffers: "256MB" });
        expect((await resolve(p.pendingRestart!)).value).toEqual([]);
    });
});

describe("external mode, managed server (admin not a superuser)", () => {
    let run: Run;
    beforeAll(async () => {
        run = await runProgram("prod", {
            "gecko-pg:mode": "external",
            "gecko-pg:externalHost": "db.internal.example",
            "gecko-pg:externalPort": "6432",
            "gecko-pg:externalAdminUser": "cloudadmin",
            "gecko-pg:externalSuperuser": "false",
            "gecko-pg:serverVersion": "16",
            ...SECRETS,
        });
    });

    it("creates no docker resources", () => {
        expect(run.mock.resources.filter((r) => r.type.startsWith("docker:"))).toEqual([]);
        expect(run.mock.ofType(T.database)).toHaveLength(1);
    });

    it("configures the provider for a managed server", () => {
        expect(run.mock.one(T.pgProvider).inputs).toMatchObject({
            host: "db.internal.example",
            port: "6432",
            username: "cloudadmin",
            sslmode: "require",
            superuser: "false",
            expectedVersion: "16",
        });
    });

    it("makes the admin a member of the owner role before altering the owner's default privileges", () => {
        const membership = run.mock.one(T.grantRole);
        expect(membership.inputs).toMatchObject({ role: "cloudadmin", grantRole: "gecko_owner" });
        for (const d of run.mock.ofType(T.defaults)) expect(d.dependencies).toContain(membership.urn);
        expectAccessMatchesPlan(run.mock, defaultPlan("cloudadmin"));
    });

    it("reports pending restarts instead of restarting", () => {
        expect(settingsOf(run.mock)[0].inputs.restart).toEqual({ kind: "none" });
    });

    it("only reports the settings (no ALTER SYSTEM, which a managed server refuses its admin), and exports what to set in the parameter group", () => {
        expect(settingsOf(run.mock)[0].inputs.mode).toBe("report");
        expect(run.program.parameterGroup).toBeDefined();
    });

    it("keeps passwords secret", async () => {
        expectNoPlaintextSecrets(run.mock);
        const url = await resolve(run.program.collectorDatabaseUrl);
        expect(url.secret).toBe(true);
        expect(parseConnectionUrl(url.value)).toMatchObject({
            host: "db.internal.example",
            port: 6432,
            database: "gecko_terminal_collector",
            password: APP_PASSWORD,
        });
        await expectOutputsSafe(run.program);
        expect(run.program.containerName).toBeUndefined();
    });
});

describe("stack config as the CLI passes it", () => {
    type Declaration = { type: string; default?: unknown; secret?: boolean; description?: string };
    let project: { config: Record<string, Declaration> } & Record<string, unknown>;
    let dev: { config: Record<string, unknown> };
    let schema: Record<string, Declaration>;
    beforeAll(async () => {
        const { YAML } = await import("zx"); // ESM-only: a dynamic import from this CommonJS file
        project = YAML.parse(fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8"));
        dev = YAML.parse(fs.readFileSync(path.join(ROOT, "Pulumi.dev.yaml"), "utf8"));
        schema = project.config;
    });

    it("declares every key with type and description, and the program's defaults", () => {
        expect(project).toMatchObject({
            name: "gecko-pg",
            main: "infra/index.ts",
            runtime: { name: "nodejs", options: { typescript: true } },
        });
        expect(Object.keys(schema).sort()).toEqual(CONFIG_KEYS.map((k) => `gecko-pg:${k}`).sort());
        for (const [k, decl] of Object.entries(schema)) {
            expect(decl.type, k).toMatch(/^(string|integer|boolean)$/);
            expect(decl.description, k).toBeTruthy();
        }
        for (const [k, v] of Object.entries(CONFIG_DEFAULTS)) expect(schema[`gecko-pg:${k}`].default, k).toEqual(v);
        for (const k of SECRET_KEYS) {
            expect(schema[`gecko-pg:${k}`]).toMatchObject({ secret: true });
            expect(schema[`gecko-pg:${k}`].default).toBeUndefined();
        }
    });

    it("commits no plain-text secret in Pulumi.dev.yaml", () => {
        for (const k of SECRET_KEYS) {
            const v = dev.config?.[`gecko-pg:${k}`];
            if (v !== undefined) expect(v).toEqual({ secure: expect.any(String) });
        }
    });

    it("runs the dev stack from Pulumi.yaml defaults + Pulumi.dev.yaml, unprotected", async () => {
        const config: Record<string, string> = {};
        for (const [k, decl] of Object.entries(schema)) if (decl.default !== undefined) config[k] = String(decl.default);
        for (const [k, v] of Object.entries(dev.config)) config[k] = String(v);
        const { mock } = await runProgram("dev", { ...config, ...SECRETS });
        expect(mock.one(T.volume).protect).toBe(false);
        expect(mock.one(T.database).protect).toBe(false);
        expect(mock.one(T.container).inputs.name).toBe(dev.config["gecko-pg:containerName"]);
    });

    it("fails with a clear error when a required secret is missing", async () => {
        const attempt = runProgram("prod", { "gecko-pg:mode": "docker", "gecko-pg:adminPassword": ADMIN_PASSWORD });
        // By name: vi.resetModules gives the program its own copy of the class.
        await expect(attempt).rejects.toMatchObject({ name: "StackConfigError", fields: ["gecko-pg:appPassword"] });
        await expect(attempt).rejects.toThrow(/gecko-pg:appPassword is required: pulumi config set --secret gecko-pg:appPassword/);
        await attempt.catch((e: Error) => expect(e.message).not.toContain(ADMIN_PASSWORD));
    });
});

describe("validateStackConfig", () => {
    const secrets = { adminPassword: ADMIN_PASSWORD, appPassword: APP_PASSWORD };

    it.each([
        ["an unknown mode, before anything else", { mode: "kubernetes", appPassword: undefined }, ["gecko-pg:mode"]],
        ["external mode without a host, before anything else", { mode: "external", image: "postgres:latest" }, ["gecko-pg:externalHost"]],
        ["docker mode with an external host", { mode: "docker", externalHost: "db" }, ["gecko-pg:mode", "gecko-pg:externalHost"]],
        ["an unpinned image", { image: "postgres:latest" }, ["gecko-pg:image"]],
        ["a major-only tag", { image: "postgres:17" }, ["gecko-pg:image"]],
        ["a port out of range", { hostPort: "70000" }, ["gecko-pg:hostPort"]],
        ["a bad sslmode", { mode: "external", externalHost: "db", externalSslmode: "maybe" }, ["gecko-pg:externalSslmode"]],
        ["a role name needing quotes", { appRole: "Gecko-App" }, ["gecko-pg:appRole"]],
        ["the same owner and app role", { appRole: "gecko_owner" }, ["gecko-pg:appRole"]],
        ["the admin as app role", { mode: "external", externalHost: "db", externalAdminUser: "gecko_collector" }, ["gecko-pg:appRole"]],
        ["an unknown time zone", { collectorTimeZone: "Mars/Olympus" }, ["gecko-pg:collectorTimeZone"]],
        ["settings that are not JSON", { serverSettings: "{work_mem" }, ["gecko-pg:serverSettings"]],
        ["both passwords missing", { adminPassword: "", appPassword: undefined }, ["gecko-pg:adminPassword", "gecko-pg:appPassword"]],
    ])("rejects %s", (_label, overrides, fields) => {
        let error: unknown;
        try {
            validateStackConfig({ ...secrets, ...overrides }, "prod");
        } catch (e) {
            error = e;
        }
        expect(error).toBeInstanceOf(StackConfigError);
        expect((error as StackConfigError).fields).toEqual(fields);
        for (const s of Object.values(secrets)) expect((error as Error).message).not.toContain(s);
    });

    it("applies the defaults and derives the provider version from the image", () => {
        const c = validateStackConfig({ ...secrets, serverSettings: '{"work_mem":"16MB","jit":false}' }, "prod");
        expect(c).toMatchObject({
            server: {
                mode: "docker",
                image: "postgres:17.6-bookworm",
                hostPort: 5432,
                containerName: "gecko-pg-postgres",
                volumeName: "gecko-pg-data",
            },
            serverVersion: "17.6",
            database: "gecko_terminal_collector",
            appRole: "gecko_collector",
            ownerRole: "gecko_owner",
            collectorTimeZone: "UTC",
            protect: true,
            serverSettings: { work_mem: "16MB", jit: "false" },
        });
    });

    it.each([
        ["dev", undefined, false],
        ["prod", undefined, true],
        ["dev", "true", true],
        ["prod", "false", false],
    ])("protect on stack %s with protect=%s is %s", (stack, protect, expected) => {
        expect(validateStackConfig({ ...secrets, protect }, stack).protect).toBe(expected);
    });

    it.each([
        ["docker", {}, "auto", "apply"],
        ["external superuser", { mode: "external", externalHost: "db", externalSuperuser: "true", serverVersion: "16" }, "auto", "apply"],
        [
            "external, admin not a superuser (managed)",
            { mode: "external", externalHost: "db", externalSuperuser: "false", serverVersion: "16" },
            "auto",
            "report",
        ],
        [
            "managed, overridden",
            { mode: "external", externalHost: "db", externalSuperuser: "false", serverVersion: "16" },
            "apply",
            "apply",
        ],
        ["docker, turned off", {}, "off", "off"],
    ])("serverSettingsMode on %s: %s -> %s", (_label, server, choice, expected) => {
        expect(validateStackConfig({ ...secrets, ...server, serverSettingsMode: choice }, "prod").serverSettingsMode).toBe(expected);
    });

    it("refuses an unknown serverSettingsMode, naming the key", () => {
        expect(() => validateStackConfig({ ...secrets, serverSettingsMode: "sometimes" }, "prod")).toThrow(/gecko-pg:serverSettingsMode/);
    });

    it("reads an external managed server", () => {
        const c = validateStackConfig(
            {
                ...secrets,
                mode: "external",
                externalHost: "db",
                externalSslmode: "verify-full",
                externalSuperuser: "true",
                serverVersion: "16.4",
            },
            "prod",
        );
        expect(c.server).toEqual({
            mode: "external",
            host: "db",
            port: 5432,
            adminUser: "postgres",
            sslmode: "verify-full",
            superuser: true,
        });
        expect(c.serverVersion).toBe("16.4");
    });
});
