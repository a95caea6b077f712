/**
 * `pulumi destroy` of the real program (infra/index.ts under mocks): the order
 * the engine may delete the registered resources in, replayed against a real
 * PostgreSQL with the SQL each postgresql provider Delete runs
 * (test/support/destroyReplay.ts).
 *
 * The provider drops a Role with REASSIGN OWNED / DROP OWNED / DROP ROLE in the
 * database it connects to (`postgres`) only, so the roles can go only once the
 * collector database, and the owner's tables in it, are gone: the Database
 * depends on the roles (infra/access.ts), and destroy deletes dependents first.
 */
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { Client } from "pg";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { planAccess } from "../migration/setup/accessPlan";
import { ident } from "../migration/postgres/sql";
import { applyAccess } from "../migration/setup/applyAccess";
import { clientConfig, parseConnectionUrl, type ConnectionSpec } from "../migration/postgres/connection";
import { applySchema } from "../migration/schema/applySchema";
import { adminUrl } from "./support/db";
import {
    destroyOrder,
    keptByExcludeProtected,
    replayDestroy,
    transitiveDependencies,
    TYPES as T,
    withoutDependencies,
    type ReplayResult,
} from "./support/destroyReplay";
import { installMocks, resolve, settle, type RecordedResource } from "./support/pulumiMocks";

const SECRETS = { "gecko-pg:adminPassword": "adm1n-pw", "gecko-pg:appPassword": "app-pw" };
const DOCKER = { "gecko-pg:mode": "docker", "gecko-pg:hostPort": "15432", "docker:host": "unix:///run/docker.sock" };
const MANAGED = {
    "gecko-pg:mode": "external",
    "gecko-pg:externalHost": "db.internal.example",
    "gecko-pg:externalAdminUser": "cloudadmin",
    "gecko-pg:externalSuperuser": "false",
    "gecko-pg:serverVersion": "16",
};
const EXTERNAL_SUPERUSER = { ...MANAGED, "gecko-pg:externalAdminUser": "pgadmin", "gecko-pg:externalSuperuser": "true" };

/** The stack's names, which the replay maps onto unique scratch ones (roles are cluster-wide). */
const STACK_NAMES = { database: "gecko_terminal_collector", ownerRole: "gecko_owner", appRole: "gecko_collector" };

type Program = typeof import("../infra/index");

/** Runs infra/index.ts afresh and returns its registrations. */
async function registrations(config: Record<string, string>): Promise<RecordedResource[]> {
    const mock = await installMocks({
        project: "gecko-pg",
        stack: "prod",
        config: { ...SECRETS, ...config },
        secretKeys: Object.keys(SECRETS),
        outputs: (type) => {
            if (type === "docker:index/remoteImage:RemoteImage") return { imageId: "sha256:0123456789abcdef" };
            if (type === T.settings) return { effective: {}, pendingRestart: [] };
            if (type === T.schema) return { version: 3, tables: [], changes: 0, postLoad: "applied" };
            if (type === T.migration) return { summary: {}, reportRunId: 1, extraTables: [] };
            return {};
        },
    });
    vi.resetModules();
    const program: Program = await import("../infra/index.js");
    await Promise.all(Object.values(program).map((o) => (pulumi.Output.isInstance(o) ? resolve(o as pulumi.Output<unknown>) : o)));
    await settle();
    return [...mock.resources];
}

const ofType = (rs: readonly RecordedResource[], type: string) => rs.filter((r) => r.type === type);
const one = (rs: readonly RecordedResource[], type: string) => {
    const found = ofType(rs, type);
    if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}`);
    return found[0];
};
/** The engine may delete in any order the graph allows: this one deletes roles as early as it can. */
const rolesFirst = (r: RecordedResource) => (r.type === T.role ? 0 : 1);
/** The registrations as the program made them before the fix: no Database -> Role dependency. */
const withoutFix = (rs: readonly RecordedResource[]) =>
    withoutDependencies(
        rs,
        one(rs, T.database),
        ofType(rs, T.role).map((r) => r.urn),
    );

// ---- Scratch server state ----

interface Scratch {
    readonly database: string;
    readonly ownerRole: string;
    readonly appRole: string;
    /** How the provider logs in (its `database` is postgres): the superuser, or a CREATEDB CREATEROLE admin. */
    readonly admin: ConnectionSpec;
    readonly rename: Map<string, string>;
    /** Objects in the collector database owned by the owner role. */
    ownedObjects(): Promise<number>;
    /** Which of the database and roles still exist. */
    remaining(): Promise<string[]>;
    dispose(): Promise<void>;
}

async function withClient<T>(spec: ConnectionSpec, fn: (c: Client) => Promise<T>): Promise<T> {
    const c = new Client(clientConfig(spec));
    await c.connect();
    try {
        return await fn(c);
    } finally {
        await c.end();
    }
}

/**
 * What `pulumi up` leaves, provisioned with the project's library: the access plan as the given
 * admin (a managed server's admin: not a superuser, member of the owner role), then optionally
 * the collector tables (both schema phases).
 */
async function provision(recordedAdmin: string, options: { managed: boolean; tables: boolean }): Promise<Scratch> {
    const id = randomBytes(4).toString("hex");
    const superuser: ConnectionSpec = { ...parseConnectionUrl(adminUrl()), database: "postgres" };
    const names = { database: `destroy_${id}`, ownerRole: `destroy_owner_${id}`, appRole: `destroy_app_${id}` };
    let admin = superuser;
    if (options.managed) {
        admin = { ...superuser, user: `destroy_admin_${id}`, password: randomBytes(12).toString("hex") };
        await withClient(superuser, (c) =>
            c.query(`CREATE ROLE ${ident(admin.user)} LOGIN CREATEDB CREATEROLE PASSWORD '${admin.password}'`),
        );
    }
    const plan = planAccess({ ...names, timezone: "UTC", nonSuperuserAdmin: options.managed ? admin.user : undefined });
    const collectorDb = { ...admin, database: names.database };
    const scratch: Scratch = {
        ...names,
        admin,
        rename: new Map([
            [STACK_NAMES.database, names.database],
            [STACK_NAMES.ownerRole, names.ownerRole],
            [STACK_NAMES.appRole, names.appRole],
            [recordedAdmin, admin.user],
        ]),
        ownedObjects: () =>
            withClient(
                { ...superuser, database: names.database },
                async (c) =>
                    (
                        await c.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_class WHERE relowner = to_regrole($1)", [
                            names.ownerRole,
                        ])
                    ).rows[0].n,
            ),
        remaining: () =>
            withClient(superuser, async (c) => [
                ...(await c.query<{ n: string }>("SELECT datname AS n FROM pg_database WHERE datname = $1", [names.database])).rows.map(
                    (r) => `database ${r.n}`,
                ),
                ...(
                    await c.query<{ n: string }>("SELECT rolname AS n FROM pg_roles WHERE rolname = ANY($1) ORDER BY 1", [
                        [names.ownerRole, names.appRole],
                    ])
                ).rows.map((r) => `role ${r.n}`),
            ]),
        dispose: () =>
            withClient(superuser, async (c) => {
                await c.query(`DROP DATABASE IF EXISTS ${ident(names.database)} WITH (FORCE)`);
                const roles = [names.appRole, names.ownerRole, ...(options.managed ? [admin.user] : [])];
                for (const role of roles) {
                    if (!(await c.query("SELECT 1 FROM pg_roles WHERE rolname = $1", [role])).rowCount) continue;
                    await c.query(`DROP OWNED BY ${ident(role)}`);
                    await c.query(`DROP ROLE ${ident(role)}`);
                }
            }),
    };
    try {
        await applyAccess(admin, plan, randomBytes(12).toString("hex"));
        if (options.tables) {
            await withClient(collectorDb, async (c) => {
                const o = { ownerRole: names.ownerRole, appRole: names.appRole, timeZone: "UTC" };
                await applySchema(c, "tables", o);
                await applySchema(c, "post-load", o);
            });
        }
    } catch (e) {
        await scratch.dispose();
        throw e;
    }
    return scratch;
}

async function replay(order: readonly RecordedResource[], scratch: Scratch): Promise<ReplayResult> {
    return replayDestroy(order, {
        admin: scratch.admin,
        rename: scratch.rename,
        collectorDb: { ...scratch.admin, database: scratch.database },
    });
}

/** A readable account of a replay for assertion messages (printed for every replay with DESTROY_REPLAY_LOG=1). */
function describeReplay(result: ReplayResult): string {
    const lines = result.steps.map(
        (s) =>
            `${s.resource}: ${s.skipped ? `skipped (${s.skipped})` : s.sql.filter((x) => !/^(SELECT|SET|BEGIN|COMMIT)/.test(x)).join("; ") || "-"}`,
    );
    if (result.failure)
        lines.push(`FAILED ${result.failure.resource}: ${result.failure.sql}: ${result.failure.message} (${result.failure.detail ?? ""})`);
    return lines.join("\n");
}

const DEPENDENCY_ERROR = /cannot be dropped because some objects depend on it/;

// ---- The stacks ----

let dir: string;
const stacks = {} as Record<
    "docker" | "dockerDropData" | "managed" | "externalSuperuser" | "dockerProtected" | "managedProtected",
    RecordedResource[]
>;

beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "stack-destroy-"));
    const sqlitePath = path.join(dir, "gecko_data.db");
    fs.writeFileSync(sqlitePath, "SQLite format 3\0");
    const unprotected = { "gecko-pg:protect": "false" };
    stacks.docker = await registrations({ ...DOCKER, ...unprotected });
    stacks.dockerDropData = await registrations({
        ...DOCKER,
        ...unprotected,
        "gecko-pg:dropDataOnDelete": "true",
        "gecko-pg:sqlitePath": sqlitePath,
    });
    stacks.managed = await registrations({ ...MANAGED, ...unprotected });
    stacks.externalSuperuser = await registrations({ ...EXTERNAL_SUPERUSER, ...unprotected });
    stacks.dockerProtected = await registrations({ ...DOCKER, "gecko-pg:protect": "true" });
    stacks.managedProtected = await registrations({ ...MANAGED, "gecko-pg:protect": "true" });
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const adminOf = (rs: readonly RecordedResource[]) => one(rs, T.pgProvider).inputs.username as string;

describe.each(["docker", "dockerDropData", "managed", "externalSuperuser", "dockerProtected", "managedProtected"] as const)(
    "destroy order of the %s stack",
    (key) => {
        it("deletes the database before both roles in every order the engine may choose", () => {
            const rs = stacks[key];
            const db = one(rs, T.database);
            const roles = ofType(rs, T.role);
            expect(roles).toHaveLength(2);
            const closure = transitiveDependencies(rs, db);
            for (const role of roles) expect(closure.has(role.urn), `${db.name} depends on ${role.name}`).toBe(true);
        });

        it("has no cycle, and drops everything on the server before the provider and the server go", () => {
            const rs = stacks[key];
            const order = destroyOrder(rs, { priority: rolesFirst });
            expect(order).toHaveLength(rs.length);
            const at = (r: RecordedResource) => order.indexOf(r);
            const db = one(rs, T.database);
            for (const role of ofType(rs, T.role)) expect(at(db), role.name).toBeLessThan(at(role));
            for (const r of [...ofType(rs, T.grant), ...ofType(rs, T.defaults), ...ofType(rs, T.schema), ...ofType(rs, T.migration)]) {
                expect(at(r), r.name).toBeLessThan(at(db));
            }
            // AdminPassword is part of the server's readiness (the provider connects after it) and deletes nothing.
            const onServer = rs.filter(
                (r) =>
                    r.type.startsWith("postgresql:") || (r.type.startsWith("pulumi-nodejs:dynamic") && !r.type.endsWith(":AdminPassword")),
            );
            const provider = one(rs, T.pgProvider);
            for (const r of onServer) expect(at(r), r.name).toBeLessThan(at(provider));
            for (const container of ofType(rs, T.container)) expect(at(provider)).toBeLessThan(at(container));
        });

        it("would let the engine drop a role first without the Database -> Role dependency", () => {
            const rs = withoutFix(stacks[key]);
            const order = destroyOrder(rs, { priority: rolesFirst });
            expect(order.findIndex((r) => r.type === T.role)).toBeLessThan(order.findIndex((r) => r.type === T.database));
        });
    },
);

describe("protect", () => {
    it("protects the database and the docker volume, so a plain destroy is refused", () => {
        expect(one(stacks.dockerProtected, T.database).protect).toBe(true);
        expect(one(stacks.dockerProtected, T.volume).protect).toBe(true);
        expect(one(stacks.managedProtected, T.database).protect).toBe(true);
        for (const key of ["docker", "dockerDropData", "managed", "externalSuperuser"] as const) {
            expect(
                stacks[key].filter((r) => r.protect).map((r) => r.name),
                key,
            ).toEqual([]);
        }
    });

    it("keeps the roles with the protected database under destroy --exclude-protected", () => {
        for (const key of ["dockerProtected", "managedProtected"] as const) {
            const rs = stacks[key];
            const kept = keptByExcludeProtected(rs);
            for (const r of [one(rs, T.database), ...ofType(rs, T.role), one(rs, T.pgProvider)])
                expect(kept.has(r.urn), `${key} ${r.name}`).toBe(true);
            for (const r of [...ofType(rs, T.grant), ...ofType(rs, T.defaults), ...ofType(rs, T.schema)])
                expect(kept.has(r.urn), `${key} ${r.name}`).toBe(false);
        }
    });
});

// ---- Replays ----

describe.each([
    { stack: "docker", managed: false, tables: true },
    { stack: "docker", managed: false, tables: false },
    { stack: "dockerDropData", managed: false, tables: true },
    { stack: "managed", managed: true, tables: true },
    { stack: "managed", managed: true, tables: false },
    { stack: "externalSuperuser", managed: false, tables: true },
] as const)("replayed destroy of the $stack stack (collector tables: $tables)", ({ stack, managed, tables }) => {
    it("runs every provider delete and leaves neither the database nor the roles", async () => {
        const rs = stacks[stack];
        const scratch = await provision(adminOf(rs), { managed, tables });
        try {
            expect(await scratch.ownedObjects()).toSatisfy((n: number) => (tables ? n > 0 : n === 0));
            const result = await replay(destroyOrder(rs, { priority: rolesFirst }), scratch);
            expect(result.failure, describeReplay(result)).toBeUndefined();
            if (process.env.DESTROY_REPLAY_LOG) console.log(`${stack} tables=${tables}\n${describeReplay(result)}`);
            expect(await scratch.remaining()).toEqual([]);
            const database = result.steps.find((s) => s.type === T.database)!;
            expect(database.sql).toContain(`DROP DATABASE ${ident(scratch.database)} WITH ( FORCE )`);
            // The roles' drops ran after the database was gone, in the provider's database only.
            const at = (type: string) => result.steps.flatMap((s, i) => (s.type === type ? [i] : []));
            for (const i of at(T.role)) expect(i).toBeGreaterThan(at(T.database)[0]);
        } finally {
            await scratch.dispose();
        }
    });
});

describe.each([
    { stack: "docker", managed: false },
    { stack: "managed", managed: true },
] as const)("replayed destroy of the $stack stack without the Database -> Role dependency", ({ stack, managed }) => {
    it("fails dropping a role while the owner's tables (and the app's privileges on them) are in the collector database", async () => {
        const rs = withoutFix(stacks[stack]);
        const scratch = await provision(adminOf(rs), { managed, tables: true });
        try {
            const result = await replay(destroyOrder(rs, { priority: rolesFirst }), scratch);
            expect(result.failure, describeReplay(result)).toMatchObject({
                type: T.role,
                code: "2BP01",
                message: expect.stringMatching(DEPENDENCY_ERROR),
            });
            expect(
                [scratch.ownerRole, scratch.appRole].some((role) => result.failure!.message.includes(`role "${role}"`)),
                result.failure!.message,
            ).toBe(true);
            expect(result.failure!.detail).toMatch(new RegExp(`objects? in database ${scratch.database}`));
            if (process.env.DESTROY_REPLAY_LOG) console.log(describeReplay(result));
            expect(await scratch.remaining()).toContain(`database ${scratch.database}`);
        } finally {
            await scratch.dispose();
        }
    });
});

describe("replayed destroy --exclude-protected of the protected docker stack", () => {
    const unprotectedPart = (rs: readonly RecordedResource[]) => {
        const kept = keptByExcludeProtected(rs);
        return destroyOrder(rs, { priority: rolesFirst }).filter((r) => !kept.has(r.urn));
    };

    it("deletes the grants and the schema resource, keeping the database, its tables and the roles", async () => {
        const rs = stacks.dockerProtected;
        const scratch = await provision(adminOf(rs), { managed: false, tables: true });
        try {
            const before = await scratch.ownedObjects();
            const result = await replay(unprotectedPart(rs), scratch);
            expect(result.failure, describeReplay(result)).toBeUndefined();
            expect(result.steps.map((s) => s.type)).not.toContain(T.role);
            expect(await scratch.remaining()).toEqual(
                [`database ${scratch.database}`, `role ${scratch.appRole}`, `role ${scratch.ownerRole}`].sort(),
            );
            expect(await scratch.ownedObjects()).toBe(before);
        } finally {
            await scratch.dispose();
        }
    });

    it("fails without the Database -> Role dependency: the roles are not kept, and the kept tables block DROP ROLE", async () => {
        const rs = withoutFix(stacks.dockerProtected);
        const scratch = await provision(adminOf(rs), { managed: false, tables: true });
        try {
            const result = await replay(unprotectedPart(rs), scratch);
            expect(result.failure, describeReplay(result)).toMatchObject({
                type: T.role,
                code: "2BP01",
                message: expect.stringMatching(DEPENDENCY_ERROR),
            });
        } finally {
            await scratch.dispose();
        }
    });
});
