import { randomBytes } from "node:crypto";
import { Client } from "pg";
import { inject } from "vitest";
import { withDatabase } from "../../migration/postgres/localServer";

/** Superuser URL of the run's PostgreSQL (see globalSetup). */
export function adminUrl(): string {
    return inject("adminUrl");
}

export interface ScratchDatabase {
    readonly name: string;
    /** Superuser URL of the scratch database. */
    readonly url: string;
    drop(): Promise<void>;
}

/** A fresh, uniquely named database on the test server; `drop()` removes it. */
export async function createScratchDatabase(prefix = "t"): Promise<ScratchDatabase> {
    const name = `${prefix}_${randomBytes(5).toString("hex")}`.toLowerCase();
    await withClient(adminUrl(), (c) => c.query(`CREATE DATABASE ${name}`));
    return {
        name,
        url: withDatabase(adminUrl(), name),
        drop: () => withClient(adminUrl(), (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined),
    };
}

export async function withClient<T>(url: string, fn: (c: Client) => Promise<T>): Promise<T> {
    const c = new Client({ connectionString: url });
    await c.connect();
    try {
        return await fn(c);
    } finally {
        await c.end();
    }
}
