/**
 * The access plan applied as SQL to a real PostgreSQL: what the app role can
 * and cannot do on tables the owner creates later, its TimeZone, the managed
 * (non-superuser admin) path, and that the SQL grants exactly what the plan
 * (and so the Pulumi resources) declare. Roles are cluster-wide and other
 * files share the server: every role name carries a random suffix.
 */
import { randomBytes } from "node:crypto";
import { Client } from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { planAccess, type AccessPlan } from "../../../migration/setup/accessPlan";
import { literal } from "../../../migration/postgres/sql";
import { applyAccess } from "../../../migration/setup/applyAccess";
import { clientConfig, parseConnectionUrl, type ConnectionSpec } from "../../../migration/postgres/connection";
import { adminUrl, createScratchDatabase, withClient, type ScratchDatabase } from "../../support/db";

const TZ = "America/Sao_Paulo"; // not the server default, so SHOW proves the role setting
const suffix = () => randomBytes(4).toString("hex");

async function connect(spec: ConnectionSpec): Promise<Client> {
    const c = new Client(clientConfig(spec));
    await c.connect();
    return c;
}

async function sqlState(p: Promise<unknown>): Promise<string | undefined> {
    try {
        await p;
        return undefined;
    } catch (err) {
        return (err as { code?: string }).code ?? "no-code";
    }
}

async function dropRoles(url: string, roles: string[]) {
    await withClient(url, async (c) => {
        for (const r of roles) await c.query(`DROP OWNED BY ${r}`).catch(() => undefined);
    });
}

async function dropDatabaseAndRoles(database: string, roles: string[]) {
    await withClient(adminUrl(), async (c) => {
        await c.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
        for (const r of roles) await c.query(`DROP ROLE IF EXISTS ${r}`);
    });
}

/** Privileges actually granted in `database`, in the plan's shape. */
async function grantedPrivileges(c: Client, plan: AccessPlan) {
    const q = async (sql: string, params: unknown[]) => (await c.query(sql, params)).rows.map((r) => r.p as string).sort();
    const onDatabase = (role: string) =>
        q(
            `SELECT a.privilege_type AS p FROM pg_database d, aclexplode(d.datacl) a
         WHERE d.datname = $1 AND a.grantee = $2::regrole`,
            [plan.database, role],
        );
    const onSchema = (role: string, schema: string) =>
        q(
            `SELECT a.privilege_type AS p FROM pg_namespace n, aclexplode(n.nspacl) a
         WHERE n.nspname = $1 AND a.grantee = $2::regrole`,
            [schema, role],
        );
    const defaults = (owner: string, role: string, schema: string, type: "table" | "sequence") =>
        q(
            `SELECT a.privilege_type AS p FROM pg_default_acl d, aclexplode(d.defaclacl) a
         WHERE d.defaclrole = $1::regrole AND d.defaclnamespace = $2::regnamespace AND d.defaclobjtype = $3 AND a.grantee = $4::regrole`,
            [owner, schema, type === "table" ? "r" : "S", role],
        );
    // One client runs one query at a time: collect sequentially.
    const grants = [];
    for (const g of plan.grants) {
        grants.push({ key: g.key, privileges: g.objectType === "database" ? await onDatabase(g.role) : await onSchema(g.role, g.schema!) });
    }
    const defaultPrivileges = [];
    for (const d of plan.defaultPrivileges) {
        defaultPrivileges.push({ key: d.key, privileges: await defaults(d.owner, d.role, d.schema, d.objectType) });
    }
    return { grants, defaultPrivileges };
}

describe("access SQL applied by a superuser", () => {
    const s = suffix();
    const appPassword = `it's a \\ pass${s}`; // quote and backslash: the literal must survive both
    let db: ScratchDatabase;
    let plan: AccessPlan;
    let admin: ConnectionSpec;
    let app: Client;

    beforeAll(async () => {
        db = await createScratchDatabase("access");
        admin = parseConnectionUrl(adminUrl());
        plan = planAccess({ database: db.name, ownerRole: `gecko_owner_${s}`, appRole: `gecko_collector_${s}`, timezone: TZ });
        const first = await applyAccess(admin, plan, appPassword);
        expect(first.createdDatabase).toBe(false); // the scratch database exists: "already exists" is handled
        await applyAccess(admin, plan, appPassword); // idempotent: a second run changes nothing and does not fail

        // The owner creates tables after the grants: only default privileges can cover them.
        await withClient(db.url, async (c) => {
            await c.query(`SET ROLE ${plan.ownerRole}`);
            await c.query("CREATE TABLE pools (id bigserial PRIMARY KEY, name text NOT NULL)");
            await c.query(
                "CREATE TABLE trades (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, pool_id bigint REFERENCES pools, amount numeric)",
            );
        });
        app = await connect({ ...admin, user: plan.appRole, password: appPassword, database: db.name });
    });

    afterAll(async () => {
        await app?.end();
        if (!plan) return;
        await dropRoles(db.url, [plan.appRole, plan.ownerRole]);
        await dropDatabaseAndRoles(db.name, [plan.appRole, plan.ownerRole]);
    });

    it("lets the app role read and write the owner's tables and use their sequences", async () => {
        const pool = await app.query("INSERT INTO pools (name) VALUES ('a') RETURNING id");
        await app.query("INSERT INTO trades (pool_id, amount) VALUES ($1, 1.5), ($1, 2)", [pool.rows[0].id]);
        await app.query("UPDATE trades SET amount = amount * 2");
        await app.query("DELETE FROM trades WHERE amount = 4");
        expect((await app.query("SELECT amount::text AS a FROM trades")).rows).toEqual([{ a: "3.0" }]);
        const seq = "pg_get_serial_sequence('pools', 'id')";
        await app.query(`SELECT setval(${seq}, 100)`); // UPDATE on the sequence
        expect((await app.query(`SELECT nextval(${seq})::int AS n`)).rows[0].n).toBe(101); // USAGE
        expect((await app.query(`SELECT last_value::int AS v FROM pools_id_seq`)).rows[0].v).toBe(101); // SELECT
    });

    it("does not let the app role change the schema", async () => {
        expect(await sqlState(app.query("DROP TABLE trades"))).toBe("42501");
        expect(await sqlState(app.query("ALTER TABLE pools ADD COLUMN x int"))).toBe("42501");
        expect(await sqlState(app.query("TRUNCATE trades"))).toBe("42501");
        expect(await sqlState(app.query("CREATE TABLE mine (id int)"))).toBe("42501");
        expect((await app.query("SELECT count(*)::int AS n FROM pg_tables WHERE tablename IN ('pools', 'trades')")).rows[0].n).toBe(2);
    });

    it("gives the app role the configured TimeZone", async () => {
        expect((await app.query("SHOW TimeZone")).rows[0].TimeZone).toBe(TZ);
    });

    it("grants exactly what the plan (and so each Pulumi resource) declares", async () => {
        const granted = await withClient(db.url, (c) => grantedPrivileges(c, plan));
        expect(granted).toEqual({
            grants: plan.grants.map((g) => ({ key: g.key, privileges: [...g.privileges] })),
            defaultPrivileges: plan.defaultPrivileges.map((d) => ({ key: d.key, privileges: [...d.privileges] })),
        });
    });
});

describe("access SQL applied by a non-superuser admin (managed server)", () => {
    const s = suffix();
    const names = { admin: `cloud_admin_${s}`, owner: `gecko_owner_${s}`, app: `gecko_collector_${s}`, database: `access_managed_${s}` };
    const adminPassword = `admin-${s}`;
    let plan: AccessPlan;

    beforeAll(async () => {
        await withClient(adminUrl(), (c) =>
            c.query(`CREATE ROLE ${names.admin} LOGIN CREATEROLE CREATEDB PASSWORD ${literal(adminPassword)}`),
        );
        plan = planAccess({
            database: names.database,
            ownerRole: names.owner,
            appRole: names.app,
            timezone: "UTC",
            nonSuperuserAdmin: names.admin,
        });
    });

    afterAll(async () => {
        await dropDatabaseAndRoles(names.database, [names.app, names.owner, names.admin]);
    });

    it("creates the database, roles and privileges, and can SET ROLE to the owner", async () => {
        const admin: ConnectionSpec = { ...parseConnectionUrl(adminUrl()), user: names.admin, password: adminPassword };
        const result = await applyAccess(admin, plan, `app-${s}`);
        expect(result.createdDatabase).toBe(true);
        expect(result.applied).toContain(`grant ${names.owner} to ${names.admin}`);
        await withClient(adminUrl(), async (c) => {
            expect((await c.query("SELECT pg_has_role($1, $2, 'MEMBER') AS m", [names.admin, names.owner])).rows[0].m).toBe(true);
        });
        const c = await connect({ ...admin, database: names.database });
        try {
            await c.query(`SET ROLE ${names.owner}`);
            await c.query("CREATE TABLE t (id bigserial PRIMARY KEY)");
            expect((await c.query("SELECT tableowner FROM pg_tables WHERE tablename = 't'")).rows[0].tableowner).toBe(names.owner);
            expect((await grantedPrivileges(c, plan)).defaultPrivileges.map((d) => d.privileges)).toEqual(
                plan.defaultPrivileges.map((d) => [...d.privileges]),
            );
        } finally {
            await c.end();
        }
    });
});
