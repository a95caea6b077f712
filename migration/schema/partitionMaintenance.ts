/**
 * Creating monthly partitions on a live database (pg side of partitions.ts).
 *
 * Idempotent: existing partitions are checked (bounds must match the plan) and
 * skipped. When the DEFAULT partition already holds rows of a month being created
 * (PostgreSQL would refuse the CREATE), those rows are moved into the new partition
 * in the same transaction (see moveDefaultRowsAndCreateSql). Each month is its own
 * short transaction; the parent is locked ACCESS EXCLUSIVE for it (PostgreSQL takes
 * that lock for CREATE TABLE ... PARTITION OF anyway).
 *
 * Future months: the CLI calls `addFuturePartitions(client, monthsAhead, { ownerRole })`
 * (e.g. from a monthly cron); rows beyond the last month land in the DEFAULT partition
 * and are moved out when their month is created.
 */
import type { ClientBase } from "pg";
import { qualified } from "./ddl";
import {
    createDefaultPartitionSql,
    createPartitionSql,
    defaultHasRowsSql,
    defaultPartitionName,
    moveDefaultRowsAndCreateSql,
    partitionBoundText,
    planMonthlyPartitions,
} from "./partitions";
import { TARGET_TABLES, targetTable } from "./tables";
import type { TargetTable } from "./types";
import { asRoleInTransaction, inTransaction } from "../postgres/session";

export interface PartitionChange {
    readonly partition: string;
    readonly action: "created" | "exists";
    /** Rows moved out of the DEFAULT partition into this one. */
    readonly movedRows: number;
}

export interface EnsurePartitionsOptions {
    /** Run the DDL as this role (SET LOCAL ROLE) so partitions are owned by it. */
    readonly ownerRole?: string;
}

interface ExistingPartition {
    readonly name: string;
    readonly bound: string;
}

async function existingPartitions(client: ClientBase, table: TargetTable): Promise<ExistingPartition[]> {
    const r = await client.query<{ name: string; bound: string }>(
        `SELECT c.relname AS name, pg_get_expr(c.relpartbound, c.oid) AS bound
           FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
          WHERE i.inhparent = to_regclass($1)`,
        [qualified(table.name)],
    );
    return r.rows;
}

/** One transaction, as the owner role when given. */
function ownedTransaction<T>(client: ClientBase, ownerRole: string | undefined, fn: () => Promise<T>): Promise<T> {
    return ownerRole ? asRoleInTransaction(client, ownerRole, fn) : inTransaction(client, fn);
}

/**
 * Ensures monthly partitions of `table` cover [fromEpoch, toEpoch] (epoch seconds,
 * inclusive) and that its DEFAULT partition exists. The client must not be inside a
 * transaction. Throws when a relation with a planned name exists with other bounds
 * or is not a partition of `table`.
 */
export async function ensurePartitions(
    client: ClientBase,
    tableName: string,
    fromEpoch: number,
    toEpoch: number,
    options: EnsurePartitionsOptions = {},
): Promise<PartitionChange[]> {
    const table = targetTable(tableName, TARGET_TABLES);
    if (table.partitioning?.unit !== "epoch-seconds") throw new Error(`ensurePartitions: ${tableName} is not partitioned on epoch seconds`);
    const plan = planMonthlyPartitions(fromEpoch, toEpoch, table.name);
    const existing = await existingPartitions(client, table);
    const defaultPart = existing.find((p) => p.bound === "DEFAULT")?.name;
    const changes: PartitionChange[] = [];

    for (const p of plan) {
        const found = existing.find((e) => e.name === p.name);
        if (found) {
            if (found.bound !== partitionBoundText(p))
                throw new Error(`partition ${p.name} exists with bounds '${found.bound}', expected '${partitionBoundText(p)}'`);
            changes.push({ partition: p.name, action: "exists", movedRows: 0 });
            continue;
        }
        const clash = await client.query("SELECT 1 FROM pg_class WHERE oid = to_regclass($1)", [qualified(p.name)]);
        if (clash.rowCount) throw new Error(`relation ${p.name} exists but is not a partition of ${table.name}`);
        const movedRows = await ownedTransaction(client, options.ownerRole, async () => {
            // Lock first so no row can reach the DEFAULT partition between the check and the CREATE.
            await client.query(`LOCK TABLE ${qualified(table.name)} IN ACCESS EXCLUSIVE MODE`);
            if (defaultPart) {
                const has = await client.query<{ found: boolean }>(defaultHasRowsSql(table, p, defaultPart));
                if (has.rows[0].found) {
                    let moved = 0;
                    for (const [i, sql] of moveDefaultRowsAndCreateSql(table, p, defaultPart).entries()) {
                        const r = await client.query(sql);
                        if (i === 2) moved = r.rowCount ?? 0;
                    }
                    return moved;
                }
            }
            await client.query(createPartitionSql(table, p));
            return 0;
        }).catch((cause: unknown) => {
            throw new Error(`create partition ${p.name}: ${(cause as Error).message}`, { cause });
        });
        changes.push({ partition: p.name, action: "created", movedRows });
    }

    if (!defaultPart) {
        await ownedTransaction(client, options.ownerRole, () => client.query(createDefaultPartitionSql(table)));
        changes.push({ partition: defaultPartitionName(table.name), action: "created", movedRows: 0 });
    }
    return changes;
}

/** Calendar months ahead of `now`: the epoch of the first second of the month `months` after now's. */
export function monthsAfter(now: Date, months: number): number {
    return Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + months, 1) / 1000;
}

/**
 * Ensures partitions of every partitioned target table from the current month
 * through `monthsAhead` months ahead (monthsAhead = 3 in November: Nov..Feb).
 */
export async function addFuturePartitions(
    client: ClientBase,
    monthsAhead: number,
    options: EnsurePartitionsOptions & { readonly now?: Date } = {},
): Promise<PartitionChange[]> {
    if (!Number.isInteger(monthsAhead) || monthsAhead < 0)
        throw new Error(`monthsAhead must be a non-negative integer, got ${monthsAhead}`);
    const now = options.now ?? new Date();
    const out: PartitionChange[] = [];
    for (const t of TARGET_TABLES.filter((x) => x.partitioning)) {
        out.push(...(await ensurePartitions(client, t.name, monthsAfter(now, 0), monthsAfter(now, monthsAhead), options)));
    }
    return out;
}
