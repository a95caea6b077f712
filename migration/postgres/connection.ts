/**
 * Where a PostgreSQL server is and how to log in. The one shape every layer
 * (stack, dynamic providers, CLI, tests) passes around; `password` is a
 * secret: pass it through Pulumi secrets, never log it (use `describeConnection`).
 */
import type { ClientConfig } from "pg";

export type SslMode = "disable" | "prefer" | "require" | "verify-ca" | "verify-full";

export interface ConnectionSpec {
    readonly host: string;
    readonly port: number;
    readonly user: string;
    readonly password: string;
    readonly database: string;
    readonly sslmode?: SslMode;
}

export const SSL_MODES: readonly SslMode[] = ["disable", "prefer", "require", "verify-ca", "verify-full"];

export function connectionUrl(spec: ConnectionSpec): string {
    const u = new URL("postgresql://localhost");
    // An IPv6 address goes in brackets; a host the URL cannot hold must not leave `localhost` standing.
    const host = spec.host.includes(":") && !spec.host.startsWith("[") ? `[${spec.host}]` : spec.host;
    u.hostname = host;
    if (!host || u.hostname !== host.toLowerCase()) throw new Error(`not a host name a URL can hold: '${spec.host}'`);
    u.port = String(spec.port);
    u.username = encodeURIComponent(spec.user);
    u.password = encodeURIComponent(spec.password);
    u.pathname = "/" + encodeURIComponent(spec.database);
    if (spec.sslmode) u.searchParams.set("sslmode", spec.sslmode);
    return u.toString();
}

/**
 * A `postgresql://` URL as a ConnectionSpec. `origin` names where the URL came from (an
 * environment variable, a flag) in errors; no error carries the password, nor the URL
 * itself (Node's URL errors hold their input, password included, as a property).
 */
export function parseConnectionUrl(url: string, origin = "the URL"): ConnectionSpec {
    let u: URL;
    try {
        u = new URL(url);
    } catch {
        throw new Error(`${origin} is not a valid URL (expected postgresql://user:password@host:port/database): ${describeUrl(url)}`);
    }
    if (u.protocol !== "postgresql:" && u.protocol !== "postgres:") {
        throw new Error(`${origin} is not a PostgreSQL URL (expected postgresql://...): ${describeUrl(url)}`);
    }
    const sslmode = u.searchParams.get("sslmode");
    if (sslmode !== null && !SSL_MODES.includes(sslmode as SslMode)) {
        throw new Error(`${origin}: sslmode '${sslmode}' is not one of ${SSL_MODES.join(", ")}`);
    }
    const decode = (part: string, what: string) => {
        try {
            return decodeURIComponent(part);
        } catch {
            throw new Error(`${origin}: the ${what} has a malformed %-escape (write a literal % as %25)`);
        }
    };
    return {
        host: u.hostname.replace(/^\[(.*)\]$/, "$1"),
        port: Number(u.port || 5432),
        user: decode(u.username, "user"),
        password: decode(u.password, "password"),
        database: decode(u.pathname.replace(/^\//, ""), "database name") || "postgres",
        ...(sslmode ? { sslmode: sslmode as SslMode } : {}),
    };
}

/** node-postgres settings for a spec; sslmode other than disable/prefer means TLS. */
export function clientConfig(spec: ConnectionSpec, extra: Partial<ClientConfig> = {}): ClientConfig {
    const ssl =
        spec.sslmode === undefined || spec.sslmode === "disable" || spec.sslmode === "prefer"
            ? false
            : { rejectUnauthorized: spec.sslmode === "verify-ca" || spec.sslmode === "verify-full" };
    return { host: spec.host, port: spec.port, user: spec.user, password: spec.password, database: spec.database, ssl, ...extra };
}

/** `user@host:port/db`, safe for logs and errors. */
export function describeConnection(spec: ConnectionSpec): string {
    return `${spec.user}@${spec.host}:${spec.port}/${spec.database}`;
}

function describeUrl(url: string): string {
    return url.replace(/\/\/([^:@/]*):[^@/]*@/, "//$1:****@");
}
