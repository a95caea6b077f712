/**
 * The AdminPassword dynamic provider (infra/adminPassword.ts over infra/providers/adminPassword.ts)
 * called directly against a real PostgreSQL: create checks the password in force, a changed
 * password is an update that rotates it (migration/setup/adminPassword.ts).
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminPasswordProvider } from "../../../infra/adminPassword";
import { parseConnectionUrl, type ConnectionSpec } from "../../../migration/postgres/connection";
import { adminUrl, withClient } from "../../support/db";
import { PROJECT_ROOT } from "../../support/paths";

describe("AdminPassword provider", () => {
    const role = `rot_prov_${randomBytes(4).toString("hex")}`;
    let connection: Omit<ConnectionSpec, "password">;
    beforeAll(async () => {
        process.env.GECKO_PG_ROOT ??= PROJECT_ROOT;
        const { password: _, ...server } = parseConnectionUrl(adminUrl());
        connection = { ...server, user: role, database: "postgres" };
        await withClient(adminUrl(), (c) => c.query(`CREATE ROLE ${role} LOGIN CREATEROLE PASSWORD 'first-pw'`));
    });
    afterAll(async () => withClient(adminUrl(), (c) => c.query(`DROP ROLE IF EXISTS ${role}`)));

    it("create checks the password the server was initialised with; a changed password is an update that rotates it", async () => {
        const inputs = { connection, password: "first-pw" };
        const created = await adminPasswordProvider.create(inputs);
        expect(await adminPasswordProvider.diff!(created.id, created.outs, inputs)).toMatchObject({ changes: false });
        const news = { connection, password: "second-pw" };
        expect(await adminPasswordProvider.diff!(created.id, created.outs, news)).toMatchObject({ changes: true, replaces: [] });
        await adminPasswordProvider.update!(created.id, created.outs, news);
        const ok = await withClient(`postgresql://${role}:second-pw@${connection.host}:${connection.port}/postgres`, (c) =>
            c.query("SELECT 1"),
        ).then(
            () => true,
            () => false,
        );
        expect(ok).toBe(true);
        // A create against a server holding another password says so (an old volume, a typo) instead of failing later.
        await expect(adminPasswordProvider.create({ connection, password: "not-it" })).rejects.toThrow(
            /cannot log in .* with the configured password/,
        );
    });
});
