/**
 * The target preflight (pure): what already exists in the target schema against what
 * the run would create, before it creates anything. Without it a table of another shape
 * is found only when the copy reaches it, after the other tables were made, and a column
 * of another type only as checksum mismatches.
 *
 * A conflict is an object the run would create, or rely on, that exists with another
 * shape: a table with other columns, types, nullability, identity or keys; a name the plan
 * gives an index, key, sequence or partition taken by something else; a table of the plan
 * the owner role does not own, or any table it holds no privilege on (the run's ALTERs,
 * index builds and GRANTs would fail on them). Objects the plan
 * makes only after the copy (indexes, foreign keys) may be missing: a resume before
 * post-load. What the target holds beside the plan (another table, an operator's index)
 * is a note, left alone.
 *
 * The recorded schema version says which rule a collector table must meet: this version
 * recorded (a resume or a rerun) or none (nothing gecko-pg made): exactly the plan; an
 * earlier version only: whatever `upgrade` brings to this one (planTableUpgrade).
 */
import { schemaChecksum } from "./ddl";
import type { CatalogColumn, CatalogIndex, CatalogRelation, CatalogTable, TargetCatalog } from "./inspect";
import { defaultPartitionName, partitionBoundText, planMonthlyPartitions } from "./partitions";
import { RETIRED_INDEXES, SCHEMA_VERSION, TARGET_TABLES } from "./tables";
import type { IndexSpec, TargetColumn, TargetTable } from "./types";
import { catalogTypeName, planTableUpgrade } from "./upgrade";

export interface PreflightFindings {
    /** One line per object of another shape than the plan's, naming both shapes: the run must not start. */
    readonly conflicts: readonly string[];
    /** What the target holds beside the plan, left as it is. */
    readonly notes: readonly string[];
}

/** The preflight found conflicts: nothing was created. The CLI exits 3 for it. */
export class TargetConflictError extends Error {
    constructor(readonly conflicts: readonly string[]) {
        super(
            `the target already holds ${conflicts.length} object(s) of another shape than this migration would create; ` +
                `nothing was created or changed. Drop or rename them, or migrate into an empty database:\n` +
                conflicts.map((c) => `  - ${c}`).join("\n"),
        );
        this.name = "TargetConflictError";
    }
}

interface Findings {
    readonly conflicts: string[];
    readonly notes: string[];
}

const RELATION_KINDS: Readonly<Record<string, string>> = {
    r: "a table",
    p: "a partitioned table",
    i: "an index",
    I: "a partitioned index",
    S: "a sequence",
    v: "a view",
    m: "a materialized view",
    f: "a foreign table",
    c: "a composite type",
};

const kindOf = (r: CatalogRelation) =>
    r.partitionOf ? `a partition of ${r.partitionOf}` : (RELATION_KINDS[r.kind] ?? `relkind ${r.kind}`);
const columnList = (columns: readonly string[]) => `(${columns.join(", ")})`;

/**
 * Compares `catalog` (readTargetCatalog) with the tables the run would create (`planned`:
 * the collector's tables with the source's extra columns, and its extra tables).
 */
export function comparePlanWithTarget(catalog: TargetCatalog, planned: readonly TargetTable[]): PreflightFindings {
    const f: Findings = { conflicts: [], notes: [] };
    const recorded = catalog.versions.map((v) => v.version);
    // Only a target an earlier version made, this one not yet applied, is brought up to it in place.
    const upgrading = recorded.length > 0 && !recorded.includes(SCHEMA_VERSION);
    versionConflicts(catalog, f);
    for (const t of planned) {
        reservedNameConflicts(t, catalog, f);
        const relation = catalog.relations.find((r) => r.name === t.name);
        if (!relation) continue;
        if (relation.partitionOf || (relation.kind !== "r" && relation.kind !== "p")) {
            f.conflicts.push(`${t.name} is ${kindOf(relation)} in the target, the plan has a table`);
            continue;
        }
        ownershipConflict(`table ${t.name}`, relation, catalog, f);
        const actual = catalog.tables.find((x) => x.name === t.name)!;
        compareTable(t, actual, catalog, upgrading, f);
    }
    partitionConflicts(planned, catalog, f);
    grantConflicts(planned, catalog, f);
    unplannedNotes(planned, catalog, f);
    return f;
}

/** Post-load builds indexes and keys, and upgrades ALTER, as the owner role: PostgreSQL lets only an owner. */
function ownershipConflict(what: string, r: CatalogRelation, catalog: TargetCatalog, f: Findings): void {
    if (r.ownerRoleOwns !== false) return;
    f.conflicts.push(
        `${what} is owned by ${r.owner} in the target, the plan has it owned by ${catalog.ownerRole}: ` +
            `post-load builds its indexes and keys as ${catalog.ownerRole}, which PostgreSQL allows only an owner (ALTER ... OWNER TO ${catalog.ownerRole})`,
    );
}

/**
 * The run grants the collector's role every table and sequence of the schema, as the owner
 * role: PostgreSQL refuses that GRANT outright on an object the owner role holds no privilege on.
 */
function grantConflicts(planned: readonly TargetTable[], catalog: TargetCatalog, f: Findings): void {
    const names = new Set(planned.map((t) => t.name));
    // The plan's tables and partitions were named already: the owner role must own them.
    const ownershipNamed = (r: CatalogRelation) => r.ownerRoleOwns === false && (names.has(r.name) || names.has(r.partitionOf ?? ""));
    for (const r of catalog.relations.filter((x) => x.ownerRolePrivileged === false && !ownershipNamed(x))) {
        const all = r.kind === "S" ? "sequences" : "tables";
        f.conflicts.push(
            `${r.name} is ${kindOf(r)} owned by ${r.owner} on which ${catalog.ownerRole} holds no privilege: the run's GRANT on all ${all} in the schema fails on it ` +
                `(make ${catalog.ownerRole} its owner, grant ${catalog.ownerRole} a privilege on it, or move it to another schema)`,
        );
    }
}

/** A version newer than this gecko-pg, or this version recorded with other DDL. */
function versionConflicts(catalog: TargetCatalog, f: Findings): void {
    for (const v of catalog.versions) {
        if (v.version > SCHEMA_VERSION)
            f.conflicts.push(
                `gecko_migration.schema_version records schema version ${v.version}, newer than this gecko-pg's ${SCHEMA_VERSION}: use the gecko-pg that made it`,
            );
        const checksum = schemaChecksum(TARGET_TABLES);
        if (v.version === SCHEMA_VERSION && v.checksum !== checksum)
            f.conflicts.push(
                `schema version ${v.version} is recorded with checksum ${v.checksum.slice(0, 12)}… in the target, the plan has ${checksum.slice(0, 12)}…: another build of gecko-pg made it`,
            );
    }
}

/** The names creating `t` takes besides its own: key indexes, planned indexes, identity sequences. */
function reservedNameConflicts(t: TargetTable, catalog: TargetCatalog, f: Findings): void {
    const keyIndexes = [
        ...(t.primaryKey.length ? [{ name: `${t.name}_pkey`, role: `the primary key of ${t.name}` }] : []),
        ...t.uniques.map((u) => ({ name: u.name, role: `a unique constraint of ${t.name}` })),
        ...t.indexes.map((i) => ({ name: i.name, role: `an index on ${t.name}` })),
    ];
    for (const { name, role } of keyIndexes) {
        const r = catalog.relations.find((x) => x.name === name);
        if (!r || ((r.kind === "i" || r.kind === "I") && r.onTable === t.name)) continue;
        const what = r.kind === "i" || r.kind === "I" ? `an index on ${r.onTable}` : kindOf(r);
        f.conflicts.push(`${name} is ${what} in the target, the plan has it as ${role}`);
    }
    for (const c of t.columns.filter((x) => x.identity)) {
        // PostgreSQL's name for the identity sequence; taken, it picks another and the plan's name means something else.
        const name = `${t.name}_${c.name}_seq`;
        const r = catalog.relations.find((x) => x.name === name);
        if (!r || (r.kind === "S" && r.ownedBy === `${t.name}.${c.name}`)) continue;
        const what = r.kind !== "S" ? `is ${kindOf(r)}` : r.ownedBy ? `is owned by ${r.ownedBy}` : "is owned by no column";
        f.conflicts.push(`sequence ${name} ${what} in the target, the plan has it as the identity sequence of ${t.name}.${c.name}`);
    }
}

function compareTable(t: TargetTable, actual: CatalogTable, catalog: TargetCatalog, upgrading: boolean, f: Findings): void {
    const collector = TARGET_TABLES.find((x) => x.name === t.name);
    partitioningConflict(t, actual, f);
    if (upgrading && collector) upgradeConflict(collector, actual, f);
    else keyConflicts(t, actual, f);
    for (const c of t.columns) {
        const found = actual.columns.find((x) => x.name === c.name);
        // An upgrade adds the collector's missing columns, prepareTarget the source's extra ones.
        const added = collector && (upgrading || !collector.columns.some((x) => x.name === c.name));
        if (!found && !added)
            f.conflicts.push(`table ${t.name}: column ${c.name} is missing in the target, the plan has ${catalogTypeName(c)}`);
        if (found && !(upgrading && collector?.columns.some((x) => x.name === c.name))) columnConflicts(t.name, c, found, f);
    }
    for (const c of actual.columns.filter((x) => !t.columns.some((p) => p.name === x.name))) {
        if (!c.nullable && !c.hasDefault && !c.identity)
            f.conflicts.push(
                `table ${t.name}: column ${c.name} (${c.type} NOT NULL, no default) is in the target, the plan has no such column: no row the copy writes can fill it`,
            );
        else
            f.notes.push(
                `table ${t.name}: column ${c.name} (${c.type}) is not the plan's: left as it is, the copy leaves it to its default or NULL`,
            );
    }
    foreignKeyConflicts(t, actual, f);
    for (const i of t.indexes) indexConflict(t.name, i, catalog, f);
}

function partitioningConflict(t: TargetTable, actual: CatalogTable, f: Findings): void {
    const plannedKey = t.partitioning ? `RANGE (${t.partitioning.column})` : null;
    const actualKey = actual.partitionKey?.replace(/"/g, "") ?? null;
    if (plannedKey === actualKey) return;
    const describe = (key: string | null) => (key ? `partitioned by ${key}` : "not partitioned");
    f.conflicts.push(`table ${t.name} is ${describe(actualKey)} in the target, the plan has it ${describe(plannedKey)}`);
}

/** A collector table an earlier version made: what `upgrade` cannot bring to this version. */
function upgradeConflict(collector: TargetTable, actual: CatalogTable, f: Findings): void {
    const pk = actual.keys.find((k) => k.kind === "primary");
    try {
        planTableUpgrade(collector, {
            name: actual.name,
            columns: actual.columns.map((c) => ({ ...c, identity: c.identity !== "" })),
            primaryKey: pk && { name: pk.name, columns: pk.columns },
            uniques: actual.keys.filter((k) => k.kind === "unique").map((k) => k.name),
        });
    } catch (e) {
        f.conflicts.push(`${(e as Error).message.replace(/^upgrade /, "table ")} (an earlier schema version made this target)`);
    }
}

/** Type, nullability, identity and default of a column both have. */
function columnConflicts(table: string, c: TargetColumn, found: CatalogColumn, f: Findings): void {
    const at = `table ${table}: column ${c.name}`;
    const type = catalogTypeName(c);
    if (found.type !== type) f.conflicts.push(`${at} is ${found.type} in the target, the plan has ${type}`);
    if (found.nullable && !c.nullable) f.conflicts.push(`${at} allows NULL in the target, the plan has NOT NULL`);
    if (!found.nullable && c.nullable) f.conflicts.push(`${at} is NOT NULL in the target, the plan allows NULL`);
    if (c.identity && found.identity !== "d") {
        const what =
            found.identity === "a"
                ? "GENERATED ALWAYS AS IDENTITY"
                : `not an identity column${found.hasDefault ? " (it has a default, e.g. serial)" : ""}`;
        f.conflicts.push(`${at} is ${what} in the target, the plan has GENERATED BY DEFAULT AS IDENTITY`);
    }
    if (!c.identity && found.identity) f.conflicts.push(`${at} is an identity column in the target, the plan has none`);
    if (!c.identity && c.appDefault && !found.hasDefault)
        f.conflicts.push(`${at} has no default in the target, the plan has DEFAULT ${c.appDefault.sql}`);
}

/** Primary key and unique constraints: made with the table, so a table without them is not the plan's. */
function keyConflicts(t: TargetTable, actual: CatalogTable, f: Findings): void {
    const pk = actual.keys.find((k) => k.kind === "primary");
    const pkName = `${t.name}_pkey`;
    if (t.primaryKey.length && !pk) f.conflicts.push(`table ${t.name} exists without primary key ${pkName} ${columnList(t.primaryKey)}`);
    else if (t.primaryKey.length && pk && (pk.name !== pkName || !sameList(pk.columns, t.primaryKey)))
        f.conflicts.push(
            `table ${t.name}: primary key is ${pk.name} ${columnList(pk.columns)} in the target, the plan has ${pkName} ${columnList(t.primaryKey)}`,
        );
    for (const u of t.uniques) {
        const k = actual.keys.find((x) => x.name === u.name);
        if (!k) f.conflicts.push(`table ${t.name} exists without unique constraint ${u.name} ${columnList(u.columns)}`);
        else if (k.kind !== "unique" || !sameList(k.columns, u.columns))
            f.conflicts.push(
                `table ${t.name}: ${u.name} is a ${k.kind} key ${columnList(k.columns)} in the target, the plan has a unique constraint ${columnList(u.columns)}`,
            );
    }
}

/** Foreign keys come after the copy: missing is fine, another definition under the plan's name is not. */
function foreignKeyConflicts(t: TargetTable, actual: CatalogTable, f: Findings): void {
    for (const fk of t.foreignKeys) {
        const k = actual.keys.find((x) => x.name === fk.name);
        if (!k) continue;
        const plannedText = `foreign key ${columnList(fk.columns)} -> ${fk.references.table} ${columnList(fk.references.columns)}`;
        const actualText =
            k.kind === "foreign" && k.references
                ? `foreign key ${columnList(k.columns)} -> ${k.references.table} ${columnList(k.references.columns)}`
                : `${k.kind} key ${columnList(k.columns)}`;
        if (actualText !== plannedText)
            f.conflicts.push(`table ${t.name}: ${fk.name} is a ${actualText} in the target, the plan has a ${plannedText}`);
    }
}

/** An index of the plan's name on the plan's table must be the plan's definition (post-load skips an existing one). */
function indexConflict(table: string, i: IndexSpec, catalog: TargetCatalog, f: Findings): void {
    const found = catalog.indexes.find((x) => x.name === i.name && x.table === table);
    if (!found) return;
    const planned = plannedIndexText(i);
    const actual = actualIndexText(found);
    if (actual !== planned) f.conflicts.push(`index ${i.name} on ${table} is ${actual} in the target, the plan has ${planned}`);
}

/** `(pool_id, block_timestamp DESC) WHERE volume_usd>0`: directions as PostgreSQL prints them, defaults left out. */
export function plannedIndexText(i: IndexSpec): string {
    const columns = i.columns.map((entry) => {
        const [name, ...order] = entry.trim().split(/\s+/);
        const words = order.join(" ").toUpperCase();
        const desc = words.startsWith("DESC");
        const nullsFirst = words.endsWith("NULLS FIRST") || (desc && !words.endsWith("NULLS LAST"));
        return name + orderText(desc, nullsFirst);
    });
    return `${columnList(columns)}${i.where ? ` WHERE ${normalPredicate(i.where)}` : ""}`;
}

export function actualIndexText(i: CatalogIndex): string {
    const columns = i.columns.map((c, k) => unquote(c) + orderText((i.options[k] & 1) === 1, (i.options[k] & 2) === 2));
    return `${i.unique ? "UNIQUE " : ""}${columnList(columns)}${i.predicate ? ` WHERE ${normalPredicate(i.predicate)}` : ""}`;
}

/** ASC NULLS LAST and DESC NULLS FIRST are the defaults PostgreSQL leaves out. */
function orderText(desc: boolean, nullsFirst: boolean): string {
    if (!desc) return nullsFirst ? " NULLS FIRST" : "";
    return nullsFirst ? " DESC" : " DESC NULLS LAST";
}

const unquote = (s: string) => (/^"[^"]+"$/.test(s) ? s.slice(1, -1) : s);

/** `(volume_usd > (0)::numeric)` and `volume_usd > 0` alike: casts, parentheses and spaces dropped. */
function normalPredicate(sql: string): string {
    return sql
        .replace(/::[a-z ]+(\([0-9, ]+\))?/gi, "")
        .replace(/[()\s"]/g, "")
        .toLowerCase();
}

/** `ohlcv_data_p202401` and `ohlcv_data_default` belong to the plan's partitioned table, with the plan's bounds. */
function partitionConflicts(planned: readonly TargetTable[], catalog: TargetCatalog, f: Findings): void {
    for (const t of planned.filter((x) => x.partitioning)) {
        const monthly = new RegExp(`^${t.name}_p(\\d{4})(\\d{2})$`);
        for (const r of catalog.relations) {
            const month = monthly.exec(r.name);
            const isDefault = r.name === defaultPartitionName(t.name);
            if (!month && !isDefault) {
                if (r.partitionOf === t.name && r.kind !== "i" && r.kind !== "I")
                    f.conflicts.push(
                        `${r.name} is a partition of ${t.name} (${r.bound}) in the target that the plan does not make: its rows may overlap the plan's months`,
                    );
                continue;
            }
            const bound = isDefault ? "DEFAULT" : monthBound(t, Number(month![1]), Number(month![2]));
            if (r.partitionOf !== t.name)
                f.conflicts.push(`${r.name} is ${kindOf(r)} in the target, the plan has it as a partition of ${t.name}`);
            else if (bound !== null && r.bound !== bound)
                f.conflicts.push(`partition ${r.name} of ${t.name} has bounds ${r.bound} in the target, the plan has ${bound}`);
            else ownershipConflict(`partition ${r.name}`, r, catalog, f);
        }
    }
}

/** The bound the plan gives month `year-month` of `t` (null when not comparable as text). */
function monthBound(t: TargetTable, year: number, month: number): string | null {
    if (t.partitioning?.unit !== "epoch-seconds" || month < 1 || month > 12) return null;
    const epoch = Date.UTC(year, month - 1, 1) / 1000;
    return partitionBoundText(planMonthlyPartitions(epoch, epoch, t.name)[0]);
}

/** Tables beside the plan's; indexes and keys on the plan's tables that it does not make. */
function unplannedNotes(planned: readonly TargetTable[], catalog: TargetCatalog, f: Findings): void {
    const names = new Set(planned.map((t) => t.name));
    for (const r of catalog.relations) {
        if (names.has(r.name) || r.partitionOf || !["r", "p", "v", "m", "f"].includes(r.kind) || r.ownerRolePrivileged === false) continue;
        f.notes.push(
            `${r.name} (${kindOf(r)}) is not the plan's: left as it is` +
                (r.ownerRoleOwns === false ? `; owned by ${r.owner}, not ${catalog.ownerRole}, which the run's schema check reports` : ""),
        );
    }
    for (const t of planned) {
        const actual = catalog.tables.find((x) => x.name === t.name);
        if (!actual) continue;
        for (const k of actual.keys) {
            const plannedKey =
                k.name === `${t.name}_pkey` || t.uniques.some((u) => u.name === k.name) || t.foreignKeys.some((x) => x.name === k.name);
            if (!plannedKey && k.kind !== "primary")
                f.notes.push(
                    `table ${t.name}: ${k.kind} key ${k.name} ${columnList(k.columns)} is not the plan's: kept, the copy sets aside rows it refuses`,
                );
        }
        for (const i of catalog.indexes.filter((x) => x.table === t.name && !x.constraint && !t.indexes.some((p) => p.name === x.name))) {
            const retired = RETIRED_INDEXES.find((x) => x.name === i.name && x.table === t.name);
            f.notes.push(
                retired
                    ? `index ${i.name} on ${t.name} is one an earlier schema version made: post-load drops it (${retired.why})`
                    : `index ${i.name} on ${t.name} ${actualIndexText(i)} is not the plan's: kept, and maintained by every insert`,
            );
        }
    }
}

const sameList = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x, i) => x === b[i]);
