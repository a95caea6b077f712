/**
 * The source file is never modified: the migration opens it read-only and in
 * place, so rows a live collector still holds in the -wal file are migrated
 * while the bytes of the .db and the -wal stay exactly as they were.
 */
import Database from "better-sqlite3";
import * as fs from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openSharedSnapshot } from "../../../../migration/data/source/snapshot";
import { openLiveWriter, type LiveWriter } from "../../../../scripts/generator/collectorDb";
import { createMigrationFixture, sha256, tableReport, type MigrationFixture } from "../../../support/migrationFixture";

describe("the source SQLite file", () => {
    let fx: MigrationFixture;
    let live: LiveWriter | undefined;

    beforeAll(async () => {
        fx = await createMigrationFixture("source");
    });
    afterAll(async () => {
        live?.close();
        await fx?.dispose();
    });

    it("is byte for byte unchanged (.db and -wal) by a migration and a validation while a collector holds uncheckpointed rows", async () => {
        const { path: file, manifest } = fx.generate("live", { rows: 1200, seed: 4 });
        live = openLiveWriter(file, { rows: 40, seed: 2 });
        const before = { db: sha256(file), wal: sha256(`${file}-wal`) };
        expect(before.wal, "the live writer's rows are in the -wal file").not.toBeNull();
        expect(fs.statSync(`${file}-wal`).size).toBeGreaterThan(0);

        const report = await fx.migrate(file);
        expect(report.failures).toEqual([]);
        expect(report.ok).toBe(true);
        expect(tableReport(report, "trades").sourceRows).toBe(manifest.tables.trades! + 40);
        const ids = live.inserted.map((d) => String(d.key.id));
        const [n] = await fx.query<{ n: string }>("SELECT count(*) AS n FROM trades WHERE id = ANY($1)", [ids]);
        expect(Number(n.n)).toBe(40);
        expect((await fx.validate(file)).ok).toBe(true);

        expect({ db: sha256(file), wal: sha256(`${file}-wal`) }).toEqual(before);
    });

    it("is unchanged by a migration of a closed (checkpointed) database; at most an empty -wal appears", async () => {
        const { path: file } = fx.generate("closed", { rows: 800, seed: 8 });
        expect(fs.existsSync(`${file}-wal`)).toBe(false);
        const before = sha256(file);
        const fx2 = await createMigrationFixture("source2"); // a fresh target: this is another source
        try {
            const report = await fx2.migrate(file);
            expect(report.ok).toBe(true);
        } finally {
            await fx2.dispose();
        }
        expect(sha256(file)).toBe(before);
        // A read-only reader of a WAL database creates an empty -wal (and -shm) it cannot remove; no data goes there.
        if (fs.existsSync(`${file}-wal`)) expect(fs.statSync(`${file}-wal`).size).toBe(0);
    });

    it("is migrated by convert workers (their own connections) with the -wal rows included and the bytes unchanged", async () => {
        const { path: file, manifest } = fx.generate("liveworkers", { rows: 1200, seed: 5 });
        const writer = openLiveWriter(file, { rows: 30, seed: 3 });
        try {
            const before = { db: sha256(file), wal: sha256(`${file}-wal`) };
            const fx2 = await createMigrationFixture("sourcew");
            try {
                const report = await fx2.migrate(file, { convertWorkers: 2 });
                expect(report.failures).toEqual([]);
                expect(tableReport(report, "trades").sourceRows).toBe(manifest.tables.trades! + 30);
                expect(tableReport(report, "trades").rowsCopiedThisRun).toBe(manifest.tables.trades! + 30);
            } finally {
                await fx2.dispose();
            }
            expect({ db: sha256(file), wal: sha256(`${file}-wal`) }).toEqual(before);
        } finally {
            writer.close();
        }
    });
});

describe("one snapshot for several connections (openSharedSnapshot)", () => {
    let fx: MigrationFixture;
    beforeAll(async () => {
        fx = await createMigrationFixture("shared");
    });
    afterAll(async () => fx?.dispose());

    it("retries when a commit lands while the readers open, and then every reader sees the same rows", async () => {
        const { path: file } = fx.generate("shared", { rows: 300, seed: 9 });
        const writer = new Database(file);
        writer.pragma("journal_mode = WAL");
        const peer = new Database(file, { readonly: true });
        const count = (db: Database.Database) => Number(db.prepare("SELECT count(*) AS n FROM dexes").pluck().get());
        let begins = 0;
        try {
            const snapshot = await openSharedSnapshot(file, {
                begin: async () => {
                    // The first time, a collector commits after the main snapshot was taken, before the peer's.
                    if (begins++ === 0)
                        writer.prepare("INSERT INTO dexes (id, name, network) VALUES ('shared_test_dex', 'x', 'solana')").run();
                    peer.exec("BEGIN");
                    count(peer);
                },
                end: async () => {
                    peer.exec("COMMIT");
                },
            });
            try {
                expect(begins).toBe(2);
                expect(count(peer)).toBe(count(snapshot.db));
                // Both hold the snapshot: a later commit is invisible to either.
                writer.prepare("INSERT INTO dexes (id, name, network) VALUES ('shared_test_dex2', 'y', 'solana')").run();
                expect(count(peer)).toBe(count(snapshot.db));
                expect(count(writer)).toBe(count(snapshot.db) + 1);
            } finally {
                snapshot.close();
            }
        } finally {
            peer.close();
            writer.close();
        }
    });
});
