/**
 * Monthly RANGE partitions, pure: planning and SQL. Months are UTC calendar months
 * (ohlcv_data.timestamp is a true epoch). Partitions are named `<table>_pYYYYMM`,
 * the catch-all `<table>_default`; the pg side lives in partitionMaintenance.ts.
 */
import { qualified } from "./ddl";
import { ident } from "../postgres/sql";
import type { PartitioningSpec, TargetTable } from "./types";

/** One planned month: [fromEpoch, toEpoch) in epoch seconds. */
export interface MonthlyPartition {
    readonly name: string;
    /** `2024-01`. */
    readonly month: string;
    readonly fromEpoch: number;
    /** Exclusive: the first second of the next month. */
    readonly toEpoch: number;
}

/** Refuse absurd spans (e.g. milliseconds passed as seconds): 50 years of months. */
export const MAX_PLANNED_MONTHS = 600;

const monthStart = (year: number, month0: number) => Date.UTC(year, month0, 1) / 1000;

/** `<table>_pYYYYMM` for the month containing `epoch`. */
export function partitionNameFor(table: string, epoch: number): string {
    const d = new Date(epoch * 1000);
    return `${table}_p${d.getUTCFullYear()}${String(d.getUTCMonth() + 1).padStart(2, "0")}`;
}

export function defaultPartitionName(table: string): string {
    return `${table}_default`;
}

/**
 * The months covering [fromEpoch, toEpoch] (both inclusive), oldest first:
 * from the month containing fromEpoch through the month containing toEpoch.
 */
export function planMonthlyPartitions(fromEpoch: number, toEpoch: number, table = "ohlcv_data"): MonthlyPartition[] {
    if (!Number.isFinite(fromEpoch) || !Number.isFinite(toEpoch))
        throw new Error(`partition span must be finite epoch seconds, got ${fromEpoch}..${toEpoch}`);
    if (fromEpoch > toEpoch) throw new Error(`partition span is reversed: ${fromEpoch} > ${toEpoch}`);
    const start = new Date(fromEpoch * 1000);
    const end = new Date(toEpoch * 1000);
    const months = (end.getUTCFullYear() - start.getUTCFullYear()) * 12 + end.getUTCMonth() - start.getUTCMonth() + 1;
    if (!(months <= MAX_PLANNED_MONTHS))
        throw new Error(`partition span of ${months} months exceeds ${MAX_PLANNED_MONTHS} (epoch milliseconds instead of seconds?)`);
    const out: MonthlyPartition[] = [];
    for (let i = 0; i < months; i++) {
        const y = start.getUTCFullYear();
        const m = start.getUTCMonth() + i;
        const from = monthStart(y, m);
        const d = new Date(from * 1000);
        out.push({
            name: partitionNameFor(table, from),
            month: `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, "0")}`,
            fromEpoch: from,
            toEpoch: monthStart(y, m + 1),
        });
    }
    return out;
}

/** How pg_get_expr(relpartbound) prints month `p` of an epoch-seconds partitioning. */
export function partitionBoundText(p: MonthlyPartition): string {
    return `FOR VALUES FROM ('${p.fromEpoch}') TO ('${p.toEpoch}')`;
}

/** A bound value as SQL: the epoch itself, or a UTC timestamptz literal. */
export function boundSql(spec: PartitioningSpec, epoch: number): string {
    if (spec.unit === "epoch-seconds") return String(epoch);
    return `'${new Date(epoch * 1000).toISOString().replace("T", " ").replace(".000Z", "+00")}'`;
}

function spec(table: TargetTable): PartitioningSpec {
    if (!table.partitioning) throw new Error(`table ${table.name} is not partitioned`);
    return table.partitioning;
}

export function createPartitionSql(table: TargetTable, p: MonthlyPartition): string {
    const s = spec(table);
    return `CREATE TABLE IF NOT EXISTS ${qualified(p.name)} PARTITION OF ${qualified(table.name)} FOR VALUES FROM (${boundSql(s, p.fromEpoch)}) TO (${boundSql(s, p.toEpoch)})`;
}

export function createDefaultPartitionSql(table: TargetTable): string {
    spec(table);
    return `CREATE TABLE IF NOT EXISTS ${qualified(defaultPartitionName(table.name))} PARTITION OF ${qualified(table.name)} DEFAULT`;
}

/** `"timestamp" >= a AND "timestamp" < b`: the rows of month `p`. */
export function partitionRangePredicate(table: TargetTable, p: MonthlyPartition): string {
    const s = spec(table);
    return `${ident(s.column)} >= ${boundSql(s, p.fromEpoch)} AND ${ident(s.column)} < ${boundSql(s, p.toEpoch)}`;
}

/** Does the DEFAULT partition hold rows of month `p`? One row, column `found`. */
export function defaultHasRowsSql(table: TargetTable, p: MonthlyPartition, defaultPartition = defaultPartitionName(table.name)): string {
    return `SELECT EXISTS (SELECT 1 FROM ${qualified(defaultPartition)} WHERE ${partitionRangePredicate(table, p)}) AS found`;
}

/**
 * Creates month `p` while the DEFAULT partition holds rows of that month (PostgreSQL
 * refuses a plain CREATE then): in ONE transaction, lock the parent, move those rows
 * into a transaction-local table, create the partition, insert them back through the
 * parent (ids kept). Run inside BEGIN/COMMIT; an error rolls everything back.
 */
export function moveDefaultRowsAndCreateSql(
    table: TargetTable,
    p: MonthlyPartition,
    defaultPartition = defaultPartitionName(table.name),
): string[] {
    const tmp = ident(`gecko_move_${p.name}`);
    return [
        `LOCK TABLE ${qualified(table.name)} IN ACCESS EXCLUSIVE MODE`,
        `CREATE TEMP TABLE ${tmp} (LIKE ${qualified(table.name)}) ON COMMIT DROP`,
        `WITH moved AS (DELETE FROM ${qualified(defaultPartition)} WHERE ${partitionRangePredicate(table, p)} RETURNING *) INSERT INTO ${tmp} SELECT * FROM moved`,
        createPartitionSql(table, p),
        `INSERT INTO ${qualified(table.name)} SELECT * FROM ${tmp}`,
    ];
}
