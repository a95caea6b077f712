/**
 * The whole schema as one ordered SQL script (pure), for `--dry-run` and review.
 * It is what applySchema runs against an empty database; applySchema itself reads
 * the catalog first and skips what exists. Run it with psql in autocommit mode:
 * CREATE INDEX CONCURRENTLY cannot run inside a transaction block.
 */
import {
    addForeignKeySql,
    analyzeSql,
    createIndexSql,
    createTableSql,
    grantSql,
    MIGRATION_SCHEMA,
    partitionedIndexSql,
    qualified,
    resetSequenceSql,
    schemaChecksum,
    schemaVersionSql,
    setDatabaseTimeZoneSql,
    setRoleTimeZoneSql,
    TARGET_SCHEMA,
    validateConstraintSql,
    versionGuardSql,
} from "./ddl";
import { ident, literal } from "../postgres/sql";
import { createDefaultPartitionSql, createPartitionSql, defaultPartitionName, planMonthlyPartitions } from "./partitions";
import { SCHEMA_VERSION, TARGET_TABLES } from "./tables";
import type { TargetTable } from "./types";

export interface RenderSchemaOptions {
    readonly ownerRole: string;
    readonly appRole: string;
    /** Default `UTC`. */
    readonly timeZone?: string;
    /** Epoch seconds (inclusive) the monthly partitions cover. */
    readonly partitionSpan: { readonly fromEpoch: number; readonly toEpoch: number };
    readonly tables?: readonly TargetTable[];
}

/** Statements of the `tables` phase, in order. */
export function tablesPhaseSql(o: RenderSchemaOptions): string[] {
    const tables = o.tables ?? TARGET_TABLES;
    const [schemaSql, versionTableSql] = schemaVersionSql(o.ownerRole);
    const partitions = tables
        .filter((t) => t.partitioning)
        .flatMap((t) => [
            ...planMonthlyPartitions(o.partitionSpan.fromEpoch, o.partitionSpan.toEpoch, t.name).map((p) => createPartitionSql(t, p)),
            createDefaultPartitionSql(t),
        ]);
    return [
        setDatabaseTimeZoneSql(o.timeZone ?? "UTC"),
        setRoleTimeZoneSql(o.appRole, o.timeZone ?? "UTC"),
        schemaSql,
        `SET ROLE ${ident(o.ownerRole)}`,
        versionTableSql,
        versionGuardSql(SCHEMA_VERSION, schemaChecksum(tables)),
        ...tables.map(createTableSql),
        `INSERT INTO ${qualified("schema_version", MIGRATION_SCHEMA)} (version, checksum, description) ` +
            `VALUES (${SCHEMA_VERSION}, ${literal(schemaChecksum(tables))}, 'collector schema') ON CONFLICT (version) DO NOTHING`,
        ...partitions,
        ...grantSql(TARGET_SCHEMA, o.appRole),
        "RESET ROLE",
    ];
}

/** Statements of the `post-load` phase for a database whose partitions are those of `o.partitionSpan`. */
export function postLoadPhaseSql(o: RenderSchemaOptions): string[] {
    const tables = o.tables ?? TARGET_TABLES;
    const partitionNames = (t: TargetTable) => [
        ...planMonthlyPartitions(o.partitionSpan.fromEpoch, o.partitionSpan.toEpoch, t.name).map((p) => p.name),
        defaultPartitionName(t.name),
    ];
    const indexes = tables.flatMap((t) =>
        t.indexes.flatMap((i) =>
            t.partitioning ? partitionedIndexSql(t, i, partitionNames(t)) : [createIndexSql(t, i, { concurrently: true })],
        ),
    );
    const fks = tables.flatMap((t) =>
        t.foreignKeys.flatMap((fk) =>
            t.partitioning
                ? [addForeignKeySql(t, fk, { notValid: false })]
                : [addForeignKeySql(t, fk, { notValid: true }), validateConstraintSql(t, fk.name)],
        ),
    );
    const sequences = tables.flatMap((t) => t.columns.filter((c) => c.identity).map((c) => resetSequenceSql(t, c.name)));
    return [
        `SET ROLE ${ident(o.ownerRole)}`,
        ...indexes,
        ...fks,
        ...sequences,
        ...tables.map(analyzeSql),
        ...grantSql(TARGET_SCHEMA, o.appRole),
        `UPDATE ${qualified("schema_version", MIGRATION_SCHEMA)} SET post_load_at = now() WHERE version = ${SCHEMA_VERSION} AND post_load_at IS NULL`,
        "RESET ROLE",
    ];
}

/** The full script: both phases with a header naming version and checksum. */
export function renderSchemaSql(o: RenderSchemaOptions): string {
    const tables = o.tables ?? TARGET_TABLES;
    const lines = [
        `-- gecko-pg target schema version ${SCHEMA_VERSION}, checksum ${schemaChecksum(tables)}`,
        "-- Run in autocommit mode (psql without --single-transaction): CREATE INDEX CONCURRENTLY refuses a transaction block.",
        "",
        "-- phase: tables (before the bulk load)",
        ...tablesPhaseSql(o).map((s) => `${s};`),
        "",
        "-- phase: post-load (after the bulk load)",
        ...postLoadPhaseSql(o).map((s) => `${s};`),
    ];
    return lines.join("\n") + "\n";
}
