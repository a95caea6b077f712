/**
 * The Migration resource as the program registers it, without a server: its connection
 * stays secret, and its serialised provider loads the library in plain Node (check runs).
 * The provider's methods against a real PostgreSQL: migration.integration.test.ts.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { Migration } from "../../../infra/migration";
import { installMocks, plaintextPaths, settle } from "../../support/pulumiMocks";
import { PROJECT_ROOT } from "../../support/paths";

const root = PROJECT_ROOT;

describe("Migration resource", () => {
    it("keeps the connection secret and its serialised provider loads the library in plain Node", async () => {
        const connection = { host: "db.example", port: 5432, user: "postgres", password: "s3cret pw", database: "gecko" };
        const run = await installMocks({ project: "gecko-pg", stack: "test", config: {} });
        new Migration("migration", { connection, sqlitePath: "/nonexistent/gecko_data.db", sourceFingerprint: "-" });
        await settle();
        const res = run.one("pulumi-nodejs:dynamic/gecko:Migration", "migration");
        expect(res.additionalSecretOutputs).toContain("connection");
        expect(plaintextPaths(res.wireInputs, connection.password)).toEqual([]);

        const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "migration-provider-js-"));
        try {
            fs.writeFileSync(path.join(tmp, "provider.js"), String(res.inputs.__provider));
            const script =
                `require(${JSON.stringify(path.join(tmp, "provider.js"))}).handler()` +
                `.check({}, { connection: ${JSON.stringify(connection)}, sqlitePath: "/nonexistent/gecko_data.db", sourceFingerprint: "-", orphanPolicy: "skip" })` +
                `.then((r) => console.log(JSON.stringify(r)))`;
            const out = JSON.parse(
                execFileSync(process.execPath, ["-e", script], {
                    cwd: tmp,
                    env: { ...process.env, GECKO_PG_ROOT: root },
                    encoding: "utf8",
                }),
            );
            expect(out.failures).toEqual([
                { property: "sqlitePath", reason: "SQLite source not found: /nonexistent/gecko_data.db" },
                { property: "orphanPolicy", reason: "must be one of quarantine, placeholder, fail, got 'skip'" },
            ]);
        } finally {
            fs.rmSync(tmp, { recursive: true, force: true });
        }
    });
});
