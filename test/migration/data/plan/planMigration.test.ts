/**
 * `plan` without PostgreSQL (migration/data/plan/planMigration.ts) over a small SQLite
 * file in the collector's shape, written here with the generator's DDL (scripts/generator):
 * collector tables as they are, an old watchlist, a drifted dexes table, the drift
 * extras (alembic_version, collector_notes), a WITHOUT ROWID table and one with no
 * mappable column, in WAL mode. The plan's own work is checked: copy order, rows and
 * chunks per table, absent tables, the notes, the ohlcv partitions from integer
 * timestamps only, and the clock check under the zone and overrides given. The
 * mapping rules themselves: tableMapping.test.ts. renderPlan's text over a summary
 * built by hand, spaces counted.
 */
import Database from "better-sqlite3";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
    planMigration,
    planMigrationWithPreflight,
    renderPlan,
    type MigrationPlanSummary,
    type TablePlanSummary,
} from "../../../../migration/data/plan/planMigration";
import { CURRENT_TABLE_ITEMS, renderCreateTable } from "../../../../scripts/generator/ddl";
import { findTable, layoutFor } from "../../../../scripts/generator/variants";

const ZONE = "America/Chicago"; // CST (UTC-6) in January and early March 2024 and January 2027
/** The test file lacks some core tables and has one the collector does not: accepted and copied on request. */
const PARTIAL = { allowMissingTables: true, includeExtraTables: true } as const;
let dir: string;
let file: string;

const p2 = (n: number) => String(n).padStart(2, "0");
/** Naive `YYYY-MM-DD HH:MM:SS.000000` of an epoch second shifted by `hours`. */
function naive(epoch: number, hours: number): string {
    const d = new Date((Math.floor(epoch) + hours * 3600) * 1000);
    return `${d.getUTCFullYear()}-${p2(d.getUTCMonth() + 1)}-${p2(d.getUTCDate())} ${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())}.000000`;
}

function items(variant: "old" | "extended", table: "watchlist" | "alembic_version" | "collector_notes"): readonly string[] {
    const t = findTable(layoutFor(variant), table);
    if (!t) throw new Error(`test setup: ${variant} has no ${table}`);
    return t.createItems;
}

function writeCollectorFile(target: string): void {
    const db = new Database(target);
    db.pragma("journal_mode = WAL");
    db.pragma("foreign_keys = OFF"); // as the collector runs
    db.exec(renderCreateTable("alembic_version", items("old", "alembic_version")));
    // dexes drifted: one column with an obvious type, one without, one untyped
    db.exec(
        renderCreateTable("dexes", [
            ...CURRENT_TABLE_ITEMS.dexes.slice(0, -1),
            "chain_id INTEGER",
            "logo BLOB",
            "misc",
            "PRIMARY KEY (id)",
        ]),
    );
    db.exec(renderCreateTable("pools", CURRENT_TABLE_ITEMS.pools));
    db.exec(renderCreateTable("ohlcv_data", CURRENT_TABLE_ITEMS.ohlcv_data));
    db.exec(renderCreateTable("trades", CURRENT_TABLE_ITEMS.trades));
    db.exec(renderCreateTable("watchlist", items("old", "watchlist")));
    db.exec(renderCreateTable("collector_notes", items("extended", "collector_notes")));
    db.exec("CREATE TABLE kv_cache (k TEXT PRIMARY KEY, v TEXT) WITHOUT ROWID");
    db.exec("CREATE TABLE blobs (data BLOB, ratio REAL)");

    db.exec("INSERT INTO alembic_version VALUES ('a1b2c3')");
    db.exec("INSERT INTO dexes (id, name, network) VALUES ('raydium', 'Raydium', 'solana'), ('orca', 'Orca', 'solana')");
    db.exec(
        "INSERT INTO pools (id, address, dex_id) VALUES ('solana_a', 'a', 'raydium'), ('solana_b', 'b', 'raydium'), ('solana_c', 'c', 'orca')",
    );
    const ohlcv = db.prepare(
        "INSERT INTO ohlcv_data (id, pool_id, timeframe, timestamp, open_price, high_price, low_price, close_price, volume_usd, datetime) " +
            "VALUES (?, 'solana_a', '1h', ?, 1, 1, 1, 1, 1, ?)",
    );
    // 2024-01-31T23:00:00Z and 2024-03-05T00:00:00Z as integers; 2027-01-15T08:00:00.5Z as a REAL (a float epoch)
    for (const [id, epoch] of [
        [1, 1_706_742_000],
        [2, 1_709_596_800],
        [3, 1_800_000_000.5],
    ]) {
        ohlcv.run(id, epoch, naive(epoch, -6)); // the host's wall clock
    }
    const trade = db.prepare("INSERT INTO trades (id, pool_id, block_number, block_timestamp) VALUES (?, 'solana_a', ?, ?)");
    for (const [block, epoch] of [
        [100, 1_706_742_000],
        [101, 1_706_745_600],
    ]) {
        trade.run(`solana_${block}_tx_0_${epoch}`, block, naive(epoch, 0)); // UTC
    }
    db.exec("INSERT INTO watchlist (id, pool_id, added_at, is_active) VALUES (1, 'solana_a', '2024-01-01 00:00:00', 1)");
    db.exec("INSERT INTO collector_notes (id, note) VALUES (1, 'first'), (2, 'second')");
    db.exec("INSERT INTO kv_cache VALUES ('k', 'v')");
    db.exec("INSERT INTO blobs VALUES (x'00', 0.5)");
    db.close();
}

beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "gecko-plan-"));
    file = path.join(dir, "gecko_data.db");
    writeCollectorFile(file);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("planMigration", () => {
    let plan: MigrationPlanSummary;
    const table = (name: string): TablePlanSummary => {
        const t = plan.tables.find((x) => x.table === name);
        if (!t) throw new Error(`no ${name} in the plan`);
        return t;
    };
    beforeAll(() => {
        plan = planMigration({ sqlitePath: file, chunkRows: 2, sourceTimeZone: ZONE, ...PARTIAL });
    });

    it("describes the source: path, a 16-hex fingerprint, WAL journal and SQLite version", () => {
        expect(plan.source.path).toBe(file);
        expect(plan.source.fingerprint).toMatch(/^[0-9a-f]{16}$/);
        expect(plan.source.journalMode).toBe("wal");
        expect(plan.source.sqliteVersion).toMatch(/^3\.\d+\.\d+$/);
    });

    it("lists every collector table and each copied extra table in copy order, parents first, ties by name", () => {
        expect(plan.tables.map((t) => t.table)).toEqual([
            "alembic_version",
            "collection_metadata",
            "collector_notes",
            "dexes",
            "discovery_metadata",
            "execution_history",
            "new_pools_history",
            "pools", // before ohlcv_data, which references it
            "ohlcv_data",
            "performance_metrics",
            "system_alerts",
            "tokens",
            "trades",
            "watchlist",
        ]);
    });

    it("counts rows and chunks of chunkRows rows per table, and none for tables the source lacks", () => {
        const counts = Object.fromEntries(plan.tables.map((t) => [t.table, [t.rows, t.chunks, t.inSource]]));
        expect(counts).toMatchObject({
            alembic_version: [1, 1, true],
            dexes: [2, 1, true],
            pools: [3, 2, true], // rowids 1..3 in chunks of 2: [1, 2], [3, 3]
            ohlcv_data: [3, 2, true],
            trades: [2, 1, true],
            watchlist: [1, 1, true],
            collector_notes: [2, 1, true],
            tokens: [0, 0, false],
            system_alerts: [0, 0, false],
        });
        expect(plan.missingTables).toEqual([
            "tokens",
            "collection_metadata",
            "discovery_metadata",
            "execution_history",
            "new_pools_history",
            "performance_metrics",
            "system_alerts",
        ]);
    });

    it("reports the drift: extra and skipped columns, renamed and missing ones, extra and skipped tables", () => {
        expect(table("dexes")).toMatchObject({
            extra: false,
            extraColumns: ["chain_id"],
            skippedColumns: ["logo (BLOB)", "misc (no type)"],
            missingColumns: ["created_at"],
            renamedColumns: [],
        });
        expect(table("watchlist")).toMatchObject({
            renamedColumns: ["added_at -> created_at"],
            missingColumns: ["updated_at", "metadata_json"],
            extraColumns: [],
        });
        // an extra table is copied whole: its columns are not "extra columns"
        expect(table("collector_notes")).toMatchObject({ extra: true, extraColumns: [], missingColumns: [] });
        expect(plan.skippedTables).toEqual([
            { name: "blobs", reason: "no column has an obvious PostgreSQL type" },
            { name: "kv_cache", reason: "WITHOUT ROWID table (chunking needs rowids)" },
        ]);
    });

    it("by default refuses a file lacking core tables, and lists tables the collector does not have without copying them", () => {
        expect(() => planMigration({ sqlitePath: file })).toThrow(
            `not a complete collector database: ${file} lacks the core tables collection_metadata, tokens (it holds`,
        );
        const listed = planMigration({ sqlitePath: file, allowMissingTables: true });
        expect(listed.tables.filter((t) => t.extra)).toEqual([]);
        const notCopied = "not one of the collector's tables (--include-extra-tables copies it)";
        expect(listed.skippedTables).toEqual([
            { name: "alembic_version", reason: notCopied },
            { name: "blobs", reason: notCopied },
            { name: "collector_notes", reason: notCopied },
            { name: "kv_cache", reason: notCopied },
        ]);
    });

    it("plans ohlcv partitions from the integer timestamps only: January to March 2024, not the REAL one of 2027", () => {
        expect(plan.ohlcvPartitions).toEqual(["ohlcv_data_p202401", "ohlcv_data_p202402", "ohlcv_data_p202403"]);
    });

    it("checks the clocks under the given zone: both agree, no warnings", () => {
        expect(plan.clockChecks.map((c) => [c.column, c.status, c.rowsSampled, c.policyZone])).toEqual([
            ["ohlcv_data.datetime", "ok", 3, ZONE],
            ["trades.block_timestamp", "ok", 2, "UTC"],
        ]);
        expect(plan.warnings).toEqual([]);
    });

    it("warns when the zone or an override disagrees with the data (the default zone is UTC)", () => {
        const utc = planMigration({ sqlitePath: file, ...PARTIAL });
        expect(utc.clockChecks.map((c) => c.status)).toEqual(["mismatch", "ok"]);
        expect(utc.warnings).toEqual([utc.clockChecks[0].message]);
        const overridden = planMigration({
            sqlitePath: file,
            sourceTimeZone: ZONE,
            clockOverrides: { "trades.block_timestamp": "local" },
            ...PARTIAL,
        });
        expect(overridden.clockChecks.map((c) => c.status)).toEqual(["ok", "mismatch"]);
        expect(overridden.warnings).toHaveLength(1);
        // the default chunk size (50 000 rows) makes one chunk of every non-empty table
        expect(utc.tables.filter((t) => t.rows > 0).every((t) => t.chunks === 1)).toBe(true);
    });

    it("reads without writing: the file's content and fingerprint are the same after planning", () => {
        const before = fs.readFileSync(file);
        const again = planMigration({ sqlitePath: file, chunkRows: 2, sourceTimeZone: ZONE, ...PARTIAL });
        expect(again.source.fingerprint).toBe(plan.source.fingerprint);
        expect(fs.readFileSync(file).equals(before)).toBe(true);
    });

    it("refuses a missing file and a chunk size below one row", () => {
        const missing = path.join(dir, "nope.db");
        expect(() => planMigration({ sqlitePath: missing })).toThrow(`SQLite source not found: ${missing}`);
        expect(() => planMigration({ sqlitePath: file, chunkRows: 0, ...PARTIAL })).toThrow("chunkRows must be a positive integer, got 0");
    });

    it("plans no partitions for a file without ohlcv rows", () => {
        const bare = path.join(dir, "bare.db");
        const db = new Database(bare);
        db.exec(renderCreateTable("ohlcv_data", CURRENT_TABLE_ITEMS.ohlcv_data));
        db.close();
        expect(() => planMigration({ sqlitePath: bare })).toThrow(
            `not a complete collector database: ${bare} lacks the core tables collection_metadata, dexes, pools, tokens, trades, watchlist (it holds ohlcv_data); --allow-missing-tables`,
        );
        const p = planMigration({ sqlitePath: bare, allowMissingTables: true });
        expect(p.ohlcvPartitions).toEqual([]);
        expect(p.tables.find((t) => t.table === "ohlcv_data")).toMatchObject({ rows: 0, chunks: 0, inSource: true });
        expect(p.clockChecks.map((c) => c.status)).toEqual(["empty", "absent"]);
    });
});

describe("renderPlan", () => {
    const summary = (overrides: Partial<MigrationPlanSummary> = {}): MigrationPlanSummary => ({
        source: { path: "/data/gecko.db", fingerprint: "0123456789abcdef", journalMode: "wal", sqliteVersion: "3.45.1" },
        tables: [
            {
                table: "dexes",
                rows: 2,
                chunks: 1,
                inSource: true,
                extra: false,
                missingColumns: ["created_at"],
                renamedColumns: [],
                skippedColumns: ["logo (BLOB)"],
                extraColumns: ["chain_id"],
            },
            {
                table: "pools",
                rows: 3,
                chunks: 2,
                inSource: true,
                extra: false,
                missingColumns: [],
                renamedColumns: [],
                skippedColumns: [],
                extraColumns: [],
            },
            {
                table: "tokens",
                rows: 0,
                chunks: 0,
                inSource: false,
                extra: false,
                missingColumns: [],
                renamedColumns: [],
                skippedColumns: [],
                extraColumns: [],
            },
            {
                table: "collector_notes",
                rows: 12345678,
                chunks: 3,
                inSource: true,
                extra: true,
                missingColumns: [],
                renamedColumns: [],
                skippedColumns: [],
                extraColumns: [],
            },
            {
                table: "watchlist",
                rows: 1,
                chunks: 1,
                inSource: true,
                extra: false,
                missingColumns: ["updated_at", "metadata_json"],
                renamedColumns: ["added_at -> created_at"],
                skippedColumns: [],
                extraColumns: [],
            },
        ],
        missingTables: ["tokens"],
        skippedTables: [{ name: "kv_cache", reason: "WITHOUT ROWID table (chunking needs rowids)" }],
        ohlcvPartitions: ["ohlcv_data_p202401", "ohlcv_data_p202402", "ohlcv_data_p202403"],
        clockChecks: [
            {
                column: "ohlcv_data.datetime",
                reference: "ohlcv_data.timestamp (epoch)",
                status: "ok",
                rowsSampled: 3,
                rowsUsable: 3,
                dominantOffsetMinutes: -360,
                dominantCount: 3,
                policyClock: "local",
                policyZone: ZONE,
                expectedOffsetsMinutes: [-360],
                rowsAgreeingWithPolicy: 3,
                policyAgrees: true,
                message: "3 of 3 match",
            },
        ],
        warnings: ["first warning", "second warning"],
        ...overrides,
    });

    it("prints a table padded to the longest name, the notes, skipped tables, partitions, clocks and warnings", () => {
        // name column 15 wide ("collector_notes"), rows right-aligned in 10, chunks in 6, two spaces between
        expect(renderPlan(summary()).split("\n")).toEqual([
            "plan for /data/gecko.db [journal wal, SQLite 3.45.1]",
            "",
            `table${" ".repeat(10)}  ${" ".repeat(6)}rows  chunks  notes`,
            `dexes${" ".repeat(10)}  ${" ".repeat(9)}2  ${" ".repeat(5)}1  missing: created_at; extra columns copied: chain_id; not copied: logo (BLOB)`,
            `pools${" ".repeat(10)}  ${" ".repeat(9)}3  ${" ".repeat(5)}2  `,
            `tokens${" ".repeat(9)}  ${" ".repeat(9)}0  ${" ".repeat(5)}0  absent in source: created empty`,
            `collector_notes    12345678  ${" ".repeat(5)}3  extra table: copied`,
            `watchlist${" ".repeat(6)}  ${" ".repeat(9)}1  ${" ".repeat(5)}1  missing: updated_at, metadata_json; renamed: added_at -> created_at`,
            `kv_cache${" ".repeat(7)}  not copied: WITHOUT ROWID table (chunking needs rowids)`,
            "",
            "ohlcv_data partitions for the data: ohlcv_data_p202401 .. ohlcv_data_p202403 (3) + default",
            "",
            "clock check:",
            "  ohlcv_data.datetime: ok - 3 of 3 match",
            "",
            "warnings:",
            "  - first warning",
            "  - second warning",
        ]);
    });

    it("keeps the name column at least 5 wide and leaves out empty sections, but always shows the clock check heading", () => {
        const lines = renderPlan(
            summary({
                tables: [{ ...summary().tables[1], table: "t" }],
                skippedTables: [],
                ohlcvPartitions: [],
                clockChecks: [],
                warnings: [],
            }),
        ).split("\n");
        expect(lines).toEqual([
            "plan for /data/gecko.db [journal wal, SQLite 3.45.1]",
            "",
            `table  ${" ".repeat(6)}rows  chunks  notes`,
            `t${" ".repeat(4)}  ${" ".repeat(9)}3  ${" ".repeat(5)}2  `,
            "",
            "clock check:",
        ]);
    });

    it("ends with the preflight: skipped without a target, else the conflicts migrate would stop at and the notes", () => {
        const base = {
            tables: [{ ...summary().tables[1], table: "t" }],
            skippedTables: [],
            ohlcvPartitions: [],
            clockChecks: [],
            warnings: [],
        };
        const skipped = renderPlan(summary({ ...base, preflight: { checked: false, reason: "no target configured" } })).split("\n");
        expect(skipped.slice(-2)).toEqual(["", "preflight: skipped, no target configured"]);
        const checked = renderPlan(
            summary({
                ...base,
                preflight: {
                    checked: true,
                    target: "admin@db:5432/gecko",
                    conflicts: ["table pools exists without primary key pools_pkey (id)"],
                    notes: ["operator_notes (a table) is not the plan's: left as it is"],
                },
            }),
        ).split("\n");
        expect(checked.slice(-6)).toEqual([
            "clock check:",
            "",
            "preflight against admin@db:5432/gecko: 1 conflict(s); migrate would stop before creating anything (exit 3):",
            "  - table pools exists without primary key pools_pkey (id)",
            "preflight notes (left as they are):",
            "  - operator_notes (a table) is not the plan's: left as it is",
        ]);
    });

    it("planMigrationWithPreflight without a target: the plan, and the preflight marked skipped", async () => {
        const p = await planMigrationWithPreflight({ sqlitePath: file, chunkRows: 2, sourceTimeZone: ZONE, ...PARTIAL }, undefined);
        expect(p.preflight).toEqual({
            checked: false,
            reason: "no target configured (GECKO_TARGET_URL, DATABASE_URL, --target or --host)",
        });
        expect(p.tables).toEqual(planMigration({ sqlitePath: file, chunkRows: 2, sourceTimeZone: ZONE, ...PARTIAL }).tables);
    });

    it("renders a real plan", () => {
        const text = renderPlan(planMigration({ sqlitePath: file, chunkRows: 2, sourceTimeZone: ZONE, ...PARTIAL }));
        expect(text).toContain(`plan for ${file} [journal wal, SQLite `);
        expect(text).toContain("ohlcv_data partitions for the data: ohlcv_data_p202401 .. ohlcv_data_p202403 (3) + default");
        // padded to "performance_metrics", the longest name (19): 11 spaces, then two
        expect(text).toMatch(/^kv_cache {13}not copied: WITHOUT ROWID table \(chunking needs rowids\)$/m);
        expect(text).not.toContain("warnings:");
    });
});
