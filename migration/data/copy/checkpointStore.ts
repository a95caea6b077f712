/**
 * Progress and quarantine, kept in PostgreSQL next to the data so that a
 * chunk's rows, its quarantined rows and its checkpoint commit together.
 *
 * gecko_migration.chunks      the persisted ChunkPlan and each chunk's outcome
 * gecko_migration.tables      per-table plan facts (bucket count, snapshot size)
 * gecko_migration.placeholders parent rows invented by the placeholder orphan policy
 * gecko_migration.sync_state  what the last sync pass saw of the source (page hashes, row counts)
 * gecko_migration.cutovers    each cutover, with its freeze and the source state it switched from
 * gecko_quarantine.rows       rows that could not be migrated, with table, key, column, raw value, reason
 * gecko_quarantine.repairs    values stored in another form than the source's (a repair), the raw form kept
 * gecko_quarantine.set_aside_values  values that could not be stored exactly, NULL in their copied row
 */
import { ident } from "../../postgres/sql";
import type { ClientBase } from "pg";
import type { Chunk } from "../plan/chunkPlan";
import { CHECKSUM_ALGORITHM, type BucketSums } from "../checksum/checksum";
import type { QuarantinedRow, RepairRecord, SetAsideValue } from "./rowEncoder";
import { inTransaction } from "../../postgres/session";

export const CHECKPOINT_DDL = `
CREATE TABLE IF NOT EXISTS gecko_migration.tables (
    table_name     text PRIMARY KEY,
    buckets        integer NOT NULL,
    planned_rows   bigint NOT NULL,
    min_rowid      bigint,
    max_rowid      bigint,
    planned_at     timestamptz NOT NULL DEFAULT now()
);
-- Added in checkpoint format 2; NULL in older stores means md5 checksums.
ALTER TABLE gecko_migration.tables ADD COLUMN IF NOT EXISTS checksum text;
-- The target columns the recorded checksums cover (a schema upgrade adds columns); NULL in older stores.
ALTER TABLE gecko_migration.tables ADD COLUMN IF NOT EXISTS columns text;
CREATE TABLE IF NOT EXISTS gecko_migration.chunks (
    table_name       text NOT NULL REFERENCES gecko_migration.tables (table_name),
    chunk_no         integer NOT NULL,
    rowid_lo         bigint NOT NULL,
    rowid_hi         bigint NOT NULL,
    status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done')),
    rows_read        bigint,
    rows_copied      bigint,
    rows_quarantined bigint,
    rows_filled      bigint,
    bucket_sums      jsonb,
    seconds          double precision,
    copied_at        timestamptz,
    PRIMARY KEY (table_name, chunk_no)
);
CREATE TABLE IF NOT EXISTS gecko_migration.placeholders (
    table_name text NOT NULL,
    row_key    jsonb NOT NULL,
    reason     text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (table_name, row_key)
);
CREATE TABLE IF NOT EXISTS gecko_migration.runs (
    id          bigserial PRIMARY KEY,
    finished_at timestamptz NOT NULL DEFAULT now(),
    ok          boolean NOT NULL,
    report      jsonb NOT NULL
);
-- What the last sync pass saw of the source file: a hash per page and each table's row count (see cutover/pageScan.ts).
CREATE TABLE IF NOT EXISTS gecko_migration.sync_state (
    id            integer PRIMARY KEY CHECK (id = 1),
    page_size     integer NOT NULL,
    schema_cookie bigint NOT NULL,
    page_hashes   bytea NOT NULL,
    row_counts    jsonb NOT NULL,
    fingerprint   text NOT NULL,
    taken_at      timestamptz NOT NULL DEFAULT now()
);
-- Each cutover: when, from which source state, and how long the collector's writes waited.
CREATE TABLE IF NOT EXISTS gecko_migration.cutovers (
    id          bigserial PRIMARY KEY,
    switched_at timestamptz NOT NULL DEFAULT now(),
    fingerprint text NOT NULL,
    report      jsonb NOT NULL
);
CREATE TABLE IF NOT EXISTS gecko_quarantine.rows (
    id             bigserial PRIMARY KEY,
    table_name     text NOT NULL,
    stage          text NOT NULL CHECK (stage IN ('convert', 'constraint', 'orphan')),
    chunk_no       integer,
    source_rowid   bigint,
    row_key        jsonb NOT NULL,
    column_name    text,
    raw_value      text,
    raw_type       text,
    reason         text NOT NULL,
    row_data       jsonb NOT NULL,
    -- set when the row was counted in the source checksums (and must be taken out again)
    bucket         integer,
    row_hash       bigint,
    quarantined_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS rows_table_idx ON gecko_quarantine.rows (table_name, stage);
-- Values recovered exactly from a form their column should not hold (a Python literal in a JSON
-- column): the row is in the target with the recovered value; the raw text is kept here.
CREATE TABLE IF NOT EXISTS gecko_quarantine.repairs (
    id           bigserial PRIMARY KEY,
    table_name   text NOT NULL,
    chunk_no     integer,
    source_rowid bigint,
    row_key      jsonb NOT NULL,
    column_name  text NOT NULL,
    kind         text NOT NULL,
    raw_value    text,
    stored_value text,
    repaired_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS repairs_table_idx ON gecko_quarantine.repairs (table_name, column_name);
-- Values that could not be stored exactly in a nullable column outside every key: the row is in
-- the target with NULL there; the raw value and the reason are kept here until a rerun recovers it.
CREATE TABLE IF NOT EXISTS gecko_quarantine.set_aside_values (
    id           bigserial PRIMARY KEY,
    table_name   text NOT NULL,
    chunk_no     integer,
    source_rowid bigint,
    row_key      jsonb NOT NULL,
    column_name  text NOT NULL,
    raw_value    text,
    raw_type     text,
    reason       text NOT NULL,
    set_aside_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS set_aside_values_table_idx ON gecko_quarantine.set_aside_values (table_name, source_rowid);
`;

export interface ChunkOutcome {
    readonly rowsRead: number;
    readonly rowsCopied: number;
    readonly rowsQuarantined: number;
    readonly rowsFilled: number;
    readonly bucketSums: BucketSums;
    readonly seconds: number;
}

export interface PersistedTablePlan {
    readonly buckets: number;
    readonly chunks: readonly (Chunk & { readonly done: boolean })[];
    /**
     * The checksums recorded so far cover other target columns than `facts.columns`
     * (the schema was upgraded since the copy): validation must re-read the source.
     */
    readonly columnsChanged: boolean;
}

/** Creates the bookkeeping schemas (owned by `ownerRole`) and tables; idempotent. */
export async function ensureCheckpointSchema(client: ClientBase, ownerRole: string): Promise<void> {
    const owner = ident(ownerRole);
    await inTransaction(client, async () => {
        // CREATE SCHEMA needs CREATE on the database, which the session user has and the owner role may not.
        for (const schema of ["gecko_migration", "gecko_quarantine"])
            await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema} AUTHORIZATION ${owner}`);
        await client.query(`SET LOCAL ROLE ${owner}`);
        await client.query(CHECKPOINT_DDL);
    });
}

/**
 * The table's persisted plan, created from `planned` on the first run. A
 * rerun keeps the persisted ranges (so completed chunks stay completed) and
 * appends chunks for rowids beyond the old maximum (rows added since).
 */
export async function loadOrSavePlan(
    client: ClientBase,
    table: string,
    planned: readonly Chunk[],
    facts: { buckets: number; rowCount: number; minRowid: bigint | null; maxRowid: bigint | null; columns: readonly string[] },
): Promise<PersistedTablePlan> {
    const existing = await client.query<{ buckets: number; max_rowid: string | null; checksum: string | null; columns: string | null }>(
        "SELECT buckets, max_rowid, checksum, columns FROM gecko_migration.tables WHERE table_name = $1",
        [table],
    );
    let buckets = facts.buckets;
    const columns = facts.columns.join(",");
    let columnsChanged = false;
    if (existing.rowCount === 0) {
        await client.query(
            "INSERT INTO gecko_migration.tables (table_name, buckets, planned_rows, min_rowid, max_rowid, checksum, columns) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            [
                table,
                buckets,
                facts.rowCount,
                facts.minRowid?.toString() ?? null,
                facts.maxRowid?.toString() ?? null,
                CHECKSUM_ALGORITHM,
                columns,
            ],
        );
        await insertChunks(client, planned);
    } else {
        const made = existing.rows[0].checksum ?? "md5-v1";
        if (made !== CHECKSUM_ALGORITHM) {
            // The recorded source checksums could never match what this version computes on the target.
            throw new Error(
                `${table}: the checkpoints in gecko_migration were recorded with ${made} checksums, this gecko-pg computes ${CHECKSUM_ALGORITHM}; ` +
                    "finish the run with the gecko-pg version that started it, or start over on an empty target database",
            );
        }
        buckets = existing.rows[0].buckets;
        columnsChanged = existing.rows[0].columns !== columns;
        const oldMax = existing.rows[0].max_rowid === null ? null : BigInt(existing.rows[0].max_rowid);
        if (facts.maxRowid !== null && (oldMax === null || facts.maxRowid > oldMax)) {
            const next = await client.query<{ n: number }>(
                "SELECT coalesce(max(chunk_no) + 1, 0) AS n FROM gecko_migration.chunks WHERE table_name = $1",
                [table],
            );
            const lo = oldMax === null ? (facts.minRowid ?? 0n) : oldMax + 1n;
            await insertChunks(client, [{ table, chunkNo: next.rows[0].n, rowidLo: lo, rowidHi: facts.maxRowid }]);
            await client.query("UPDATE gecko_migration.tables SET max_rowid = $2, planned_rows = $3 WHERE table_name = $1", [
                table,
                facts.maxRowid.toString(),
                facts.rowCount,
            ]);
        }
    }
    const rows = await client.query<{ chunk_no: number; rowid_lo: string; rowid_hi: string; status: string }>(
        "SELECT chunk_no, rowid_lo, rowid_hi, status FROM gecko_migration.chunks WHERE table_name = $1 ORDER BY chunk_no",
        [table],
    );
    return {
        buckets,
        columnsChanged,
        chunks: rows.rows.map((r) => ({
            table,
            chunkNo: r.chunk_no,
            rowidLo: BigInt(r.rowid_lo),
            rowidHi: BigInt(r.rowid_hi),
            done: r.status === "done",
        })),
    };
}

async function insertChunks(client: ClientBase, chunks: readonly Chunk[]): Promise<void> {
    for (let i = 0; i < chunks.length; i += 1000) {
        const part = chunks.slice(i, i + 1000);
        await client.query(
            `INSERT INTO gecko_migration.chunks (table_name, chunk_no, rowid_lo, rowid_hi)
             SELECT $1, * FROM unnest($2::int[], $3::bigint[], $4::bigint[])`,
            [part[0].table, part.map((c) => c.chunkNo), part.map((c) => c.rowidLo.toString()), part.map((c) => c.rowidHi.toString())],
        );
    }
}

/** Marks a chunk done inside the caller's transaction; false if it already was (another run). */
export async function completeChunk(client: ClientBase, chunk: Chunk, outcome: ChunkOutcome): Promise<boolean> {
    const r = await client.query(
        `UPDATE gecko_migration.chunks
            SET status = 'done', rows_read = $3, rows_copied = $4, rows_quarantined = $5, rows_filled = $6,
                bucket_sums = $7, seconds = $8, copied_at = now()
          WHERE table_name = $1 AND chunk_no = $2 AND status = 'pending'`,
        [
            chunk.table,
            chunk.chunkNo,
            outcome.rowsRead,
            outcome.rowsCopied,
            outcome.rowsQuarantined,
            outcome.rowsFilled,
            JSON.stringify(outcome.bucketSums.toJSON()),
            outcome.seconds,
        ],
    );
    return r.rowCount === 1;
}

export interface QuarantineRecord {
    readonly stage: "convert" | "constraint";
    readonly row: QuarantinedRow;
    /** Set when the row's hash was already added to the chunk's source sums. */
    readonly counted?: { readonly bucket: number; readonly hash: bigint };
}

/** One column of a batched insert: its name, its SQL array element type, and each record's value. */
interface BatchColumn<R> {
    readonly name: string;
    readonly type: string;
    readonly of: (record: R) => unknown;
}

/**
 * Inserts `records` into `table` 2,000 at a time, each batch one statement over unnest()ed
 * arrays; `fixed` columns get the same value in every row (the table name, the chunk).
 */
async function insertBatched<R>(
    client: ClientBase,
    table: string,
    fixed: Readonly<Record<string, unknown>>,
    columns: readonly BatchColumn<R>[],
    records: readonly R[],
): Promise<void> {
    const fixedNames = Object.keys(fixed);
    const names = [...fixedNames, ...columns.map((c) => c.name)].join(", ");
    const fixedParams = fixedNames.map((_, i) => `$${i + 1}`);
    const arrays = columns.map((c, i) => `$${fixedNames.length + i + 1}::${c.type}[]`).join(", ");
    const aliases = columns.map((_, i) => `c${i}`);
    const sql = `INSERT INTO ${table} (${names}) SELECT ${[...fixedParams, ...aliases].join(", ")} FROM unnest(${arrays}) AS r(${aliases.join(", ")})`;
    for (let i = 0; i < records.length; i += 2000) {
        const part = records.slice(i, i + 2000);
        await client.query(sql, [...Object.values(fixed), ...columns.map((c) => part.map(c.of))]);
    }
}

const REPAIR_COLUMNS: readonly BatchColumn<RepairRecord>[] = [
    { name: "source_rowid", type: "bigint", of: (r) => r.rowid.toString() },
    { name: "row_key", type: "jsonb", of: (r) => JSON.stringify(r.key) },
    { name: "column_name", type: "text", of: (r) => r.column },
    { name: "kind", type: "text", of: (r) => r.kind },
    { name: "raw_value", type: "text", of: (r) => r.rawValue },
    { name: "stored_value", type: "text", of: (r) => r.value },
];

/** The chunk's repaired values, in the chunk's transaction (a chunk redone writes them again with it). */
export async function insertRepairs(
    client: ClientBase,
    table: string,
    chunkNo: number | null,
    records: readonly RepairRecord[],
): Promise<void> {
    await insertBatched(client, "gecko_quarantine.repairs", { table_name: table, chunk_no: chunkNo }, REPAIR_COLUMNS, records);
}

const SET_ASIDE_COLUMNS: readonly BatchColumn<SetAsideValue>[] = [
    { name: "source_rowid", type: "bigint", of: (v) => v.rowid.toString() },
    { name: "row_key", type: "jsonb", of: (v) => JSON.stringify(v.key) },
    { name: "column_name", type: "text", of: (v) => v.column },
    { name: "raw_value", type: "text", of: (v) => v.rawValue },
    { name: "raw_type", type: "text", of: (v) => v.rawType },
    { name: "reason", type: "text", of: (v) => v.reason },
];

/** The chunk's set-aside values, in the chunk's transaction. */
export async function insertSetAside(
    client: ClientBase,
    table: string,
    chunkNo: number | null,
    values: readonly SetAsideValue[],
): Promise<void> {
    await insertBatched(client, "gecko_quarantine.set_aside_values", { table_name: table, chunk_no: chunkNo }, SET_ASIDE_COLUMNS, values);
}

const QUARANTINE_COLUMNS: readonly BatchColumn<QuarantineRecord>[] = [
    { name: "stage", type: "text", of: (r) => r.stage },
    { name: "source_rowid", type: "bigint", of: (r) => r.row.rowid.toString() },
    { name: "row_key", type: "jsonb", of: (r) => JSON.stringify(r.row.key) },
    { name: "column_name", type: "text", of: (r) => r.row.column },
    { name: "raw_value", type: "text", of: (r) => r.row.rawValue },
    { name: "raw_type", type: "text", of: (r) => r.row.rawType },
    { name: "reason", type: "text", of: (r) => r.row.reason },
    { name: "row_data", type: "jsonb", of: (r) => JSON.stringify(r.row.row) },
    { name: "bucket", type: "int", of: (r) => r.counted?.bucket ?? null },
    { name: "row_hash", type: "bigint", of: (r) => r.counted?.hash.toString() ?? null },
];

export async function insertQuarantine(
    client: ClientBase,
    table: string,
    chunkNo: number,
    records: readonly QuarantineRecord[],
): Promise<void> {
    await insertBatched(client, "gecko_quarantine.rows", { table_name: table, chunk_no: chunkNo }, QUARANTINE_COLUMNS, records);
}

/** The cutover recorded in this database and not rolled back, if any: after it, the collector writes here and the source is the past. */
export async function recordedCutover(client: ClientBase): Promise<{ id: string; switchedAt: Date } | undefined> {
    const r = await client.query<{ id: string; switched_at: Date }>(
        "SELECT id::text, switched_at FROM gecko_migration.cutovers WHERE report->>'rolledBackAt' IS NULL ORDER BY id DESC LIMIT 1",
    );
    return r.rows[0] ? { id: r.rows[0].id, switchedAt: r.rows[0].switched_at } : undefined;
}

/** Refuses to write source rows into a target the collector was cut over to (they would overwrite its writes). */
export async function refuseAfterCutover(client: ClientBase, command: string): Promise<void> {
    const cutover = await recordedCutover(client);
    if (cutover)
        throw new Error(
            `${command}: the collector was cut over to this database at ${cutover.switchedAt.toISOString()}; copying from the SQLite file now would overwrite what it wrote since`,
        );
}
