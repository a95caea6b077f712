/**
 * `pulumi destroy` of the real program (infra/index.ts under mocks): the order
 * the engine may delete the registered resources in (index.destroy.test.ts),
 * replayed against a real PostgreSQL with the SQL each postgresql provider
 * Delete runs (test/support/destroyReplay.ts).
 *
 * The provider drops a Role with REASSIGN OWNED / DROP OWNED / DROP ROLE in the
 * database it connects to (`postgres`) only, so the roles can go only once the
 * collector database, and the owner's tables in it, are gone: the Database
 * depends on the roles (infra/access.ts), and destroy deletes dependents first.
 */
import { randomBytes } from "node:crypto";
import { Client } from "pg";
import { describe, expect, it } from "vitest";
import { planAccess } from "../../migration/setup/accessPlan";
import { ident } from "../../migration/postgres/sql";
import { applyAccess } from "../../migration/setup/applyAccess";
import { clientConfig, parseConnectionUrl, type ConnectionSpec } from "../../migration/postgres/connection";
import { applySchema } from "../../migration/schema/applySchema";
import { adminUrl } from "../support/db";
import { destroyOrder, keptByExcludeProtected, replayDestroy, TYPES as T, type ReplayResult } from "../support/destroyReplay";
import { destroyStacks, one, rolesFirst, withoutFix } from "../support/destroyStacks";
import type { RecordedResource } from "../support/pulumiMocks";

/** The stack's names, which the replay maps onto unique scratch ones (roles are cluster-wide). */
const STACK_NAMES = { database: "gecko_terminal_collector", ownerRole: "gecko_owner", appRole: "gecko_collector" };

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

// ---- Replays ----

const stacks = destroyStacks();
const adminOf = (rs: readonly RecordedResource[]) => one(rs, T.pgProvider).inputs.username as string;

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
