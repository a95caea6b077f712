import { describe, expect, it } from "vitest";
import { redactUrl, withDatabase } from "../../../migration/postgres/localServer";

describe("local PostgreSQL harness", () => {
    it("redacts passwords and swaps databases in URLs", () => {
        expect(redactUrl("postgresql://u:s3cr%40t@h:5/db")).toBe("postgresql://u:****@h:5/db");
        expect(withDatabase("postgresql://u:p@h:5/db?sslmode=disable", "other")).toBe("postgresql://u:p@h:5/other?sslmode=disable");
    });
});
