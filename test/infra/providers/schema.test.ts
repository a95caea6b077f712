/**
 * The Schema resource as the program registers it, without a server: its connection stays
 * secret, and its serialised provider loads the library in plain Node (check runs). The
 * provider's methods against a real PostgreSQL: schema.integration.test.ts.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { SCHEMA_VERSION } from "../../../migration/schema/tables";
import { Schema } from "../../../infra/schema";
import { installMocks, plaintextPaths, settle } from "../../support/pulumiMocks";
import { PROJECT_ROOT } from "../../support/paths";

const root = PROJECT_ROOT;

describe("Schema resource", () => {
    it("keeps the connection secret and its serialised provider loads the library in plain Node", async () => {
        const connection = { host: "db.example", port: 5432, user: "postgres", password: "s3cret pw", database: "gecko" };
        const run = await installMocks({ project: "gecko-pg", stack: "test", config: {} });
        new Schema("schema", { connection, ownerRole: "gecko_owner", appRole: "gecko_collector", deferPostLoad: true });
        await settle();
        const res = run.one("pulumi-nodejs:dynamic/gecko:Schema", "schema");
        expect(res.additionalSecretOutputs).toContain("connection");
        expect(plaintextPaths(res.wireInputs, connection.password)).toEqual([]);

        // What the dynamic-provider host does: eval the text, then call a method in a fresh process.
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "schema-provider-"));
        try {
            fs.writeFileSync(path.join(dir, "provider.js"), String(res.inputs.__provider));
            const script =
                `require(${JSON.stringify(path.join(dir, "provider.js"))}).handler()` +
                `.check({}, { connection: ${JSON.stringify(connection)}, ownerRole: "gecko_owner", appRole: "gecko_collector", deferPostLoad: "yes" })` +
                `.then((r) => console.log(JSON.stringify(r)))`;
            const out = JSON.parse(
                execFileSync(process.execPath, ["-e", script], {
                    cwd: dir,
                    env: { ...process.env, GECKO_PG_ROOT: root },
                    encoding: "utf8",
                }),
            );
            expect(out.failures).toEqual([{ property: "deferPostLoad", reason: "must be true or false, got 'yes'" }]);
            expect(out.inputs.version).toBe(SCHEMA_VERSION);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});
