/**
 * The gecko-pg stack, in the order of the architecture:
 * config -> PostgresServer -> DatabaseAccess -> ServerSettings (apply, report or off) -> Schema -> Migration -> outputs.
 * The Migration exists only when `gecko-pg:sqlitePath` is set; the Schema then leaves
 * indexes and foreign keys to it (built after the bulk load).
 */
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { collectorConfig as collectorConfigFor, renderEnv } from "../migration/cutover/collectorConfig";
import { planAccess } from "../migration/setup/accessPlan";
import { connectionUrl } from "../migration/postgres/connection";
import { DatabaseAccess } from "./access";
import { sourceFingerprint } from "../migration/data/source/snapshot";
import { loadStackConfig } from "./config";
import { Migration } from "./migration";
import { Schema } from "./schema";
import { PostgresServer } from "./server";
import { ServerSettings, type RestartStrategy } from "./settings";

const config = loadStackConfig();
const s = config.server;

const server = new PostgresServer(
    "server",
    s.mode === "docker"
        ? {
              mode: "docker",
              image: s.image,
              hostPort: s.hostPort,
              containerName: s.containerName,
              volumeName: s.volumeName,
              adminPassword: config.adminPassword,
              memoryMb: config.serverMemoryMb,
              protect: config.protect,
          }
        : { mode: "external", host: s.host, port: s.port, adminUser: s.adminUser, adminPassword: config.adminPassword, sslmode: s.sslmode },
);

// The docker image's admin is the superuser; a managed server's admin usually is not.
const adminIsSuperuser = s.mode === "docker" || s.superuser;
// TimeZone of the app role and the database is not in here: @pulumi/postgresql's Role has no
// per-role settings, so renderTimezoneSql(plan) has to run as SQL in a later (schema) stage.
const plan = planAccess({
    database: config.database,
    ownerRole: config.ownerRole,
    appRole: config.appRole,
    timezone: config.collectorTimeZone,
    nonSuperuserAdmin: s.mode === "external" && !s.superuser ? s.adminUser : undefined,
});

const access = new DatabaseAccess("access", {
    admin: {
        host: server.host,
        port: server.port,
        user: server.adminUser,
        password: config.adminPassword,
        sslmode: server.sslmode,
        superuser: adminIsSuperuser,
        expectedVersion: config.serverVersion,
    },
    plan,
    appPassword: config.appPassword,
    protect: config.protect,
    serverReady: server.ready,
});

// Restart through the same Docker daemon the docker provider uses (DOCKER_HOST when unset).
const dockerHost = new pulumi.Config("docker").get("host");
const restart: pulumi.Input<RestartStrategy> = server.containerName
    ? server.containerName.apply((containerName): RestartStrategy => ({
          kind: "docker",
          containerName,
          ...(dockerHost ? { dockerHost } : {}),
      }))
    : { kind: "none" };

// After access: a docker restart for a setting must not cut the provider's connections mid-grant.
// A managed server refuses ALTER SYSTEM to its admin: there the resource only reports (serverSettingsMode).
const settings =
    config.serverSettingsMode === "off"
        ? undefined
        : new ServerSettings(
              "settings",
              {
                  connection: server.adminConnection,
                  settings: config.serverSettings,
                  serverMemoryMb: config.serverMemoryMb,
                  restart,
                  mode: config.serverSettingsMode,
              },
              { dependsOn: [...server.ready, ...access.ready] },
          );
const afterSettings = settings ? [settings] : [];

// The admin session inside the collector database: applySchema and runMigration SET ROLE to the owner.
const collectorDbAdmin = pulumi.secret(
    pulumi.all([server.adminConnection, access.database]).apply(([admin, database]) => ({ ...admin, database })),
);

// After the settings: a restart for a setting must not cut the DDL or the COPY.
const schema = new Schema(
    "schema",
    {
        connection: collectorDbAdmin,
        ownerRole: access.ownerRole,
        appRole: access.appRole,
        timeZone: config.collectorTimeZone,
        deferPostLoad: config.migration !== undefined,
        dropOnDelete: config.dropDataOnDelete,
    },
    { dependsOn: [...afterSettings, ...access.ready] },
);

const m = config.migration;
const migrationRun =
    m &&
    new Migration(
        "migration",
        {
            connection: collectorDbAdmin,
            sqlitePath: m.sqlitePath,
            // Computed on every preview/up: a grown or rewritten source file is an update (a rerun copying the new rows).
            sourceFingerprint: sourceFingerprint(m.sqlitePath),
            ownerRole: access.ownerRole,
            appRole: access.appRole,
            sourceTimeZone: m.sourceTimeZone,
            clockOverrides: m.clockOverrides,
            orphanPolicy: m.orphanPolicy,
            chunkRows: m.chunkRows,
            allowQuarantine: m.allowQuarantine,
            allowMissingTables: m.allowMissingTables,
            retrySeconds: m.retrySeconds,
            includeExtraTables: m.includeExtraTables,
            repairs: m.repairs,
            ambiguousTime: m.ambiguousTime,
            databaseTimeZone: config.collectorTimeZone,
            dropOnDelete: config.dropDataOnDelete,
        },
        { dependsOn: [schema, ...afterSettings, ...access.ready] },
    );

/** The collector's PostgreSQL URL; secret (password inside, URL-encoded by connectionUrl). */
export const collectorDatabaseUrl = pulumi.secret(
    pulumi
        .all([server.host, server.port, access.appRole, config.appPassword, access.database])
        .apply(([host, port, user, password, database]) => connectionUrl({ host, port, user, password, database })),
);
/** Which database the collector is pointed at; plain, so `pulumi preview` shows the flip at the cutover. */
export const collectorDatabase = config.collectorDatabase;
/**
 * The collector's configuration for that database: config.yaml's `database:` block and the
 * environment lines, with the SQLite file as the rollback fallback. Secret: the password is inside.
 */
export const collectorConfig = pulumi.secret(
    pulumi
        .all([server.host, server.port, access.appRole, config.appPassword, access.database])
        .apply(([host, port, user, password, database]) => {
            const c = collectorConfigFor({
                database: config.collectorDatabase,
                sqlitePath: config.migration && path.resolve(config.migration.sqlitePath),
                postgres: { host, port, user, database },
                password,
            });
            return { database: c.database, url: c.url, yaml: c.yaml, env: renderEnv(c.env) };
        }),
);
export const host = server.host;
export const port = server.port;
export const database = access.database;
export const appRole = access.appRole;
export const ownerRole = access.ownerRole;
export const containerName = server.containerName;
export const effectiveSettings = settings?.effective;
export const pendingRestart = settings?.pendingRestart;
/** serverSettingsMode report: the settings to set in the server's parameter group (desired vs in effect). */
export const parameterGroup = settings?.parameterGroup;
export const schemaVersion = schema.version;
/**
 * The last run's summary (ok, failures, row counts) and the gecko_migration.runs row holding
 * its full report; undefined without gecko-pg:sqlitePath. Contains no password.
 */
export const migration =
    migrationRun &&
    pulumi.all([migrationRun.summary, migrationRun.reportRunId]).apply(([summary, reportRunId]) => ({ ...summary, reportRunId }));
