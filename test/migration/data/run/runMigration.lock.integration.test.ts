/**
 * Concurrency guard: a run holds a session advisory lock on the target
 * database for its whole duration; a second run against the same database
 * fails fast with a clear message and changes nothing, and the first run
 * finishes undisturbed.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMigrationFixture, type MigrationFixture } from "../../../support/migrationFixture";

describe("a second run while the first holds the lock", () => {
    let fx: MigrationFixture;
    let source: string;

    beforeAll(async () => {
        fx = await createMigrationFixture("lock");
        ({ path: source } = fx.generate("lock", { rows: 1000, seed: 9 }));
    });
    afterAll(async () => fx?.dispose());

    it("fails fast naming the lock, while the first run completes", async () => {
        let release!: () => void;
        const gate = new Promise<void>((r) => (release = r));
        let entered!: () => void;
        const inCopy = new Promise<void>((r) => (entered = r));
        // The first run stops before its first chunk commits, holding the lock.
        const first = fx.migrate(
            source,
            {},
            {
                beforeChunkCommit: async () => {
                    entered();
                    await gate;
                },
            },
        );
        try {
            await inCopy;
            const [held] = await fx.query<{ n: string }>(
                "SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
            );
            expect(Number(held.n)).toBeGreaterThanOrEqual(1);

            const t0 = Date.now();
            const second = await fx.migrate(source).then(
                () => undefined,
                (e: Error) => e,
            );
            expect(second).toBeInstanceOf(Error);
            expect(second!.message).toBe("another gecko-pg migration is running against this database (advisory lock held)");
            expect(Date.now() - t0).toBeLessThan(5000); // the first run waits forever: any bound shows no waiting
            // The failed run copied nothing and recorded nothing.
            const [done] = await fx.query<{ n: string }>("SELECT count(*) AS n FROM gecko_migration.chunks WHERE status = 'done'");
            expect(Number(done.n)).toBe(0);
            // Validation takes the same lock.
            await expect(fx.validate(source)).rejects.toThrow(/advisory lock held/);
        } finally {
            release();
        }
        const report = await first;
        expect(report.failures).toEqual([]);
        expect(report.ok).toBe(true);
        const runs = await fx.query<{ ok: boolean }>("SELECT ok FROM gecko_migration.runs");
        expect(runs).toEqual([{ ok: true }]);
        // The lock goes with the session: the next run gets it.
        expect((await fx.migrate(source)).ok).toBe(true);
    });
});
