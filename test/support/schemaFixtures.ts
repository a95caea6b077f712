/**
 * Scratch database plus uniquely named owner/app roles for the schema tests
 * (test files run concurrently on one server; roles are cluster-wide).
 */
import { randomBytes } from "node:crypto";
import { Client } from "pg";
import { adminUrl, createScratchDatabase, withClient, type ScratchDatabase } from "./db";

export interface SchemaFixture {
    readonly db: ScratchDatabase;
    readonly ownerRole: string;
    readonly appRole: string;
    /** The app role's login URL for the scratch database (password auth). */
    readonly appUrl: string;
    /** Superuser client on the scratch database (autocommit). */
    readonly admin: Client;
    cleanup(): Promise<void>;
}

export async function createSchemaFixture(prefix: string): Promise<SchemaFixture> {
    const suffix = randomBytes(4).toString("hex");
    const ownerRole = `${prefix}_owner_${suffix}`;
    const appRole = `${prefix}_app_${suffix}`;
    const password = randomBytes(12).toString("hex");
    await withClient(adminUrl(), async (c) => {
        await c.query(`CREATE ROLE ${ownerRole} NOLOGIN`);
        await c.query(`CREATE ROLE ${appRole} LOGIN PASSWORD '${password}'`);
    });
    const db = await createScratchDatabase(prefix);
    const admin = new Client({ connectionString: db.url });
    await admin.connect();
    // PostgreSQL 15+ no longer lets PUBLIC create in schema public (the access plan grants this in production).
    await admin.query(`GRANT CREATE ON SCHEMA public TO ${ownerRole}`);
    const u = new URL(db.url);
    u.username = appRole;
    u.password = password;
    return {
        db,
        ownerRole,
        appRole,
        appUrl: u.toString(),
        admin,
        async cleanup() {
            await admin.end();
            await db.drop();
            await withClient(adminUrl(), async (c) => {
                await c.query(`DROP ROLE IF EXISTS ${appRole}`);
                await c.query(`DROP ROLE IF EXISTS ${ownerRole}`);
            });
        },
    };
}

export const utcEpoch = (iso: string): number => Date.parse(iso) / 1000;
