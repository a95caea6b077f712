import { Client } from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applySchema, type ApplySchemaOptions } from "../../../migration/schema/applySchema";
import { schemaChecksum } from "../../../migration/schema/ddl";
import { inspectSchema } from "../../../migration/schema/inspect";
import { addFuturePartitions, ensurePartitions } from "../../../migration/schema/partitionMaintenance";
import { renderSchemaSql } from "../../../migration/schema/render";
import { SCHEMA_VERSION, TARGET_TABLES } from "../../../migration/schema/tables";
import type { TargetTable } from "../../../migration/schema/types";
import { createSchemaFixture, utcEpoch, type SchemaFixture } from "../../support/schemaFixtures";

const NOW = new Date("2024-01-15T00:00:00Z");
const SPAN = { fromEpoch: utcEpoch("2023-12-05T00:00:00Z"), toEpoch: utcEpoch("2024-01-20T00:00:00Z") };
const EXPECTED_BOUNDS = [
    ["ohlcv_data_default", "DEFAULT"],
    ["ohlcv_data_p202312", "FOR VALUES FROM ('1701388800') TO ('1704067200')"],
    ["ohlcv_data_p202401", "FOR VALUES FROM ('1704067200') TO ('1706745600')"],
    ["ohlcv_data_p202402", "FOR VALUES FROM ('1706745600') TO ('1709251200')"],
];

/** What the copy does: explicit ids, straight into the tables. */
async function loadSample(f: SchemaFixture): Promise<void> {
    await f.admin.query(`INSERT INTO dexes (id, name, network) VALUES ('raydium', 'Raydium', 'solana')`);
    await f.admin.query(`INSERT INTO pools (id, address, dex_id) VALUES ('solana_p1', 'p1', 'raydium'), ('solana_p2', 'p2', 'raydium')`);
    await f.admin.query(`INSERT INTO watchlist (id, pool_id, is_active) VALUES (7, 'solana_p1', true)`);
    const ohlcv = [
        [101, "2023-12-10T00:00:00Z"],
        [102, "2024-01-02T00:00:00Z"],
        [5000, "2024-02-29T23:59:59Z"],
        [103, "2025-05-01T00:00:00Z"], // beyond the planned months: DEFAULT partition
    ] as const;
    for (const [id, iso] of ohlcv) {
        await f.admin.query(
            `INSERT INTO ohlcv_data (id, pool_id, timeframe, timestamp, open_price, high_price, low_price, close_price, volume_usd, datetime)
             VALUES ($1, 'solana_p1', '1h', $2::bigint, 1, 2, 0.5, 1.5, 10, to_timestamp($2::bigint))`,
            [id, utcEpoch(iso)],
        );
    }
    await f.admin.query(
        `INSERT INTO trades (id, pool_id, volume_usd, block_timestamp) VALUES ('t1', 'solana_p1', 5, '2024-01-03 00:00:00+00')`,
    );
}

async function nonOwnerObjects(f: SchemaFixture): Promise<string[]> {
    const r = await f.admin.query<{ name: string }>(
        `SELECT n.nspname || '.' || c.relname || ' (' || c.relkind::text || ' owned by ' || pg_get_userbyid(c.relowner) || ')' AS name
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname IN ('public', 'gecko_migration') AND c.relowner <> $1::regrole
          UNION ALL
         SELECT 'schema ' || nspname FROM pg_namespace WHERE nspname = 'gecko_migration' AND nspowner <> $1::regrole`,
        [f.ownerRole],
    );
    return r.rows.map((x) => x.name);
}

describe("applySchema on a real database", () => {
    let f: SchemaFixture;
    let opts: ApplySchemaOptions;
    beforeAll(async () => {
        f = await createSchemaFixture("schema_apply");
        opts = { ownerRole: f.ownerRole, appRole: f.appRole, partitionSpan: SPAN, monthsAhead: 1, now: NOW };
    });
    afterAll(() => f?.cleanup());

    it("refuses post-load before the tables phase", async () => {
        await expect(applySchema(f.admin, "post-load", opts)).rejects.toThrow(/run the tables phase first/);
    });

    it("applies the tables phase once; a rerun changes nothing", async () => {
        const first = await applySchema(f.admin, "tables", opts);
        expect(first.changes).toContain("created table ohlcv_data");
        expect(first.changes).toContain("created partition ohlcv_data_default");
        expect(first.changes).toContain("set database TimeZone to UTC");
        expect((await applySchema(f.admin, "tables", opts)).changes).toEqual([]);

        const part = await inspectSchema(f.admin);
        expect(part.partitions.map((p) => [p.name, p.bound])).toEqual(EXPECTED_BOUNDS);
        expect(part.tables.every((t) => t.present && t.owner === f.ownerRole)).toBe(true);
        // Before post-load: only the constraint indexes, no foreign keys yet.
        expect(part.indexes.some((i) => i.present)).toBe(false);
        expect(part.constraints.filter((c) => c.kind !== "foreign").every((c) => c.present && c.validated)).toBe(true);
        expect(part.constraints.filter((c) => c.kind === "foreign").some((c) => c.present)).toBe(false);
        const tz = await f.admin.query(
            `SELECT setconfig FROM pg_db_role_setting WHERE setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database()) AND setrole = 0`,
        );
        expect(tz.rows[0].setconfig).toEqual(["TimeZone=UTC"]);
    });

    it("applies post-load after the bulk load; a rerun changes nothing", async () => {
        await loadSample(f);
        const first = await applySchema(f.admin, "post-load", opts);
        expect(first.changes).toContain("attached index ohlcv_data_default_datetime_idx to idx_ohlcv_data_datetime");
        expect(first.changes).toContain("validated foreign key trades_pool_id_fkey");
        expect(first.sequences.find((s) => s.table === "ohlcv_data")).toMatchObject({ maxId: "5000", lastValue: "5000" });
        expect(first.sequences.find((s) => s.table === "system_alerts")).toMatchObject({ maxId: null, lastValue: null });
        const again = await applySchema(f.admin, "post-load", opts);
        expect(again.changes).toEqual([]);
        expect(again.sequences.find((s) => s.table === "ohlcv_data")).toMatchObject({ lastValue: "5000" });
        expect((await applySchema(f.admin, "tables", opts)).changes).toEqual([]);
    });

    it("leaves every planned index valid, on every partition, every key validated and sequences past max(id)", async () => {
        const s = await inspectSchema(f.admin, { ownerRole: f.ownerRole });
        const plannedCount = TARGET_TABLES.reduce((n, t) => n + t.indexes.length, 0);
        expect(s.indexes).toHaveLength(plannedCount);
        for (const i of s.indexes) {
            expect(i, i.name).toMatchObject({ present: true, valid: true });
            for (const p of i.partitions) expect(p.valid, `${i.name} on ${p.partition}`).toBe(true);
        }
        expect(s.indexes.find((i) => i.name === "idx_ohlcv_data_datetime")!.partitions.map((p) => p.partition)).toEqual(
            EXPECTED_BOUNDS.map(([n]) => n),
        );
        const indisvalid = await f.admin.query(
            `SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relnamespace = 'public'::regnamespace AND NOT i.indisvalid`,
        );
        expect(indisvalid.rows).toEqual([]);
        expect(s.unplannedIndexes).toEqual([]);
        for (const c of s.constraints) expect(c, c.name).toMatchObject({ present: true, validated: true });
        expect(s.sequences.every((q) => q.ok)).toBe(true);
        expect(s.versions).toHaveLength(1);
        expect(s.versions[0].postLoadAt).toBeInstanceOf(Date);
        expect(s.foreignOwned).toEqual([]);
    });

    it("owns every table, partition, index and sequence by the owner role", async () => {
        const counted = await f.admin.query(
            `SELECT count(*)::int AS n FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r','p','i','I','S') AND relowner = $1::regrole`,
            [f.ownerRole],
        );
        expect(counted.rows[0].n).toBeGreaterThan(40);
        expect(await nonOwnerObjects(f)).toEqual([]);
    });

    it("gives the app role DML but not DDL", async () => {
        const r = await f.admin.query(
            `SELECT has_table_privilege($1, 'public.trades', 'INSERT, UPDATE, DELETE, SELECT') AS dml,
                    has_sequence_privilege($1, 'public.ohlcv_data_id_seq', 'USAGE') AS seq,
                    pg_has_role($1, $2, 'MEMBER') AS owner_member`,
            [f.appRole, f.ownerRole],
        );
        expect(r.rows[0]).toEqual({ dml: true, seq: true, owner_member: false });
    });

    it("continues the identity after the migrated ids", async () => {
        const r = await f.admin.query(
            `INSERT INTO ohlcv_data (pool_id, timeframe, timestamp, open_price, high_price, low_price, close_price, volume_usd, datetime)
             VALUES ('solana_p1', '1d', 1704067200, 1, 1, 1, 1, 1, now()) RETURNING id`,
        );
        expect(r.rows[0].id).toBe("5001");
    });

    it("refuses a different DDL under the same schema version", async () => {
        const changed: TargetTable[] = TARGET_TABLES.map((t) =>
            t.name === "dexes" ? { ...t, columns: [...t.columns, { name: "extra", type: { kind: "integer" }, nullable: true }] } : t,
        );
        await expect(applySchema(f.admin, "tables", { ...opts, tables: changed })).rejects.toThrow(
            new RegExp(`schema version ${SCHEMA_VERSION} was applied with checksum`),
        );
        await expect(applySchema(f.admin, "post-load", { ...opts, tables: changed })).rejects.toThrow(/another DDL/);
        const cols = await f.admin.query(`SELECT 1 FROM information_schema.columns WHERE table_name = 'dexes' AND column_name = 'extra'`);
        expect(cols.rowCount).toBe(0);
    });

    it("drops and rebuilds INVALID indexes left by crashed concurrent builds", async () => {
        // A failed CREATE INDEX CONCURRENTLY (here: duplicates under UNIQUE) leaves an INVALID index behind.
        await f.admin.query(
            `INSERT INTO tokens (id, address, symbol, network) VALUES ('a', 'a', 'SOL', 'solana'), ('b', 'b', 'SOL', 'solana')`,
        );
        await f.admin.query(`DROP INDEX idx_tokens_symbol_network`);
        await expect(
            f.admin.query(`CREATE UNIQUE INDEX CONCURRENTLY idx_tokens_symbol_network ON tokens (symbol, network)`),
        ).rejects.toThrow();
        // Same on a partition, before its ATTACH.
        await f.admin.query(`DROP INDEX idx_ohlcv_data_datetime`);
        await expect(
            f.admin.query(`CREATE UNIQUE INDEX CONCURRENTLY ohlcv_data_p202401_datetime_idx ON ohlcv_data_p202401 (pool_id)`),
        ).rejects.toThrow();
        const invalid = await f.admin.query(
            `SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE NOT i.indisvalid AND c.relnamespace = 'public'::regnamespace ORDER BY 1`,
        );
        expect(invalid.rows.map((r) => r.relname)).toEqual(["idx_tokens_symbol_network", "ohlcv_data_p202401_datetime_idx"]);

        const r = await applySchema(f.admin, "post-load", opts);
        expect(r.changes).toEqual(
            expect.arrayContaining([
                "dropped invalid index idx_tokens_symbol_network",
                "created index idx_tokens_symbol_network",
                "dropped invalid index ohlcv_data_p202401_datetime_idx",
                "attached index ohlcv_data_p202401_datetime_idx to idx_ohlcv_data_datetime",
            ]),
        );
        const s = await inspectSchema(f.admin, { ownerRole: f.ownerRole });
        for (const i of s.indexes) expect(i.valid && i.partitions.every((p) => p.valid), i.name).toBe(true);
        const unique = await f.admin.query(
            `SELECT indisunique FROM pg_index WHERE indexrelid = 'public.idx_tokens_symbol_network'::regclass`,
        );
        expect(unique.rows[0].indisunique).toBe(false);
        expect(s.foreignOwned).toEqual([]);
    });

    it("moves DEFAULT-partition rows into a month when it is created, keeping ids, indexes and ownership", async () => {
        const june = [utcEpoch("2024-06-01T00:00:00Z"), utcEpoch("2024-06-30T23:59:59Z")];
        for (const [i, ts] of june.entries()) {
            await f.admin.query(
                `INSERT INTO ohlcv_data (id, pool_id, timeframe, timestamp, open_price, high_price, low_price, close_price, volume_usd, datetime)
                 VALUES ($1, 'solana_p2', '1h', $2::bigint, 1, 1, 1, 1, 1, to_timestamp($2::bigint))`,
                [9000 + i, ts],
            );
        }
        const where = async () =>
            (await f.admin.query(`SELECT id, tableoid::regclass::text AS part FROM ohlcv_data WHERE pool_id = 'solana_p2' ORDER BY id`))
                .rows;
        expect(await where()).toEqual([
            { id: "9000", part: "ohlcv_data_default" },
            { id: "9001", part: "ohlcv_data_default" },
        ]);

        const changes = await ensurePartitions(f.admin, "ohlcv_data", june[0], june[1], { ownerRole: f.ownerRole });
        expect(changes).toEqual([{ partition: "ohlcv_data_p202406", action: "created", movedRows: 2 }]);
        expect(await where()).toEqual([
            { id: "9000", part: "ohlcv_data_p202406" },
            { id: "9001", part: "ohlcv_data_p202406" },
        ]);
        // The 2025 row stays in DEFAULT.
        const left = await f.admin.query(`SELECT id FROM ohlcv_data_default`);
        expect(left.rows).toEqual([{ id: "103" }]);

        const again = await ensurePartitions(f.admin, "ohlcv_data", june[0], june[1], { ownerRole: f.ownerRole });
        expect(again).toEqual([{ partition: "ohlcv_data_p202406", action: "exists", movedRows: 0 }]);

        const s = await inspectSchema(f.admin, { ownerRole: f.ownerRole });
        for (const i of s.indexes.filter((x) => x.table === "ohlcv_data")) {
            expect(
                i.partitions.find((p) => p.partition === "ohlcv_data_p202406"),
                i.name,
            ).toMatchObject({ valid: true });
            expect(i.valid).toBe(true);
        }
        expect(s.constraints.filter((c) => c.table === "ohlcv_data").every((c) => c.validated)).toBe(true);
        expect(s.foreignOwned).toEqual([]);
    });

    it("adds future months from now, and refuses a relation squatting on a partition name", async () => {
        const made = await addFuturePartitions(f.admin, 2, { ownerRole: f.ownerRole, now: new Date("2024-06-10T00:00:00Z") });
        expect(made).toEqual([
            { partition: "ohlcv_data_p202406", action: "exists", movedRows: 0 },
            { partition: "ohlcv_data_p202407", action: "created", movedRows: 0 },
            { partition: "ohlcv_data_p202408", action: "created", movedRows: 0 },
        ]);
        await f.admin.query(`CREATE TABLE ohlcv_data_p202409 (x int)`);
        await expect(addFuturePartitions(f.admin, 0, { now: new Date("2024-09-02T00:00:00Z") })).rejects.toThrow(
            /ohlcv_data_p202409 exists but is not a partition/,
        );
        await f.admin.query(`DROP TABLE ohlcv_data_p202409`);
    });
});

describe("post-load with orphan rows", () => {
    let f: SchemaFixture;
    beforeAll(async () => {
        f = await createSchemaFixture("schema_orphan");
    });
    afterAll(() => f?.cleanup());

    it("fails validation, leaves the key NOT VALID, and finishes on a rerun once the data is fixed", async () => {
        const opts: ApplySchemaOptions = {
            ownerRole: f.ownerRole,
            appRole: f.appRole,
            timeZone: "Europe/Berlin",
            partitionSpan: SPAN,
            monthsAhead: 0,
            now: NOW,
        };
        await applySchema(f.admin, "tables", opts);
        await f.admin.query(`INSERT INTO trades (id, pool_id) VALUES ('orphan', 'solana_gone')`);
        await expect(applySchema(f.admin, "post-load", opts)).rejects.toThrow(
            /foreign key trades_pool_id_fkey on trades: .*violates foreign key constraint/,
        );
        const before = await inspectSchema(f.admin);
        expect(before.constraints.find((c) => c.name === "trades_pool_id_fkey")).toMatchObject({ present: true, validated: false });
        expect(before.versions[0].postLoadAt).toBeNull();

        await f.admin.query(`DELETE FROM trades WHERE id = 'orphan'`);
        const r = await applySchema(f.admin, "post-load", opts);
        expect(r.changes).toContain("validated foreign key trades_pool_id_fkey");
        const after = await inspectSchema(f.admin);
        expect(after.constraints.every((c) => c.present && c.validated)).toBe(true);
        const tz = await f.admin.query(
            `SELECT setconfig FROM pg_db_role_setting WHERE setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database()) AND setrole = 0`,
        );
        expect(tz.rows[0].setconfig).toEqual(["TimeZone=Europe/Berlin"]);
    });
});

describe("tables made by hand before any gecko-pg schema version", () => {
    let f: SchemaFixture;
    beforeAll(async () => {
        f = await createSchemaFixture("schema_byhand");
    });
    afterAll(() => f?.cleanup());

    it("are brought to this version in place (the collector's SQLite-model shape, say), or the difference is named", async () => {
        const opts: ApplySchemaOptions = { ownerRole: f.ownerRole, appRole: f.appRole, partitionSpan: SPAN, monthsAhead: 0, now: NOW };
        // As the collector's SQLite-model create_all would make it on PostgreSQL, holding a row.
        await f.admin.query(`SET ROLE ${f.ownerRole}`);
        await f.admin.query(
            `CREATE TABLE dexes (id varchar(50) PRIMARY KEY, name varchar(100) NOT NULL, network varchar(20) NOT NULL, last_updated timestamptz, metadata_json jsonb)`,
        );
        await f.admin.query(`INSERT INTO dexes (id, name, network) VALUES ('raydium', 'Raydium', 'solana')`);
        await f.admin.query("RESET ROLE");
        const r = await applySchema(f.admin, "tables", opts);
        expect(r.changes).toEqual(
            expect.arrayContaining([
                "widened dexes.id from character varying(50) to character varying(100)",
                "added column dexes.created_at",
                "created table pools",
            ]),
        );
        expect(await f.admin.query("SELECT id, created_at FROM dexes").then((x) => x.rows)).toEqual([{ id: "raydium", created_at: null }]);

        // A difference no in-place change covers stops the first application, naming table, column and types.
        const other = await createSchemaFixture("schema_byhand_bad");
        try {
            await other.admin.query(`SET ROLE ${other.ownerRole}`);
            await other.admin.query(
                `CREATE TABLE tokens (id integer PRIMARY KEY, address varchar(100) NOT NULL, network varchar(50) NOT NULL)`,
            );
            await other.admin.query("RESET ROLE");
            await expect(
                applySchema(other.admin, "tables", { ...opts, ownerRole: other.ownerRole, appRole: other.appRole }),
            ).rejects.toThrow(/upgrade tokens\.id: the table has integer, this version plans character varying\(200\)/);
        } finally {
            await other.cleanup();
        }
    });
});

describe("renderSchemaSql", () => {
    let f: SchemaFixture;
    beforeAll(async () => {
        f = await createSchemaFixture("schema_render");
    });
    afterAll(() => f?.cleanup());

    it("is a runnable script building what applySchema builds (applySchema then finds nothing to do)", async () => {
        const script = renderSchemaSql({ ownerRole: f.ownerRole, appRole: f.appRole, partitionSpan: SPAN });
        const statements = script
            .split(/;\n/)
            .map((s) => s.replace(/^(--.*\n|\n)*/, "").trim())
            .filter(Boolean);
        for (const s of statements) await f.admin.query(s); // autocommit, one statement at a time, like psql
        const s = await inspectSchema(f.admin, { ownerRole: f.ownerRole });
        expect(s.partitions.map((p) => p.name)).toEqual(["ohlcv_data_default", "ohlcv_data_p202312", "ohlcv_data_p202401"]);
        for (const i of s.indexes) expect(i.present && i.valid && i.partitions.every((p) => p.valid), i.name).toBe(true);
        expect(s.constraints.every((c) => c.present && c.validated)).toBe(true);
        expect(s.foreignOwned).toEqual([]);
        expect(s.versions.map((v) => [v.version, v.checksum, v.postLoadAt instanceof Date])).toEqual([
            [SCHEMA_VERSION, schemaChecksum(TARGET_TABLES), true],
        ]);

        const opts: ApplySchemaOptions = { ownerRole: f.ownerRole, appRole: f.appRole, partitionSpan: SPAN, monthsAhead: 0, now: NOW };
        expect((await applySchema(f.admin, "tables", opts)).changes).toEqual([]);
        expect((await applySchema(f.admin, "post-load", opts)).changes).toEqual([]);
    });
});

describe("post-load index builds", () => {
    let f: SchemaFixture;
    beforeAll(async () => {
        f = await createSchemaFixture("schema_plain");
    });
    afterAll(() => f?.cleanup());

    it("are CONCURRENTLY by default and plain with concurrentIndexes: false (the migration's own, one scan each)", async () => {
        const opts: ApplySchemaOptions = { ownerRole: f.ownerRole, appRole: f.appRole, partitionSpan: SPAN, monthsAhead: 0, now: NOW };
        await applySchema(f.admin, "tables", opts);
        // Inside a transaction block PostgreSQL refuses CONCURRENTLY and accepts a plain build: that tells them apart.
        await f.admin.query("BEGIN");
        await expect(applySchema(f.admin, "post-load", opts)).rejects.toThrow(
            /CREATE INDEX CONCURRENTLY cannot run inside a transaction block/,
        );
        await f.admin.query("ROLLBACK");
        await f.admin.query("BEGIN");
        const r = await applySchema(f.admin, "post-load", { ...opts, concurrentIndexes: false });
        await f.admin.query("COMMIT");
        expect(r.changes).toContain("attached index ohlcv_data_default_datetime_idx to idx_ohlcv_data_datetime");
        const s = await inspectSchema(f.admin);
        expect(s.indexes.every((i) => i.present && i.valid && i.partitions.every((p) => p.index && p.valid))).toBe(true);
    });
});

describe("post-load and relations squatting on an index name", () => {
    let f: SchemaFixture;
    beforeAll(async () => {
        f = await createSchemaFixture("schema_squat");
    });
    afterAll(() => f?.cleanup());

    it("refuses a table or view holding a planned index's name (IF NOT EXISTS would skip it silently), and builds once it is gone", async () => {
        const opts: ApplySchemaOptions = {
            ownerRole: f.ownerRole,
            appRole: f.appRole,
            partitionSpan: SPAN,
            monthsAhead: 0,
            now: NOW,
            concurrentIndexes: false,
        };
        await applySchema(f.admin, "tables", opts);
        const plain = TARGET_TABLES.find((t) => t.name === "trades")!.indexes[0]!.name;
        const partitioned = TARGET_TABLES.find((t) => t.name === "ohlcv_data")!.indexes[0]!.name;
        const squatters = new Map([
            [`index ${plain} on trades: ${plain} exists but is not an index (it is a table): rename or drop it`, `TABLE ${plain}`],
            [
                `index ${partitioned} on ohlcv_data: ${partitioned} exists but is not an index (it is a view): rename or drop it`,
                `VIEW ${partitioned}`,
            ],
        ]);
        await f.admin.query(`CREATE TABLE ${plain} (x int)`);
        await f.admin.query(`CREATE VIEW ${partitioned} AS SELECT 1 AS x`);
        // Whichever table post-load reaches first stops it; each squatter is named in turn.
        while (squatters.size) {
            const message = await applySchema(f.admin, "post-load", opts).then(
                () => "post-load succeeded",
                (e: Error) => e.message,
            );
            const named = [...squatters.keys()].find((k) => message.endsWith(k));
            expect(named, message).toBeDefined();
            await f.admin.query(`DROP ${squatters.get(named!)}`);
            squatters.delete(named!);
        }
        await applySchema(f.admin, "post-load", opts);
        const s = await inspectSchema(f.admin);
        expect(s.indexes.filter((i) => !i.present || !i.valid)).toEqual([]);
    });
});

describe("post-load over extra connections", () => {
    let f: SchemaFixture;
    let extra: Client;
    beforeAll(async () => {
        f = await createSchemaFixture("schema_par");
        extra = new Client({ connectionString: f.db.url });
        await extra.connect();
    });
    afterAll(async () => {
        await extra?.end();
        await f?.cleanup();
    });

    /** Records the statements a real connection runs. */
    function recording(c: Client): { client: Client; statements: string[] } {
        const statements: string[] = [];
        const query = c.query.bind(c) as (...a: unknown[]) => unknown;
        const spy = Object.create(c) as Client;
        (spy as unknown as { query: unknown }).query = (...a: unknown[]) => {
            statements.push(typeof a[0] === "string" ? a[0] : String((a[0] as { text?: string }).text));
            return query(...a);
        };
        return { client: spy, statements };
    }

    it("spreads the per-table work over every connection, in the same result as one connection", async () => {
        const opts: ApplySchemaOptions = {
            ownerRole: f.ownerRole,
            appRole: f.appRole,
            partitionSpan: SPAN,
            monthsAhead: 0,
            now: NOW,
            concurrentIndexes: false,
        };
        await applySchema(f.admin, "tables", opts);
        await loadSample(f);
        const main = recording(f.admin);
        const other = recording(extra);
        const r = await applySchema(main.client, "post-load", { ...opts, extraConnections: [other.client] });
        const built = (s: string[]) => s.filter((x) => /^CREATE INDEX/.test(x)).length;
        expect(built(main.statements)).toBeGreaterThan(0);
        expect(built(other.statements)).toBeGreaterThan(0);
        expect(other.statements.filter((x) => /^ANALYZE/.test(x)).length).toBeGreaterThan(0);
        // Each table's changes once, reported in table order whoever did them.
        const indexChanges = r.changes.filter((c) => c.startsWith("created index ") && !c.includes(" on only "));
        expect(new Set(indexChanges).size).toBe(indexChanges.length);
        const firstOf = (table: string) => r.changes.findIndex((c) => c.includes(table));
        expect(firstOf("idx_tokens_symbol_network")).toBeLessThan(firstOf("idx_trades_pool_block_timestamp"));
        const s = await inspectSchema(f.admin, { ownerRole: f.ownerRole });
        for (const i of s.indexes) expect(i.present && i.valid && i.partitions.every((p) => p.index && p.valid), i.name).toBe(true);
        expect(s.constraints.every((c) => c.present && c.validated)).toBe(true);
        expect(s.foreignOwned).toEqual([]);
        // The extra connection is handed back as it came: no role left set.
        expect((await extra.query("SELECT current_user = session_user AS same")).rows[0].same).toBe(true);
        expect((await applySchema(f.admin, "post-load", { ...opts, extraConnections: [extra] })).changes).toEqual([]);
    });

    it("throws the first failure once the other connections' running work has finished", async () => {
        const g = await createSchemaFixture("schema_parfail");
        const other = new Client({ connectionString: g.db.url });
        await other.connect();
        try {
            const opts: ApplySchemaOptions = {
                ownerRole: g.ownerRole,
                appRole: g.appRole,
                partitionSpan: SPAN,
                monthsAhead: 0,
                now: NOW,
                concurrentIndexes: false,
            };
            await applySchema(g.admin, "tables", opts);
            // An orphan trade: that table's foreign key fails, the other tables' go on.
            await g.admin.query(`INSERT INTO trades (id, pool_id) VALUES ('orphan', 'solana_gone')`);
            await expect(applySchema(g.admin, "post-load", { ...opts, extraConnections: [other] })).rejects.toThrow(
                /applySchema foreign keys: foreign key trades_pool_id_fkey on trades: .*violates foreign key constraint/,
            );
            for (const c of [g.admin, other]) expect((await c.query("SELECT current_user = session_user AS same")).rows[0].same).toBe(true);
            const busy = await g.admin.query(
                `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND state = 'active' AND pid <> pg_backend_pid()`,
            );
            expect(busy.rows[0].n).toBe(0);
        } finally {
            await other.end();
            await g.cleanup();
        }
    });
});
