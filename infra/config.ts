/**
 * Stack configuration (`gecko-pg:*`) read into a typed, validated StackConfig.
 *
 * `validateStackConfig` is pure (a plain object in, no Pulumi runtime needed) so
 * it can be tested as a table; `loadStackConfig` feeds it from `pulumi.Config`
 * and wraps the passwords as Pulumi secrets. Every key is declared, with the
 * same default, in Pulumi.yaml (test/infra/index.test.ts checks they agree).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { SSL_MODES, type SslMode } from "../migration/postgres/connection";
import { REPAIRS, type AmbiguousTime, type OrphanPolicy, type Repair } from "../migration/data/options";
import { isPlainIdentifier } from "../migration/setup/accessPlan";
import { COLLECTOR_DATABASES, type CollectorDatabase } from "../migration/cutover/collectorConfig";

export const CONFIG_NAMESPACE = "gecko-pg";

/** Defaults of the non-secret keys. `protect` is not here: it defaults to `stack !== "dev"`. */
export const CONFIG_DEFAULTS = {
    mode: "docker",
    image: "postgres:17.6-bookworm",
    hostPort: 5432,
    containerName: "gecko-pg-postgres",
    volumeName: "gecko-pg-data",
    serverMemoryMb: 2048,
    serverVersion: "17",
    externalHost: "",
    externalPort: 5432,
    externalAdminUser: "postgres",
    externalSslmode: "require",
    externalSuperuser: false,
    database: "gecko_terminal_collector",
    appRole: "gecko_collector",
    ownerRole: "gecko_owner",
    collectorTimeZone: "UTC",
    serverSettings: "{}",
    serverSettingsMode: "auto",
    sqlitePath: "",
    collectorDatabase: "auto",
    sourceTimeZone: "UTC",
    clockOverrides: "{}",
    orphanPolicy: "quarantine",
    chunkRows: 50000,
    allowQuarantine: false,
    allowMissingTables: false,
    retrySeconds: 60,
    includeExtraTables: false,
    repairs: "python-repr",
    ambiguousTime: "quarantine",
    dropDataOnDelete: false,
} as const;

/** Keys holding passwords: required, no default, `secret: true` in Pulumi.yaml. */
export const SECRET_KEYS = ["adminPassword", "appPassword"] as const;

/** Every key the program reads. */
export const CONFIG_KEYS = [...Object.keys(CONFIG_DEFAULTS), "protect", ...SECRET_KEYS] as readonly string[];

/** Superuser of the docker image; the external mode's admin comes from config. */
export const DOCKER_ADMIN_USER = "postgres";

export type ServerMode = "docker" | "external";

export type ServerSettingsMode = "apply" | "report" | "off";
const SETTINGS_MODE_CHOICES = ["auto", "apply", "report", "off"] as const;

/** A PostgreSQL container this stack runs (local development, single host). */
export interface DockerServerConfig {
    readonly mode: "docker";
    /** Pinned image tag, e.g. `postgres:17.6-bookworm`. */
    readonly image: string;
    /** Host port, published on 127.0.0.1 only. */
    readonly hostPort: number;
    readonly containerName: string;
    /** Named volume holding the data directory; survives container replacement. */
    readonly volumeName: string;
}

/** An existing server (managed included) this stack only configures. */
export interface ExternalServerConfig {
    readonly mode: "external";
    readonly host: string;
    readonly port: number;
    readonly adminUser: string;
    readonly sslmode: SslMode;
    /** False on managed servers (RDS, Cloud SQL, Azure): the admin is then made a member of the owner role. */
    readonly superuser: boolean;
}

/** The migration stage; present only when `sqlitePath` is set. */
export interface MigrationConfig {
    /** The collector's SQLite file; loadStackConfig makes it absolute (against the project directory) and checks it exists. */
    readonly sqlitePath: string;
    readonly sourceTimeZone: string;
    readonly clockOverrides: Readonly<Record<string, "utc" | "local">>;
    readonly orphanPolicy: OrphanPolicy;
    readonly chunkRows: number;
    readonly allowQuarantine: boolean;
    /** Accept a file lacking some of the collector's core tables (created empty). */
    readonly allowMissingTables: boolean;
    /** Seconds a transient fault is retried before the migration fails. */
    readonly retrySeconds: number;
    /** Copy the file's tables the collector does not have (default: only listed in the report). */
    readonly includeExtraTables: boolean;
    /** Values stored instead of set aside; config `none` is `[]`. */
    readonly repairs: readonly Repair[];
    readonly ambiguousTime: AmbiguousTime;
}

/** The validated stack configuration; `Secret` is `pulumi.Output<string>` in the program, `string` when validating. */
export interface StackConfig<Secret = pulumi.Output<string>> {
    readonly stack: string;
    readonly server: DockerServerConfig | ExternalServerConfig;
    /** Docker: the superuser's password (POSTGRES_PASSWORD); external: the admin user's. */
    readonly adminPassword: Secret;
    /** Memory the server may use: the container limit in docker mode, and the settings validator's budget. */
    readonly serverMemoryMb: number;
    /** Version the postgresql provider assumes, so preview needs no connection (docker: from the image tag). */
    readonly serverVersion: string;
    readonly database: string;
    readonly appRole: string;
    readonly ownerRole: string;
    /** Password of `appRole`; required, never defaulted. */
    readonly appPassword: Secret;
    readonly collectorTimeZone: string;
    /** Protect the data volume and the database from `pulumi destroy`. */
    readonly protect: boolean;
    /** PostgreSQL setting -> value overrides on top of the settings component's defaults. */
    readonly serverSettings: Readonly<Record<string, string>>;
    /**
     * How the settings reach the server: `apply` (ALTER SYSTEM), `report` (change nothing, list what
     * to set in a managed service's parameter group), `off` (no settings resource). Config `auto`
     * resolves to `report` for an external server whose admin is not a superuser, else `apply`.
     */
    readonly serverSettingsMode: ServerSettingsMode;
    /** Undefined without `sqlitePath`: no Migration resource, and the Schema applies both phases. */
    readonly migration?: MigrationConfig;
    /** The database the collector's configuration points at; config `auto` = sqlite while `sqlitePath` is set. */
    readonly collectorDatabase: CollectorDatabase;
    /** Deleting the Schema/Migration resources drops the tables/data. Never with `protect`. */
    readonly dropDataOnDelete: boolean;
}

/** A configuration error naming every field at fault (`gecko-pg:<key>`); never contains a secret value. */
export class StackConfigError extends Error {
    constructor(
        readonly fields: readonly string[],
        problems: readonly string[],
    ) {
        super(`invalid ${CONFIG_NAMESPACE} stack config:\n  - ${problems.join("\n  - ")}`);
        this.name = "StackConfigError";
    }
}

const ORPHAN_POLICIES: readonly OrphanPolicy[] = ["quarantine", "placeholder", "fail"];
const AMBIGUOUS_TIMES: readonly AmbiguousTime[] = ["quarantine", "earlier", "later"];
/** A tag with at least major.minor (or a digest), so a re-pull cannot change the major version under the data. */
const PINNED_IMAGE =
    /^[a-z0-9][a-z0-9._/-]*:(\d+)\.(\d+)[A-Za-z0-9._-]*(@sha256:[0-9a-f]{64})?$|^[a-z0-9][a-z0-9._/:-]*@sha256:[0-9a-f]{64}$/;

/**
 * Validates raw config (keys without the namespace; values as strings the way
 * Pulumi passes them, or typed). The mode is checked first, then everything
 * else; all problems are reported at once.
 */
/** The migration's keys. */
function migrationConfig(r: Reader): MigrationConfig {
    return {
        sqlitePath: r.str("sqlitePath"),
        sourceTimeZone: r.timezone("sourceTimeZone"),
        clockOverrides: r.clockOverrides("clockOverrides"),
        orphanPolicy: r.oneOf("orphanPolicy", ORPHAN_POLICIES),
        chunkRows: r.int("chunkRows", 1, 10_000_000),
        allowQuarantine: r.bool("allowQuarantine"),
        allowMissingTables: r.bool("allowMissingTables"),
        retrySeconds: r.int("retrySeconds", 0, 86_400),
        includeExtraTables: r.bool("includeExtraTables"),
        repairs: r.repairs("repairs"),
        ambiguousTime: r.oneOf("ambiguousTime", AMBIGUOUS_TIMES),
    };
}

export function validateStackConfig(raw: Readonly<Record<string, unknown>>, stack: string): StackConfig<string> {
    const r = new Reader(raw);
    const mode = r.str("mode");
    if (mode !== "docker" && mode !== "external") {
        throw new StackConfigError([key("mode")], [`${key("mode")} must be 'docker' or 'external', got '${mode}'`]);
    }
    const host = r.str("externalHost");
    if (mode === "external" && !host) {
        throw new StackConfigError([key("externalHost")], [`mode 'external' needs ${key("externalHost")} (the existing server's address)`]);
    }
    if (mode === "docker" && host) {
        throw new StackConfigError(
            [key("mode"), key("externalHost")],
            [`${key("externalHost")} is set but ${key("mode")} is 'docker': set mode to 'external' or remove externalHost`],
        );
    }

    const server: DockerServerConfig | ExternalServerConfig =
        mode === "docker"
            ? {
                  mode,
                  image: r.image("image"),
                  hostPort: r.int("hostPort", 1, 65535),
                  containerName: r.str("containerName"),
                  volumeName: r.str("volumeName"),
              }
            : {
                  mode,
                  host,
                  port: r.int("externalPort", 1, 65535),
                  adminUser: r.str("externalAdminUser"),
                  sslmode: r.oneOf("externalSslmode", SSL_MODES),
                  superuser: r.bool("externalSuperuser"),
              };
    const config: Omit<StackConfig<string>, "collectorDatabase"> = {
        stack,
        server,
        adminPassword: r.secret("adminPassword"),
        serverMemoryMb: r.int("serverMemoryMb", 256, 4 * 1024 * 1024),
        serverVersion: server.mode === "docker" ? (imageVersion(server.image) ?? r.version("serverVersion")) : r.version("serverVersion"),
        database: r.ident("database"),
        appRole: r.ident("appRole"),
        ownerRole: r.ident("ownerRole"),
        appPassword: r.secret("appPassword"),
        collectorTimeZone: r.timezone("collectorTimeZone"),
        protect: raw.protect === undefined ? stack !== "dev" : r.bool("protect"),
        serverSettings: r.settings("serverSettings"),
        serverSettingsMode: settingsMode(r.oneOf("serverSettingsMode", SETTINGS_MODE_CHOICES), server),
        dropDataOnDelete: r.bool("dropDataOnDelete"),
    };
    // Validated whether or not sqlitePath is set, so a typo surfaces before the key is needed.
    const migration = migrationConfig(r);
    if (config.dropDataOnDelete && config.protect) {
        r.fail(
            "dropDataOnDelete",
            `${key("dropDataOnDelete")} is true but ${key("protect")} is on: a protected stack keeps its data; set protect false (dev only) or dropDataOnDelete false`,
        );
    }
    const adminUser = server.mode === "docker" ? DOCKER_ADMIN_USER : server.adminUser;
    if (config.appRole === config.ownerRole) r.fail("appRole", `${key("appRole")} and ${key("ownerRole")} must differ`);
    if (adminUser === config.appRole || adminUser === config.ownerRole) {
        r.fail("appRole", `the admin user '${adminUser}' cannot be ${key("appRole")} or ${key("ownerRole")}`);
    }
    const collectorDatabase = collectorDatabaseOf(r.oneOf("collectorDatabase", COLLECTOR_DATABASE_CHOICES), migration.sqlitePath);
    if (collectorDatabase === "sqlite" && !migration.sqlitePath) {
        r.fail("collectorDatabase", `${key("collectorDatabase")} sqlite needs ${key("sqlitePath")}: the collector's file`);
    }
    r.throwIfFailed();
    const withCollector = { ...config, collectorDatabase };
    return migration.sqlitePath ? { ...withCollector, migration } : withCollector;
}

const COLLECTOR_DATABASE_CHOICES = ["auto", ...COLLECTOR_DATABASES] as const;

/** `auto`: the collector stays on its SQLite file while there is one to migrate; without one it uses PostgreSQL. */
function collectorDatabaseOf(choice: (typeof COLLECTOR_DATABASE_CHOICES)[number], sqlitePath: string): CollectorDatabase {
    if (choice !== "auto") return choice;
    return sqlitePath ? "sqlite" : "postgresql";
}

/** `auto`: a managed server's admin (external, not a superuser) cannot ALTER SYSTEM, so report there. */
function settingsMode(
    choice: (typeof SETTINGS_MODE_CHOICES)[number],
    server: DockerServerConfig | ExternalServerConfig,
): ServerSettingsMode {
    if (choice !== "auto") return choice;
    return server.mode === "external" && !server.superuser ? "report" : "apply";
}

/** Reads `gecko-pg:*` from the running stack; passwords come back as Pulumi secrets. */
export function loadStackConfig(): StackConfig {
    const cfg = new pulumi.Config(CONFIG_NAMESPACE);
    const raw: Record<string, unknown> = {};
    for (const k of CONFIG_KEYS) {
        // Plain `get` so presence can be validated; secrets are re-wrapped below before any use.
        const v = cfg.get(k);
        if (v !== undefined) raw[k] = v;
    }
    const c = validateStackConfig(raw, pulumi.getStack());
    // Checked here, at preview, not when the provider first opens it halfway through `up`.
    const migration = c.migration && { ...c.migration, sqlitePath: resolveSqliteSource(c.migration.sqlitePath) };
    return { ...c, migration, adminPassword: pulumi.secret(c.adminPassword), appPassword: pulumi.secret(c.appPassword) };
}

/**
 * The source file the Migration resource reads, resolved against `baseDir` (the
 * project directory), checked at preview time: a missing file is a config error.
 */
export function resolveSqliteSource(sqlitePath: string, baseDir: string = process.cwd()): string {
    const file = path.resolve(baseDir, sqlitePath);
    let isFile = false;
    try {
        isFile = fs.statSync(file).isFile();
    } catch {
        isFile = false;
    }
    if (!isFile) {
        throw new StackConfigError(
            [key("sqlitePath")],
            [
                `${key("sqlitePath")} is '${sqlitePath}' but ${file} does not exist or is not a file: point it at the collector's gecko_data.db, or unset it to skip the migration`,
            ],
        );
    }
    return file;
}

/** `postgres:17.6-bookworm` -> `17.6`. */
export function imageVersion(image: string): string | undefined {
    const m = /:(\d+)\.(\d+)/.exec(image);
    return m ? `${m[1]}.${m[2]}` : undefined;
}

function key(k: string): string {
    return `${CONFIG_NAMESPACE}:${k}`;
}

/** Collects problems field by field; values of secret keys never reach a message. */
class Reader {
    private readonly problems: string[] = [];
    private readonly fields: string[] = [];

    constructor(private readonly raw: Readonly<Record<string, unknown>>) {}

    fail(k: string, problem: string): void {
        this.fields.push(key(k));
        this.problems.push(problem);
    }

    throwIfFailed(): void {
        if (this.problems.length) throw new StackConfigError(this.fields, this.problems);
    }

    private value(k: string): unknown {
        const v = this.raw[k];
        return v === undefined ? (CONFIG_DEFAULTS as Record<string, unknown>)[k] : v;
    }

    str(k: string): string {
        const v = this.value(k);
        if (v === undefined || v === null) return "";
        if (typeof v !== "string") this.fail(k, `${key(k)} must be a string`);
        return String(v).trim();
    }

    secret(k: (typeof SECRET_KEYS)[number]): string {
        const v = this.raw[k];
        if (typeof v !== "string" || v === "") {
            this.fail(k, `${key(k)} is required: pulumi config set --secret ${key(k)} <value>`);
            return "";
        }
        return v;
    }

    int(k: string, min: number, max: number): number {
        const v = this.value(k);
        const n = typeof v === "number" ? v : typeof v === "string" && /^\d+$/.test(v.trim()) ? Number(v) : NaN;
        if (!Number.isInteger(n) || n < min || n > max) this.fail(k, `${key(k)} must be an integer in ${min}..${max}, got '${String(v)}'`);
        return n;
    }

    bool(k: string): boolean {
        const v = this.value(k);
        if (v === true || v === "true") return true;
        if (v === false || v === "false") return false;
        this.fail(k, `${key(k)} must be true or false, got '${String(v)}'`);
        return false;
    }

    oneOf<T extends string>(k: string, allowed: readonly T[]): T {
        const v = this.str(k);
        if (!(allowed as readonly string[]).includes(v)) this.fail(k, `${key(k)} must be one of ${allowed.join(", ")}, got '${v}'`);
        return v as T;
    }

    ident(k: string): string {
        const v = this.str(k);
        if (!isPlainIdentifier(v)) this.fail(k, `${key(k)} must be a lower-case identifier (a-z, 0-9, _), got '${v}'`);
        return v;
    }

    image(k: string): string {
        const v = this.str(k);
        if (!PINNED_IMAGE.test(v))
            this.fail(k, `${key(k)} must be pinned to major.minor or a digest (e.g. postgres:17.6-bookworm), got '${v}'`);
        return v;
    }

    version(k: string): string {
        const v = this.str(k);
        if (!/^\d+(\.\d+)?$/.test(v)) this.fail(k, `${key(k)} must look like 17 or 17.6, got '${v}'`);
        return v;
    }

    timezone(k: string): string {
        const v = this.str(k);
        try {
            new Intl.DateTimeFormat("en-US", { timeZone: v });
        } catch {
            this.fail(k, `${key(k)} must be an IANA time zone such as UTC or Europe/Berlin, got '${v}'`);
        }
        return v;
    }

    /** A JSON object of `"table.column"` -> `"utc"` | `"local"`. */
    clockOverrides(k: string): Record<string, "utc" | "local"> {
        const v = this.json(k, `${key(k)} must be a JSON object of "table.column" -> "utc" | "local"`);
        const out: Record<string, "utc" | "local"> = {};
        for (const [column, clock] of Object.entries(v)) {
            if (!/^[A-Za-z_]\w*\.[A-Za-z_]\w*$/.test(column) || (clock !== "utc" && clock !== "local")) {
                this.fail(k, `${key(k)}.${column} must be "table.column": "utc" | "local", got ${JSON.stringify(clock)}`);
                continue;
            }
            out[column] = clock;
        }
        return out;
    }

    /**
     * `python-repr,utf8` (a comma list, or a list when typed), or `none` for `[]`; in REPAIRS'
     * order without repeats, so the same set is the same input to the Migration resource.
     */
    repairs(k: string): Repair[] {
        const v = this.value(k);
        const names = Array.isArray(v) ? v.map(String) : typeof v === "string" ? v.split(",").map((s) => s.trim()) : [String(v)];
        if (names.length === 1 && names[0] === "none") return [];
        const unknown = names.filter((n) => !(REPAIRS as readonly string[]).includes(n));
        if (unknown.length || !names.length) {
            this.fail(
                k,
                `${key(k)} must be a comma list of ${REPAIRS.join(", ")}, or none, got '${Array.isArray(v) ? v.join(",") : String(v)}'`,
            );
            return [];
        }
        return REPAIRS.filter((x) => names.includes(x));
    }

    /** A JSON object (Pulumi passes structured config as JSON text); `{}` after a failure. */
    private json(k: string, problem: string): Record<string, unknown> {
        let v = this.value(k);
        if (typeof v === "string") {
            try {
                v = JSON.parse(v || "{}");
            } catch {
                this.fail(k, problem);
                return {};
            }
        }
        if (typeof v !== "object" || v === null || Array.isArray(v)) {
            this.fail(k, problem);
            return {};
        }
        return v as Record<string, unknown>;
    }

    /** A JSON object (Pulumi passes structured config as JSON text) of setting -> scalar. */
    settings(k: string): Record<string, string> {
        let v = this.value(k);
        if (typeof v === "string") {
            try {
                v = JSON.parse(v || "{}");
            } catch {
                this.fail(k, `${key(k)} must be a JSON object of setting -> value`);
                return {};
            }
        }
        if (typeof v !== "object" || v === null || Array.isArray(v)) {
            this.fail(k, `${key(k)} must be an object of setting -> value`);
            return {};
        }
        const out: Record<string, string> = {};
        for (const [name, value] of Object.entries(v)) {
            if (!/^[a-z_][a-z0-9_.]*$/.test(name) || !["string", "number", "boolean"].includes(typeof value)) {
                this.fail(k, `${key(k)}.${name} must be a setting name with a string, number or boolean value`);
                continue;
            }
            out[name] = String(value);
        }
        return out;
    }
}
