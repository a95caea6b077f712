/**
 * One source row to one COPY text line (migration/data/copy/rowEncoder.ts), with
 * the run's real converters: fields in target column order, tab-separated, NULL
 * as \N, backslash/tab/newline/CR escaped as COPY's text format reads them; the
 * key's checksum bucket; NOT NULL fills and warnings recorded; a row that cannot
 * be loaded set aside with every raw value.
 */
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { invalidTextMarker } from "../../../../migration/data/source/utf8";
import { bucketOf } from "../../../../migration/data/checksum/checksum";
import { describeKey, rawText, rawType, RowEncoder, type RawValue } from "../../../../migration/data/copy/rowEncoder";
import { conversionFor } from "../../../../migration/data/plan/conversion";
import { mapSourceToTarget, type TableMapping } from "../../../../migration/data/plan/tableMapping";
import type { SourceColumn, SourceTable } from "../../../../migration/data/source/introspect";
import { targetTable } from "../../../../migration/schema/tables";

const conversion = conversionFor({ sourceTimeZone: "UTC" });

/** A TEXT value with these bytes, read from a real SQLite file as the copy reads it (marked as invalid text). */
function invalidUtf8(hex: string): RawValue {
    const db = new Database(":memory:");
    db.exec("CREATE TABLE t (v TEXT)");
    db.prepare("INSERT INTO t VALUES (CAST(? AS TEXT))").run(Buffer.from(hex, "hex"));
    const rows = db.prepare("SELECT rowid, v FROM t").raw(true).all() as RawValue[][];
    return invalidTextMarker(db, "t", ["v"])(rows[0])[1];
}

function col(name: string, declaredType: string, pk = 0, notNull = false): SourceColumn {
    return { name, declaredType, notNull, primaryKeyIndex: pk };
}

/** The mapping of one source table, as mapSourceToTarget makes it for a run. */
function mappingOf(name: string, columns: SourceColumn[]): TableMapping {
    const src: SourceTable = { name, columns, rowCount: 1, minRowid: 1n, maxRowid: 1n, withoutRowid: false };
    const known = ["watchlist", "dexes", "discovery_metadata"].map((t) => targetTable(t));
    const { tables } = mapSourceToTarget({ tables: new Map([[name, src]]), journalMode: "wal", sqliteVersion: "3.45.1" }, known, {
        includeExtraTables: true,
    });
    return tables.find((t) => t.target.name === name)!;
}

function encoderFor(mapping: TableMapping, buckets = 1): RowEncoder {
    return new RowEncoder(mapping, (c) => conversion.converterFor(mapping.target.name, c), buckets);
}

/** An old watchlist: added_at (copied into created_at), no updated_at or metadata_json (filled). */
const oldWatchlist = mappingOf("watchlist", [
    col("id", "INTEGER", 1),
    col("pool_id", "VARCHAR(200)", 0, true),
    col("token_symbol", "VARCHAR(50)"),
    col("token_name", "VARCHAR(200)"),
    col("network_address", "VARCHAR(100)"),
    col("is_active", "BOOLEAN"),
    col("added_at", "DATETIME"),
]);

/** rowid, then the source columns in sourceColumns() order. */
const watchlistRow = (over: Partial<Record<string, RawValue>> = {}): RawValue[] => {
    const v = {
        id: 7n,
        pool_id: "solana_abc",
        token_symbol: "GKO",
        token_name: "Gecko",
        network_address: "0xabc",
        is_active: 1n,
        added_at: "2024-01-02 03:04:05",
        ...over,
    };
    return [v.id, v.id, v.pool_id, v.token_symbol, v.token_name, v.network_address, v.is_active, v.added_at];
};

describe("RowEncoder.encode", () => {
    it("selects the source columns the mapping copies, after rowid", () => {
        expect(encoderFor(oldWatchlist).sourceColumns()).toEqual([
            "id",
            "pool_id",
            "token_symbol",
            "token_name",
            "network_address",
            "is_active",
            "added_at",
        ]);
    });

    it("writes the fields in target order, fills included, escaped as COPY text", () => {
        const r = encoderFor(oldWatchlist).encode(
            watchlistRow({ token_symbol: "A\tB", token_name: "line1\nline2\r", network_address: "C:\\wallets\\0x1" }),
        );
        expect(r).toEqual({
            ok: true,
            values: ["7", "solana_abc", "A\tB", "line1\nline2\r", "C:\\wallets\\0x1", "true", "2024-01-02 03:04:05+00", null, "{}"],
            line: "7\tsolana_abc\tA\\tB\tline1\\nline2\\r\tC:\\\\wallets\\\\0x1\ttrue\t2024-01-02 03:04:05+00\t\\N\t{}",
            bucket: 0,
            filled: [],
        });
    });

    it("tells NULL apart from the texts 'NULL' and '\\N'", () => {
        const r = encoderFor(oldWatchlist).encode(watchlistRow({ token_symbol: "\\N", token_name: "NULL", network_address: null }));
        expect(r.ok && r.line).toBe("7\tsolana_abc\t\\\\N\tNULL\t\\N\ttrue\t2024-01-02 03:04:05+00\t\\N\t{}");
    });

    it("fills a NULL in a NOT NULL column with the column's null fill and records it", () => {
        // watchlist.is_active: the app default is true, but NULL never matched `is_active = 1`, so it becomes false.
        const r = encoderFor(oldWatchlist).encode(watchlistRow({ is_active: null }));
        expect(r.ok && r.values[5]).toBe("false");
        expect(r.ok && r.filled).toEqual(["is_active"]);
        expect(r.ok && r.line).toBe("7\tsolana_abc\tGKO\tGecko\t0xabc\tfalse\t2024-01-02 03:04:05+00\t\\N\t{}");
    });

    it("counts the values accepted with a warning, per column and warning, across rows", () => {
        const enc = encoderFor(oldWatchlist);
        const a = enc.encode(watchlistRow({ added_at: "" }));
        const b = enc.encode(watchlistRow({ added_at: " ", is_active: "" }));
        expect(a.ok && a.values[6]).toBeNull();
        expect(b.ok && b.filled).toEqual(["is_active"]); // blank became NULL, then the NOT NULL fill
        expect(Object.fromEntries(enc.warnings)).toEqual({ "created_at: empty-as-null": 2, "is_active: empty-as-null": 1 });
    });

    it("puts rows in the bucket of their key's COPY text, whatever the other columns hold", () => {
        const dexes = mappingOf("dexes", [
            col("id", "VARCHAR(50)", 1, true),
            col("name", "VARCHAR(100)", 0, true),
            col("network", "VARCHAR(20)", 0, true),
        ]);
        const enc = encoderFor(dexes, 1024);
        const a = enc.encode([1n, "dex\tone", "One", "solana"]);
        const b = enc.encode([2n, "dex\tone", "Other name", "eth"]);
        expect(a.ok && a.bucket).toBe(bucketOf("dex\\tone", 1024));
        expect(b.ok && b.bucket).toBe(a.ok && a.bucket);
    });

    it("keys a composite row key by its fields joined with a tab", () => {
        // An extra table with PRIMARY KEY (network, pool_id).
        const priceCache = mappingOf("price_cache", [col("pool_id", "TEXT", 2), col("network", "TEXT", 1), col("fetched_at", "DATETIME")]);
        expect(priceCache.target.rowKey).toEqual(["network", "pool_id"]);
        const r = encoderFor(priceCache, 1024).encode([1n, "x\ty", "solana", "2024-05-06T07:08:09Z"]);
        expect(r.ok && r.line).toBe("x\\ty\tsolana\t2024-05-06 07:08:09+00");
        expect(r.ok && r.bucket).toBe(bucketOf("solana\tx\\ty", 1024));
    });

    it("quarantines a row it cannot load, naming every failing column and keeping every raw value", () => {
        const r = encoderFor(oldWatchlist).encode(
            watchlistRow({ id: 9n, pool_id: null, is_active: "maybe", token_name: Buffer.from([0x47, 0x4b]) }),
        );
        expect(r).toEqual({
            ok: false,
            rowid: 9n,
            key: { id: "9" },
            column: "pool_id",
            rawValue: null,
            rawType: "null",
            reason: 'pool_id: NULL in a NOT NULL column; is_active: TEXT "maybe" is not a boolean: expected true/false/t/f/yes/no/1/0',
            row: {
                rowid: "9",
                id: "9",
                pool_id: null,
                token_symbol: "GKO",
                token_name: "x'474b'",
                network_address: "0xabc",
                is_active: "maybe",
                added_at: "2024-01-02 03:04:05", // the source's column name
            },
        });
    });

    it("sets aside a value of a nullable column outside every key, keeping its row (NULL there) and the raw value as hex", () => {
        const r = encoderFor(oldWatchlist).encode(watchlistRow({ token_symbol: "a\0b" }));
        expect(r.ok).toBe(true);
        if (!r.ok) return;
        expect(r.values[2]).toBeNull();
        expect(r.setAside).toEqual([
            {
                rowid: 7n,
                key: { id: "7" },
                column: "token_symbol",
                rawValue: "x'610062'",
                rawType: "text (hex)",
                reason: expect.stringMatching(/NUL/),
            },
        ]);
    });

    it("sets the row aside when the bad value is in a key, a uniqueness rule or a NOT NULL column", () => {
        // pool_id is NOT NULL and unique in watchlist; id is the key.
        const badKey = watchlistRow();
        badKey[1] = "not-a-number"; // the id column (raw[0] is the rowid)
        for (const raw of [watchlistRow({ pool_id: "a\0b" }), badKey]) expect(encoderFor(oldWatchlist).encode(raw).ok).toBe(false);
    });

    it("sets aside TEXT whose bytes are not UTF-8 with the byte offset; repairs it only on request and never in a key", () => {
        const marked = invalidUtf8("41fffe");
        const r = encoderFor(oldWatchlist).encode(watchlistRow({ token_name: marked }));
        expect(r.ok && r.setAside?.[0]).toMatchObject({
            column: "token_name",
            rawValue: "x'41fffe'",
            reason: "invalid UTF-8 at byte 1 (x'41fffe')",
        });
        const repairing = new RowEncoder(oldWatchlist, (c) => conversion.converterFor("watchlist", c), 1, { repairInvalidUtf8: true });
        const repaired = repairing.encode(watchlistRow({ token_name: marked }));
        expect(repaired.ok && repaired.values[3]).toBe("A\uFFFD\uFFFD");
        expect(repaired.ok && repaired.repairs).toMatchObject([{ column: "token_name", kind: "utf8-replaced", rawValue: "x'41fffe'" }]);
        const key = repairing.encode(watchlistRow({ pool_id: invalidUtf8("fffe") }));
        expect(key.ok).toBe(false);
    });

    it("refuses a mapping whose row key is not copied", () => {
        // A discovery_metadata without id: the id is left to the target's sequence, but it is the row key.
        const noId = mappingOf("discovery_metadata", [col("discovery_type", "VARCHAR(50)", 0, true), col("discovery_time", "DATETIME")]);
        expect(noId.generatedColumns).toEqual(["id"]);
        expect(() => encoderFor(noId)).toThrow("discovery_metadata: row key column id is not mapped");
    });
});

describe("rawText, rawType and describeKey", () => {
    it("name raw values for quarantine records and messages", () => {
        const values: RawValue[] = [null, 12n, 1.5, 3, "plain", "é\0", Buffer.from([0xde, 0xad]), Buffer.alloc(0)];
        expect(values.map(rawText)).toEqual([null, "12", "1.5", "3", "plain", "x'c3a900'", "x'dead'", "x''"]);
        expect(values.map(rawType)).toEqual(["null", "integer", "real", "real", "text", "text (hex)", "blob", "blob"]);
    });

    it("describes a key as table column=value, NULL unquoted", () => {
        expect(describeKey("watchlist", { id: "7" })).toBe('watchlist id="7"');
        expect(describeKey("price_cache", { network: "solana", pool_id: null })).toBe('price_cache network="solana", pool_id=NULL');
    });
});
