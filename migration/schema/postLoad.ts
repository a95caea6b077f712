/**
 * Post-load DDL (pg): secondary indexes, foreign keys, identity sequences.
 * Every step reads the catalog first, so rerunning is a no-op. The client must be
 * in autocommit mode (CREATE/DROP INDEX CONCURRENTLY refuse a transaction block).
 */
import type { ClientBase } from "pg";
import {
    addForeignKeySql,
    attachIndexSql,
    createIndexSql,
    dropIndexSql,
    partitionIndexName,
    qualified,
    resetSequenceSql,
    TARGET_SCHEMA,
    validateConstraintSql,
} from "./ddl";
import { RETIRED_INDEXES } from "./tables";
import type { IndexSpec, TargetTable } from "./types";

interface IndexState {
    readonly valid: boolean;
}

const RELATION_KINDS: Readonly<Record<string, string>> = {
    r: "a table",
    p: "a partitioned table",
    v: "a view",
    m: "a materialized view",
    S: "a sequence",
    f: "a foreign table",
    c: "a composite type",
    t: "a TOAST table",
};

/**
 * The index called `name` on `relation` in the target schema, undefined when nothing has the name.
 * Another kind of relation with the name is an error: CREATE INDEX IF NOT EXISTS would
 * skip with a mere notice and leave the index missing.
 */
async function indexState(client: ClientBase, name: string, relation: string): Promise<IndexState | undefined> {
    const r = await client.query<{ kind: string; table: string | null; valid: boolean | null }>(
        `SELECT c.relkind::text AS kind, t.relname AS table, i.indisvalid AS valid
           FROM pg_class c LEFT JOIN pg_index i ON i.indexrelid = c.oid LEFT JOIN pg_class t ON t.oid = i.indrelid
          WHERE c.relnamespace = to_regnamespace($1) AND c.relname = $2`,
        [TARGET_SCHEMA, name],
    );
    const row = r.rows[0];
    if (!row) return undefined;
    if (row.kind !== "i" && row.kind !== "I")
        throw new Error(
            `${name} exists but is not an index (it is ${RELATION_KINDS[row.kind] ?? `relkind ${row.kind}`}): rename or drop it`,
        );
    if (row.table !== relation) throw new Error(`index ${name} exists on ${row.table}, expected on ${relation}`);
    return { valid: row.valid ?? false };
}

/** Creates an index unless a valid one exists; an INVALID leftover of a crashed build is dropped and rebuilt. */
async function ensurePlainIndex(
    client: ClientBase,
    table: TargetTable,
    index: IndexSpec,
    name: string,
    relation: string,
    build: IndexBuild,
    log: string[],
): Promise<void> {
    const state = await indexState(client, name, relation);
    if (state?.valid) return;
    if (state) {
        await client.query(dropIndexSql(name, build.concurrently));
        log.push(`dropped invalid index ${name}`);
    }
    await client.query(createIndexSql(table, index, { concurrently: build.concurrently, on: { relation, name } }));
    log.push(`created index ${name}`);
}

async function partitionsOf(client: ClientBase, table: string): Promise<string[]> {
    const r = await client.query<{ name: string }>(
        `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = to_regclass($1) ORDER BY c.relname`,
        [qualified(table)],
    );
    return r.rows.map((x) => x.name);
}

/** Partitions of `table` that already have a child index attached to `parentIndex`. */
async function attachedPartitions(client: ClientBase, parentIndex: string): Promise<Set<string>> {
    const r = await client.query<{ partition: string }>(
        `SELECT t.relname AS partition
           FROM pg_inherits ih JOIN pg_index ix ON ix.indexrelid = ih.inhrelid JOIN pg_class t ON t.oid = ix.indrelid
          WHERE ih.inhparent = to_regclass($1)`,
        [qualified(parentIndex)],
    );
    return new Set(r.rows.map((x) => x.partition));
}

/**
 * An index on a partitioned table: parent ON ONLY, then per partition lacking an
 * attached child a concurrent build and ATTACH (the parent turns valid when all
 * partitions have one). Partitions created after this get their child automatically.
 */
async function ensurePartitionedIndex(
    client: ClientBase,
    table: TargetTable,
    index: IndexSpec,
    build: IndexBuild,
    log: string[],
): Promise<void> {
    const parent = await indexState(client, index.name, table.name);
    if (!parent) {
        await client.query(createIndexSql(table, index, { only: true }));
        log.push(`created index ${index.name} on only ${table.name}`);
    }
    const attached = await attachedPartitions(client, index.name);
    for (const partition of await partitionsOf(client, table.name)) {
        if (attached.has(partition)) continue;
        const child = partitionIndexName(table, index, partition);
        await ensurePlainIndex(client, table, index, child, partition, build, log);
        await client.query(attachIndexSql(index.name, child));
        log.push(`attached index ${child} to ${index.name}`);
    }
}

/**
 * How indexes are built. `concurrently` (the default) never blocks the collector's
 * writes; without it a build takes one scan instead of two and no waits for other
 * transactions, for a target nobody writes to yet (the migration's own post-load).
 */
export interface IndexBuild {
    readonly concurrently: boolean;
}

/** Builds every planned secondary index of `tables`; returns what changed. */
export async function ensureIndexes(
    client: ClientBase,
    tables: readonly TargetTable[],
    build: IndexBuild = { concurrently: true },
): Promise<string[]> {
    const log: string[] = [];
    for (const table of tables) {
        for (const index of table.indexes) {
            try {
                if (table.partitioning) await ensurePartitionedIndex(client, table, index, build, log);
                else await ensurePlainIndex(client, table, index, index.name, table.name, build, log);
            } catch (cause) {
                throw new Error(`index ${index.name} on ${table.name}: ${(cause as Error).message}`, { cause });
            }
        }
    }
    return log;
}

/**
 * Drops the indexes an earlier schema version made that `tables` no longer plan
 * (RETIRED_INDEXES), only where the index is on that table. An index of the same
 * name on another relation is not ours and stays.
 */
export async function dropRetiredIndexes(
    client: ClientBase,
    tables: readonly TargetTable[],
    build: IndexBuild = { concurrently: true },
): Promise<string[]> {
    const log: string[] = [];
    const planned = new Set(tables.flatMap((t) => t.indexes.map((i) => i.name)));
    for (const retired of RETIRED_INDEXES) {
        if (planned.has(retired.name) || !tables.some((t) => t.name === retired.table)) continue;
        const r = await client.query(
            `SELECT 1 FROM pg_class c JOIN pg_index i ON i.indexrelid = c.oid WHERE c.relnamespace = to_regnamespace($1) AND c.relname = $2 AND i.indrelid = to_regclass($3)`,
            [TARGET_SCHEMA, retired.name, qualified(retired.table)],
        );
        if (!r.rowCount) continue;
        await client.query(dropIndexSql(retired.name, build.concurrently));
        log.push(`dropped retired index ${retired.name} (${retired.why})`);
    }
    return log;
}

/**
 * Adds every planned foreign key. Plain tables: ADD ... NOT VALID, then VALIDATE
 * (the scan holds only SHARE UPDATE EXCLUSIVE). Partitioned tables: PostgreSQL before
 * 18 rejects NOT VALID foreign keys there, so the key is added validating (at post-load
 * the collector is not writing yet). A failed validation (orphan rows) throws and
 * leaves the key NOT VALID; rerun after fixing the data.
 */
export async function ensureForeignKeys(client: ClientBase, tables: readonly TargetTable[]): Promise<string[]> {
    const log: string[] = [];
    for (const table of tables) {
        for (const fk of table.foreignKeys) {
            try {
                const r = await client.query<{ validated: boolean }>(
                    `SELECT convalidated AS validated FROM pg_constraint WHERE conrelid = to_regclass($1) AND conname = $2 AND contype = 'f'`,
                    [qualified(table.name), fk.name],
                );
                let validated = r.rows[0]?.validated;
                if (validated === undefined) {
                    await client.query(addForeignKeySql(table, fk, { notValid: !table.partitioning }));
                    log.push(`added foreign key ${fk.name}`);
                    validated = !!table.partitioning;
                }
                if (!validated) {
                    await client.query(validateConstraintSql(table, fk.name));
                    log.push(`validated foreign key ${fk.name}`);
                }
            } catch (cause) {
                throw new Error(`foreign key ${fk.name} on ${table.name}: ${(cause as Error).message}`, { cause });
            }
        }
    }
    return log;
}

/** Where an identity sequence stands after resetSequences. */
export interface SequencePosition {
    readonly table: string;
    readonly column: string;
    readonly sequence: string;
    /** Largest id in the table; null when empty. */
    readonly maxId: string | null;
    /** The sequence's last value after the reset; null when a fresh sequence of an empty table was left alone. */
    readonly lastValue: string | null;
}

/**
 * The largest integer `column` among the table's quarantined rows (their keys are kept as text);
 * undefined when none, or before a migration made the quarantine.
 */
async function setAsideMaxId(client: ClientBase, table: string, column: string): Promise<bigint | undefined> {
    const exists = await client.query<{ ok: boolean }>(`SELECT to_regclass('gecko_quarantine.rows') IS NOT NULL AS ok`);
    if (!exists.rows[0].ok) return undefined;
    const r = await client.query<{ m: string | null }>(
        `SELECT max((row_key->>$2)::numeric)::text AS m FROM gecko_quarantine.rows
          WHERE table_name = $1 AND row_key->>$2 ~ '^-?[0-9]{1,19}$'`,
        [table, column],
    );
    const m = r.rows[0].m === null ? undefined : BigInt(r.rows[0].m);
    return m !== undefined && m <= 2n ** 63n - 1n ? m : undefined;
}

/**
 * Sets each identity sequence of `tables` past the largest id, quarantined rows included, so the
 * collector's inserts without id continue after the migrated rows and a repaired row fits back.
 * Never moves a sequence backwards; empty tables keep a fresh sequence. Values are text (bigint).
 */
export async function resetSequences(client: ClientBase, tables: readonly TargetTable[]): Promise<SequencePosition[]> {
    const out: SequencePosition[] = [];
    for (const table of tables) {
        for (const column of table.columns.filter((c) => c.identity)) {
            const r = await client.query<{ seq: string; max_id: string | null; last_value: string | null }>(
                resetSequenceSql(table, column.name, await setAsideMaxId(client, table.name, column.name)),
            );
            const row = r.rows[0];
            out.push({ table: table.name, column: column.name, sequence: row.seq, maxId: row.max_id, lastValue: row.last_value });
        }
    }
    return out;
}
