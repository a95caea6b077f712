/**
 * The pure preflight (migration/schema/preflight.ts): an inspected catalog and the planned
 * tables in, conflicts and notes out. The baseline catalog is what a run of this version
 * leaves (built here from the plan, as PostgreSQL prints it); each case changes one thing.
 * The live catalog reader and the run's use of it: preflight.integration.test.ts.
 */
import { describe, expect, it } from "vitest";
import { schemaChecksum } from "../../../migration/schema/ddl";
import type { CatalogIndex, CatalogRelation, CatalogTable, TargetCatalog } from "../../../migration/schema/inspect";
import { comparePlanWithTarget, plannedIndexText, TargetConflictError } from "../../../migration/schema/preflight";
import { SCHEMA_VERSION, TARGET_TABLES, targetTable } from "../../../migration/schema/tables";
import type { TargetTable } from "../../../migration/schema/types";
import { catalogTypeName } from "../../../migration/schema/upgrade";

const relation = (name: string, kind: string, o: Partial<CatalogRelation> = {}): CatalogRelation => ({
    name,
    kind,
    onTable: null,
    partitionOf: null,
    bound: null,
    ownedBy: null,
    owner: "gecko_owner",
    ownerRoleOwns: null,
    ownerRolePrivileged: null,
    ...o,
});

/** `activity_score DESC NULLS LAST` -> column and pg_index.indoption bits. */
function indexColumn(entry: string): { column: string; option: number } {
    const [column, ...order] = entry.split(/\s+/);
    const words = order.join(" ").toUpperCase();
    const desc = words.startsWith("DESC");
    const nullsFirst = words.endsWith("NULLS FIRST") || (desc && !words.endsWith("NULLS LAST"));
    return { column: column === "timestamp" ? '"timestamp"' : column, option: (desc ? 1 : 0) | (nullsFirst ? 2 : 0) };
}

function catalogTable(t: TargetTable, postLoad: boolean): CatalogTable {
    return {
        name: t.name,
        partitionKey: t.partitioning ? `RANGE ("${t.partitioning.column}")` : null,
        columns: t.columns.map((c) => ({
            name: c.name,
            type: catalogTypeName(c),
            nullable: c.nullable,
            hasDefault: Boolean(c.appDefault) && !c.identity,
            identity: c.identity ? "d" : "",
        })),
        keys: [
            ...(t.primaryKey.length ? [{ name: `${t.name}_pkey`, kind: "primary" as const, columns: t.primaryKey, references: null }] : []),
            ...t.uniques.map((u) => ({ name: u.name, kind: "unique" as const, columns: u.columns, references: null })),
            ...(postLoad
                ? t.foreignKeys.map((f) => ({ name: f.name, kind: "foreign" as const, columns: f.columns, references: f.references }))
                : []),
        ],
    };
}

function catalogIndexes(t: TargetTable, postLoad: boolean): CatalogIndex[] {
    const key = (name: string, columns: readonly string[]): CatalogIndex => ({
        name,
        table: t.name,
        unique: true,
        columns: columns.map((c) => indexColumn(c).column),
        options: columns.map(() => 0),
        predicate: null,
        constraint: name,
    });
    return [
        ...(t.primaryKey.length ? [key(`${t.name}_pkey`, t.primaryKey)] : []),
        ...t.uniques.map((u) => key(u.name, u.columns)),
        ...(postLoad
            ? t.indexes.map((i) => ({
                  name: i.name,
                  table: t.name,
                  unique: false,
                  columns: i.columns.map((c) => indexColumn(c).column),
                  options: i.columns.map((c) => indexColumn(c).option),
                  predicate: i.where ? `(${i.where.replace(/(\d+)$/, "($1)::numeric")})` : null,
                  constraint: null,
              }))
            : []),
    ];
}

/** The target a run of this version leaves: tables, keys, sequences, two ohlcv months; with `postLoad` its indexes and foreign keys. */
function planOwn(
    tables: readonly TargetTable[] = TARGET_TABLES,
    o: { postLoad?: boolean; versions?: TargetCatalog["versions"] } = {},
): TargetCatalog {
    const postLoad = o.postLoad ?? true;
    const indexes = tables.flatMap((t) => catalogIndexes(t, postLoad));
    return {
        relations: [
            ...tables.map((t) => relation(t.name, t.partitioning ? "p" : "r")),
            ...indexes.map((i) => relation(i.name, "i", { onTable: i.table })),
            ...tables.flatMap((t) =>
                t.columns
                    .filter((c) => c.identity)
                    .map((c) => relation(`${t.name}_${c.name}_seq`, "S", { ownedBy: `${t.name}.${c.name}` })),
            ),
            relation("ohlcv_data_p202401", "r", { partitionOf: "ohlcv_data", bound: "FOR VALUES FROM ('1704067200') TO ('1706745600')" }),
            relation("ohlcv_data_default", "r", { partitionOf: "ohlcv_data", bound: "DEFAULT" }),
        ],
        tables: tables.map((t) => catalogTable(t, postLoad)),
        indexes,
        versions: o.versions ?? [{ version: SCHEMA_VERSION, checksum: schemaChecksum(TARGET_TABLES) }],
    };
}

/** `catalog` with table `name` changed by `change`. */
function withTable(catalog: TargetCatalog, name: string, change: (t: CatalogTable) => CatalogTable): TargetCatalog {
    return { ...catalog, tables: catalog.tables.map((t) => (t.name === name ? change(t) : t)) };
}

/** An empty target holding only `pools` as another tool made it (no version recorded). */
function foreignPools(change: (t: CatalogTable) => CatalogTable = (t) => t): TargetCatalog {
    const own = planOwn([targetTable("pools")], { postLoad: false, versions: [] });
    return {
        ...withTable(own, "pools", change),
        relations: own.relations.filter((r) => !r.partitionOf),
    };
}

const conflicts = (catalog: TargetCatalog, planned: readonly TargetTable[] = TARGET_TABLES) =>
    comparePlanWithTarget(catalog, planned).conflicts;

describe("comparePlanWithTarget", () => {
    it("an empty target: nothing to say", () => {
        expect(comparePlanWithTarget({ relations: [], tables: [], indexes: [], versions: [] }, TARGET_TABLES)).toEqual({
            conflicts: [],
            notes: [],
        });
    });

    it("the plan's own target, after success and before post-load (a resume), passes", () => {
        expect(comparePlanWithTarget(planOwn(), TARGET_TABLES)).toEqual({ conflicts: [], notes: [] });
        expect(comparePlanWithTarget(planOwn(TARGET_TABLES, { postLoad: false }), TARGET_TABLES)).toEqual({ conflicts: [], notes: [] });
    });

    it("a table exactly the plan's, made by hand (no version recorded), passes", () => {
        expect(conflicts(foreignPools())).toEqual([]);
    });

    it("a pools table with other columns: each missing column named, an unfillable extra one too", () => {
        const catalog = foreignPools((t) => ({
            ...t,
            columns: [
                { name: "id", type: "character varying(200)", nullable: false, hasDefault: false, identity: "" },
                { name: "address", type: "character varying(100)", nullable: false, hasDefault: false, identity: "" },
                { name: "pool_kind", type: "text", nullable: false, hasDefault: false, identity: "" },
                { name: "comment", type: "text", nullable: true, hasDefault: false, identity: "" },
            ],
        }));
        const found = comparePlanWithTarget(catalog, TARGET_TABLES);
        expect(found.conflicts).toContain("table pools: column name is missing in the target, the plan has character varying(200)");
        expect(found.conflicts).toContain("table pools: column metadata_json is missing in the target, the plan has jsonb");
        expect(found.conflicts).toContain(
            "table pools: column pool_kind (text NOT NULL, no default) is in the target, the plan has no such column: no row the copy writes can fill it",
        );
        expect(found.conflicts).toHaveLength(targetTable("pools").columns.length - 2 + 1);
        expect(found.notes).toContain(
            "table pools: column comment (text) is not the plan's: left as it is, the copy leaves it to its default or NULL",
        );
    });

    const column = (name: string, change: Partial<CatalogTable["columns"][number]>) => (t: CatalogTable) => ({
        ...t,
        columns: t.columns.map((c) => (c.name === name ? { ...c, ...change } : c)),
    });

    it.each([
        [
            "another type",
            column("reserve_usd", { type: "numeric(10,2)" }),
            "table pools: column reserve_usd is numeric(10,2) in the target, the plan has numeric(26,8)",
        ],
        [
            "a narrower varchar",
            column("id", { type: "character varying(100)" }),
            "table pools: column id is character varying(100) in the target, the plan has character varying(200)",
        ],
        [
            "NULL allowed",
            column("dex_id", { nullable: true }),
            "table pools: column dex_id allows NULL in the target, the plan has NOT NULL",
        ],
        ["NOT NULL", column("name", { nullable: false }), "table pools: column name is NOT NULL in the target, the plan allows NULL"],
        [
            "no default",
            column("metadata_json", { hasDefault: false }),
            "table pools: column metadata_json has no default in the target, the plan has DEFAULT '{}'::jsonb",
        ],
        ["no primary key", (t: CatalogTable) => ({ ...t, keys: [] }), "table pools exists without primary key pools_pkey (id)"],
        [
            "another primary key",
            (t: CatalogTable) => ({ ...t, keys: [{ name: "pools_pk", kind: "primary" as const, columns: ["address"], references: null }] }),
            "table pools: primary key is pools_pk (address) in the target, the plan has pools_pkey (id)",
        ],
    ])("a hand-made pools table with %s: named, with both shapes", (_, change, line) => {
        expect(conflicts(foreignPools(change))).toEqual([line]);
    });

    it("the same differences on the plan's own target (a resume) are conflicts too", () => {
        const catalog = withTable(planOwn(), "trades", column("price_usd", { type: "numeric(20,8)" }));
        expect(conflicts(catalog)).toEqual(["table trades: column price_usd is numeric(20,8) in the target, the plan has numeric(30,18)"]);
    });

    it("identity columns: serial or ALWAYS instead of BY DEFAULT", () => {
        const serial = withTable(planOwn(), "watchlist", column("id", { identity: "", hasDefault: true }));
        expect(conflicts(serial)).toEqual([
            "table watchlist: column id is not an identity column (it has a default, e.g. serial) in the target, the plan has GENERATED BY DEFAULT AS IDENTITY",
        ]);
        const always = withTable(planOwn(), "watchlist", column("id", { identity: "a" }));
        expect(conflicts(always)).toEqual([
            "table watchlist: column id is GENERATED ALWAYS AS IDENTITY in the target, the plan has GENERATED BY DEFAULT AS IDENTITY",
        ]);
    });

    it("a missing unique constraint, and one over other columns", () => {
        const missing = withTable(planOwn(), "tokens", (t) => ({ ...t, keys: t.keys.filter((k) => k.kind === "primary") }));
        expect(conflicts(missing)).toEqual(["table tokens exists without unique constraint uq_tokens_network_address (network, address)"]);
        const other = withTable(planOwn(), "tokens", (t) => ({
            ...t,
            keys: t.keys.map((k) => (k.kind === "unique" ? { ...k, columns: ["address"] } : k)),
        }));
        expect(conflicts(other)).toEqual([
            "table tokens: uq_tokens_network_address is a unique key (address) in the target, the plan has a unique constraint (network, address)",
        ]);
    });

    it("a name the plan gives a key, an index or a sequence, taken by something else", () => {
        const empty: TargetCatalog = {
            relations: [
                relation("pools_pkey", "i", { onTable: "legacy_pools" }),
                relation("idx_trades_volume_usd", "r"),
                relation("watchlist_id_seq", "S"),
                relation("dexes_id_seq", "S", { ownedBy: "legacy.id" }),
                relation("legacy_pools", "r"),
            ],
            tables: [{ name: "legacy_pools", partitionKey: null, columns: [], keys: [] }],
            indexes: [],
            versions: [],
        };
        const dexes: TargetTable = {
            ...targetTable("dexes"),
            columns: [{ name: "id", type: { kind: "bigint" }, nullable: false, identity: true }],
        };
        const found = comparePlanWithTarget(empty, [dexes, ...TARGET_TABLES.filter((t) => t.name !== "dexes")]);
        expect(found.conflicts).toEqual([
            "sequence dexes_id_seq is owned by legacy.id in the target, the plan has it as the identity sequence of dexes.id",
            "pools_pkey is an index on legacy_pools in the target, the plan has it as the primary key of pools",
            "idx_trades_volume_usd is a table in the target, the plan has it as an index on trades",
            "sequence watchlist_id_seq is owned by no column in the target, the plan has it as the identity sequence of watchlist.id",
        ]);
        expect(found.notes).toEqual([
            "idx_trades_volume_usd (a table) is not the plan's: left as it is",
            "legacy_pools (a table) is not the plan's: left as it is",
        ]);
    });

    it("a table or sequence the owner role holds no privilege on: the run's GRANT on all of the schema's would fail", () => {
        const catalog: TargetCatalog = {
            relations: [
                relation("operator_notes", "r", { owner: "alice", ownerRoleOwns: false, ownerRolePrivileged: false }),
                relation("operator_seq", "S", { owner: "alice", ownerRoleOwns: false, ownerRolePrivileged: false }),
                relation("shared_notes", "r", { owner: "alice", ownerRoleOwns: false, ownerRolePrivileged: true }),
            ],
            tables: [],
            indexes: [],
            versions: [],
            ownerRole: "gecko_owner",
        };
        expect(comparePlanWithTarget(catalog, TARGET_TABLES).notes).toEqual([
            "shared_notes (a table) is not the plan's: left as it is; owned by alice, not gecko_owner, which the run's schema check reports",
        ]);
        expect(conflicts(catalog)).toEqual([
            "operator_notes is a table owned by alice on which gecko_owner holds no privilege: the run's GRANT on all tables in the schema fails on it (make gecko_owner its owner, grant gecko_owner a privilege on it, or move it to another schema)",
            "operator_seq is a sequence owned by alice on which gecko_owner holds no privilege: the run's GRANT on all sequences in the schema fails on it (make gecko_owner its owner, grant gecko_owner a privilege on it, or move it to another schema)",
        ]);
    });

    it("a plan's table or partition the owner role does not own: post-load could not index it", () => {
        const own = planOwn();
        const catalog: TargetCatalog = {
            ...own,
            relations: own.relations.map((r) =>
                r.name === "pools" || r.name === "ohlcv_data_default"
                    ? { ...r, owner: "alice", ownerRoleOwns: false, ownerRolePrivileged: r.name === "pools" }
                    : r,
            ),
            ownerRole: "gecko_owner",
        };
        expect(conflicts(catalog)).toEqual([
            "table pools is owned by alice in the target, the plan has it owned by gecko_owner: post-load builds its indexes and keys as gecko_owner, which PostgreSQL allows only an owner (ALTER ... OWNER TO gecko_owner)",
            "partition ohlcv_data_default is owned by alice in the target, the plan has it owned by gecko_owner: post-load builds its indexes and keys as gecko_owner, which PostgreSQL allows only an owner (ALTER ... OWNER TO gecko_owner)",
        ]);
    });

    it("a planned table name held by a view", () => {
        const catalog: TargetCatalog = { relations: [relation("trades", "v")], tables: [], indexes: [], versions: [] };
        expect(conflicts(catalog)).toEqual(["trades is a view in the target, the plan has a table"]);
    });

    it("an index of the plan's name with another definition; missing ones are post-load's", () => {
        const catalog = planOwn();
        const changed: TargetCatalog = {
            ...catalog,
            indexes: catalog.indexes.map((i) =>
                i.name === "idx_trades_volume_usd"
                    ? { ...i, options: [0], predicate: null }
                    : i.name === "idx_pools_dex_id"
                      ? { ...i, unique: true }
                      : i,
            ),
        };
        expect(conflicts(changed)).toEqual([
            "index idx_pools_dex_id on pools is UNIQUE (dex_id) in the target, the plan has (dex_id)",
            "index idx_trades_volume_usd on trades is (volume_usd) in the target, the plan has (volume_usd DESC) WHERE volume_usd>0",
        ]);
    });

    it("a foreign key of the plan's name pointing elsewhere", () => {
        const catalog = withTable(planOwn(), "trades", (t) => ({
            ...t,
            keys: t.keys.map((k) => (k.kind === "foreign" ? { ...k, references: { table: "dexes", columns: ["id"] } } : k)),
        }));
        expect(conflicts(catalog)).toEqual([
            "table trades: trades_pool_id_fkey is a foreign key (pool_id) -> dexes (id) in the target, the plan has a foreign key (pool_id) -> pools (id)",
        ]);
    });

    it("ohlcv_data: not partitioned, a month of the plan's name elsewhere or with other bounds, a partition the plan does not make", () => {
        const own = planOwn();
        const catalog: TargetCatalog = {
            ...withTable(own, "ohlcv_data", (t) => ({ ...t, partitionKey: null })),
            relations: [
                ...own.relations.filter((r) => !r.partitionOf),
                relation("ohlcv_data_p202402", "r"),
                relation("ohlcv_data_p202403", "r", { partitionOf: "ohlcv_data", bound: "FOR VALUES FROM ('1') TO ('2')" }),
                relation("ohlcv_data_old", "r", { partitionOf: "ohlcv_data", bound: "FOR VALUES FROM ('0') TO ('1')" }),
            ],
        };
        expect(conflicts(catalog)).toEqual([
            "table ohlcv_data is not partitioned in the target, the plan has it partitioned by RANGE (timestamp)",
            "ohlcv_data_p202402 is a table in the target, the plan has it as a partition of ohlcv_data",
            "partition ohlcv_data_p202403 of ohlcv_data has bounds FOR VALUES FROM ('1') TO ('2') in the target, the plan has FOR VALUES FROM ('1709251200') TO ('1711929600')",
            "ohlcv_data_old is a partition of ohlcv_data (FOR VALUES FROM ('0') TO ('1')) in the target that the plan does not make: its rows may overlap the plan's months",
        ]);
    });

    it("an earlier schema version: what upgrade brings in place passes, what it cannot is named", () => {
        const v2 = [{ version: 2, checksum: "v2" }];
        const older = withTable(planOwn(TARGET_TABLES, { versions: v2 }), "pools", (t) => ({
            ...t,
            columns: t.columns
                .filter((c) => c.name !== "metadata_json")
                .map((c) => (c.name === "id" ? { ...c, type: "character varying(100)" } : c)),
        }));
        expect(conflicts(older)).toEqual([]);
        const narrower = withTable(older, "pools", column("reserve_usd", { type: "numeric(20,2)" }));
        expect(conflicts(narrower)).toEqual([
            "table pools.reserve_usd: the table has numeric(20,2), this version plans numeric(26,8); no in-place change keeps every value without a rewrite (an earlier schema version made this target)",
        ]);
    });

    it("a newer schema version, or this one with other DDL", () => {
        expect(conflicts(planOwn(TARGET_TABLES, { versions: [{ version: SCHEMA_VERSION + 1, checksum: "x" }] }))).toEqual([
            `gecko_migration.schema_version records schema version ${SCHEMA_VERSION + 1}, newer than this gecko-pg's ${SCHEMA_VERSION}: use the gecko-pg that made it`,
        ]);
        expect(conflicts(planOwn(TARGET_TABLES, { versions: [{ version: SCHEMA_VERSION, checksum: "0123456789abcdef" }] }))).toEqual([
            `schema version ${SCHEMA_VERSION} is recorded with checksum 0123456789ab… in the target, the plan has ${schemaChecksum(TARGET_TABLES).slice(0, 12)}…: another build of gecko-pg made it`,
        ]);
    });

    it("the source's extra columns are added by the run; an extra table lacking one is a conflict", () => {
        const pools = targetTable("pools");
        const withExtra: TargetTable = {
            ...pools,
            columns: [...pools.columns, { name: "chain_rank", type: { kind: "integer" }, nullable: true }],
        };
        expect(conflicts(planOwn(), [withExtra])).toEqual([]);
        const notes: TargetTable = {
            name: "collector_notes",
            columns: [
                { name: "id", type: { kind: "bigint" }, nullable: false },
                { name: "weight", type: { kind: "numeric", precision: 20, scale: 8 }, nullable: true },
            ],
            primaryKey: ["id"],
            uniques: [],
            foreignKeys: [],
            indexes: [],
            rowKey: ["id"],
        };
        const made = planOwn([{ ...notes, columns: notes.columns.slice(0, 1) }]);
        expect(conflicts(made, [notes])).toEqual([
            "table collector_notes: column weight is missing in the target, the plan has numeric(20,8)",
        ]);
    });

    it("notes what lives beside the plan: an operator's index, a retired index, another unique key", () => {
        const own = planOwn();
        const extra = (name: string, table: string, columns: string[]): CatalogIndex => ({
            name,
            table,
            unique: false,
            columns,
            options: columns.map(() => 0),
            predicate: null,
            constraint: null,
        });
        const catalog: TargetCatalog = {
            ...withTable(own, "pools", (t) => ({
                ...t,
                keys: [...t.keys, { name: "pools_address_key", kind: "unique", columns: ["address"], references: null }],
            })),
            indexes: [...own.indexes, extra("my_pools_name", "pools", ["name"]), extra("idx_tokens_network", "tokens", ["network"])],
        };
        const found = comparePlanWithTarget(catalog, TARGET_TABLES);
        expect(found.conflicts).toEqual([]);
        expect(found.notes).toEqual([
            "index idx_tokens_network on tokens is one an earlier schema version made: post-load drops it (uq_tokens_network_address leads with network)",
            "table pools: unique key pools_address_key (address) is not the plan's: kept, the copy sets aside rows it refuses",
            "index my_pools_name on pools (name) is not the plan's: kept, and maintained by every insert",
        ]);
    });
});

describe("plannedIndexText", () => {
    it.each([
        [{ name: "i", columns: ["a"] }, "(a)"],
        [{ name: "i", columns: ["a DESC"] }, "(a DESC)"],
        [{ name: "i", columns: ["a DESC NULLS LAST", "b ASC NULLS FIRST"] }, "(a DESC NULLS LAST, b NULLS FIRST)"],
        [
            { name: "i", columns: ["pool_id", "block_timestamp"], where: "volume_usd > 1000" },
            "(pool_id, block_timestamp) WHERE volume_usd>1000",
        ],
    ])("%j -> %s", (index, text) => {
        expect(plannedIndexText(index)).toBe(text);
    });
});

describe("TargetConflictError", () => {
    it("one line per conflict under a sentence saying nothing was created", () => {
        const e = new TargetConflictError([
            "table pools exists without primary key pools_pkey (id)",
            "x is a view in the target, the plan has a table",
        ]);
        expect(e.message.split("\n")).toEqual([
            "the target already holds 2 object(s) of another shape than this migration would create; nothing was created or changed. Drop or rename them, or migrate into an empty database:",
            "  - table pools exists without primary key pools_pkey (id)",
            "  - x is a view in the target, the plan has a table",
        ]);
    });
});
