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

export function connectionUrl(spec: ConnectionSpec): string {
    const u = new URL("postgresql://localhost");
    u.hostname = spec.host;
    u.port = String(spec.port);
    u.username = encodeURIComponent(spec.user);
    u.password = encodeURIComponent(spec.password);
    u.pathname = "/" + encodeURIComponent(spec.database);
    if (spec.sslmode) u.searchParams.set("sslmode", spec.sslmode);
    return u.toString();
}

export function parseConnectionUrl(url: string): ConnectionSpec {
    const u = new URL(url);
    if (u.protocol !== "postgresql:" && u.protocol !== "postgres:") {
        throw new Error(`not a PostgreSQL URL (expected postgresql://...): ${describeUrl(url)}`);
    }
    const sslmode = u.searchParams.get("sslmode") as SslMode | null;
    return {
        host: u.hostname,
        port: Number(u.port || 5432),
        user: decodeURIComponent(u.username),
        password: decodeURIComponent(u.password),
        database: decodeURIComponent(u.pathname.replace(/^\//, "")) || "postgres",
        ...(sslmode ? { sslmode } : {}),
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
