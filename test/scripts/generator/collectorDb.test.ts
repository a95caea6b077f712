import Database from "better-sqlite3";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateCollectorDb, openLiveWriter, type GenerationManifest, type PlantedDefect } from "../../../scripts/generator/collectorDb";
import { targetIntegerDigits } from "../../../scripts/generator/defectsValues";
import { COLLECTOR_TABLES, CURRENT_TABLE_ITEMS, renderCreateTable } from "../../../scripts/generator/ddl";

const REFERENCE_SCHEMA = "/work/shared/reference/collector-sqlite-schema.sql";
const ZONE = "America/Chicago";
let dir: string;

const open = (file: string) => new Database(file, { readonly: true });
const one = <T = unknown>(db: Database.Database, sql: string, ...params: unknown[]) =>
    db
        .prepare(sql)
        .pluck()
        .get(...params) as T;
const columns = (db: Database.Database, table: string) =>
    (db.prepare("SELECT name FROM pragma_table_info(?)").all(table) as { name: string }[]).map((c) => c.name);
const tables = (db: Database.Database) =>
    (db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name").all() as { name: string }[]).map((t) => t.name);

/** Hash of the schema and every row of every table, in rowid order. */
function contentHash(file: string): string {
    const db = open(file);
    const hash = createHash("sha256");
    for (const t of tables(db)) {
        hash.update(one<string>(db, "SELECT sql FROM sqlite_schema WHERE name = ?", t));
        for (const row of db.prepare(`SELECT * FROM ${t} ORDER BY rowid`).raw().iterate()) hash.update(JSON.stringify(row));
    }
    db.close();
    return hash.digest("hex");
}

/** Host-local naive wall clock for an epoch second, computed independently of the generator. */
function localWall(epochSec: number, zone: string): string {
    const parts = Object.fromEntries(
        new Intl.DateTimeFormat("en-CA", {
            timeZone: zone,
            hourCycle: "h23",
            year: "numeric",
            month: "2-digit",
            day: "2-digit",
            hour: "2-digit",
            minute: "2-digit",
            second: "2-digit",
        })
            .formatToParts(new Date(epochSec * 1000))
            .map((p) => [p.type, p.value]),
    );
    return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}:${parts.second}`;
}

const utcWall = (epochSec: number) => new Date(epochSec * 1000).toISOString().replace("T", " ").slice(0, 19);

beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "gecko-generator-"));
});

afterAll(() => {
    fs.rmSync(dir, { recursive: true, force: true });
});

describe("current variant, no defects", () => {
    let file: string;
    let manifest: GenerationManifest;
    let db: Database.Database;

    beforeAll(() => {
        file = path.join(dir, "current.db");
        manifest = generateCollectorDb({ path: file, rows: 8000, seed: 7, hostTimeZone: ZONE });
        db = open(file);
    });
    afterAll(() => db.close());

    it("has the reference DDL verbatim, no secondary indexes, WAL journal", () => {
        const expected = fs.existsSync(REFERENCE_SCHEMA)
            ? [...fs.readFileSync(REFERENCE_SCHEMA, "utf8").matchAll(/^CREATE TABLE \w+ \([\s\S]*?\n\)/gm)].map((m) => m[0])
            : COLLECTOR_TABLES.map((t) => renderCreateTable(t, CURRENT_TABLE_ITEMS[t]));
        const actual = (db.prepare("SELECT sql FROM sqlite_schema WHERE type = 'table' ORDER BY rowid").all() as { sql: string }[]).map(
            (r) => r.sql,
        );
        expect(actual).toEqual(expected);
        expect(one(db, "SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND sql IS NOT NULL")).toBe(0);
        expect(one(db, "PRAGMA journal_mode")).toBe("wal");
        // Fully checkpointed: opening it read-only may create an empty -wal, nothing more.
        expect(fs.existsSync(`${file}-wal`) ? fs.statSync(`${file}-wal`).size : 0).toBe(0);
    });

    it("stores numerics as REAL with float noise, INTEGER when integral", () => {
        expect(one(db, "SELECT count(*) FROM trades WHERE typeof(volume_usd) <> 'real'")).toBe(0);
        // More decimals than NUMERIC(20,8) keeps: computed in float arithmetic, not pre-rounded.
        expect(one<number>(db, "SELECT count(*) FROM trades WHERE volume_usd <> round(volume_usd, 8)")).toBeGreaterThan(
            manifest.tables.trades! * 0.9,
        );
        expect(one(db, "SELECT DISTINCT typeof(quote_token_price_native_currency) FROM new_pools_history")).toBe("integer");
        expect(one<number>(db, "SELECT count(*) FROM ohlcv_data WHERE typeof(volume_usd) = 'integer'")).toBeGreaterThan(0);
        expect(one(db, "SELECT count(*) FROM pools WHERE typeof(activity_score) NOT IN ('real', 'integer')")).toBe(0);
    });

    it("stores booleans as 0/1 and JSON columns mostly as {}", () => {
        expect(db.prepare("SELECT DISTINCT typeof(is_active) AS t, is_active AS v FROM watchlist ORDER BY v").all()).toEqual(
            expect.arrayContaining([{ t: "integer", v: 1 }]),
        );
        expect(one(db, "SELECT count(*) FROM system_alerts WHERE acknowledged NOT IN (0, 1) OR resolved NOT IN (0, 1)")).toBe(0);
        const json = db.prepare("SELECT metadata_json AS j FROM pools").pluck().all() as string[];
        expect(json.filter((j) => j === "{}").length).toBeGreaterThan(json.length * 0.7);
        const objects = json.filter((j) => j !== "{}");
        expect(objects.length).toBeGreaterThan(0);
        for (const j of objects) expect(Object.keys(JSON.parse(j)).length).toBeGreaterThan(0);
    });

    it("mixes Python and CURRENT_TIMESTAMP datetime text in the same column", () => {
        const python = "????-??-?? ??:??:??.??????";
        const sqlite = "????-??-?? ??:??:??";
        for (const [table, column] of [
            ["trades", "created_at"],
            ["ohlcv_data", "created_at"],
            ["watchlist", "created_at"],
            ["tokens", "last_updated"],
        ]) {
            expect(one<number>(db, `SELECT count(*) FROM ${table} WHERE ${column} GLOB ?`, python), `${table}.${column}`).toBeGreaterThan(
                0,
            );
            expect(one<number>(db, `SELECT count(*) FROM ${table} WHERE ${column} GLOB ?`, sqlite), `${table}.${column}`).toBeGreaterThan(
                0,
            );
        }
        expect(one(db, "SELECT count(*) FROM trades WHERE block_timestamp NOT GLOB ?", python)).toBe(0);
    });

    it("leaves gaps in rowid-alias ids", () => {
        for (const t of ["ohlcv_data", "new_pools_history"]) {
            expect(one<number>(db, `SELECT max(id) - count(*) FROM ${t}`), t).toBeGreaterThan(0);
        }
    });

    it("keeps relations intact: dexes -> pools -> trades/ohlcv/watchlist, tokens", () => {
        expect(one(db, "SELECT count(*) FROM pools WHERE dex_id NOT IN (SELECT id FROM dexes)")).toBe(0);
        expect(
            one(
                db,
                "SELECT count(*) FROM pools WHERE base_token_id NOT IN (SELECT id FROM tokens) OR quote_token_id NOT IN (SELECT id FROM tokens)",
            ),
        ).toBe(0);
        for (const t of ["trades", "ohlcv_data", "watchlist", "new_pools_history"]) {
            expect(one(db, `SELECT count(*) FROM ${t} WHERE pool_id NOT IN (SELECT id FROM pools)`), t).toBe(0);
        }
        expect(one<string>(db, "SELECT id FROM pools LIMIT 1")).toMatch(/^solana_[1-9A-HJ-NP-Za-km-z]{43,44}$/);
    });

    it("shapes trade ids as solana_{block}_{tx}_{logidx}_{epoch} with block_timestamp = that epoch in UTC", () => {
        const rows = db.prepare("SELECT id, block_number, tx_hash, block_timestamp FROM trades").all() as Record<string, string | number>[];
        for (const r of rows) {
            const m = /^solana_(\d+)_([1-9A-HJ-NP-Za-km-z]{87,88})_(\d+)_(\d+)$/.exec(r.id as string);
            expect(m, r.id as string).not.toBeNull();
            expect(Number(m![1])).toBe(r.block_number);
            expect(m![2]).toBe(r.tx_hash);
            expect(r.block_timestamp).toBe(`${utcWall(Number(m![4]))}.000000`);
        }
    });

    it("aligns OHLCV timestamps to the timeframe and writes datetime as host-local wall time", () => {
        const seconds: Record<string, number> = { "1m": 60, "5m": 300, "15m": 900, "1h": 3600, "4h": 14400, "12h": 43200, "1d": 86400 };
        const rows = db.prepare("SELECT timeframe, timestamp, datetime FROM ohlcv_data").all() as {
            timeframe: string;
            timestamp: number;
            datetime: string;
        }[];
        expect(new Set(rows.map((r) => r.timeframe)).size).toBe(7);
        for (const r of rows) expect(r.timestamp % seconds[r.timeframe]).toBe(0);
        for (const r of rows.filter((_, i) => i % 37 === 0)) expect(r.datetime).toBe(`${localWall(r.timestamp, ZONE)}.000000`);
        // Chicago is UTC-5/-6: the local clock really differs from UTC.
        expect(rows[0].datetime.slice(0, 19)).not.toBe(utcWall(rows[0].timestamp));
    });

    it("spans the requested months and reports it", () => {
        expect(manifest.timeSpan).toEqual({ start: "2025-02-01T00:00:00.000Z", end: "2025-06-01T00:00:00.000Z", months: 4 });
        const months = db.prepare("SELECT DISTINCT substr(block_timestamp, 1, 7) FROM trades ORDER BY 1").pluck().all();
        expect(months).toEqual(["2025-02", "2025-03", "2025-04", "2025-05"]);
        expect(manifest.clocks["ohlcv_data.datetime"]).toBe("local");
        expect(manifest.clocks["trades.block_timestamp"]).toBe("utc");
    });

    it("splits rows realistically and reports exact counts", () => {
        for (const [t, n] of Object.entries(manifest.tables)) expect(one(db, `SELECT count(*) FROM ${t}`), t).toBe(n);
        expect(manifest.totalRows).toBeGreaterThan(7900);
        expect(manifest.tables.trades! / manifest.totalRows).toBeCloseTo(0.45, 1);
        expect(manifest.tables.ohlcv_data! / manifest.totalRows).toBeCloseTo(0.45, 1);
        expect(manifest.tables.new_pools_history! / manifest.totalRows).toBeCloseTo(0.05, 1);
        expect(manifest.defects).toEqual([]);
    });
});

describe("options", () => {
    it("honours explicit per-table counts", () => {
        const m = generateCollectorDb({
            path: path.join(dir, "counts.db"),
            counts: { trades: 123, ohlcv_data: 77, pools: 9, tokens: 8, watchlist: 3, new_pools_history: 40 },
        });
        expect(m.tables).toMatchObject({ trades: 123, ohlcv_data: 77, pools: 9, tokens: 8, watchlist: 3, new_pools_history: 40 });
    });

    it("refuses to overwrite without overwrite: true, and rejects bad options", () => {
        const file = path.join(dir, "exists.db");
        generateCollectorDb({ path: file, rows: 500 });
        expect(() => generateCollectorDb({ path: file, rows: 500 })).toThrow(/already exists/);
        expect(() => generateCollectorDb({ path: path.join(dir, "z.db"), hostTimeZone: "Mars/Olympus" })).toThrow(/hostTimeZone/);
        expect(() => generateCollectorDb({ path: path.join(dir, "d.db"), defects: ["nope" as never] })).toThrow(/unknown defect/);
    });

    it("is deterministic for a seed", () => {
        const opts = { rows: 3000, defects: "all" as const, hostTimeZone: ZONE };
        const a = generateCollectorDb({ ...opts, path: path.join(dir, "a.db"), seed: 42 });
        const b = generateCollectorDb({ ...opts, path: path.join(dir, "b.db"), seed: 42 });
        generateCollectorDb({ ...opts, path: path.join(dir, "c.db"), seed: 43 });
        expect(contentHash(path.join(dir, "a.db"))).toBe(contentHash(path.join(dir, "b.db")));
        expect(contentHash(path.join(dir, "a.db"))).not.toBe(contentHash(path.join(dir, "c.db")));
        expect({ ...a, file: "" }).toEqual({ ...b, file: "" });
    });
});

/** Asserts that the row a planted defect names really carries it. */
function assertPlanted(db: Database.Database, d: PlantedDefect): void {
    const where = Object.keys(d.key)
        .map((k) => `${k} = ?`)
        .join(" AND ");
    const row = db.prepare(`SELECT * FROM ${d.table} WHERE ${where}`).get(...Object.values(d.key)) as Record<string, unknown> | undefined;
    const label = `${d.defect}/${d.kind} ${d.table} ${JSON.stringify(d.key)}`;
    expect(row, label).toBeDefined();
    const col = d.columns[0];
    const type = col ? one<string>(db, `SELECT typeof(${col}) FROM ${d.table} WHERE ${where}`, ...Object.values(d.key)) : null;
    if (col && "value" in d) expect(row![col], label).toEqual(d.value);
    switch (d.kind) {
        case "blank-pool":
            expect([row!.name, row!.address, row!.base_token_id, row!.quote_token_id, row!.reserve_usd], label).toEqual([
                "",
                row!.id,
                null,
                null,
                null,
            ]);
            break;
        case "placeholder-token":
            expect(row!.name, label).toBe(`Token ${(row!.address as string).slice(0, 8)}...`);
            expect(row!.symbol, label).toMatch(/^TKN.{4}$/);
            expect(row!.decimals, label).toBeNull();
            break;
        case "missing-base-token":
        case "missing-quote-token":
            expect(one(db, "SELECT count(*) FROM tokens WHERE id = ?", row![col!]), label).toBe(0);
            break;
        case "doubled-prefix":
            expect(row![col!] as string, label).toMatch(/^solana_solana_/);
            break;
        case "history-missing-pool":
        case "trade-deleted-pool":
        case "ohlcv-deleted-pool":
            expect(one(db, "SELECT count(*) FROM pools WHERE id = ?", row!.pool_id), label).toBe(0);
            break;
        case "nan":
        case "null-discovery-source":
        case "null-collection-priority":
            expect(type, label).toBe("null");
            break;
        case "text-number":
            expect(type, label).toBe("text");
            expect(Number(row![col!]), label).not.toBeNaN();
            break;
        case "near-limit":
        case "overflow": {
            // Against the target's type: what PostgreSQL can hold is what the defect is about.
            const integerDigits = String(Math.trunc(Math.abs(row![col!] as number))).length;
            expect(integerDigits > targetIntegerDigits(d.table, col!), label).toBe(d.kind === "overflow");
            break;
        }
        case "iso-z":
            expect(row![col!], label).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
            break;
        case "offset-suffix":
            expect(row![col!], label).toMatch(/\+00:00$/);
            break;
        case "iso-t":
            expect(row![col!], label).toMatch(/^\d{4}-\d\d-\d\dT/);
            break;
        case "epoch-seconds":
            expect(type, label).toBe("integer");
            expect((row!.id as string).endsWith(`_${row![col!]}`), label).toBe(true); // the instant the trade id carries
            break;
        case "epoch-milliseconds":
            expect(type, label).toBe("integer");
            expect(row![col!] as number, label).toBeGreaterThan(1e12);
            break;
        case "empty-string":
            expect(row![col!], label).toBe("");
            break;
        case "invalid-json":
            expect(() => JSON.parse(row![col!] as string), label).toThrow();
            break;
        case "text-boolean":
        case "unparseable-boolean":
            expect(type, label).toBe("text");
            break;
        case "test-row":
            expect(JSON.stringify(row), label).toMatch(/test/);
            break;
        default:
            throw new Error(`no assertion for defect kind ${d.kind}`);
    }
}

describe("defects", () => {
    let file: string;
    let manifest: GenerationManifest;
    let db: Database.Database;

    beforeAll(() => {
        file = path.join(dir, "defects.db");
        manifest = generateCollectorDb({ path: file, rows: 20_000, seed: 3, defects: "all", hostTimeZone: ZONE });
        db = open(file);
    });
    afterAll(() => db.close());

    it("plants every defect (but the WAL one) in a bounded number of rows", () => {
        const planted = new Set(manifest.defects.map((d) => d.defect));
        expect([...planted].sort()).toEqual(manifest.defectsRequested.filter((d) => d !== "uncheckpointed-wal").sort());
        expect(manifest.defects.length).toBeLessThan(300);
        expect(manifest.notes.join("\n")).toMatch(/openLiveWriter/);
    });

    it("each manifest entry is really present at its key", () => {
        for (const d of manifest.defects) assertPlanted(db, d);
    });

    it("names exactly the defective rows (no unlisted ones)", () => {
        const count = (kind: string) => manifest.defects.filter((d) => d.kind === kind).length;
        expect(one(db, "SELECT count(*) FROM pools WHERE name = ''")).toBe(count("blank-pool"));
        expect(one(db, "SELECT count(*) FROM tokens WHERE name LIKE 'Token %...'")).toBe(count("placeholder-token"));
        expect(one(db, "SELECT count(*) FROM pools WHERE discovery_source IS NULL")).toBe(count("null-discovery-source"));
        expect(one(db, "SELECT count(*) FROM trades WHERE typeof(price_usd) = 'text' OR typeof(volume_usd) = 'text'")).toBe(
            manifest.defects.filter((d) => d.kind === "text-number" && d.table === "trades").length,
        );
        expect(one(db, "SELECT count(*) FROM system_alerts WHERE typeof(acknowledged) = 'text' OR typeof(resolved) = 'text'")).toBe(
            manifest.defects.filter((d) => d.table === "system_alerts" && d.defect === "bad-booleans").length,
        );
        const orphanTrades = one(db, "SELECT count(*) FROM trades WHERE pool_id NOT IN (SELECT id FROM pools)");
        expect(orphanTrades).toBe(count("trade-deleted-pool"));
        expect(one(db, "SELECT count(*) FROM dexes WHERE id LIKE 'test%'")).toBe(1);
        expect(manifest.defects.filter((d) => d.kind === "overflow").length).toBeGreaterThanOrEqual(5);
    });

    it("text numbers keep the declared NUMERIC type; integrity_check flags exactly those columns", () => {
        expect(one(db, "SELECT sql FROM sqlite_schema WHERE name = 'trades'")).toBe(
            renderCreateTable("trades", CURRENT_TABLE_ITEMS.trades),
        );
        const flagged = new Set(db.prepare("PRAGMA integrity_check").pluck().all() as string[]);
        const expected = new Set(
            manifest.defects.filter((d) => d.kind === "text-number").map((d) => `TEXT value in ${d.table}.${d.columns[0]}`),
        );
        expect(flagged).toEqual(expected);
    });
});

describe("schema variants", () => {
    const gen = (variant: "old" | "altered" | "extended") => {
        const file = path.join(dir, `${variant}.db`);
        const manifest = generateCollectorDb({ path: file, rows: 6000, seed: 5, variant, defects: "all", hostTimeZone: ZONE });
        return { db: open(file), manifest };
    };

    it("old: old watchlist, no metadata_json on dexes/tokens, no late pool columns, missing tables, alembic_version", () => {
        const { db, manifest } = gen("old");
        expect(columns(db, "watchlist")).toEqual([
            "id",
            "pool_id",
            "token_symbol",
            "token_name",
            "network_address",
            "added_at",
            "is_active",
        ]);
        expect(one(db, "SELECT \"notnull\" FROM pragma_table_info('watchlist') WHERE name = 'is_active'")).toBe(0);
        expect(columns(db, "dexes")).not.toContain("metadata_json");
        expect(columns(db, "tokens")).not.toContain("metadata_json");
        expect(columns(db, "pools")).toEqual([
            "id",
            "address",
            "name",
            "dex_id",
            "base_token_id",
            "quote_token_id",
            "reserve_usd",
            "created_at",
            "last_updated",
            "metadata_json",
        ]);
        expect(tables(db)).toEqual([
            "alembic_version",
            "collection_metadata",
            "dexes",
            "ohlcv_data",
            "pools",
            "tokens",
            "trades",
            "watchlist",
        ]);
        expect(one<string>(db, "SELECT version_num FROM alembic_version")).toMatch(/^[0-9a-f]{12}$/);
        for (const d of manifest.defects) assertPlanted(db, d);
        db.close();
    });

    it("altered: late pool columns appended by ALTER TABLE, NULL on the rows written before", () => {
        const { db, manifest } = gen("altered");
        const late = ["activity_score", "discovery_source", "collection_priority", "auto_discovered_at", "last_activity_check"];
        expect(columns(db, "pools")).toEqual([...columns(db, "pools").slice(0, 10), ...late]);
        expect(columns(db, "pools").slice(0, 10)).toContain("metadata_json");
        const note = manifest.drift.find((d) => d.kind === "columns-added-by-alter")!;
        expect(note.table).toBe("pools");
        const before = note.rowsBeforeAlter!;
        expect(before).toBeGreaterThan(0);
        expect(
            one(db, `SELECT count(*) FROM pools WHERE rowid <= ? AND (${late.map((c) => `${c} IS NOT NULL`).join(" OR ")})`, before),
        ).toBe(0);
        expect(one<number>(db, "SELECT count(*) FROM pools WHERE rowid > ? AND collection_priority IS NOT NULL", before)).toBeGreaterThan(
            0,
        );
        expect(one<string>(db, "SELECT sql FROM sqlite_schema WHERE name = 'pools'")).toMatch(
            /metadata_json TEXT, activity_score NUMERIC\(5, 2\), discovery_source VARCHAR\(20\)/,
        ); // SQLite splices ADD COLUMN text in
        for (const d of manifest.defects) assertPlanted(db, d);
        db.close();
    });

    it("extended: extra new_pools_history columns, an unknown table and an unknown tokens column", () => {
        const { db, manifest } = gen("extended");
        expect(columns(db, "new_pools_history").slice(-6)).toEqual([
            "signal_score",
            "volume_trend",
            "liquidity_trend",
            "momentum_indicator",
            "activity_score",
            "volatility_score",
        ]);
        expect(one(db, "SELECT type FROM pragma_table_info('new_pools_history') WHERE name = 'signal_score'")).toBe("NUMERIC(10, 4)");
        expect(columns(db, "tokens")).toContain("coingecko_coin_id");
        expect(tables(db)).toContain("collector_notes");
        const note = manifest.drift.find((d) => d.table === "new_pools_history")!;
        expect(one(db, "SELECT count(*) FROM new_pools_history WHERE rowid <= ? AND signal_score IS NOT NULL", note.rowsBeforeAlter)).toBe(
            0,
        );
        expect(one<number>(db, "SELECT count(*) FROM new_pools_history WHERE signal_score IS NOT NULL")).toBeGreaterThan(0);
        expect(manifest.drift.map((d) => `${d.kind}:${d.table}`)).toEqual([
            "extra-columns:new_pools_history",
            "extra-columns:tokens",
            "unknown-table:collector_notes",
        ]);
        for (const d of manifest.defects) assertPlanted(db, d);
        db.close();
    });
});

describe("openLiveWriter (uncheckpointed-wal)", () => {
    it("keeps its rows in the -wal file only, until it closes", () => {
        const file = path.join(dir, "live.db");
        generateCollectorDb({ path: file, rows: 3000 });
        const before = contentHash(file);
        const writer = openLiveWriter(file, { rows: 40 });
        try {
            expect(writer.inserted).toHaveLength(40);
            expect(one(writer.db, "PRAGMA wal_autocheckpoint")).toBe(0);
            expect(fs.statSync(`${file}-wal`).size).toBeGreaterThan(0);
            const ids = writer.inserted.map((d) => d.key.id);
            const marks = ids.map(() => "?").join(", ");
            // A reader of the live database sees the WAL rows...
            const reader = open(file);
            expect(one(reader, `SELECT count(*) FROM trades WHERE id IN (${marks})`, ...ids)).toBe(40);
            reader.close();
            // ...a copy of the .db file alone does not.
            const copy = path.join(dir, "live-copy.db");
            fs.copyFileSync(file, copy);
            expect(contentHash(copy)).toBe(before);
            writer.insert(10);
            expect(writer.inserted).toHaveLength(50);
        } finally {
            writer.close();
        }
        expect(fs.existsSync(`${file}-wal`)).toBe(false); // checkpointed on close
        const db = open(file);
        expect(one(db, `SELECT count(*) FROM trades WHERE id LIKE 'solana_%'`)).toBe(one(db, "SELECT count(*) FROM trades"));
        db.close();
    });
});

describe("scale", () => {
    it("writes 200k rows quickly (throughput printed, not asserted)", () => {
        const file = path.join(dir, "scale.db");
        const started = performance.now();
        const m = generateCollectorDb({ path: file, rows: 200_000, defects: "all", hostTimeZone: ZONE });
        const seconds = (performance.now() - started) / 1000;
        console.log(
            `generator: ${m.totalRows} rows in ${seconds.toFixed(2)}s = ${Math.round(m.totalRows / seconds)} rows/s, ${(fs.statSync(file).size / 1e6).toFixed(1)} MB`,
        );
        expect(m.totalRows).toBeGreaterThan(195_000);
        expect(m.totalRows).toBeLessThan(205_000);
    });
});
