/**
 * The ServerSettings dynamic provider's methods called directly, as the Pulumi engine would,
 * against a PostgreSQL of this file's own (ALTER SYSTEM changes the whole server): create,
 * pending restarts, update, delete, the restart through a fake Docker Engine, and a managed
 * server's admin (report mode). Without a server: serverSettings.test.ts.
 */
import * as fs from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { ConnectionSpec } from "../../../migration/postgres/connection";
import { startLocalPostgres, type LocalPostgres } from "../../../migration/postgres/localServer";
import { restartContainer } from "../../../migration/setup/dockerRestart";
import { DEFAULT_SETTINGS, serverSettingsProvider as provider } from "../../../infra/settings";
import { withClient } from "../../support/db";
import { PROJECT_ROOT } from "../../support/paths";

// ALTER SYSTEM changes the whole server: these tests get their own, never the shared one.
let server: LocalPostgres;
let connection: ConnectionSpec;
const root = PROJECT_ROOT;

beforeAll(async () => {
    process.env.GECKO_PG_ROOT = root;
    server = await startLocalPostgres({ ignoreDatabaseUrl: true });
    connection = { host: server.host, port: server.port, user: server.user, password: server.password, database: "postgres" };
});
afterAll(async () => server?.stop());
// One failing test must not leave its settings to the next.
afterEach(async () => {
    await sql("ALTER SYSTEM RESET ALL");
    await sql("SELECT pg_reload_conf()");
});

/** postgresql.auto.conf as the server reads it now. */
const autoConf = () =>
    withClient(server.url, async (c) => {
        const { rows } = await c.query(
            "SELECT lower(name) AS name, setting FROM pg_file_settings WHERE sourcefile LIKE '%postgresql.auto.conf' ORDER BY seqno",
        );
        return Object.fromEntries(rows.map((r) => [r.name, r.setting])) as Record<string, string>;
    });
/** Values in effect for a fresh session. */
const shown = (...names: string[]) =>
    withClient(server.url, async (c) => {
        const { rows } = await c.query(
            "SELECT lower(name) AS name, current_setting(name) AS v, pending_restart FROM pg_settings WHERE lower(name) = ANY($1)",
            [names],
        );
        return Object.fromEntries(rows.map((r) => [r.name, `${r.v}${r.pending_restart ? " (pending)" : ""}`]));
    });
const sql = (text: string) => withClient(server.url, (c) => c.query(text));

async function checked(news: Record<string, unknown>, olds: Record<string, unknown> = {}) {
    const result = await provider.check!(olds, news);
    expect(result.failures ?? []).toEqual([]);
    return result.inputs;
}

describe("ServerSettings provider on a real PostgreSQL", () => {
    it("creates, reports pending restarts, updates, refuses a failed delete and RESETs only its own settings", async () => {
        await sql("ALTER SYSTEM SET log_min_duration_statement = '250ms'"); // someone else's setting
        const inputs = await checked({
            connection,
            settings: { work_mem: "12MB", TimeZone: "America/New_York" },
            serverMemoryMb: 2048,
            restart: { kind: "none" },
        });
        expect(inputs.settings).toEqual({ ...DEFAULT_SETTINGS, work_mem: "12MB", timezone: "America/New_York" });

        const created = await provider.create(inputs);
        expect(created.id).toBe(`${server.host}:${server.port}`);
        expect(created.outs.effective).toMatchObject({
            work_mem: "12MB",
            timezone: "America/New_York",
            random_page_cost: "1.1",
            checkpoint_completion_target: "0.9",
            effective_io_concurrency: "200",
            effective_cache_size: "1GB",
            maintenance_work_mem: "64MB",
            default_statistics_target: "100",
            shared_buffers: "128MB", // postmaster: still the running value
        });
        expect(created.outs.pendingRestart).toEqual(["shared_buffers", "wal_buffers"]);
        expect(JSON.stringify({ id: created.id, effective: created.outs.effective, pending: created.outs.pendingRestart })).not.toContain(
            server.password,
        );
        expect(await autoConf()).toEqual({
            log_min_duration_statement: "250ms",
            ...DEFAULT_SETTINGS,
            work_mem: "12MB",
            timezone: "America/New_York",
        });
        expect(await shown("work_mem", "shared_buffers")).toEqual({ work_mem: "12MB", shared_buffers: "128MB (pending)" });

        // After a restart the postmaster settings are in effect; refresh (read) reports it.
        await server.restart();
        const refreshed = await provider.read!(created.id, created.outs);
        expect(refreshed.props.effective).toMatchObject({ shared_buffers: "256MB", wal_buffers: "16MB" });
        expect(refreshed.props.pendingRestart).toEqual([]);

        const news = await checked(
            { ...inputs, settings: { maintenance_work_mem: "128MB", TimeZone: "America/New_York" } },
            refreshed.props,
        );
        const diff = await provider.diff!(created.id, refreshed.props, news);
        expect(diff).toMatchObject({
            changes: true,
            replaces: [],
            detailedDiff: {
                "settings.work_mem": { kind: "delete", inputDiff: true },
                "settings.maintenance_work_mem": { kind: "update", inputDiff: true },
            },
        });
        expect(Object.keys((diff as { detailedDiff: object }).detailedDiff).sort()).toEqual([
            "settings.maintenance_work_mem",
            "settings.work_mem",
        ]);

        const updated = await provider.update!(created.id, refreshed.props, news);
        expect(updated.outs.effective).toMatchObject({ maintenance_work_mem: "128MB", timezone: "America/New_York" });
        expect(updated.outs.effective).not.toHaveProperty("work_mem");
        expect(await shown("work_mem")).toEqual({ work_mem: "4MB" });
        const afterUpdate = await autoConf();
        expect(afterUpdate).not.toHaveProperty("work_mem");
        expect(afterUpdate).toMatchObject({ maintenance_work_mem: "128MB", log_min_duration_statement: "250ms" });

        // A delete that cannot reach the server throws, so Pulumi keeps the resource; nothing changes.
        await expect(provider.delete!(created.id, { ...updated.outs, connection: { ...connection, password: "wrong" } })).rejects.toThrow(
            /cannot connect to postgres@127\.0\.0\.1/,
        );
        expect(await autoConf()).toEqual(afterUpdate);

        await provider.delete!(created.id, updated.outs);
        expect(await autoConf()).toEqual({ log_min_duration_statement: "250ms" });
        expect(await shown("maintenance_work_mem", "timezone", "shared_buffers")).toEqual({
            maintenance_work_mem: "64MB",
            timezone: "Etc/UTC",
            shared_buffers: "256MB (pending)",
        });
    });

    it("rejects bad names and values together, before applying anything", async () => {
        const before = await autoConf();
        const settings = { shared_buffers: "256mb", no_such_setting: "1", vacuum_cost_delay: "500ms", jit: "maybe", work_mem: "16MB" };
        // check only knows its local table; the server's pg_settings catches the rest at create.
        const check = await provider.check!({}, { connection, settings, serverMemoryMb: 512, restart: { kind: "none" } });
        expect(check.failures?.map((f) => f.property)).toEqual([
            "settings.jit",
            "settings.shared_buffers",
            "settings.effective_cache_size",
        ]);

        const error = await provider.create({ ...check.inputs, serverMemoryMb: 512 }).then(
            () => undefined,
            (e: Error) => e,
        );
        expect(error?.name).toBe("SettingsValidationError");
        for (const fragment of [
            "jit = 'maybe': not a boolean",
            "no_such_setting = '1': unknown setting (not in pg_settings)",
            "shared_buffers = '256mb': bad unit 'mb'",
            "vacuum_cost_delay = '500ms': above the maximum 100 x ms",
            "effective_cache_size = '1GB': exceeds the declared serverMemoryMb 512",
        ])
            expect(error?.message).toContain(fragment);
        expect(error?.message).not.toContain(server.password);
        expect(await autoConf()).toEqual(before);
        expect(await shown("work_mem")).toEqual({ work_mem: "4MB" });
    });

    it("restores what it already changed when an ALTER SYSTEM fails midway", async () => {
        await sql("ALTER SYSTEM SET maintenance_work_mem = '80MB'");
        const before = await autoConf();
        // TimeZone passes validation (a string) but the server rejects it; steps run in name order.
        const inputs = await checked({
            connection,
            settings: { maintenance_work_mem: "96MB", TimeZone: "Mars/Olympus" },
            restart: { kind: "none" },
        });
        const error = await provider.create(inputs).then(
            () => undefined,
            (e: Error) => e,
        );
        expect(error?.message).toMatch(
            /ALTER SYSTEM SET "timezone" = 'Mars\/Olympus' failed on postgres@127\.0\.0\.1:\d+\/postgres: invalid value for parameter "TimeZone".*restored the 7 setting\(s\) already changed/,
        );
        expect((error?.cause as Error).message).toBe(`invalid value for parameter "TimeZone": "Mars/Olympus"`);
        expect(await autoConf()).toEqual(before);
        expect(await shown("maintenance_work_mem")).toEqual({ maintenance_work_mem: "64MB" }); // never reloaded
    });

    it("diffs per setting and replaces only when the server changes", async () => {
        const olds = { connection, settings: { ...DEFAULT_SETTINGS }, restart: { kind: "none" }, effective: {}, pendingRestart: [] };
        const same = await provider.diff!("id", olds, { ...olds, settings: { ...DEFAULT_SETTINGS, shared_buffers: "32768" } });
        expect(same).toMatchObject({ changes: false, replaces: [], detailedDiff: {} });

        const tuned = await provider.diff!("id", olds, {
            ...olds,
            settings: { ...DEFAULT_SETTINGS, shared_buffers: "512MB", work_mem: "8MB" },
        });
        expect(tuned).toMatchObject({
            changes: true,
            replaces: [],
            restartRequired: ["shared_buffers"],
            detailedDiff: { "settings.shared_buffers": { kind: "update" }, "settings.work_mem": { kind: "add" } },
        });

        const password = await provider.diff!("id", olds, { ...olds, connection: { ...connection, password: "rotated" } });
        expect(password).toMatchObject({ changes: true, replaces: [], detailedDiff: { "connection.password": { kind: "update" } } });

        const moved = await provider.diff!("id", olds, { ...olds, connection: { ...connection, port: connection.port + 1 } });
        expect(moved).toMatchObject({
            changes: true,
            replaces: ["connection"],
            detailedDiff: { "connection.port": { kind: "update-replace" } },
        });
    });

    it("restarts the container through the Docker Engine API and ends with nothing pending", async () => {
        const docker = await fakeDockerEngine("gecko-db", () => server.restart());
        try {
            const inputs = await checked({
                connection,
                settings: { shared_buffers: "192MB" },
                restart: { kind: "docker", containerName: "gecko-db", dockerHost: docker.host },
            });
            const created = await provider.create(inputs);
            expect(docker.calls).toEqual(["POST /containers/gecko-db/restart?t=60"]);
            expect(created.outs.effective).toMatchObject({ shared_buffers: "192MB", wal_buffers: "16MB" });
            expect(created.outs.pendingRestart).toEqual([]);
            expect(await shown("shared_buffers")).toEqual({ shared_buffers: "192MB" });

            // A reloadable change needs no restart.
            const news = await checked({ ...inputs, settings: { shared_buffers: "192MB", work_mem: "6MB" } }, created.outs);
            const updated = await provider.update!(created.id, created.outs, news);
            expect(docker.calls).toHaveLength(1);
            expect(updated.outs).toMatchObject({ effective: { work_mem: "6MB", shared_buffers: "192MB" }, pendingRestart: [] });

            // Docker cannot restart: the changes are undone, so create stays all or nothing.
            const before = await autoConf();
            const wrong = await checked({
                ...inputs,
                settings: { shared_buffers: "160MB" },
                restart: { kind: "docker", containerName: "other", dockerHost: docker.host },
            });
            await expect(provider.create(wrong)).rejects.toThrow(
                /restart of container 'other' failed \(docker restart other: no such container at unix:\/\/\S+ \(No such container: other\)\); restored the previous settings$/,
            );
            expect(await autoConf()).toEqual(before);
            expect(await shown("shared_buffers")).toEqual({ shared_buffers: "192MB" });

            await provider.delete!(created.id, updated.outs);
            expect(await autoConf()).toEqual({});
        } finally {
            await docker.close();
        }
    });

    it("names Docker's answer when it is not reachable or refuses", async () => {
        const tcp = http.createServer((_req, res) =>
            res.writeHead(500, { "Content-Type": "application/json" }).end(JSON.stringify({ message: "cannot restart: paused" })),
        );
        await new Promise<void>((ok) => tcp.listen(0, "127.0.0.1", ok));
        const port = (tcp.address() as { port: number }).port;
        try {
            await expect(restartContainer("db", { dockerHost: `tcp://127.0.0.1:${port}` })).rejects.toThrow(
                "docker restart db: Docker Engine answered 500: cannot restart: paused",
            );
        } finally {
            await new Promise((ok) => tcp.close(ok));
        }
        const missing = path.join(os.tmpdir(), `no-docker-${process.pid}.sock`);
        const error = await restartContainer("db", { dockerHost: `unix://${missing}` }).catch((e: Error) => e);
        expect(error?.message).toBe(`docker restart db: cannot reach the Docker Engine at unix://${missing}`);
        expect((error?.cause as NodeJS.ErrnoException).code).toBe("ENOENT");
    });
});

describe("ServerSettings on a managed server (admin not a superuser)", () => {
    // Like a managed service's admin: may create roles and databases, may not ALTER SYSTEM or read pg_file_settings.
    const admin = { user: "cloudadmin_settings", password: "managed-pw-0" };
    let managed: ConnectionSpec;
    beforeAll(async () => {
        await sql(`CREATE ROLE ${admin.user} LOGIN CREATEROLE CREATEDB PASSWORD '${admin.password}'`);
        await sql(`GRANT pg_read_all_settings TO ${admin.user}`); // the old error's hint: it changes nothing
        managed = { ...connection, user: admin.user, password: admin.password };
    });
    afterAll(async () => sql(`DROP ROLE IF EXISTS ${admin.user}`));

    it("apply mode fails before changing anything, saying which mode works there", async () => {
        const inputs = await checked({ connection: managed, settings: { work_mem: "12MB" }, restart: { kind: "none" } });
        await expect(provider.create(inputs)).rejects.toThrow(
            /cannot read pg_file_settings.*serverSettingsMode to report.*parameter group/,
        );
        expect(await autoConf()).toEqual({});
    });

    it("report mode changes nothing and lists, per setting, the value to set and the value in effect", async () => {
        const inputs = await checked({
            connection: managed,
            settings: { work_mem: "4MB", random_page_cost: "1.1" },
            restart: { kind: "none" },
            mode: "report",
        });
        const created = await provider.create(inputs);
        expect(await autoConf()).toEqual({});
        const drift = created.outs.parameterGroup as { name: string; desired: string; actual: string | null; pendingRestart: boolean }[];
        // work_mem 4MB is the server's default: not listed; units compared (1GB vs 4GB).
        expect(drift.map((d) => d.name)).not.toContain("work_mem");
        expect(drift).toContainEqual({ name: "random_page_cost", desired: "1.1", actual: "4", pendingRestart: false });
        expect(drift).toContainEqual({ name: "effective_cache_size", desired: "1GB", actual: "4GB", pendingRestart: false });
        // Set as the operator would in the parameter group: the next read lists it no more.
        await sql("ALTER SYSTEM SET random_page_cost = 1.1");
        await sql("SELECT pg_reload_conf()");
        await new Promise((r) => setTimeout(r, 200));
        const read = await provider.read!(created.id, created.outs);
        expect((read.props!.parameterGroup as { name: string }[]).map((d) => d.name)).not.toContain("random_page_cost");
        // Delete resets nothing: report mode set nothing.
        await provider.delete!(created.id, read.props);
        expect(await autoConf()).toEqual({ random_page_cost: "1.1" });
    });

    it("a mode change is an update, shown by diff", async () => {
        const d = await provider.diff!(
            "id",
            { settings: DEFAULT_SETTINGS, restart: { kind: "none" }, connection: managed, mode: "apply" },
            { settings: {}, restart: { kind: "none" }, connection: managed, mode: "report" },
        );
        expect(d.changes).toBe(true);
        expect(d.replaces ?? []).toEqual([]);
    });

    it("check names an unknown mode", async () => {
        const r = await provider.check!({}, { connection: managed, restart: { kind: "none" }, mode: "sometimes" });
        expect(r.failures).toEqual([{ property: "mode", reason: "must be one of apply, report, got 'sometimes'" }]);
    });
});

/** An HTTP server on a unix socket answering like the Docker Engine for one container. */
async function fakeDockerEngine(container: string, onRestart: () => Promise<void>) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fake-docker-"));
    const socket = path.join(dir, "docker.sock");
    const calls: string[] = [];
    const srv = http.createServer((req, res) => {
        calls.push(`${req.method} ${req.url}`);
        const match = /^\/containers\/([^/]+)\/restart(\?|$)/.exec(req.url ?? "");
        if (req.method !== "POST" || !match) return void res.writeHead(404).end("page not found");
        if (decodeURIComponent(match[1]) !== container) {
            return void res
                .writeHead(404, { "Content-Type": "application/json" })
                .end(JSON.stringify({ message: `No such container: ${match[1]}` }));
        }
        onRestart().then(
            () => res.writeHead(204).end(),
            (e: Error) => res.writeHead(500).end(JSON.stringify({ message: e.message })),
        );
    });
    await new Promise<void>((ok) => srv.listen(socket, ok));
    return {
        host: `unix://${socket}`,
        calls,
        close: async () => {
            await new Promise((ok) => srv.close(ok));
            fs.rmSync(dir, { recursive: true, force: true });
        },
    };
}
