/**
 * The `gecko-pg` command (package.json bin -> scripts/gecko-pg.js -> scripts/migrate.ts),
 * run as an operator runs it: --help for every command, and collector-config, which
 * needs no server. The commands that do are driven by the integration tests.
 */
import { spawn, spawnSync } from "node:child_process";
import * as net from "node:net";
import * as fs from "node:fs";
import * as path from "node:path";
import * as jsYaml from "js-yaml";
import { describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../support/paths";

const BIN = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, "package.json"), "utf8")).bin["gecko-pg"] as string;
const ADMIN_URL = "postgresql://admin:adm1n-secret@db.example:5433/gecko_terminal_collector";
const COLLECTOR_PASSWORD = "c0llector p@ss'word";

function geckoPg(args: readonly string[], env: Record<string, string> = {}) {
    const r = spawnSync(process.execPath, [path.join(PROJECT_ROOT, BIN), ...args], {
        cwd: PROJECT_ROOT,
        env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
        encoding: "utf8",
    });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("gecko-pg", () => {
    it("lists every command in --help, and each command's --help shows its usage and options", () => {
        const all = geckoPg(["--help"]);
        expect(all.code).toBe(0);
        const commands = [
            "migrate",
            "validate",
            "plan",
            "upgrade",
            "partitions",
            "sync",
            "cutover",
            "rollback",
            "schema-sql",
            "collector-config",
        ];
        for (const command of commands) {
            expect(all.stdout).toMatch(new RegExp(`^  ${command} `, "m"));
            const one = geckoPg([command, "--help"]);
            expect(one.code, command).toBe(0);
            expect(one.stdout.startsWith(`Usage: gecko-pg ${command} [options]\n`), command).toBe(true);
        }
        expect(geckoPg(["migrate", "--help"]).stdout).toContain("--chunk-rows N");
        expect(geckoPg(["migrate", "--help"]).stdout).toMatch(/--retry-seconds S[\s\S]*--debug[\s\S]*130\/143 interrupted/);
        expect(geckoPg(["collector-config", "--help"]).stdout).not.toContain("--chunk-rows");
        expect(geckoPg(["cutover", "--help"]).stdout).toMatch(/--stop-collector CMD[\s\S]*--freeze-seconds S[\s\S]*--dry-run/);
        expect(geckoPg(["rollback", "--help"]).stdout).toMatch(/--backup DIR[\s\S]*--accept-sqlite-changes/);
        expect(geckoPg(["rollback", "--collector-stopped"], { GECKO_TARGET_URL: ADMIN_URL })).toMatchObject({
            code: 2,
            stderr: expect.stringContaining("--backup DIR is required"),
        });
        expect(geckoPg(["cutover", "--bogus"])).toMatchObject({ code: 2, stderr: expect.stringContaining("unknown option --bogus") });
    });

    it("says what is wrong with a bad command or option, exit 2", () => {
        expect(geckoPg(["bogus"])).toMatchObject({ code: 2, stderr: expect.stringContaining("unknown command 'bogus'") });
        expect(geckoPg(["plan", "--nope"])).toMatchObject({ code: 2, stderr: expect.stringContaining("unknown option --nope") });
        expect(geckoPg([])).toMatchObject({ code: 2 });
    });

    it("collector-config prints the database block and environment for PostgreSQL, the password hidden, the admin's never", () => {
        const r = geckoPg(["collector-config", "--sqlite", "/srv/gecko/gecko_data.db", "--format", "yaml"], {
            GECKO_TARGET_URL: ADMIN_URL,
        });
        expect(r.code).toBe(0);
        expect(jsYaml.load(r.stdout)).toEqual({
            database: {
                url: "postgresql://gecko_collector:********@db.example:5433/gecko_terminal_collector",
                pool_size: 20,
                max_overflow: 30,
                timeout: 30,
            },
        });
        expect(r.stdout).toContain('# rollback: url: "sqlite:////srv/gecko/gecko_data.db"');
        expect(r.stdout + r.stderr).not.toContain("adm1n-secret");
    });

    it("collector-config --show-password prints the collector's password, and only from the environment", () => {
        const env = { GECKO_TARGET_URL: ADMIN_URL, GECKO_COLLECTOR_PASSWORD: COLLECTOR_PASSWORD };
        expect(geckoPg(["collector-config", "--format", "env"], env).stdout).not.toContain("c0llector");
        const shown = geckoPg(["collector-config", "--format", "json", "--show-password"], env);
        expect(shown.code).toBe(0);
        expect(Object.fromEntries(JSON.parse(shown.stdout).env).POSTGRES_PASSWORD).toBe(COLLECTOR_PASSWORD);
        expect(geckoPg(["collector-config", "--show-password"], { GECKO_TARGET_URL: ADMIN_URL })).toMatchObject({
            code: 2,
            stderr: expect.stringContaining("GECKO_COLLECTOR_PASSWORD"),
        });
    });

    it("names the variable a malformed target URL came from, exit 2, its password nowhere", () => {
        const r = geckoPg(["collector-config"], { GECKO_TARGET_URL: "postgresql://admin:adm1n-secret@db.example:notaport/x" });
        expect(r.code).toBe(2);
        expect(r.stderr).toContain("GECKO_TARGET_URL is not a valid URL");
        expect(r.stdout + r.stderr).not.toContain("adm1n-secret");
    });

    it("collector-config --use sqlite points the collector back at its file (a rollback), no target needed", () => {
        const r = geckoPg(["collector-config", "--use", "sqlite", "--sqlite", "/srv/gecko/gecko_data.db", "--format", "env"]);
        expect(r).toMatchObject({ code: 0, stdout: "GECKO_DB_URL='sqlite:////srv/gecko/gecko_data.db'\n" });
        expect(geckoPg(["collector-config", "--use", "mysql"])).toMatchObject({ code: 2, stderr: expect.stringContaining("--use") });
    });

    it("a fault ends in one line and exit 3, its causes and stack only with --debug", () => {
        const env = { GECKO_TARGET_URL: "postgresql://admin:adm1n-secret@127.0.0.1:1/gecko" };
        const r = geckoPg(["sync", "--sqlite", "package.json"], env);
        expect(r.code).toBe(3);
        expect(r.stderr).toMatch(/^error: cannot connect to admin@127\.0\.0\.1:1\/gecko: connect ECONNREFUSED 127\.0\.0\.1:1\n$/);
        const debug = geckoPg(["sync", "--sqlite", "package.json", "--debug"], env);
        expect(debug.code).toBe(3);
        expect(debug.stderr).toContain("  caused by: connect ECONNREFUSED");
        expect(debug.stderr).toContain("    at ");
        expect(r.stderr + debug.stderr).not.toContain("adm1n-secret");
    });

    it.each([
        ["SIGINT", 130],
        ["SIGTERM", 143],
    ] as const)("%s ends a command without safe points at once: exit %i and a message", async (signal, exitCode) => {
        // A server that accepts and never answers: the command waits on it until the signal.
        const silent = net.createServer(() => undefined);
        await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
        const port = (silent.address() as net.AddressInfo).port;
        try {
            const child = spawn(process.execPath, [path.join(PROJECT_ROOT, BIN), "sync", "--sqlite", "package.json"], {
                cwd: PROJECT_ROOT,
                env: { PATH: process.env.PATH, HOME: process.env.HOME, GECKO_TARGET_URL: `postgresql://admin:pw@127.0.0.1:${port}/gecko` },
                stdio: ["ignore", "pipe", "pipe"],
            });
            let stderr = "";
            child.stderr.on("data", (d) => (stderr += d));
            const exited = new Promise<number | null>((r) => child.on("close", (code) => r(code)));
            await new Promise<void>((r) => silent.once("connection", () => r()));
            child.kill(signal);
            expect(await exited).toBe(exitCode);
            expect(stderr).toBe(`interrupted (${signal}); open transactions are rolled back by the server; rerun to resume\n`);
        } finally {
            silent.close();
        }
    });
});
