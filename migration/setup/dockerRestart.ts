/**
 * Restarts a container through the Docker Engine API: `POST /containers/{name}/restart`
 * over the unix socket, plain-HTTP TCP, or TLS TCP (DOCKER_TLS_VERIFY / DOCKER_CERT_PATH,
 * as the docker CLI reads them); an ssh:// host goes through the docker CLI, which
 * tunnels the API over ssh (what the docker provider does for such a host too).
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as https from "node:https";
import * as os from "node:os";
import { checkServerIdentity } from "node:tls";
import * as nodePath from "node:path";

/** Client certificate material for a TLS Docker Engine (ca.pem, cert.pem, key.pem of DOCKER_CERT_PATH). */
export interface DockerTls {
    readonly certPath: string;
    /** Verify the daemon's certificate against ca.pem (DOCKER_TLS_VERIFY). */
    readonly verify: boolean;
}

/** Where the Docker Engine listens. */
export type DockerEndpoint =
    | { readonly kind: "unix"; readonly socketPath: string }
    | { readonly kind: "tcp"; readonly host: string; readonly port: number; readonly tls?: DockerTls }
    | { readonly kind: "ssh"; readonly url: string };

export const DEFAULT_DOCKER_HOST = "unix:///var/run/docker.sock";

/**
 * `unix:///path/docker.sock`, `tcp://host:port` (TLS when DOCKER_TLS_VERIFY or DOCKER_CERT_PATH
 * is set, as for the docker CLI) or `ssh://[user@]host[:port]`; default: env DOCKER_HOST, then
 * the standard socket.
 */
export function parseDockerHost(
    value: string | undefined = process.env.DOCKER_HOST || DEFAULT_DOCKER_HOST,
    env: NodeJS.ProcessEnv = process.env,
): DockerEndpoint {
    const unix = /^unix:\/\/(\/.+)$/.exec(value);
    if (unix) return { kind: "unix", socketPath: unix[1] };
    const tcp = /^tcp:\/\/([^/:]+|\[[^\]]+\]):(\d+)\/?$/.exec(value);
    if (tcp) {
        const endpoint = { kind: "tcp" as const, host: tcp[1].replace(/^\[|\]$/g, ""), port: Number(tcp[2]) };
        const verify = Boolean(env.DOCKER_TLS_VERIFY) && env.DOCKER_TLS_VERIFY !== "0";
        if (!verify && !env.DOCKER_CERT_PATH) return endpoint;
        return { ...endpoint, tls: { certPath: env.DOCKER_CERT_PATH || nodePath.join(os.homedir(), ".docker"), verify } };
    }
    if (/^ssh:\/\/([^@/\s]+@)?[^@/:\s]+(:\d+)?\/?$/.test(value)) return { kind: "ssh", url: value };
    throw new Error(
        `unsupported Docker host '${value}': expected unix:///path/to/docker.sock, tcp://host:port (TLS with DOCKER_TLS_VERIFY/DOCKER_CERT_PATH) or ssh://[user@]host[:port]`,
    );
}

export interface RestartOptions {
    readonly dockerHost?: string;
    /** Seconds Docker waits for a clean shutdown before killing the container (API `t`). */
    readonly stopTimeoutSeconds?: number;
}

const CONTAINER_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/** Restarts the container; resolves once Docker reports it restarted (204), throws with Docker's message otherwise. */
export async function restartContainer(containerName: string, options: RestartOptions = {}): Promise<void> {
    if (!CONTAINER_RE.test(containerName)) throw new Error(`invalid container name '${containerName}'`);
    const endpoint = parseDockerHost(options.dockerHost);
    const t = options.stopTimeoutSeconds ?? 60;
    if (endpoint.kind === "ssh") return restartOverSsh(endpoint.url, containerName, t);
    const path = `/containers/${encodeURIComponent(containerName)}/restart?t=${t}`;
    const where =
        endpoint.kind === "unix"
            ? `unix://${endpoint.socketPath}`
            : `tcp://${endpoint.host}:${endpoint.port}${endpoint.tls ? " (TLS)" : ""}`;
    // Read before connecting: a missing certificate is its own error, not "cannot reach".
    const tls = endpoint.kind === "tcp" && endpoint.tls ? tlsOptions(endpoint.tls, endpoint.host) : undefined;
    let response: { status: number; body: string };
    try {
        response = await post(endpoint, path, (t + 120) * 1000, tls);
    } catch (cause) {
        throw new Error(`docker restart ${containerName}: cannot reach the Docker Engine at ${where}`, { cause });
    }
    if (response.status === 204) return;
    const detail = dockerMessage(response.body);
    if (response.status === 404)
        throw new Error(`docker restart ${containerName}: no such container at ${where}${detail ? ` (${detail})` : ""}`);
    throw new Error(`docker restart ${containerName}: Docker Engine answered ${response.status}${detail ? `: ${detail}` : ""}`);
}

/** The docker CLI tunnels the Engine API over ssh (`docker system dial-stdio` on the remote side). */
function restartOverSsh(url: string, containerName: string, t: number): Promise<void> {
    return new Promise((resolve, reject) => {
        const child = spawn("docker", ["--host", url, "restart", "--time", String(t), containerName], {
            stdio: ["ignore", "ignore", "pipe"],
        });
        let stderr = "";
        child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
        child.on("error", (cause: NodeJS.ErrnoException) =>
            reject(
                new Error(
                    cause.code === "ENOENT"
                        ? `docker restart ${containerName}: an ssh:// Docker host needs the docker CLI on this machine (not found on PATH)`
                        : `docker restart ${containerName} over ${url}: ${cause.message}`,
                    { cause },
                ),
            ),
        );
        child.on("close", (code) =>
            code === 0
                ? resolve()
                : reject(new Error(`docker restart ${containerName} over ${url}: docker exited ${code}: ${stderr.trim().slice(0, 300)}`)),
        );
    });
}

function post(
    endpoint: Exclude<DockerEndpoint, { kind: "ssh" }>,
    path: string,
    timeoutMs: number,
    tls?: https.RequestOptions,
): Promise<{ status: number; body: string }> {
    const target = endpoint.kind === "unix" ? { socketPath: endpoint.socketPath } : { host: endpoint.host, port: endpoint.port };
    const request = tls ? https.request : http.request;
    return new Promise((resolve, reject) => {
        const req = request(
            { ...target, ...tls, path, method: "POST", headers: { Host: "docker", "Content-Length": 0 }, timeout: timeoutMs },
            (res) => {
                let body = "";
                res.setEncoding("utf8");
                res.on("data", (chunk: string) => (body += chunk));
                res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
                res.on("error", reject);
            },
        );
        req.on("timeout", () => req.destroy(new Error(`no answer within ${timeoutMs / 1000}s`)));
        req.on("error", reject);
        req.end();
    });
}

function dockerMessage(body: string): string {
    try {
        const parsed = JSON.parse(body) as { message?: unknown };
        if (typeof parsed.message === "string") return parsed.message;
    } catch {
        // not JSON: fall through to the raw text
    }
    return body.trim().slice(0, 300);
}

/** ca.pem, cert.pem and key.pem of the cert path, as the docker CLI uses them; the daemon's certificate is checked for `host`. */
function tlsOptions(tls: DockerTls, host: string): https.RequestOptions {
    const read = (file: string) => {
        const p = nodePath.join(tls.certPath, file);
        try {
            return fs.readFileSync(p);
        } catch (cause) {
            throw new Error(`Docker TLS: cannot read ${p} (DOCKER_CERT_PATH)`, { cause });
        }
    };
    return {
        ca: read("ca.pem"),
        cert: read("cert.pem"),
        key: read("key.pem"),
        rejectUnauthorized: tls.verify,
        // The API's Host header is "docker": verify the certificate for the host actually dialled.
        checkServerIdentity: (_servername, cert) => checkServerIdentity(host, cert),
    };
}
