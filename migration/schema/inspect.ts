/**
 * What the target database actually holds versus the plan (pg, read-only): for the
 * validation phase and reports. Returns data, judges nothing beyond `ok` flags.
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
