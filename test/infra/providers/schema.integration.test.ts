/**
 * The Schema dynamic provider's methods called directly, as the Pulumi engine
 * would, against a real PostgreSQL: a collector database and roles provisioned
 * the way the stack does it (planAccess + applyAccess), uniquely named because
 * roles are cluster-wide and other test files run at the same time.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { schemaChecksum } from "../../../migration/schema/ddl";
import { inspectSchema } from "../../../migration/schema/inspect";
import { SCHEMA_VERSION, TARGET_TABLES } from "../../../migration/schema/tables";
import { schemaProvider as provider } from "../../../infra/schema";
import { withClient } from "../../support/db";
import { provisionTarget, targetRows, type Target } from "../../support/provisionTarget";
import { PROJECT_ROOT } from "../../support/paths";

const root = PROJECT_ROOT;
const TABLES = TARGET_TABLES.map((t) => t.name).sort();

const query = targetRows;

/** Public tables (not partitions) and who owns them. */
const owners = (t: Target) =>
    query<{ name: string; owner: string }>(
        t,
        `SELECT relname AS name, pg_get_userbyid(relowner) AS owner FROM pg_class
      WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'p') AND NOT relispartition ORDER BY 1`,
    );
const foreignKeys = async (t: Target) =>
    (
        await query<{ n: number }>(
            t,
            `SELECT count(*)::int AS n FROM pg_constraint WHERE contype = 'f' AND conparentid = 0 AND connamespace = 'public'::regnamespace`,
        )
    )[0].n;
const schemas = async (t: Target) =>
    (
        await query<{ nspname: string }>(
            t,
            `SELECT nspname FROM pg_namespace WHERE nspname IN ('gecko_migration', 'gecko_quarantine') ORDER BY 1`,
        )
    ).map((r) => r.nspname);
const databaseTimeZone = async (t: Target) =>
    (
        await query<{ setconfig: string[] }>(
            t,
            `SELECT setconfig FROM pg_db_role_setting WHERE setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database()) AND setrole = 0`,
        )
    )[0]?.setconfig;
/** The app role's own settings (every database): the collector's sessions start in this TimeZone wherever they connect. */
const roleTimeZone = async (t: Target) =>
    (
        await query<{ setconfig: string[] }>(
            t,
            `SELECT setconfig FROM pg_db_role_setting WHERE setrole = to_regrole($1) AND setdatabase = 0`,
            [`"${t.appRole}"`],
        )
    )[0]?.setconfig;

async function checked(news: Record<string, unknown>, olds: Record<string, unknown> = {}) {
    const result = await provider.check!(olds, news);
    expect(result.failures ?? []).toEqual([]);
    return result.inputs;
}

beforeAll(() => {
    process.env.GECKO_PG_ROOT = root;
});

describe("Schema provider on a real PostgreSQL", () => {
    let t: Target;
    beforeAll(async () => {
        t = await provisionTarget("schema_prov");
    });
    afterAll(() => t?.drop());

    it("check fills in the defaults and the code's schema version, and names every bad input", async () => {
        const inputs = await checked({ connection: t.connection, ownerRole: t.ownerRole, appRole: t.appRole, deferPostLoad: false });
        expect(inputs).toMatchObject({
            timeZone: "UTC",
            dropOnDelete: false,
            deferPostLoad: false,
            version: SCHEMA_VERSION,
            checksum: schemaChecksum(TARGET_TABLES),
        });

        const bad = await provider.check!(
            {},
            { connection: { ...t.connection, port: 0 }, ownerRole: "Owner-Role", appRole: t.appRole, timeZone: "Mars/Olympus" },
        );
        expect(bad.failures?.map((f) => f.property)).toEqual(["connection.port", "ownerRole", "timeZone", "deferPostLoad"]);
        expect(JSON.stringify(bad.failures)).not.toContain(t.connection.password);
    });

    it("creates every collector table owned by the owner role, with indexes and foreign keys, then re-applies idempotently", async () => {
        const inputs = await checked({
            connection: t.connection,
            ownerRole: t.ownerRole,
            appRole: t.appRole,
            timeZone: "America/New_York",
            deferPostLoad: false,
        });
        const created = await provider.create(inputs);
        expect(created.id).toBe(`${t.connection.host}:${t.connection.port}/${t.connection.database}`);
        expect(created.outs).toMatchObject({ version: SCHEMA_VERSION, tables: TABLES, postLoad: "applied" });
        expect(created.outs.changes).toBeGreaterThan(TABLES.length);
        expect(JSON.stringify({ ...created.outs, connection: undefined })).not.toContain(t.connection.password);

        expect((await owners(t)).map((o) => o.name)).toEqual(TABLES);
        expect((await owners(t)).filter((o) => o.owner !== t.ownerRole)).toEqual([]);
        const inspected = await withClient(t.url, (c) => inspectSchema(c, { ownerRole: t.ownerRole }));
        expect(inspected.indexes.filter((i) => !i.present || !i.valid)).toEqual([]);
        expect(inspected.constraints.filter((c) => !c.present || !c.validated)).toEqual([]);
        expect(inspected.foreignOwned).toEqual([]);
        expect(await databaseTimeZone(t)).toEqual(["TimeZone=America/New_York"]);
        expect(await roleTimeZone(t)).toEqual(["TimeZone=America/New_York"]);

        const again = await provider.update!(created.id, created.outs, inputs);
        expect(again.outs).toMatchObject({ changes: 0, tables: TABLES, postLoad: "applied" });
    });

    it("diffs: updates for version, roles, TimeZone, deferPostLoad, dropOnDelete, the target and credentials; never replaces", async () => {
        const inputs = await checked({ connection: t.connection, ownerRole: t.ownerRole, appRole: t.appRole, deferPostLoad: false });
        const olds = { ...inputs, tables: TABLES, changes: 0, postLoad: "applied" };
        const diff = (news: Record<string, unknown>) => provider.diff!("id", olds, news);

        expect(await diff(inputs)).toEqual({ changes: false, replaces: [], deleteBeforeReplace: false, detailedDiff: {} });
        // A new credential is an update (a re-apply that changes nothing), so the state a later delete uses has it.
        expect(await diff({ ...inputs, connection: { ...t.connection, password: "rotated" } })).toMatchObject({
            changes: true,
            replaces: [],
            detailedDiff: { "connection.password": { kind: "update" } },
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

        const cases: Array<[Record<string, unknown>, string[]]> = [
            [{ version: SCHEMA_VERSION + 1, checksum: "f".repeat(64) }, ["checksum", "version"]],
            [{ ownerRole: "other_owner" }, ["ownerRole"]],
            [{ appRole: "other_app" }, ["appRole"]],
            [{ timeZone: "Europe/Berlin" }, ["timeZone"]],
            [{ deferPostLoad: true }, ["deferPostLoad"]],
            [{ dropOnDelete: true }, ["dropOnDelete"]],
            [{ connection: { ...t.connection, port: t.connection.port + 1 } }, ["connection.port"]],
            [{ connection: { ...t.connection, database: "elsewhere" } }, ["connection.database"]],
        ];
        for (const [change, keys] of cases) {
            const d = (await diff({ ...inputs, ...change })) as {
                changes: boolean;
                replaces: string[];
                detailedDiff: Record<string, { kind: string }>;
            };
            expect(Object.keys(d.detailedDiff).sort(), JSON.stringify(change)).toEqual(keys);
            expect(d.changes).toBe(true);
            expect(d.replaces).toEqual([]);
            for (const k of keys) expect(d.detailedDiff[k].kind).toBe("update");
        }
        // During preview the connection may be unknown: only the target keys are reported.
        const unknown = (await diff({ ...inputs, connection: "04da6b54-80e4-46f7-96ec-b56ff0331ba9" })) as { detailedDiff: object };
        expect(Object.keys(unknown.detailedDiff).sort()).toEqual(["connection.database", "connection.host", "connection.port"]);
    });

    it("update really applies a changed TimeZone", async () => {
        const olds = await checked({
            connection: t.connection,
            ownerRole: t.ownerRole,
            appRole: t.appRole,
            timeZone: "America/New_York",
            deferPostLoad: false,
        });
        const news = await checked({ ...olds, timeZone: "Asia/Tokyo" }, olds);
        const updated = await provider.update!("id", { ...olds, tables: TABLES, changes: 0, postLoad: "applied" }, news);
        expect(updated.outs).toMatchObject({ timeZone: "Asia/Tokyo", changes: 2 });
        expect(await databaseTimeZone(t)).toEqual(["TimeZone=Asia/Tokyo"]);
        expect(await roleTimeZone(t)).toEqual(["TimeZone=Asia/Tokyo"]);
    });

    it("delete leaves the tables by default; with dropOnDelete a failed delete throws and changes nothing, a good one drops everything", async () => {
        const inputs = await checked({
            connection: t.connection,
            ownerRole: t.ownerRole,
            appRole: t.appRole,
            timeZone: "Asia/Tokyo",
            deferPostLoad: false,
        });
        const { id, outs } = await provider.create(inputs);
        await withClient(t.url, (c) => c.query("INSERT INTO dexes (id, name, network) VALUES ('raydium', 'Raydium', 'solana')"));

        await provider.delete!(id, outs);
        expect((await owners(t)).map((o) => o.name)).toEqual(TABLES);
        expect(await query(t, "SELECT id FROM dexes")).toEqual([{ id: "raydium" }]);

        const dropping = { ...outs, dropOnDelete: true };
        const error = await provider.delete!(id, { ...dropping, connection: { ...t.connection, password: "wrong password" } }).then(
            () => undefined,
            (e: Error) => e,
        );
        expect(error?.message).toMatch(/^schema delete: cannot connect to .*@127\.0\.0\.1:\d+\/schema_prov_/);
        expect(error?.message).not.toContain("wrong password");
        expect(error?.cause).toBeInstanceOf(Error);
        expect((await owners(t)).map((o) => o.name)).toEqual(TABLES);

        // Someone else's view on a collector table: the drop refuses (no CASCADE) and rolls back.
        await withClient(t.url, (c) => c.query("CREATE VIEW dex_names AS SELECT name FROM dexes"));
        const blocked = await provider.delete!(id, dropping).then(
            () => undefined,
            (e: Error) => e,
        );
        expect(blocked?.message).toMatch(
            /^schema delete: dropping the collector tables in .* failed: cannot drop desired object\(s\) because other objects depend on them \(view dex_names depends on table dexes\)$/,
        );
        expect((await owners(t)).map((o) => o.name)).toEqual(TABLES);
        expect(await schemas(t)).toEqual(["gecko_migration"]);
        await withClient(t.url, (c) => c.query("DROP VIEW dex_names"));

        await provider.delete!(id, dropping);
        expect(await owners(t)).toEqual([]);
        expect(await schemas(t)).toEqual([]);
    });

    it("defers the post-load phase to the migration, and applies it once deferPostLoad turns false", async () => {
        // The previous test dropped everything: this is an empty database again.
        const deferred = await checked({ connection: t.connection, ownerRole: t.ownerRole, appRole: t.appRole, deferPostLoad: true });
        const created = await provider.create(deferred);
        expect(created.outs).toMatchObject({ tables: TABLES, postLoad: "deferred" });
        expect(await foreignKeys(t)).toBe(0);

        const full = await checked({ ...deferred, deferPostLoad: false }, created.outs);
        expect(await provider.diff!(created.id, created.outs, full)).toMatchObject({
            changes: true,
            detailedDiff: { deferPostLoad: { kind: "update" } },
        });
        const updated = await provider.update!(created.id, created.outs, full);
        expect(updated.outs).toMatchObject({ postLoad: "applied" });
        expect(updated.outs.changes).toBeGreaterThan(0);
        const expectedFks = TARGET_TABLES.reduce((n, x) => n + x.foreignKeys.length, 0);
        expect(expectedFks).toBeGreaterThan(0);
        expect(await foreignKeys(t)).toBe(expectedFks);
    });

    it("refuses to run when the owner role does not exist, naming it", async () => {
        const inputs = await checked({
            connection: t.connection,
            ownerRole: "no_such_owner_role",
            appRole: t.appRole,
            deferPostLoad: false,
        });
        await expect(provider.create(inputs)).rejects.toThrow("applySchema: owner role 'no_such_owner_role' does not exist");
    });
});
