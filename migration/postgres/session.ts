/** Short-lived admin sessions: one connection for one piece of work, closed whatever happens. */
import { Client } from "pg";
import { clientConfig, describeConnection, type ConnectionSpec } from "./connection";
import { ident } from "./sql";
import { queryFault, watchConnection } from "./transient";

/** A session that never started: the server refused or did not answer (the driver's error is `cause`). */
export class ConnectError extends Error {
    override readonly name = "ConnectError";
}

/** One autocommit session; a failed connect names the target (never the password) and keeps the cause. */
export async function withSession<T>(what: string, spec: ConnectionSpec, fn: (c: Client) => Promise<T>): Promise<T> {
    const client = new Client(clientConfig(spec, { connectionTimeoutMillis: 10_000, application_name: `gecko-pg ${what}` }));
    watchConnection(client);
    try {
        await client.connect();
    } catch (cause) {
        throw new ConnectError(`${what}: cannot connect to ${describeConnection(spec)}: ${(cause as Error).message}`, { cause });
    }
    try {
        return await fn(client);
    } catch (err) {
        throw queryFault(err, client);
    } finally {
        await client.end().catch(() => undefined);
    }
}

/** Whether `spec` can log in now; the error when it cannot. */
export async function canLogIn(what: string, spec: ConnectionSpec): Promise<{ ok: true } | { ok: false; error: Error }> {
    try {
        await withSession(what, spec, async () => undefined);
        return { ok: true };
    } catch (error) {
        if (!(error instanceof ConnectError)) throw error;
        return { ok: false, error: error.cause as Error };
    }
}

/** A pg error's message plus its detail (e.g. which view depends on a table). */
export function pgMessage(error: unknown): string {
    const e = error as { message?: string; detail?: string };
    return `${e.message ?? String(error)}${e.detail ? ` (${e.detail.replace(/\n/g, "; ")})` : ""}`;
}

/** Runs `fn` in one transaction, all or nothing. */
export async function inTransaction<T>(client: Pick<Client, "query">, fn: () => Promise<T>): Promise<T> {
    await client.query("BEGIN");
    try {
        const result = await fn();
        await client.query("COMMIT");
        return result;
    } catch (e) {
        await client.query("ROLLBACK").catch(() => undefined);
        throw e;
    }
}

/** Runs `fn` in a transaction as `role` (SET LOCAL ROLE), all or nothing. */
export async function asRoleInTransaction<T>(client: Pick<Client, "query">, role: string, fn: () => Promise<T>): Promise<T> {
    return inTransaction(client, async () => {
        await client.query(`SET LOCAL ROLE ${ident(role)}`);
        return fn();
    });
}
