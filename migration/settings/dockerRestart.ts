/**
 * Restarts a container through the Docker Engine API (no docker CLI needed):
 * `POST /containers/{name}/restart` over the unix socket or plain-HTTP TCP.
 */
import * as http from "node:http";

/** Where the Docker Engine listens. TLS (`DOCKER_TLS_VERIFY`) and ssh:// are not supported. */
export type DockerEndpoint = { readonly kind: "unix"; readonly socketPath: string } | { readonly kind: "tcp"; readonly host: string; readonly port: number };

export const DEFAULT_DOCKER_HOST = "unix:///var/run/docker.sock";

/** `unix:///path/docker.sock` or `tcp://host:port`; default: env DOCKER_HOST, then the standard socket. */
export function parseDockerHost(value: string | undefined = process.env.DOCKER_HOST || DEFAULT_DOCKER_HOST): DockerEndpoint {
    const unix = /^unix:\/\/(\/.+)$/.exec(value);
    if (unix) return { kind: "unix", socketPath: unix[1] };
    const tcp = /^tcp:\/\/([^/:]+|\[[^\]]+\]):(\d+)\/?$/.exec(value);
    if (tcp) return { kind: "tcp", host: tcp[1].replace(/^\[|\]$/g, ""), port: Number(tcp[2]) };
    throw new Error(`unsupported Docker host '${value}': expected unix:///path/to/docker.sock or tcp://host:port (plain HTTP)`);
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
    const path = `/containers/${encodeURIComponent(containerName)}/restart?t=${t}`;
    const where = endpoint.kind === "unix" ? `unix://${endpoint.socketPath}` : `tcp://${endpoint.host}:${endpoint.port}`;
    let response: { status: number; body: string };
    try {
        response = await post(endpoint, path, (t + 120) * 1000);
    } catch (cause) {
        throw new Error(`docker restart ${containerName}: cannot reach the Docker Engine at ${where}`, { cause });
    }
    if (response.status === 204) return;
    const detail = dockerMessage(response.body);
    if (response.status === 404) throw new Error(`docker restart ${containerName}: no such container at ${where}${detail ? ` (${detail})` : ""}`);
    throw new Error(`docker restart ${containerName}: Docker Engine answered ${response.status}${detail ? `: ${detail}` : ""}`);
}

function post(endpoint: DockerEndpoint, path: string, timeoutMs: number): Promise<{ status: number; body: string }> {
    const target = endpoint.kind === "unix" ? { socketPath: endpoint.socketPath } : { host: endpoint.host, port: endpoint.port };
    return new Promise((resolve, reject) => {
        const req = http.request({ ...target, path, method: "POST", headers: { Host: "docker", "Content-Length": 0 }, timeout: timeoutMs }, (res) => {
            let body = "";
            res.setEncoding("utf8");
            res.on("data", (chunk: string) => (body += chunk));
            res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
            res.on("error", reject);
        });
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
