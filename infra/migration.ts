/**
 * Migration: the SQLite -> PostgreSQL stage (`runMigration`, as the CLI runs it)
 * during `pulumi up`, as a thin dynamic resource. Running, diffing and the
 * failure rules live in infra/providers/migration.ts; each provider method
 * loads that library at call time and calls one function.
 */
import * as pulumi from "@pulumi/pulumi";
import type { AmbiguousTime, OrphanPolicy, Repair } from "../migration/data/options";
import type { ConnectionSpec } from "../migration/postgres/connection";
import { loadLibrary } from "./providers/loadLibrary";

import type { MigrationSummary } from "./providers/migration";

type MigrationLibrary = typeof import("./providers/migration");
export type { MigrationSummary };

export interface MigrationArgs {
    /** Admin connection to the collector database (able to SET ROLE ownerRole); stored as a secret. */
    readonly connection: pulumi.Input<ConnectionSpec>;
    /** Absolute path of the collector's SQLite file (opened read-only). */
    readonly sqlitePath: pulumi.Input<string>;
    /** `sourceFingerprint(sqlitePath)` computed by the program: a changed file triggers an update. */
    readonly sourceFingerprint: pulumi.Input<string>;
    readonly ownerRole?: pulumi.Input<string>;
    readonly appRole?: pulumi.Input<string>;
    /** IANA zone of the host that wrote the source's local-clock columns. Default UTC. */
    readonly sourceTimeZone?: pulumi.Input<string>;
    /** `"table.column": "utc" | "local"`. */
    readonly clockOverrides?: pulumi.Input<Record<string, "utc" | "local">>;
    readonly orphanPolicy?: pulumi.Input<OrphanPolicy>;
    readonly chunkRows?: pulumi.Input<number>;
    /** Succeed even when rows were quarantined. Default false: quarantined rows fail the update. */
    readonly allowQuarantine?: pulumi.Input<boolean>;
    /** Accept a source lacking some of the collector's core tables (created empty). Default false: such a file fails the update. */
    readonly allowMissingTables?: pulumi.Input<boolean>;
    /** Seconds a transient fault (lost connection, restarting server, deadlock) is retried. Default 60; a change reruns nothing. */
    readonly retrySeconds?: pulumi.Input<number>;
    /** Copy the source's tables the collector does not have. Default false: they are listed in the report only. */
    readonly includeExtraTables?: pulumi.Input<boolean>;
    /** Values stored instead of set aside (`[]`: none). Default `["python-repr"]`. */
    readonly repairs?: pulumi.Input<readonly Repair[]>;
    /** An ambiguous or skipped local time nothing in its row decides. Default `quarantine`. */
    readonly ambiguousTime?: pulumi.Input<AmbiguousTime>;
    readonly sampleRows?: pulumi.Input<number>;
    /** TimeZone of the target database (the Schema resource's `timeZone`). */
    readonly databaseTimeZone?: pulumi.Input<string>;
    /** Empty the migrated tables on delete. Default false; dev only. */
    readonly dropOnDelete?: pulumi.Input<boolean>;
    /** Also write each run's full JSON report to this file. */
    readonly reportPath?: pulumi.Input<string>;
}

/** The dynamic provider; exported so tests can call its methods directly. */
export const migrationProvider: pulumi.dynamic.ResourceProvider = {
    async check(olds, news) {
        return loadLibrary<MigrationLibrary>("infra/providers/migration").checkMigration(olds, news);
    },
    async diff(_id, olds, news) {
        return loadLibrary<MigrationLibrary>("infra/providers/migration").diffMigration(olds, news);
    },
    async create(inputs) {
        const ops = loadLibrary<MigrationLibrary>("infra/providers/migration");
        return ops.createMigration(inputs, ops.upLogger());
    },
    async update(_id, olds, news) {
        const ops = loadLibrary<MigrationLibrary>("infra/providers/migration");
        return ops.updateMigration(olds, news, ops.upLogger());
    },
    async delete(_id, props) {
        return loadLibrary<MigrationLibrary>("infra/providers/migration").deleteMigration(props);
    },
};

export class Migration extends pulumi.dynamic.Resource {
    /** `summarize(report)` of the last run: ok, failures, row counts, seconds. No credentials. */
    declare readonly summary: pulumi.Output<MigrationSummary>;
    /** Row id in gecko_migration.runs with the last run's full JSON report. */
    declare readonly reportRunId: pulumi.Output<number>;
    /** Where the last report was written, when `reportPath` is set. */
    declare readonly reportFile: pulumi.Output<string | undefined>;
    /** Extra (non-collector) tables the migration created from the source. */
    declare readonly extraTables: pulumi.Output<string[]>;

    constructor(name: string, args: MigrationArgs, opts: pulumi.CustomResourceOptions = {}) {
        super(
            migrationProvider,
            name,
            {
                ...args,
                // The state keeps the connection for delete: always a secret.
                connection: pulumi.secret(args.connection),
                summary: undefined,
                reportRunId: undefined,
                reportFile: undefined,
                extraTables: undefined,
            },
            { ...opts, additionalSecretOutputs: [...(opts.additionalSecretOutputs ?? []), "connection"] },
            "gecko",
            "Migration",
        );
    }
}
