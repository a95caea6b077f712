/**
 * The ServerSettings dynamic provider without a server: what its diff prints in a preview
 * (the provider host drops detailed diffs), and the resource as the program registers it,
 * its serialised provider run in plain Node. Against real PostgreSQL servers:
 * serverSettings.integration.test.ts.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it, vi } from "vitest";
import { ServerSettings, serverSettingsProvider } from "../../../infra/settings";
import { installMocks, plaintextPaths, settle } from "../../support/pulumiMocks";
import { PROJECT_ROOT } from "../../support/paths";

describe("ServerSettings diff in preview", () => {
    it("prints which changed settings need a restart (the provider host drops detailed diffs)", async () => {
        process.env.GECKO_PG_ROOT ??= PROJECT_ROOT;
        const spy = vi.spyOn(console, "log").mockImplementation(() => undefined);
        try {
            // wal_buffers: a default the old state lacked, also postmaster-context.
            const olds = { settings: { shared_buffers: "128MB", work_mem: "4MB" }, restart: { kind: "none" } };
            await serverSettingsProvider.diff!("id", olds, {
                settings: { shared_buffers: "512MB", work_mem: "8MB" },
                restart: { kind: "none" },
            });
            expect(spy.mock.calls.map((c) => c[0])).toContainEqual(
                "gecko-pg settings: a server restart is needed for shared_buffers, wal_buffers (docker: up restarts the container; external: restart it yourself)",
            );
            expect(spy.mock.calls.join("\n")).not.toContain("work_mem");
        } finally {
            spy.mockRestore();
        }
    });
});

describe("ServerSettings resource", () => {
    it("keeps the connection secret and its serialised provider loads the library in plain Node", async () => {
        const connection = { host: "db.example", port: 5432, user: "postgres", password: "s3cret pw", database: "postgres" };
        const run = await installMocks({ project: "gecko-pg", stack: "test", config: {} });
        new ServerSettings("settings", { connection, settings: { work_mem: "8MB" }, restart: { kind: "none" } });
        await settle();
        const res = run.one("pulumi-nodejs:dynamic/gecko:ServerSettings", "settings");
        expect(res.additionalSecretOutputs).toContain("connection");
        expect(plaintextPaths(res.wireInputs, connection.password)).toEqual([]);

        // What the dynamic-provider host does: eval the text, then call a method in a fresh process.
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "settings-provider-"));
        try {
            fs.writeFileSync(path.join(dir, "provider.js"), String(res.inputs.__provider));
            const script =
                `require(${JSON.stringify(path.join(dir, "provider.js"))}).handler()` +
                `.check({}, { connection: { host: "h", port: 5432, user: "u", password: "p", database: "d" }, settings: { work_mem: "8mb" }, restart: { kind: "none" } })` +
                `.then((r) => console.log(JSON.stringify(r)))`;
            const out = execFileSync(process.execPath, ["-e", script], {
                cwd: dir,
                env: { ...process.env, GECKO_PG_ROOT: PROJECT_ROOT },
                encoding: "utf8",
            });
            expect(JSON.parse(out).failures).toEqual([
                {
                    property: "settings.work_mem",
                    reason: "work_mem = '8mb': bad unit 'mb': valid memory units are B, kB, MB, GB, TB (case-sensitive)",
                },
            ]);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});
