/**
 * A stop asked for during a cutover (SIGINT/SIGTERM on the command line: `signal`) ends it
 * before its next step: nothing switched, the file's write lock released, and a collector the
 * stop hook had stopped started again on SQLite. Before the stop hook, the collector is left
 * running and no hook runs.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCutover, type CutoverOptions } from "../../../migration/cutover/cutover";
import { silentLogger } from "../../../migration/data/options";
import { acquireWriteFreeze } from "../../../migration/cutover/freeze";
import { createMigrationFixture, type MigrationFixture } from "../../support/migrationFixture";

describe("a cutover asked to stop", () => {
    let fx: MigrationFixture;
    let source: string;

    beforeAll(async () => {
        fx = await createMigrationFixture("cutsignal");
        ({ path: source } = fx.generate("cutsignal", { rows: 800, seed: 8 }));
        expect((await fx.migrate(source)).ok).toBe(true);
    });
    afterAll(async () => fx?.dispose());

    const options = (signal: AbortSignal, hooks: Pick<CutoverOptions, "stopCollector" | "startCollector">): CutoverOptions => ({
        input: fx.input(source),
        freezeBudgetSeconds: 5,
        lockWaitMs: 2000,
        attempts: 2,
        catchUpPasses: 5,
        collector: { postgres: { host: fx.target.host, port: fx.target.port, database: fx.target.database, user: fx.appRole } },
        logger: silentLogger,
        signal,
        ...hooks,
    });
    const recorded = async () => (await fx.query<{ n: number }>("SELECT count(*)::int AS n FROM gecko_migration.cutovers"))[0].n;

    it("after the stop hook: nothing switched, the lock released, the collector started again on SQLite", async () => {
        const stop = new AbortController();
        const calls: string[] = [];
        const r = await runCutover(
            options(stop.signal, {
                // The signal arrives while the collector is being stopped.
                stopCollector: async () => void (calls.push("stop"), stop.abort()),
                startCollector: async () => void calls.push("start"),
            }),
        );
        expect(r.ok).toBe(false);
        expect(r.interrupted).toBe(true);
        expect(r.error).toMatch(/^interrupted during the freeze; nothing was switched/);
        expect(calls).toEqual(["stop", "start"]);
        expect(r.steps.map((s) => s.step)).toEqual(["preflight", "catch-up", "freeze", "restart-on-sqlite"]);
        expect(await recorded()).toBe(0);
        // The file's write lock went with the stop: a writer can take it at once.
        const lock = acquireWriteFreeze(source, 100);
        lock.close();
    });

    it("before the stop hook: no hook runs, the collector keeps running, nothing switched", async () => {
        const stop = new AbortController();
        const calls: string[] = [];
        stop.abort();
        const r = await runCutover(
            options(stop.signal, {
                stopCollector: async () => void calls.push("stop"),
                startCollector: async () => void calls.push("start"),
            }),
        );
        expect(r).toMatchObject({ ok: false, interrupted: true });
        expect(r.error).toMatch(/^interrupted during preflight/);
        expect(calls).toEqual([]);
        expect(await recorded()).toBe(0);
    });
});
