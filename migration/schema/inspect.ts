/**
 * What the target database actually holds versus the plan (pg, read-only): for the
 * validation phase and reports; and the whole target schema as it is (readTargetCatalog),
 * for the preflight. Returns data, judges nothing beyond `ok` flags.
 */
import type { ClientBase } from "pg";
import { MIGRATION_SCHEMA, qualified, TARGET_SCHEMA } from "./ddl";
import { ident } from "../postgres/sql";
import { TARGET_TABLES } from "./tables";
import type { TargetTable } from "./types";

export interface IndexInspection {
    readonly table: string;
    readonly name: string;
    readonly present: boolean;
    /** pg_index.indisvalid; a partitioned parent is valid once every partition has a valid attached child. */
    readonly valid: boolean;
    /** Partitioned tables: each partition's attached child index (null when missing). */
    readonly partitions: readonly { readonly partition: string; readonly index: string | null; readonly valid: boolean }[];
}

export interface ConstraintInspection {
    readonly table: string;
    readonly name: string;
    readonly kind: "primary" | "unique" | "foreign";
    readonly present: boolean;
    /** pg_constraint.convalidated (false for a NOT VALID foreign key). */
    readonly validated: boolean;
}

export interface PartitionInspection {
    readonly table: string;
    readonly name: string;
    /** pg_get_expr(relpartbound): `FOR VALUES FROM ('1704067200') TO ('1706745600')` or `DEFAULT`. */
    readonly bound: string;
    readonly isDefault: boolean;
    /** Estimated rows (pg_class.reltuples; -1 before the first ANALYZE). */
    readonly estimatedRows: number;
}

export interface SequenceInspection {
    readonly table: string;
    readonly column: string;
    readonly sequence: string | null;
    readonly lastValue: string | null;
    readonly isCalled: boolean;
    readonly maxId: string | null;
    /** The next id the sequence hands out is above max(id). */
    readonly ok: boolean;
}

export interface SchemaInspection {
    readonly tables: readonly { readonly name: string; readonly present: boolean; readonly owner: string | null }[];
    readonly indexes: readonly IndexInspection[];
    /** Indexes in the target schema that are neither planned nor behind a constraint. */
    readonly unplannedIndexes: readonly { readonly table: string; readonly name: string }[];
    readonly constraints: readonly ConstraintInspection[];
    readonly partitions: readonly PartitionInspection[];
    readonly sequences: readonly SequenceInspection[];
    /** Relations in the target and bookkeeping schemas (tables, partitions, indexes, sequences) not owned by `ownerRole`; empty when no ownerRole was given. */
    readonly foreignOwned: readonly { readonly name: string; readonly kind: string; readonly owner: string }[];
    readonly versions: readonly {
        readonly version: number;
        readonly checksum: string;
        readonly appliedAt: Date;
        readonly postLoadAt: Date | null;
    }[];
}

/** Inspects the target schema against `tables` (default TARGET_TABLES). */
export async function inspectSchema(
    client: ClientBase,
    options: { readonly tables?: readonly TargetTable[]; readonly ownerRole?: string } = {},
): Promise<SchemaInspection> {
    const tables = options.tables ?? TARGET_TABLES;
    const owners = await tableOwners(client, tables);
    const partitions = await inspectPartitions(client);
    const { indexes, unplannedIndexes } = await inspectIndexes(client, tables, partitions);
    return {
        tables: tables.map((t) => ({ name: t.name, present: owners.has(t.name), owner: owners.get(t.name) ?? null })),
        indexes,
        unplannedIndexes,
        constraints: await inspectConstraints(client, tables),
        partitions,
        sequences: await inspectSequences(
            client,
            tables.filter((x) => owners.has(x.name)),
        ),
        foreignOwned: options.ownerRole ? await foreignOwnedObjects(client, options.ownerRole) : [],
        versions: await recordedVersions(client),
    };
}

/** Owner of each of `tables` that exists. */
async function tableOwners(client: ClientBase, tables: readonly TargetTable[]): Promise<Map<string, string>> {
    const r = await client.query<{ name: string; owner: string }>(
        `SELECT c.relname AS name, pg_get_userbyid(c.relowner) AS owner FROM pg_class c
          WHERE c.relnamespace = to_regnamespace($1) AND c.relname = ANY($2) AND c.relkind IN ('r', 'p')`,
        [TARGET_SCHEMA, tables.map((t) => t.name)],
    );
    return new Map(r.rows.map((x) => [x.name, x.owner]));
}

async function inspectPartitions(client: ClientBase): Promise<PartitionInspection[]> {
    const parts = await client.query<{ table: string; name: string; bound: string; rows: number }>(
        `SELECT p.relname AS table, c.relname AS name, pg_get_expr(c.relpartbound, c.oid) AS bound, c.reltuples::float8 AS rows
           FROM pg_inherits ih JOIN pg_class p ON p.oid = ih.inhparent JOIN pg_class c ON c.oid = ih.inhrelid
          WHERE p.relkind = 'p' AND p.relnamespace = to_regnamespace($1) ORDER BY p.relname, c.relname`,
        [TARGET_SCHEMA],
    );
    return parts.rows.map((r) => ({
        table: r.table,
        name: r.name,
        bound: r.bound,
        isDefault: r.bound === "DEFAULT",
        estimatedRows: r.rows,
    }));
}

/** Each planned index, with its per-partition children; and the indexes no table plans (nor a constraint backs). */
async function inspectIndexes(client: ClientBase, tables: readonly TargetTable[], partitions: readonly PartitionInspection[]) {
    const idx = await client.query<{ table: string; name: string; valid: boolean; constraint_backed: boolean; is_child: boolean }>(
        `SELECT t.relname AS table, c.relname AS name, i.indisvalid AS valid,
                EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = c.oid) AS constraint_backed,
                c.relispartition AS is_child
           FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid
          WHERE c.relnamespace = to_regnamespace($1)`,
        [TARGET_SCHEMA],
    );
    const children = await client.query<{ parent: string; partition: string; index: string; valid: boolean }>(
        `SELECT p.relname AS parent, t.relname AS partition, c.relname AS index, i.indisvalid AS valid
           FROM pg_inherits ih JOIN pg_class p ON p.oid = ih.inhparent JOIN pg_class c ON c.oid = ih.inhrelid
           JOIN pg_index i ON i.indexrelid = c.oid JOIN pg_class t ON t.oid = i.indrelid
          WHERE p.relkind = 'I' AND p.relnamespace = to_regnamespace($1)`,
        [TARGET_SCHEMA],
    );
    const indexes: IndexInspection[] = tables.flatMap((t) =>
        t.indexes.map((i) => {
            const row = idx.rows.find((r) => r.name === i.name && r.table === t.name);
            const kids = children.rows.filter((c) => c.parent === i.name);
            const onPartitions = partitions
                .filter((p) => p.table === t.name)
                .map((p) => {
                    const kid = kids.find((k) => k.partition === p.name);
                    return { partition: p.name, index: kid?.index ?? null, valid: kid?.valid ?? false };
                });
            return { table: t.name, name: i.name, present: !!row, valid: row?.valid ?? false, partitions: onPartitions };
        }),
    );
    const planned = new Set(tables.flatMap((t) => t.indexes.map((i) => i.name)));
    const unplannedIndexes = idx.rows
        .filter((r) => !r.constraint_backed && !r.is_child && !planned.has(r.name))
        .map((r) => ({ table: r.table, name: r.name }));
    return { indexes, unplannedIndexes };
}

/** Each table's primary key, unique constraints and foreign keys: present, and validated. */
async function inspectConstraints(client: ClientBase, tables: readonly TargetTable[]): Promise<ConstraintInspection[]> {
    const cons = await client.query<{ table: string; name: string; validated: boolean }>(
        `SELECT t.relname AS table, k.conname AS name, k.convalidated AS validated
           FROM pg_constraint k JOIN pg_class t ON t.oid = k.conrelid
          WHERE t.relnamespace = to_regnamespace($1) AND k.contype IN ('p', 'u', 'f')`,
        [TARGET_SCHEMA],
    );
    const expected: { table: string; name: string; kind: ConstraintInspection["kind"] }[] = tables.flatMap((t) => [
        { table: t.name, name: `${t.name}_pkey`, kind: "primary" as const },
        ...t.uniques.map((u) => ({ table: t.name, name: u.name, kind: "unique" as const })),
        ...t.foreignKeys.map((f) => ({ table: t.name, name: f.name, kind: "foreign" as const })),
    ]);
    return expected.map((e) => {
        const row = cons.rows.find((r) => r.table === e.table && r.name === e.name);
        return { ...e, present: !!row, validated: row?.validated ?? false };
    });
}

async function inspectSequences(client: ClientBase, present: readonly TargetTable[]): Promise<SequenceInspection[]> {
    const sequences: SequenceInspection[] = [];
    for (const t of present) {
        for (const c of t.columns.filter((x) => x.identity)) sequences.push(await inspectSequence(client, t, c.name));
    }
    return sequences;
}

/** Tables, indexes and sequences in the collector's and the bookkeeping schema not owned by `ownerRole`. */
async function foreignOwnedObjects(client: ClientBase, ownerRole: string): Promise<SchemaInspection["foreignOwned"]> {
    const r = await client.query<{ name: string; kind: string; owner: string }>(
        `SELECT n.nspname || '.' || c.relname AS name, c.relkind::text AS kind, pg_get_userbyid(c.relowner) AS owner
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname IN ($1, $2) AND c.relkind IN ('r', 'p', 'i', 'I', 'S') AND c.relowner <> to_regrole($3)
          ORDER BY 1`,
        [TARGET_SCHEMA, MIGRATION_SCHEMA, ident(ownerRole)],
    );
    return r.rows;
}

/** The schema versions applied to this database, oldest first; none before the bookkeeping schema exists. */
export async function recordedVersions(client: ClientBase): Promise<SchemaInspection["versions"]> {
    const table = qualified("schema_version", MIGRATION_SCHEMA);
    // to_regclass, not a caught error: this may run inside a caller's transaction.
    const exists = await client.query<{ ok: boolean }>("SELECT to_regclass($1) IS NOT NULL AS ok", [table]);
    if (!exists.rows[0].ok) return [];
    const r = await client.query<{ version: number; checksum: string; applied_at: Date; post_load_at: Date | null }>(
        `SELECT version, checksum, applied_at, post_load_at FROM ${table} ORDER BY version`,
    );
    return r.rows.map((x) => ({ version: x.version, checksum: x.checksum, appliedAt: x.applied_at, postLoadAt: x.post_load_at }));
}

async function inspectSequence(client: ClientBase, table: TargetTable, column: string): Promise<SequenceInspection> {
    const seq = await client.query<{ seq: string | null; max_id: string | null }>(
        `SELECT pg_get_serial_sequence($1, $2) AS seq, (SELECT max(${ident(column)}) FROM ${qualified(table.name)})::text AS max_id`,
        [qualified(table.name), column],
    );
    const { seq: sequence, max_id: maxId } = seq.rows[0];
    if (!sequence) return { table: table.name, column, sequence: null, lastValue: null, isCalled: false, maxId, ok: false };
    const state = await client.query<{ last_value: string; is_called: boolean }>(`SELECT last_value::text, is_called FROM ${sequence}`);
    const { last_value: lastValue, is_called: isCalled } = state.rows[0];
    const next = BigInt(lastValue) + (isCalled ? 1n : 0n);
    return { table: table.name, column, sequence, lastValue, isCalled, maxId, ok: maxId === null || next > BigInt(maxId) };
}

/** A relation of the target schema by name: what it is and what it belongs to. */
export interface CatalogRelation {
    readonly name: string;
    /** pg_class.relkind: r table, p partitioned table, i/I index, S sequence, v view, m materialized view, f foreign table. */
    readonly kind: string;
    /** Indexes: the table it indexes. */
    readonly onTable: string | null;
    /** Partitions (and their indexes): the parent. */
    readonly partitionOf: string | null;
    /** Partitions: pg_get_expr(relpartbound), e.g. `FOR VALUES FROM ('1704067200') TO ('1706745600')`. */
    readonly bound: string | null;
    /** Sequences: the `table.column` owning it (identity or serial), else null. */
    readonly ownedBy: string | null;
    readonly owner: string;
    /** Whether the run's owner role is the owner or a member of it (may ALTER it, index it). Null when not asked. */
    readonly ownerRoleOwns: boolean | null;
    /**
     * Tables, views and sequences: whether the run's owner role holds any privilege on it. Without
     * one its GRANT ... ON ALL TABLES/SEQUENCES IN SCHEMA fails on the object. Null when not asked.
     */
    readonly ownerRolePrivileged: boolean | null;
}

/** A column as the catalog has it; `identity` is pg_attribute.attidentity: '' none, 'd' BY DEFAULT, 'a' ALWAYS. */
export interface CatalogColumn {
    readonly name: string;
    /** format_type(), e.g. `character varying(50)`, `numeric(30,18)`. */
    readonly type: string;
    readonly nullable: boolean;
    readonly hasDefault: boolean;
    readonly identity: "" | "d" | "a";
}

/** A primary key, unique constraint or foreign key. */
export interface CatalogKey {
    readonly name: string;
    readonly kind: "primary" | "unique" | "foreign";
    readonly columns: readonly string[];
    /** Foreign keys: the referenced table and columns. */
    readonly references: { readonly table: string; readonly columns: readonly string[] } | null;
}

/** A table (not a partition) with its columns and keys. */
export interface CatalogTable {
    readonly name: string;
    /** pg_get_partkeydef for a partitioned table, e.g. `RANGE ("timestamp")`; null for a plain table. */
    readonly partitionKey: string | null;
    readonly columns: readonly CatalogColumn[];
    readonly keys: readonly CatalogKey[];
}

/** An index (not a partition's child index) with its key columns as pg_get_indexdef prints them. */
export interface CatalogIndex {
    readonly name: string;
    readonly table: string;
    readonly unique: boolean;
    /** Per key column: the column (quoted when PostgreSQL quotes it) or expression. */
    readonly columns: readonly string[];
    /** Per key column: pg_index.indoption (bit 1 DESC, bit 2 NULLS FIRST). */
    readonly options: readonly number[];
    /** pg_get_expr(indpred), e.g. `(volume_usd > (0)::numeric)`; null when not partial. */
    readonly predicate: string | null;
    /** The primary key or unique constraint the index backs, if any. */
    readonly constraint: string | null;
}

/** Everything in the target schema the schema steps could collide with, and the recorded schema versions. */
export interface TargetCatalog {
    readonly relations: readonly CatalogRelation[];
    readonly tables: readonly CatalogTable[];
    readonly indexes: readonly CatalogIndex[];
    readonly versions: readonly { readonly version: number; readonly checksum: string }[];
    /** The role `ownerRoleOwns` and `ownerRolePrivileged` were read for. */
    readonly ownerRole?: string;
}

/**
 * Reads the whole target schema (read-only; runs inside a read-only transaction too);
 * with `ownerRole` (when it exists), whether it owns each relation and holds a privilege on each table and sequence.
 */
export async function readTargetCatalog(client: ClientBase, ownerRole?: string): Promise<TargetCatalog> {
    const relations = await client.query<CatalogRelation>(
        `SELECT c.relname AS name, c.relkind::text AS kind, pg_get_userbyid(c.relowner) AS owner,
                CASE WHEN to_regrole($2) IS NULL THEN NULL
                     WHEN c.relkind = 'S' THEN has_sequence_privilege(to_regrole($2), c.oid, 'USAGE, SELECT, UPDATE')
                     WHEN c.relkind IN ('r', 'p', 'v', 'm', 'f') THEN has_table_privilege(to_regrole($2), c.oid, 'SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER')
                END AS "ownerRolePrivileged",
                CASE WHEN to_regrole($2) IS NOT NULL THEN pg_has_role(to_regrole($2), c.relowner, 'USAGE') END AS "ownerRoleOwns",
                (SELECT t.relname FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid WHERE i.indexrelid = c.oid) AS "onTable",
                (SELECT p.relname FROM pg_inherits ih JOIN pg_class p ON p.oid = ih.inhparent WHERE ih.inhrelid = c.oid AND c.relispartition) AS "partitionOf",
                CASE WHEN c.relispartition AND c.relkind IN ('r', 'p') THEN pg_get_expr(c.relpartbound, c.oid) END AS bound,
                (SELECT t.relname || '.' || a.attname FROM pg_depend d JOIN pg_class t ON t.oid = d.refobjid
                   JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
                  WHERE c.relkind = 'S' AND d.classid = 'pg_class'::regclass AND d.objid = c.oid
                    AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i') LIMIT 1) AS "ownedBy"
           FROM pg_class c WHERE c.relnamespace = to_regnamespace($1) ORDER BY c.relname`,
        [TARGET_SCHEMA, ownerRole === undefined ? null : ident(ownerRole)],
    );
    const columns = await client.query<CatalogColumn & { table: string }>(
        `SELECT t.relname AS table, a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, NOT a.attnotnull AS nullable,
                a.atthasdef AS "hasDefault", a.attidentity::text AS identity
           FROM pg_attribute a JOIN pg_class t ON t.oid = a.attrelid
          WHERE t.relnamespace = to_regnamespace($1) AND t.relkind IN ('r', 'p') AND NOT t.relispartition
            AND a.attnum > 0 AND NOT a.attisdropped ORDER BY t.relname, a.attnum`,
        [TARGET_SCHEMA],
    );
    const keys = await client.query<{
        table: string;
        name: string;
        type: string;
        columns: string[];
        ref_table: string | null;
        ref_columns: string[];
    }>(
        `SELECT t.relname AS table, k.conname AS name, k.contype::text AS type,
                array(SELECT a.attname::text FROM unnest(k.conkey) WITH ORDINALITY u(n, i) JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.n ORDER BY u.i) AS columns,
                r.relname AS ref_table,
                array(SELECT a.attname::text FROM unnest(k.confkey) WITH ORDINALITY u(n, i) JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = u.n ORDER BY u.i) AS ref_columns
           FROM pg_constraint k JOIN pg_class t ON t.oid = k.conrelid LEFT JOIN pg_class r ON r.oid = k.confrelid
          WHERE t.relnamespace = to_regnamespace($1) AND NOT t.relispartition AND k.contype IN ('p', 'u', 'f') AND k.conparentid = 0
          ORDER BY t.relname, k.conname`,
        [TARGET_SCHEMA],
    );
    const tables = await client.query<{ name: string; partition_key: string | null }>(
        `SELECT c.relname AS name, CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END AS partition_key
           FROM pg_class c WHERE c.relnamespace = to_regnamespace($1) AND c.relkind IN ('r', 'p') AND NOT c.relispartition ORDER BY 1`,
        [TARGET_SCHEMA],
    );
    const indexes = await client.query<CatalogIndex>(
        `SELECT c.relname AS name, t.relname AS table, i.indisunique AS unique,
                array(SELECT pg_get_indexdef(i.indexrelid, k, false) FROM generate_series(1, i.indnkeyatts) k ORDER BY k) AS columns,
                array(SELECT i.indoption[k - 1]::int FROM generate_series(1, i.indnkeyatts) k ORDER BY k) AS options,
                pg_get_expr(i.indpred, i.indrelid) AS predicate,
                (SELECT k.conname FROM pg_constraint k WHERE k.conindid = c.oid AND k.contype IN ('p', 'u', 'x') LIMIT 1) AS constraint
           FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid
          WHERE c.relnamespace = to_regnamespace($1) AND NOT c.relispartition ORDER BY c.relname`,
        [TARGET_SCHEMA],
    );
    const kind = { p: "primary", u: "unique", f: "foreign" } as const;
    return {
        relations: relations.rows,
        tables: tables.rows.map((t) => ({
            name: t.name,
            partitionKey: t.partition_key,
            columns: columns.rows.filter((c) => c.table === t.name).map(({ table: _, ...c }) => c),
            keys: keys.rows
                .filter((k) => k.table === t.name)
                .map((k) => ({
                    name: k.name,
                    kind: kind[k.type as keyof typeof kind],
                    columns: k.columns,
                    references: k.ref_table ? { table: k.ref_table, columns: k.ref_columns } : null,
                })),
        })),
        indexes: indexes.rows,
        versions: (await recordedVersions(client)).map((v) => ({ version: v.version, checksum: v.checksum })),
        ...(ownerRole === undefined ? {} : { ownerRole }),
    };
}
