/**
 * The PostgreSQL server: a container this stack runs (docker mode) or an
 * existing server it only connects to (external mode, managed included).
 */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import type { ConnectionSpec, SslMode } from "../migration/postgres/connection";
import { AdminPassword } from "./adminPassword";
import { DOCKER_ADMIN_USER } from "./config";

/** Seconds a stopping container gets for PostgreSQL's shutdown checkpoint before Docker kills it. */
export const STOP_GRACE_SECONDS = 60;

/** Data directory of the official image up to PostgreSQL 17 (18 moved it to /var/lib/postgresql/<major>/docker). */
export const DATA_DIR = "/var/lib/postgresql/data";
const CONTAINER_PORT = 5432;

/** Run PostgreSQL in a local Docker container. */
export interface DockerServerArgs {
    readonly mode: "docker";
    /** Pinned image, e.g. `postgres:17.6-bookworm`. */
    readonly image: pulumi.Input<string>;
    /** Host port, bound to 127.0.0.1 only. */
    readonly hostPort: pulumi.Input<number>;
    readonly containerName: pulumi.Input<string>;
    /** Named volume for the data directory, so replacing the container keeps the data. */
    readonly volumeName: pulumi.Input<string>;
    /**
     * Superuser password (secret). The image applies it only when it initialises an
     * empty volume: changing it later does not change the server's password.
     */
    readonly adminPassword: pulumi.Input<string>;
    /** Container memory limit in MB. */
    readonly memoryMb?: pulumi.Input<number>;
    /** Protect the data volume from deletion. */
    readonly protect?: boolean;
    /** Seconds to wait for the healthcheck after create (default 120). */
    readonly waitTimeoutSeconds?: number;
}

/** Use an existing server. */
export interface ExternalServerArgs {
    readonly mode: "external";
    readonly host: pulumi.Input<string>;
    readonly port: pulumi.Input<number>;
    readonly adminUser: pulumi.Input<string>;
    /** Secret. */
    readonly adminPassword: pulumi.Input<string>;
    readonly sslmode: pulumi.Input<SslMode>;
}

export type PostgresServerArgs = DockerServerArgs | ExternalServerArgs;

/**
 * A PostgreSQL server the rest of the stack connects to as its admin user.
 * Docker mode: pinned image, named data volume, 127.0.0.1-only port and a TCP
 * healthcheck Pulumi waits for. External mode: only the connection details.
 */
export class PostgresServer extends pulumi.ComponentResource {
    readonly mode: PostgresServerArgs["mode"];
    readonly host: pulumi.Output<string>;
    readonly port: pulumi.Output<number>;
    readonly adminUser: pulumi.Output<string>;
    readonly sslmode: pulumi.Output<SslMode>;
    /** Admin connection to the `postgres` database; secret (it carries the password). */
    readonly adminConnection: pulumi.Output<ConnectionSpec>;
    /** Docker mode: the container's name (the settings resource restarts it). */
    readonly containerName?: pulumi.Output<string>;
    /**
     * What anything connecting to the server must `dependsOn`: the container,
     * which Pulumi only reports created once its healthcheck passes. Empty in
     * external mode (the server already exists).
     */
    readonly ready: pulumi.Resource[];

    constructor(name: string, args: PostgresServerArgs, opts: pulumi.ComponentResourceOptions = {}) {
        super("gecko:server:PostgresServer", name, {}, opts);
        this.mode = args.mode;
        if (args.mode === "docker") {
            const container = this.dockerServer(name, args);
            this.host = pulumi.output("127.0.0.1");
            this.port = pulumi.output(args.hostPort);
            this.adminUser = pulumi.output(DOCKER_ADMIN_USER);
            this.sslmode = pulumi.output<SslMode>("disable");
            this.containerName = container.name;
            // POSTGRES_PASSWORD counts only when the image initialises an empty volume: a changed
            // password is set inside the running server instead (the container ignores the change).
            const password = new AdminPassword(
                `${name}-admin-password`,
                {
                    connection: pulumi.output(args.hostPort).apply((port) => ({
                        host: "127.0.0.1",
                        port,
                        user: DOCKER_ADMIN_USER,
                        database: "postgres",
                        sslmode: "disable" as const,
                    })),
                    password: args.adminPassword,
                },
                { parent: this, dependsOn: [container] },
            );
            this.ready = [container, password];
        } else {
            this.host = pulumi.output(args.host);
            this.port = pulumi.output(args.port);
            this.adminUser = pulumi.output(args.adminUser);
            this.sslmode = pulumi.output(args.sslmode);
            this.ready = [];
        }
        this.adminConnection = pulumi.secret(
            pulumi
                .all([this.host, this.port, this.adminUser, args.adminPassword, this.sslmode])
                .apply(([host, port, user, password, sslmode]): ConnectionSpec => ({
                    host,
                    port,
                    user,
                    password,
                    database: "postgres",
                    sslmode,
                })),
        );
        this.registerOutputs({
            host: this.host,
            port: this.port,
            adminUser: this.adminUser,
            containerName: this.containerName,
            adminConnection: this.adminConnection,
        });
    }

    private dockerServer(name: string, args: DockerServerArgs): docker.Container {
        // keepLocally: destroying the stack should not delete an image other projects may use.
        const image = new docker.RemoteImage(`${name}-image`, { name: args.image, keepLocally: true }, { parent: this });
        const volume = new docker.Volume(`${name}-data`, { name: args.volumeName }, { parent: this, protect: args.protect });
        return new docker.Container(
            `${name}-postgres`,
            {
                name: args.containerName,
                image: image.imageId,
                // Only the image's own command: `-c name=value` flags would silently override
                // ALTER SYSTEM (command line beats postgresql.auto.conf), defeating ServerSettings.
                envs: pulumi.secret(pulumi.output(args.adminPassword).apply((p) => [`POSTGRES_PASSWORD=${p}`])),
                volumes: [{ volumeName: volume.name, containerPath: DATA_DIR }],
                ports: [{ internal: CONTAINER_PORT, external: args.hostPort, ip: "127.0.0.1", protocol: "tcp" }],
                memory: args.memoryMb,
                restart: "unless-stopped",
                healthcheck: {
                    // Over TCP: during first initialisation the entrypoint runs a socket-only
                    // server, so a socket check would report ready before TCP clients can connect.
                    tests: ["CMD", "pg_isready", "-h", "127.0.0.1", "-U", DOCKER_ADMIN_USER],
                    interval: "2s",
                    timeout: "5s",
                    retries: 30,
                    startPeriod: "5s",
                },
                wait: true,
                waitTimeout: args.waitTimeoutSeconds ?? 120,
                // Stop, never kill, on replace and destroy: SIGINT is PostgreSQL's fast shutdown (the image's own
                // STOPSIGNAL: roll back open transactions, checkpoint, exit), with time for that checkpoint.
                stopSignal: "SIGINT",
                stopTimeout: STOP_GRACE_SECONDS,
                destroyGraceSeconds: STOP_GRACE_SECONDS,
            },
            {
                parent: this,
                // Fixed container name and host port: the old container must go before the new one starts.
                deleteBeforeReplace: true,
                additionalSecretOutputs: ["envs"],
                // A new adminPassword must not replace the container: AdminPassword rotates it in the server.
                ignoreChanges: ["envs"],
            },
        );
    }
}
