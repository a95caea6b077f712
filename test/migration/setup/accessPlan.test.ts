/**
 * The access plan and its SQL text, without a server: what renderAccessSql emits and
 * in which order, that no summary carries the password, the names planAccess refuses,
 * and literal quoting. Applied to a real PostgreSQL: applyAccess.integration.test.ts.
 */
import { describe, expect, it } from "vitest";
import { planAccess, renderAccessSql } from "../../../migration/setup/accessPlan";
import { literal } from "../../../migration/postgres/sql";

describe("planAccess and renderAccessSql", () => {
    const plan = planAccess({
        database: "gecko_terminal_collector",
        ownerRole: "gecko_owner",
        appRole: "gecko_collector",
        timezone: "UTC",
    });

    it("renders guarded role creation, role settings, grants, then default privileges", () => {
        const sql = renderAccessSql(plan, "pw").map((st) => st.sql);
        expect(sql).toEqual([
            `DO $gecko$ BEGIN CREATE ROLE "gecko_owner" NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $gecko$`,
            `ALTER ROLE "gecko_owner" NOLOGIN`,
            `DO $gecko$ BEGIN CREATE ROLE "gecko_collector" LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $gecko$`,
            `ALTER ROLE "gecko_collector" LOGIN PASSWORD 'pw'`,
            `ALTER ROLE "gecko_collector" SET timezone TO 'UTC'`,
            `ALTER DATABASE "gecko_terminal_collector" SET timezone TO 'UTC'`,
            `GRANT CONNECT, TEMPORARY ON DATABASE "gecko_terminal_collector" TO "gecko_collector"`,
            `GRANT USAGE ON SCHEMA "public" TO "gecko_collector"`,
            `GRANT CREATE, USAGE ON SCHEMA "public" TO "gecko_owner"`,
            `ALTER DEFAULT PRIVILEGES FOR ROLE "gecko_owner" IN SCHEMA "public" GRANT DELETE, INSERT, SELECT, UPDATE ON TABLES TO "gecko_collector"`,
            `ALTER DEFAULT PRIVILEGES FOR ROLE "gecko_owner" IN SCHEMA "public" GRANT SELECT, UPDATE, USAGE ON SEQUENCES TO "gecko_collector"`,
        ]);
    });

    it("keeps the password out of every summary", () => {
        const password = "s3cret-value";
        const statements = renderAccessSql(plan, password);
        expect(statements.filter((st) => st.sql.includes(password))).toHaveLength(1);
        expect(statements.filter((st) => st.summary.includes(password))).toEqual([]);
    });

    it.each([
        ["a quoted role name", { appRole: 'x"; DROP ROLE postgres; --' }, /appRole/],
        ["an upper-case database", { database: "Gecko" }, /database/],
        ["owner = app", { appRole: "gecko_owner" }, /must differ/],
        ["the admin as owner", { nonSuperuserAdmin: "gecko_owner" }, /cannot also be/],
    ])("rejects %s", (_label, overrides, message) => {
        expect(() =>
            planAccess({ database: "db", ownerRole: "gecko_owner", appRole: "gecko_collector", timezone: "UTC", ...overrides }),
        ).toThrow(message);
    });

    it.each([
        ["plain", "'plain'"],
        ["it's", "'it''s'"],
        ["back\\slash", "E'back\\\\slash'"],
    ])("quotes %s as a literal", (value, expected) => {
        expect(literal(value)).toBe(expected);
    });

    it("refuses to render without a password", () => {
        expect(() => renderAccessSql(plan, "")).toThrow(/password for gecko_collector is required/);
    });
});
