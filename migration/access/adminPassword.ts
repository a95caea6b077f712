/**
 * The docker server's admin password, rotated for real. The image sets
 * POSTGRES_PASSWORD only when it initialises an empty data directory, so a new
 * password in the config cannot reach a server whose volume already holds data
 * by replacing the container: the server would keep the old one and every
 * connection would fail. Instead the password is changed inside the server,
 * logged in with the old one (kept in the resource's secret state).
 *
 * The new password never travels or is logged in plain text: it is sent as a
 * SCRAM-SHA-256 verifier computed here, what psql's `\password` does.
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes } from "node:crypto";
import { Client } from "pg";
import { clientConfig, describeConnection, type ConnectionSpec } from "../postgres/connection";
import { isUnknown, type CheckFailure, type CheckResult } from "../schema/schemaResource";

/** PostgreSQL's default (scram_iterations). */
const SCRAM_ITERATIONS = 4096;

/** The SCRAM-SHA-256 verifier PostgreSQL stores for `password` (RFC 5802/7677, as `\password` computes it). */
export function scramVerifier(password: string, salt: Buffer = randomBytes(16), iterations = SCRAM_ITERATIONS): string {
    // PostgreSQL applies SASLprep; for the ASCII and unassigned-free passwords it leaves them unchanged.
    const salted = pbkdf2Sync(Buffer.from(password.normalize("NFKC"), "utf8"), salt, iterations, 32, "sha256");
    const clientKey = createHmac("sha256", salted).update("Client Key").digest();
    const storedKey = createHash("sha256").update(clientKey).digest();
    const serverKey = createHmac("sha256", salted).update("Server Key").digest();
    return `SCRAM-SHA-256$${iterations}:${salt.toString("base64")}$${storedKey.toString("base64")}:${serverKey.toString("base64")}`;
}

/** The admin password now in force, after rotating `from` -> `to` if needed. */
export interface RotationResult {
    readonly rotated: boolean;
}

async function canLogIn(spec: ConnectionSpec): Promise<{ ok: true } | { ok: false; error: Error }> {
    const client = new Client(clientConfig(spec, { connectionTimeoutMillis: 10_000, application_name: "gecko-pg admin password" }));
    try {
        await client.connect();
        return { ok: true };
    } catch (error) {
        return { ok: false, error: error as Error };
    } finally {
        await client.end().catch(() => undefined);
    }
}

/**
 * Makes `to` the admin's password. Already in force: nothing to do (a rerun after a
 * crash, or a server initialised with it). Otherwise logs in with `from` and sets `to`
 * as a SCRAM verifier, then checks a login with it. Throws naming the server (never a
 * password) when neither works.
 */
export async function rotateAdminPassword(connection: Omit<ConnectionSpec, "password">, from: string | undefined, to: string): Promise<RotationResult> {
    const where = describeConnection({ ...connection, password: "" });
    const current = await canLogIn({ ...connection, password: to });
    if (current.ok) return { rotated: false };
    if (from === undefined || from === to) {
        throw new Error(`admin password: cannot log in to ${where} as ${connection.user} with the configured password: ${current.error.message}`, { cause: current.error });
    }
    const client = new Client(clientConfig({ ...connection, password: from }, { connectionTimeoutMillis: 10_000, application_name: "gecko-pg admin password" }));
    try {
        await client.connect();
    } catch (cause) {
        throw new Error(
            `admin password: ${where} accepts neither the new nor the previous password of ${connection.user} (${(cause as Error).message}); ` +
                "set gecko-pg:adminPassword back to the password the server has, or change it on the server first",
            { cause },
        );
    }
    try {
        // ALTER ROLE takes no parameters: the verifier is base64 and '$'/':' only, safe inside a literal.
        await client.query(`ALTER ROLE "${connection.user.replace(/"/g, '""')}" PASSWORD '${scramVerifier(to)}'`);
    } finally {
        await client.end().catch(() => undefined);
    }
    const after = await canLogIn({ ...connection, password: to });
    if (!after.ok) throw new Error(`admin password: changed on ${where}, but a login with it fails: ${after.error.message}`, { cause: after.error });
    return { rotated: true };
}

// ---- Provider operations: one function per dynamic-provider method (infra/adminPassword.ts). ----

/** Inputs of the AdminPassword resource: where and who, and the password (secret). */
export interface AdminPasswordInputs {
    readonly connection: Omit<ConnectionSpec, "password">;
    readonly password: string;
}

export function checkAdminPassword(_olds: unknown, news: Record<string, unknown>): CheckResult {
    const failures: CheckFailure[] = [];
    if (!isUnknown(news.password) && (typeof news.password !== "string" || news.password === "")) failures.push({ property: "password", reason: "must be a non-empty string" });
    const c = news.connection as Record<string, unknown> | undefined;
    if (!isUnknown(c) && (typeof c !== "object" || c === null || (!isUnknown(c.user) && typeof c.user !== "string"))) {
        failures.push({ property: "connection", reason: "required: { host, port, user, database }" });
    }
    return { inputs: news, failures };
}

/** A new password is an update (rotated in place); nothing is ever replaced. */
export function diffAdminPassword(olds: Partial<AdminPasswordInputs>, news: Record<string, unknown>): { changes: boolean; replaces: string[]; deleteBeforeReplace: false } {
    const changes = olds.password !== news.password || JSON.stringify(olds.connection) !== JSON.stringify(news.connection);
    return { changes, replaces: [], deleteBeforeReplace: false };
}

/** Create: the server must already accept the password (a fresh container was initialised with it). */
export async function createAdminPassword(inputs: AdminPasswordInputs): Promise<{ id: string; outs: AdminPasswordInputs }> {
    await rotateAdminPassword(inputs.connection, undefined, inputs.password);
    return { id: `${inputs.connection.host}:${inputs.connection.port}/${inputs.connection.user}`, outs: inputs };
}

export async function updateAdminPassword(olds: AdminPasswordInputs, news: AdminPasswordInputs): Promise<{ outs: AdminPasswordInputs }> {
    await rotateAdminPassword(news.connection, olds.password, news.password);
    return { outs: news };
}
