/**
 * Upgrade in place: a database the previous gecko-pg (schema version 2, run from git)
 * migrated is brought to this version without re-copying, without rewriting a big table,
 * and without losing or changing one stored value; `validate` passes before (the old
 * version's) and after (this version's), and a `migrate` rerun then converges, copying
 * the rows the old types had to set aside.
 */
import * as path from "node:path";
import { Client } from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clientConfig } from "../../../migration/postgres/connection";
import { TARGET_TABLES } from "../../../migration/schema/tables";
import { checkTargetSchema, upgradeTarget } from "../../../migration/schema/target";
import { silentLogger } from "../../../migration/data/options";
import { expectAllPassed, missingStack, runCollectorOrm, URL_FORMS } from "../../support/collectorOrm";
import { createMigrationFixture, HOST_ZONE, tableReport, type MigrationFixture } from "../../support/migrationFixture";
import { exportCommit, runCli, SCHEMA_V2_COMMIT } from "../../support/previousVersion";

/** Columns version 2 had, per table: their values must come through the upgrade untouched. */
const V2_ONLY_NEW: Readonly<Record<string, readonly string[]>> = {
    dexes: ["created_at"],
    tokens: ["created_at"],
    trades: ["metadata_json"],
    ohlcv_data: ["metadata_json"],
    collection_metadata: ["id", "metadata_json", "created_at", "updated_at"],
    discovery_metadata: ["metadata_json"],
    new_pools_history: ["discovery_source", "api_response_data"],
};

/** md5 of every row's version-2 columns, in key order: equal before and after means no value changed. */
async function contentDigest(fx: MigrationFixture, table: string): Promise<string> {
    const t = TARGET_TABLES.find((x) => x.name === table)!;
    const cols = t.columns.filter((c) => !(V2_ONLY_NEW[table] ?? []).includes(c.name)).map((c) => `"${c.name}"`);
    const [r] = await fx.query<{ d: string }>(
        `SELECT md5(coalesce(string_agg(row(${cols.join(", ")})::text, E'\\n' ORDER BY ${t.rowKey.map((k) => `"${k}"`).join(", ")}), '')) AS d FROM "${table}"`,
    );
    return r.d;
}

/** Files backing the big tables and their indexes: a rewrite or an index rebuild gives new ones. */
async function storage(fx: MigrationFixture): Promise<Map<string, string>> {
    const rows = await fx.query<{ rel: string; node: string }>(
        `SELECT c.relname AS rel, c.relfilenode::text AS node FROM pg_class c
          WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'i') AND c.relfilenode <> 0
            AND (c.relname LIKE 'trades%' OR c.relname LIKE 'ohlcv_data%' OR c.relname LIKE 'new_pools_history%' OR c.relname LIKE 'pools%')`,
    );
    return new Map(rows.map((r) => [r.rel, r.node]));
}

describe("upgrade in place from schema version 2", () => {
    let fx: MigrationFixture;
    let prev: { dir: string; remove(): void };
    let source: string;
    const before = {
        counts: new Map<string, string>(),
        digests: new Map<string, string>(),
        storage: new Map<string, string>(),
        quarantined: 0,
    };
    let admin: Client;

    beforeAll(async () => {
        fx = await createMigrationFixture("upgrade");
        // Every defect, including memecoin amounts version 2's numeric(30,18) must set aside.
        ({ path: source } = fx.generate("v2", { rows: 4000, seed: 21, defects: "all" }));
        prev = exportCommit(SCHEMA_V2_COMMIT);
        const common = [
            "--sqlite",
            source,
            "--source-time-zone",
            HOST_ZONE,
            "--owner-role",
            fx.ownerRole,
            "--app-role",
            fx.appRole,
            "--allow-quarantine",
            "--quiet",
        ];
        const migrated = runCli(prev.dir, ["migrate", ...common, "--report", path.join(fx.dir, "v2-migrate.json")], fx.db.url);
        expect(migrated.code, migrated.stderr.slice(-2000)).toBe(0);
        const validated = runCli(prev.dir, ["validate", ...common, "--report", path.join(fx.dir, "v2-validate.json")], fx.db.url);
        expect(validated.code, validated.stderr.slice(-2000)).toBe(0);
        for (const t of TARGET_TABLES) {
            before.counts.set(t.name, (await fx.query<{ n: string }>(`SELECT count(*) AS n FROM "${t.name}"`))[0].n);
            before.digests.set(t.name, await contentDigest(fx, t.name));
        }
        before.storage = await storage(fx);
        before.quarantined = Number((await fx.query<{ n: string }>("SELECT count(*) AS n FROM gecko_quarantine.rows"))[0].n);
        admin = new Client(clientConfig(fx.target));
        await admin.connect();
    }, 600_000);
    afterAll(async () => {
        await admin?.end();
        prev?.remove();
        await fx?.dispose();
    });

    const roles = () => ({ ownerRole: fx.ownerRole, appRole: fx.appRole, timeZone: "UTC" });

    it("starts from what version 2 made: its version recorded, its memecoin amounts set aside", async () => {
        expect((await fx.query("SELECT version FROM gecko_migration.schema_version ORDER BY 1")).map((r) => r.version)).toEqual([2]);
        const [q] = await fx.query<{ n: string }>(
            "SELECT count(*) AS n FROM gecko_quarantine.rows WHERE table_name = 'trades' AND reason LIKE '%overflows numeric(30,18)%'",
        );
        expect(Number(q.n)).toBeGreaterThan(0);
    });

    it("refuses duplicates under a unique constraint it would add, names them, and changes nothing", async () => {
        const [tok] = await fx.query<{ id: string; network: string; address: string }>(
            "SELECT id, network, address FROM tokens ORDER BY id LIMIT 1",
        );
        await fx.query("INSERT INTO tokens (id, address, network) VALUES ($1, $2, $3)", [`dup_${tok.id}`, tok.address, tok.network]);
        await expect(upgradeTarget(admin, roles(), silentLogger)).rejects.toThrow(
            /cannot add uq_tokens_network_address: rows share \(network, address\): .*"address":.* x2.*then rerun/,
        );
        expect((await fx.query("SELECT version FROM gecko_migration.schema_version ORDER BY 1")).map((r) => r.version)).toEqual([2]);
        const [c] = await fx.query<{ n: string }>(
            "SELECT count(*) AS n FROM information_schema.columns WHERE table_name = 'trades' AND column_name = 'metadata_json'",
        );
        expect(c.n).toBe("0");
        await fx.query("DELETE FROM tokens WHERE id = $1", [`dup_${tok.id}`]);
    });

    it("upgrades: new columns, wider types and keys in place, indexes built, nothing rewritten, every value kept", async () => {
        const result = await upgradeTarget(admin, roles(), silentLogger);
        expect(result.before).toEqual([2]);
        expect(result.changes).toEqual(
            expect.arrayContaining([
                "added column trades.metadata_json",
                "widened trades.from_token_amount from numeric(30,18) to numeric(38,18)",
                "added column collection_metadata.id",
                "moved primary key of collection_metadata from (collector_type)",
                "added unique constraint uq_tokens_network_address on tokens",
                "recorded schema version 3 (upgraded from 2)",
                "created index idx_trades_high_volume",
                expect.stringMatching(/^dropped retired index idx_tokens_symbol /),
            ]),
        );
        expect(
            (await fx.query("SELECT version, description FROM gecko_migration.schema_version ORDER BY 1")).map((r) => [
                r.version,
                r.description,
            ]),
        ).toEqual([
            [2, expect.any(String)],
            [3, "collector schema, upgraded in place from version 2"],
        ]);
        // Not one row lost, not one value changed.
        for (const t of TARGET_TABLES) {
            expect((await fx.query<{ n: string }>(`SELECT count(*) AS n FROM "${t.name}"`))[0].n, t.name).toBe(before.counts.get(t.name));
            expect(await contentDigest(fx, t.name), t.name).toBe(before.digests.get(t.name));
        }
        // No table rewrite, no index rebuild on the big tables (new indexes aside).
        const after = await storage(fx);
        // The one exception PostgreSQL imposes: widening ohlcv_data.pool_id (varchar 100 -> 200) rebuilds the
        // partitions' indexes on it (a partitioned index is never reused on a type change); the change says so.
        const changed = [...before.storage].filter(([rel, node]) => after.get(rel) !== node).map(([rel]) => rel);
        const rebuilt = changed.filter((rel) =>
            /^ohlcv_data_(p\d{6}|default)_(pool_id_timeframe_timestamp_key|pool_timeframe_datetime_idx)$/.test(rel),
        );
        expect(changed.filter((rel) => !rebuilt.includes(rel))).toEqual([]);
        expect(result.changes).toContain(
            "widened ohlcv_data.pool_id from character varying(100) to character varying(200) (rebuilt its partitions' indexes on pool_id: PostgreSQL does not reuse them on a partitioned table)",
        );
        // The new columns hold what a fresh copy would give them.
        expect(await fx.query("SELECT DISTINCT metadata_json::text AS j FROM trades")).toEqual([{ j: "{}" }]);
        expect(await fx.query("SELECT count(*)::int AS n FROM dexes WHERE created_at IS NOT NULL")).toEqual([{ n: 0 }]);
        const [ids] = await fx.query<{ n: number; distinct: number }>(
            "SELECT count(*)::int AS n, count(DISTINCT id)::int AS distinct FROM collection_metadata",
        );
        expect(ids.distinct).toBe(ids.n);
        const schema = await checkTargetSchema(admin, roles());
        expect(schema.problems).toEqual([]);
        // The sequence is past the largest id: the collector's next insert (without id) works.
        await fx.query("INSERT INTO collection_metadata (collector_type) VALUES ('after_upgrade')");
        await fx.query("DELETE FROM collection_metadata WHERE collector_type = 'after_upgrade'");
    });

    it("is idempotent", async () => {
        const again = await upgradeTarget(admin, roles(), silentLogger);
        expect(again).toEqual({ before: [2, 3], version: 3, changes: [] });
    });

    it("validates after the upgrade (source re-read with the new columns), the set-aside rows still set aside", async () => {
        const v = await fx.validate(source, { allowQuarantine: true });
        expect(v.failures).toEqual([]);
        expect(v.ok).toBe(true);
        for (const t of v.tables) expect(t.validation!.checksumSource, t.table).toBe("source-rescan");
        expect(v.quarantine.total).toBe(before.quarantined);
    });

    it("a migrate rerun copies the rows the old types set aside and converges", async () => {
        const r = await fx.migrate(source, { allowQuarantine: true });
        expect(r.failures).toEqual([]);
        const trades = tableReport(r, "trades");
        expect(trades.rowsRecoveredThisRun).toBeGreaterThan(0);
        expect(trades.rowsCopiedThisRun).toBe(0);
        // What still overflows is a value set aside in its row now (the row is back), its reason in the new type's terms.
        const left = await fx.query<{ reason: string }>(
            "SELECT reason FROM gecko_quarantine.set_aside_values WHERE table_name = 'trades' AND column_name = 'from_token_amount'",
        );
        expect(left.length).toBeGreaterThan(0);
        for (const q of left) expect(q.reason).toMatch(/overflows numeric\(38,18\)/);
        const again = await fx.migrate(source, { allowQuarantine: true });
        expect(again.ok).toBe(true);
        expect(again.tables.reduce((a, t) => a + t.rowsRecoveredThisRun + t.rowsCopiedThisRun, 0)).toBe(0);
        const v = await fx.validate(source, { allowQuarantine: true });
        expect(v.failures).toEqual([]);
    });

    // (c) of the collector ORM proof: the collector's own stack on the upgraded database, both model sets.
    // Last: its checks write rows the source does not have.
    it.skipIf(missingStack !== undefined).each(URL_FORMS)(
        "the collector's SQLAlchemy stack runs on it: %s (%s models)",
        (prefix, models) => {
            expectAllPassed(runCollectorOrm(fx.app, prefix), models);
        },
    );
});
