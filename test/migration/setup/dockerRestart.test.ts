/**
 * migration/setup/dockerRestart.ts without a server: the Docker host forms it accepts, and
 * the restart through a TLS tcp:// Engine and through the docker CLI for ssh://. The restart
 * of a real server's container (a fake Engine on a unix socket): test/infra/providers/serverSettings.integration.test.ts.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import * as os from "node:os";
import { describe, expect, it } from "vitest";
import { parseDockerHost, restartContainer } from "../../../migration/setup/dockerRestart";

describe("parseDockerHost", () => {
    it.each([
        ["unix:///var/run/docker.sock", { kind: "unix", socketPath: "/var/run/docker.sock" }],
        ["tcp://10.0.0.5:2375", { kind: "tcp", host: "10.0.0.5", port: 2375 }],
        ["tcp://[::1]:2375/", { kind: "tcp", host: "::1", port: 2375 }],
    ])("%s", (value, expected) => {
        expect(parseDockerHost(value)).toEqual(expected);
    });

    it.each([
        ["ssh://me@host", { kind: "ssh", url: "ssh://me@host" }],
        ["ssh://host:2222", { kind: "ssh", url: "ssh://host:2222" }],
    ])("%s", (value, expected) => {
        expect(parseDockerHost(value)).toEqual(expected);
    });

    it("uses TLS for tcp:// when DOCKER_TLS_VERIFY or DOCKER_CERT_PATH is set, as the docker CLI does", () => {
        expect(parseDockerHost("tcp://docker.example:2376", { DOCKER_TLS_VERIFY: "1", DOCKER_CERT_PATH: "/certs" })).toEqual({
            kind: "tcp",
            host: "docker.example",
            port: 2376,
            tls: { certPath: "/certs", verify: true },
        });
        expect(parseDockerHost("tcp://docker.example:2376", { DOCKER_CERT_PATH: "/certs" })).toMatchObject({
            tls: { certPath: "/certs", verify: false },
        });
        expect(parseDockerHost("tcp://docker.example:2375", {})).toEqual({ kind: "tcp", host: "docker.example", port: 2375 });
    });

    it.each(["tcp://host", "https://host:2376", "unix://relative.sock", "ssh://a@b@c", "ssh://host/path"])("rejects %s", (value) => {
        expect(() => parseDockerHost(value)).toThrow(/unsupported Docker host/);
    });
});

describe("restarting the container through other Docker hosts", () => {
    it("speaks TLS to a tcp:// Engine with the client certificate of DOCKER_CERT_PATH (DOCKER_TLS_VERIFY)", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "docker-tls-"));
        const ssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
        ssl(
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "ca-key.pem",
            "-out",
            "ca.pem",
            "-days",
            "1",
            "-subj",
            "/CN=test-ca",
        );
        fs.writeFileSync(path.join(dir, "san.cnf"), "subjectAltName=IP:127.0.0.1\n");
        for (const [key, cert, cn, ext] of [
            ["server-key.pem", "server.pem", "127.0.0.1", ["-extfile", "san.cnf"]],
            ["key.pem", "cert.pem", "client", []],
        ] as const) {
            ssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", `${cn}.csr`, "-subj", `/CN=${cn}`);
            ssl(
                "x509",
                "-req",
                "-in",
                `${cn}.csr`,
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca-key.pem",
                "-CAcreateserial",
                "-out",
                cert,
                "-days",
                "1",
                ...ext,
            );
        }
        const calls: string[] = [];
        const { createServer } = await import("node:https");
        const read = (f: string) => fs.readFileSync(path.join(dir, f));
        // Like dockerd --tlsverify: only clients with a certificate of the CA get in.
        const srv = createServer(
            { key: read("server-key.pem"), cert: read("server.pem"), ca: read("ca.pem"), requestCert: true, rejectUnauthorized: true },
            (req, res) => {
                calls.push(`${req.method} ${req.url}`);
                res.writeHead(204).end();
            },
        );
        await new Promise<void>((ok) => srv.listen(0, "127.0.0.1", ok));
        const saved = { verify: process.env.DOCKER_TLS_VERIFY, certPath: process.env.DOCKER_CERT_PATH };
        try {
            process.env.DOCKER_TLS_VERIFY = "1";
            process.env.DOCKER_CERT_PATH = dir;
            await restartContainer("db", { dockerHost: `tcp://127.0.0.1:${(srv.address() as { port: number }).port}` });
            expect(calls).toEqual(["POST /containers/db/restart?t=60"]);
            process.env.DOCKER_CERT_PATH = path.join(dir, "missing");
            await expect(restartContainer("db", { dockerHost: "tcp://127.0.0.1:1" })).rejects.toThrow(
                `Docker TLS: cannot read ${path.join(dir, "missing", "ca.pem")} (DOCKER_CERT_PATH)`,
            );
        } finally {
            for (const [k, v] of [
                ["DOCKER_TLS_VERIFY", saved.verify],
                ["DOCKER_CERT_PATH", saved.certPath],
            ] as const)
                if (v === undefined) delete process.env[k];
                else process.env[k] = v;
            await new Promise((ok) => srv.close(ok));
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("goes through the docker CLI for an ssh:// host, and says so when the CLI is missing", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "docker-ssh-"));
        const record = path.join(dir, "args.json");
        fs.writeFileSync(
            path.join(dir, "docker"),
            `#!${process.execPath}\nrequire("fs").writeFileSync(${JSON.stringify(record)}, JSON.stringify(process.argv.slice(2)));\n`,
            { mode: 0o755 },
        );
        const savedPath = process.env.PATH;
        try {
            process.env.PATH = `${dir}${path.delimiter}${savedPath}`;
            await restartContainer("db", { dockerHost: "ssh://deploy@docker-host:2222" });
            expect(JSON.parse(fs.readFileSync(record, "utf8"))).toEqual([
                "--host",
                "ssh://deploy@docker-host:2222",
                "restart",
                "--time",
                "60",
                "db",
            ]);
            process.env.PATH = path.join(dir, "empty");
            await expect(restartContainer("db", { dockerHost: "ssh://deploy@docker-host" })).rejects.toThrow(
                "docker restart db: an ssh:// Docker host needs the docker CLI on this machine (not found on PATH)",
            );
        } finally {
            process.env.PATH = savedPath;
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});
