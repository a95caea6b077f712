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
import { describeConnection, type ConnectionSpec } from "../postgres/connection";
import { canLogIn, ConnectError, withSession } from "../postgres/session";
import { ident } from "../postgres/sql";

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

const WHAT = "admin password";

/** The admin password now in force, after rotating `from` -> `to` if needed. */
export interface RotationResult {
    readonly rotated: boolean;
}

/**
 * Makes `to` the admin's password. Already in force: nothing to do (a rerun after a
 * crash, or a server initialised with it). Otherwise logs in with `from` and sets `to`
 * as a SCRAM verifier, then checks a login with it. Throws naming the server (never a
 * password) when neither works.
 */
export async function rotateAdminPassword(
    connection: Omit<ConnectionSpec, "password">,
    from: string | undefined,
    to: string,
): Promise<RotationResult> {
    const where = describeConnection({ ...connection, password: "" });
    const current = await canLogIn(WHAT, { ...connection, password: to });
    if (current.ok) return { rotated: false };
    if (from === undefined || from === to) {
        throw new Error(
            `admin password: cannot log in to ${where} as ${connection.user} with the configured password: ${current.error.message}`,
            { cause: current.error },
        );
    }
    try {
        // ALTER ROLE takes no parameters: the verifier is base64 and '$'/':' only, safe inside a literal.
        await withSession(WHAT, { ...connection, password: from }, (client) =>
            client.query(`ALTER ROLE ${ident(connection.user)} PASSWORD '${scramVerifier(to)}'`),
        );
    } catch (cause) {
        if (!(cause instanceof ConnectError)) throw cause;
        const reason = (cause.cause as Error).message;
        throw new Error(
            `admin password: ${where} accepts neither the new nor the previous password of ${connection.user} (${reason}); ` +
                "set gecko-pg:adminPassword back to the password the server has, or change it on the server first",
            { cause },
        );
    }
    const after = await canLogIn(WHAT, { ...connection, password: to });
    if (!after.ok)
        throw new Error(`admin password: changed on ${where}, but a login with it fails: ${after.error.message}`, { cause: after.error });
    return { rotated: true };
}
