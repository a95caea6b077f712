/**
 * The docker server's admin password rotated inside the server (a new container on the
 * same volume would keep the old one): logged in with the old password, the new one set
 * as a SCRAM verifier (never in plain text on the wire or in the server's statement log).
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rotateAdminPassword, scramVerifier } from "../../../migration/setup/adminPassword";
import { parseConnectionUrl, type ConnectionSpec } from "../../../migration/postgres/connection";
import { adminUrl, withClient } from "../../support/db";

describe("rotateAdminPassword", () => {
    const role = `rot_admin_${randomBytes(4).toString("hex")}`;
    let connection: Omit<ConnectionSpec, "password">;
    const login = (password: string) =>
        withClient(`postgresql://${role}:${encodeURIComponent(password)}@${connection.host}:${connection.port}/postgres`, (c) =>
            c.query("SELECT 1"),
        ).then(
            () => true,
            () => false,
        );

    beforeAll(async () => {
        const { password: _, ...server } = parseConnectionUrl(adminUrl());
        connection = { ...server, user: role, database: "postgres" };
        await withClient(adminUrl(), (c) => c.query(`CREATE ROLE ${role} LOGIN CREATEROLE PASSWORD 'old-pw-1'`));
    });
    afterAll(async () => withClient(adminUrl(), (c) => c.query(`DROP ROLE IF EXISTS ${role}`)));

    it("the verifier is PostgreSQL's: a server given it accepts the password", async () => {
        const v = scramVerifier("x", Buffer.alloc(16, 1));
        expect(v).toMatch(/^SCRAM-SHA-256\$4096:AQEBAQEBAQEBAQEBAQEBAQ==\$[A-Za-z0-9+/=]{44}:[A-Za-z0-9+/=]{44}$/);
    });

    it("logs in with the previous password, sets the new one, and the old one stops working", async () => {
        expect(await rotateAdminPassword(connection, "old-pw-1", "new-pw-2")).toEqual({ rotated: true });
        expect(await login("new-pw-2")).toBe(true);
        expect(await login("old-pw-1")).toBe(false);
        const [stored] = await withClient(adminUrl(), (c) =>
            c.query("SELECT rolpassword FROM pg_authid WHERE rolname = $1", [role]).then((r) => r.rows),
        );
        expect(stored.rolpassword).toMatch(/^SCRAM-SHA-256\$/);
    });

    it("does nothing when the new password is already in force (a rerun)", async () => {
        expect(await rotateAdminPassword(connection, "old-pw-1", "new-pw-2")).toEqual({ rotated: false });
    });

    it("names the server and what to do when neither password works, never a password", async () => {
        const err = await rotateAdminPassword(connection, "wrong-old-3", "wrong-new-4").catch((e: Error) => e);
        expect(err).toBeInstanceOf(Error);
        expect((err as Error).message).toMatch(/accepts neither the new nor the previous password.*set gecko-pg:adminPassword back/);
        expect((err as Error).message).not.toMatch(/wrong-old-3|wrong-new-4|new-pw-2/);
    });
});
