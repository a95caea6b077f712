/**
 * Where a PostgreSQL server is and how to log in (migration/postgres/connection.ts):
 * URL formatting and parsing as a round trip, percent-encoding of user, password and
 * database, the defaults a short URL gets, sslmode to node-postgres TLS settings, and
 * that what is meant for logs and errors never shows the password.
 */
import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import {
    clientConfig,
    connectionUrl,
    describeConnection,
    parseConnectionUrl,
    type ConnectionSpec,
} from "../../../migration/postgres/connection";

const PASSWORD = "s3cr3t-pw";

const spec: ConnectionSpec = { host: "db.internal", port: 5433, user: "gecko_owner", password: PASSWORD, database: "gecko" };

describe("connectionUrl and parseConnectionUrl", () => {
    it("formats a spec as a postgresql:// URL and parses it back", () => {
        expect(connectionUrl(spec)).toBe(`postgresql://gecko_owner:${PASSWORD}@db.internal:5433/gecko`);
        expect(parseConnectionUrl(connectionUrl(spec))).toEqual(spec);
    });

    it("percent-encodes every URL delimiter in user, password and database, and decodes them back", () => {
        const odd: ConnectionSpec = {
            host: "10.0.0.7",
            port: 5432,
            user: "gecko owner",
            password: "p@ss:w/rd?#%&=+ é'!",
            database: "gecko data",
            sslmode: "require",
        };
        // @ %40, : %3A, / %2F, ? %3F, # %23, % %25, & %26, = %3D, + %2B, space %20, é (C3 A9) %C3%A9; ' and ! stay.
        const url = "postgresql://gecko%20owner:p%40ss%3Aw%2Frd%3F%23%25%26%3D%2B%20%C3%A9'!@10.0.0.7:5432/gecko%20data?sslmode=require";
        expect(connectionUrl(odd)).toBe(url);
        expect(parseConnectionUrl(url)).toEqual(odd);
    });

    it("reads a password with an unencoded @ up to the last @, as URL parsers do", () => {
        expect(parseConnectionUrl("postgresql://u:p@ss@h/db")).toMatchObject({ user: "u", password: "p@ss", host: "h" });
    });

    it("fills port 5432, database postgres, and empty credentials when the URL omits them", () => {
        expect(parseConnectionUrl("postgres://h")).toEqual({ host: "h", port: 5432, user: "", password: "", database: "postgres" });
        expect(parseConnectionUrl("postgresql://u@h/")).toEqual({ host: "h", port: 5432, user: "u", password: "", database: "postgres" });
    });

    it("keeps sslmode and ignores other query parameters", () => {
        expect(parseConnectionUrl("postgresql://u:p@h:6432/db?application_name=x&sslmode=verify-full")).toEqual({
            host: "h",
            port: 6432,
            user: "u",
            password: "p",
            database: "db",
            sslmode: "verify-full",
        });
        expect(parseConnectionUrl("postgresql://u:p@h/db?application_name=x")).not.toHaveProperty("sslmode");
    });

    it("refuses another scheme without showing the password in the error", () => {
        expect(() => parseConnectionUrl(`mysql://u:${PASSWORD}@h/db`)).toThrow(
            "not a PostgreSQL URL (expected postgresql://...): mysql://u:****@h/db",
        );
        // a ':' inside the password is masked as well
        expect(() => parseConnectionUrl(`http://u:top:${PASSWORD}@h/db`)).toThrow(
            "not a PostgreSQL URL (expected postgresql://...): http://u:****@h/db",
        );
    });

    it("names where a URL that cannot be parsed came from, and keeps its password out of the message and the error", () => {
        let error: unknown;
        try {
            parseConnectionUrl(`postgresql://u:${encodeURIComponent(PASSWORD)}@h:notaport/db`, "GECKO_TARGET_URL");
        } catch (err) {
            error = err;
        }
        expect(String(error)).toMatch(/^Error: GECKO_TARGET_URL is not a valid URL \(expected postgresql:/);
        // Node's own URL error carries its input (password included) as a property: none of it may survive.
        expect(inspect(error, { depth: 5 })).not.toContain(encodeURIComponent(PASSWORD));
        expect(inspect(error, { depth: 5 })).not.toContain(PASSWORD);
    });

    it("refuses an sslmode node-postgres would not honour, and a malformed %-escape, naming the origin", () => {
        expect(() => parseConnectionUrl("postgresql://u@h/db?sslmode=allow", "DATABASE_URL")).toThrow(
            "DATABASE_URL: sslmode 'allow' is not one of disable, prefer, require, verify-ca, verify-full",
        );
        expect(() => parseConnectionUrl("postgresql://u:50%@h/db", "--target")).toThrow("--target: the password has a malformed %-escape");
    });

    it("round-trips an IPv6 host without its brackets, and refuses a host a URL cannot hold instead of pointing at localhost", () => {
        for (const host of ["::1", "2001:db8::5"]) {
            const url = connectionUrl({ ...spec, host });
            expect(parseConnectionUrl(url).host).toBe(host);
        }
        for (const host of ["bad host", "a/b", ""])
            expect(() => connectionUrl({ ...spec, host }), host).toThrow(/not a host name a URL can hold/);
    });
});

describe("clientConfig", () => {
    it("passes the spec through and turns TLS on only for require, verify-ca and verify-full", () => {
        expect(clientConfig(spec)).toEqual({
            host: "db.internal",
            port: 5433,
            user: "gecko_owner",
            password: PASSWORD,
            database: "gecko",
            ssl: false,
        });
        const ssl = (sslmode: ConnectionSpec["sslmode"]) => clientConfig({ ...spec, sslmode }).ssl;
        expect(ssl("disable")).toBe(false);
        expect(ssl("prefer")).toBe(false);
        expect(ssl("require")).toEqual({ rejectUnauthorized: false });
        expect(ssl("verify-ca")).toEqual({ rejectUnauthorized: true });
        expect(ssl("verify-full")).toEqual({ rejectUnauthorized: true });
    });

    it("lets extra settings add to and override the derived ones", () => {
        const c = clientConfig({ ...spec, sslmode: "require" }, { application_name: "gecko-pg test", ssl: false, port: 6543 });
        expect(c).toMatchObject({ application_name: "gecko-pg test", ssl: false, port: 6543, host: "db.internal" });
    });
});

describe("describeConnection", () => {
    it("is user@host:port/db and never the password", () => {
        expect(describeConnection(spec)).toBe("gecko_owner@db.internal:5433/gecko");
        expect(describeConnection({ ...spec, password: "hunter2", sslmode: "require" })).toBe("gecko_owner@db.internal:5433/gecko");
    });
});
