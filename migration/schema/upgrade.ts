/**
 * In-place upgrade of collector tables created by an earlier schema version: the
 * catalog's columns and keys are compared with the planned table and the difference
 * is applied as ALTERs that PostgreSQL does without rewriting a big table:
 *
 * - a missing column is added with a constant DEFAULT equal to its fill (or none), so
 *   existing rows read exactly what the copy would have given them, then gets its
 *   planned DEFAULT (`now()` set afterwards: existing rows stay NULL, not the ALTER's time);
 * - a varchar grows, a numeric gains integer digits at the same scale: binary-coercible,
 *   no rewrite and no index rebuild;
 * - a NOT NULL the plan drops is dropped;
 * - a missing identity column (collection_metadata.id) is added, which numbers the rows
 *   and rewrites that table (a handful of rows); the primary key moves to it and the old
 *   key stays unique;
 * - a missing unique constraint is added after checking the rows, naming duplicates.
 *
 * Anything else (a narrower or other type, a scale change) stops the upgrade with the
 * table, column and both types named: it would need a rewrite or could lose values.
 * The planner is pure (planTableUpgrade); applyTableUpgrade runs its steps.
 */
import type { ClientBase } from "pg";
import { columnSql, columnTypeSql, qualified } from "./ddl";
import { ident, literal } from "../postgres/sql";
import type { TargetColumn, TargetTable } from "./types";

/** A column as the catalog has it. */
export interface ActualColumn {
    readonly name: string;
    /** format_type(), e.g. `character varying(50)`, `numeric(30,18)`. */
    readonly type: string;
    readonly nullable: boolean;
    readonly hasDefault: boolean;
    readonly identity: boolean;
}

export interface ActualTable {
    readonly name: string;
    readonly columns: readonly ActualColumn[];
    readonly primaryKey?: { readonly name: string; readonly columns: readonly string[] };
    /** Names of the table's unique constraints. */
    readonly uniques: readonly string[];
}

export type UpgradeStep =
    | { readonly kind: "add-column"; readonly column: TargetColumn }
    /** `rebuildsIndexes`: the table is partitioned and indexed on the column, so PostgreSQL rebuilds those indexes. */
    | { readonly kind: "widen"; readonly column: TargetColumn; readonly from: string; readonly rebuildsIndexes: boolean }
    | { readonly kind: "drop-not-null"; readonly column: string }
    | { readonly kind: "set-default"; readonly column: TargetColumn }
    | { readonly kind: "move-primary-key"; readonly from: { readonly name: string; readonly columns: readonly string[] } }
    | { readonly kind: "add-unique"; readonly name: string; readonly columns: readonly string[] };

/** format_type() of a planned column type. */
export function catalogTypeName(column: TargetColumn): string {
    const t = column.type;
    switch (t.kind) {
        case "text":
            return t.maxLength === undefined ? "text" : `character varying(${t.maxLength})`;
        case "numeric":
            return `numeric(${t.precision},${t.scale})`;
        case "timestamptz":
            return "timestamp with time zone";
        default:
            return t.kind;
    }
}

/** True when `actual` can become `planned` without a rewrite and without losing a value. */
function widensWithoutRewrite(actual: string, planned: TargetColumn): boolean {
    const t = planned.type;
    if (t.kind === "text") {
        const m = /^character varying\((\d+)\)$/.exec(actual);
        if (m) return t.maxLength === undefined || t.maxLength >= Number(m[1]);
        return actual === "character varying" && t.maxLength === undefined;
    }
    if (t.kind === "numeric") {
        const m = /^numeric\((\d+),(\d+)\)$/.exec(actual);
        return !!m && Number(m[2]) === t.scale && t.precision >= Number(m[1]);
    }
    return false;
}

/** Columns some key or index of the table covers. */
function indexedColumns(t: TargetTable): Set<string> {
    const lists = [t.primaryKey, ...t.uniques.map((u) => u.columns), ...t.indexes.map((i) => i.columns.map((c) => c.split(/\s+/)[0]))];
    return new Set(lists.flat());
}

/** The steps that bring `actual` to `planned`; throws for a difference no safe ALTER covers. */
export function planTableUpgrade(planned: TargetTable, actual: ActualTable): UpgradeStep[] {
    const steps: UpgradeStep[] = [];
    const byName = new Map(actual.columns.map((c) => [c.name, c]));
    for (const column of planned.columns) {
        const found = byName.get(column.name);
        if (!found) {
            if (!column.nullable && !column.identity && (column.appDefault?.fill ?? null) === null) {
                throw new Error(`upgrade ${planned.name}: cannot add NOT NULL column ${column.name} without a value for existing rows`);
            }
            steps.push({ kind: "add-column", column });
            continue;
        }
        const plannedType = catalogTypeName(column);
        if (found.type !== plannedType) {
            if (!widensWithoutRewrite(found.type, column)) {
                throw new Error(
                    `upgrade ${planned.name}.${column.name}: the table has ${found.type}, this version plans ${plannedType}; no in-place change keeps every value without a rewrite`,
                );
            }
            steps.push({
                kind: "widen",
                column,
                from: found.type,
                rebuildsIndexes: !!planned.partitioning && indexedColumns(planned).has(column.name),
            });
        }
        if (!found.nullable && column.nullable) steps.push({ kind: "drop-not-null", column: column.name });
        if (found.nullable && !column.nullable)
            throw new Error(`upgrade ${planned.name}.${column.name}: nullable in the table, NOT NULL in this version`);
        if (!found.hasDefault && !found.identity && column.appDefault && !column.identity) steps.push({ kind: "set-default", column });
    }
    const pk = actual.primaryKey;
    let oldKey: string | undefined;
    if (planned.primaryKey.length && (!pk || pk.columns.join(",") !== planned.primaryKey.join(","))) {
        if (!pk) throw new Error(`upgrade ${planned.name}: the table has no primary key`);
        steps.push({ kind: "move-primary-key", from: pk });
        oldKey = pk.columns.join(",");
    }
    for (const u of planned.uniques) {
        // A unique constraint on the old primary key's columns comes with moving the key.
        if (actual.uniques.includes(u.name) || u.columns.join(",") === oldKey) continue;
        steps.push({ kind: "add-unique", name: u.name, columns: u.columns });
    }
    return steps;
}

/** `ADD COLUMN`: a constant DEFAULT of the fill for existing rows (no rewrite), the planned DEFAULT set separately. */
function addColumnSql(table: TargetTable, column: TargetColumn): string[] {
    const t = qualified(table.name);
    if (column.identity) return [`ALTER TABLE ${t} ADD COLUMN ${columnSql(column)}`];
    const fill = column.appDefault?.fill ?? null;
    const type = columnTypeSql(column.type);
    const add = `ALTER TABLE ${t} ADD COLUMN ${ident(column.name)} ${type}${fill === null ? "" : ` DEFAULT ${literal(fill)}::${type}`}${column.nullable ? "" : " NOT NULL"}`;
    const steps = [add];
    if (column.appDefault) steps.push(`ALTER TABLE ${t} ALTER COLUMN ${ident(column.name)} SET DEFAULT ${column.appDefault.sql}`);
    else if (fill !== null) steps.push(`ALTER TABLE ${t} ALTER COLUMN ${ident(column.name)} DROP DEFAULT`);
    return steps;
}

/** The SQL of one step (pure). */
export function upgradeStepSql(table: TargetTable, step: UpgradeStep): string[] {
    const t = qualified(table.name);
    switch (step.kind) {
        case "add-column":
            return addColumnSql(table, step.column);
        case "widen":
            return [`ALTER TABLE ${t} ALTER COLUMN ${ident(step.column.name)} TYPE ${columnTypeSql(step.column.type)}`];
        case "drop-not-null":
            return [`ALTER TABLE ${t} ALTER COLUMN ${ident(step.column)} DROP NOT NULL`];
        case "set-default":
            return [`ALTER TABLE ${t} ALTER COLUMN ${ident(step.column.name)} SET DEFAULT ${step.column.appDefault!.sql}`];
        case "move-primary-key": {
            const keep = table.uniques.find((u) => u.columns.join(",") === step.from.columns.join(","));
            return [
                `ALTER TABLE ${t} DROP CONSTRAINT ${ident(step.from.name)}`,
                // The old key stays unique when the plan says so (collection_metadata.collector_type).
                ...(keep ? [`ALTER TABLE ${t} ADD CONSTRAINT ${ident(keep.name)} UNIQUE (${keep.columns.map(ident).join(", ")})`] : []),
                `ALTER TABLE ${t} ADD CONSTRAINT ${ident(`${table.name}_pkey`)} PRIMARY KEY (${table.primaryKey.map(ident).join(", ")})`,
            ];
        }
        case "add-unique":
            return [`ALTER TABLE ${t} ADD CONSTRAINT ${ident(step.name)} UNIQUE (${step.columns.map(ident).join(", ")})`];
    }
}

/** One line per step for the change log. */
export function describeUpgradeStep(table: string, step: UpgradeStep): string {
    switch (step.kind) {
        case "add-column":
            return `added column ${table}.${step.column.name}`;
        case "widen":
            return `widened ${table}.${step.column.name} from ${step.from} to ${catalogTypeName(step.column)}${step.rebuildsIndexes ? ` (rebuilt its partitions' indexes on ${step.column.name}: PostgreSQL does not reuse them on a partitioned table)` : ""}`;
        case "drop-not-null":
            return `dropped NOT NULL of ${table}.${step.column}`;
        case "set-default":
            return `set default of ${table}.${step.column.name} to ${step.column.appDefault!.sql}`;
        case "move-primary-key":
            return `moved primary key of ${table} from (${step.from.columns.join(", ")})`;
        case "add-unique":
            return `added unique constraint ${step.name} on ${table}`;
    }
}

/** Reads a table's columns and keys from the catalog. */
export async function readActualTable(client: ClientBase, table: string): Promise<ActualTable> {
    const cols = await client.query<ActualColumn>(
        `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, NOT a.attnotnull AS nullable,
                a.atthasdef AS "hasDefault", a.attidentity <> '' AS identity
           FROM pg_attribute a WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
        [qualified(table)],
    );
    const keys = await client.query<{ name: string; type: string; columns: string[] }>(
        `SELECT k.conname AS name, k.contype::text AS type,
                array(SELECT a.attname::text FROM unnest(k.conkey) WITH ORDINALITY u(n, i) JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.n ORDER BY u.i) AS columns
           FROM pg_constraint k WHERE k.conrelid = to_regclass($1) AND k.contype IN ('p', 'u')`,
        [qualified(table)],
    );
    const pk = keys.rows.find((k) => k.type === "p");
    return {
        name: table,
        columns: cols.rows,
        primaryKey: pk ? { name: pk.name, columns: pk.columns } : undefined,
        uniques: keys.rows.filter((k) => k.type === "u").map((k) => k.name),
    };
}

/** How long an upgrade ALTER waits for a table the collector is using before giving up (a rerun retries). */
const LOCK_TIMEOUT = "10s";

/**
 * Upgrades one existing table in the caller's transaction (already SET ROLE to the
 * owner). Duplicates under a unique constraint to be added stop it with their keys.
 */
export async function applyTableUpgrade(client: ClientBase, planned: TargetTable): Promise<string[]> {
    const steps = planTableUpgrade(planned, await readActualTable(client, planned.name));
    if (steps.length === 0) return [];
    await client.query(`SET LOCAL lock_timeout = '${LOCK_TIMEOUT}'`);
    const changes: string[] = [];
    for (const step of steps) {
        if (step.kind === "add-unique") await refuseDuplicates(client, planned.name, step.name, step.columns);
        for (const sql of upgradeStepSql(planned, step)) {
            try {
                await client.query(sql);
            } catch (cause) {
                const e = cause as { code?: string; message: string };
                const why =
                    e.code === "55P03"
                        ? `could not lock ${planned.name} within ${LOCK_TIMEOUT} (a session is using it); rerun the upgrade`
                        : e.message;
                throw new Error(`upgrade ${planned.name}: ${describeUpgradeStep(planned.name, step)}: ${why}`, { cause });
            }
        }
        changes.push(describeUpgradeStep(planned.name, step));
    }
    await fillQuarantinedOrphans(client, planned, steps);
    return changes;
}

/**
 * Orphans moved to quarantine were target rows; validation hashes them from the row kept
 * there, so they get the new columns' fill like the rows that stayed (NULL needs nothing).
 */
async function fillQuarantinedOrphans(client: ClientBase, planned: TargetTable, steps: readonly UpgradeStep[]): Promise<void> {
    const filled = steps.flatMap((s) =>
        s.kind === "add-column" && !s.column.identity && (s.column.appDefault?.fill ?? null) !== null ? [s.column] : [],
    );
    if (filled.length === 0) return;
    const store = await client.query<{ ok: boolean }>("SELECT to_regclass('gecko_quarantine.rows') IS NOT NULL AS ok");
    if (!store.rows[0].ok) return;
    for (const c of filled) {
        await client.query(
            `UPDATE gecko_quarantine.rows SET row_data = row_data || jsonb_build_object($2::text, $3::${columnTypeSql(c.type)})
              WHERE table_name = $1 AND stage = 'orphan' AND NOT row_data ? $2::text`,
            [planned.name, c.name, c.appDefault!.fill],
        );
    }
}

async function refuseDuplicates(client: ClientBase, table: string, constraint: string, columns: readonly string[]): Promise<void> {
    const list = columns.map(ident).join(", ");
    const r = await client.query<{ key: string; n: string }>(
        `SELECT jsonb_build_object(${columns.map((c) => `${literal(c)}, ${ident(c)}`).join(", ")})::text AS key, count(*)::text AS n FROM ${qualified(table)}
          WHERE ${columns.map((c) => `${ident(c)} IS NOT NULL`).join(" AND ")} GROUP BY ${list} HAVING count(*) > 1 ORDER BY count(*) DESC LIMIT 10`,
    );
    if (r.rows.length === 0) return;
    const keys = r.rows.map((x) => `${x.key} x${x.n}`).join("; ");
    throw new Error(
        `upgrade ${table}: cannot add ${constraint}: rows share (${columns.join(", ")}): ${keys}. ` +
            `Delete or merge the duplicates (a fresh migrate sets them aside in gecko_quarantine.rows), then rerun`,
    );
}
