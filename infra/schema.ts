/**
 * Schema: the collector tables in the collector database, as a thin dynamic
 * resource. The apply, diff and drop logic live in infra/providers/schema.ts;
 * each provider method loads that library at call time and calls one function.
 */
import * as pulumi from "@pulumi/pulumi";
import type { ConnectionSpec } from "../migration/postgres/connection";
import { loadLibrary } from "./providers/loadLibrary";

type SchemaLibrary = typeof import("./providers/schema");

export interface SchemaArgs {
    /** Admin connection to the collector database (able to SET ROLE ownerRole); stored as a secret. */
    readonly connection: pulumi.Input<ConnectionSpec>;
    readonly ownerRole: pulumi.Input<string>;
    readonly appRole: pulumi.Input<string>;
    /** Database TimeZone for new sessions. Default `UTC`. */
    readonly timeZone?: pulumi.Input<string>;
    /**
     * True when a Migration resource follows: only the `tables` phase runs here and the
     * migration builds indexes and foreign keys after its bulk load (faster). False: both
     * phases, so an empty database is ready for the collector.
     */
    readonly deferPostLoad: pulumi.Input<boolean>;
    /** Drop the collector tables and the gecko_migration/gecko_quarantine schemas on delete. Default false; dev only. */
    readonly dropOnDelete?: pulumi.Input<boolean>;
}

/** The dynamic provider; exported so tests can call its methods directly. */
export const schemaProvider: pulumi.dynamic.ResourceProvider = {
    async check(olds, news) {
        return loadLibrary<SchemaLibrary>("infra/providers/schema").checkSchema(olds, news);
    },
    async diff(_id, olds, news) {
        return loadLibrary<SchemaLibrary>("infra/providers/schema").diffSchema(olds, news);
    },
    async create(inputs) {
        return loadLibrary<SchemaLibrary>("infra/providers/schema").createSchema(inputs);
    },
    async update(_id, olds, news) {
        return loadLibrary<SchemaLibrary>("infra/providers/schema").updateSchema(olds, news);
    },
    async delete(_id, props) {
        return loadLibrary<SchemaLibrary>("infra/providers/schema").deleteSchema(props);
    },
};

export class Schema extends pulumi.dynamic.Resource {
    /** SCHEMA_VERSION applied. */
    declare readonly version: pulumi.Output<number>;
    /** sha256 of the versioned DDL. */
    declare readonly checksum: pulumi.Output<string>;
    /** Collector tables present after the apply. */
    declare readonly tables: pulumi.Output<string[]>;
    /** Changes the last create/update made (0 when everything was in place). */
    declare readonly changes: pulumi.Output<number>;
    /** `applied` or `deferred` (to the migration). */
    declare readonly postLoad: pulumi.Output<"applied" | "deferred">;

    constructor(name: string, args: SchemaArgs, opts: pulumi.CustomResourceOptions = {}) {
        super(
            schemaProvider,
            name,
            {
                ...args,
                // The state keeps the connection for delete: always a secret.
                connection: pulumi.secret(args.connection),
                version: undefined,
                checksum: undefined,
                tables: undefined,
                changes: undefined,
                postLoad: undefined,
            },
            { ...opts, additionalSecretOutputs: [...(opts.additionalSecretOutputs ?? []), "connection"] },
            "gecko",
            "Schema",
        );
    }
}
