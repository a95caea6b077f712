/**
 * A cutover in its own process, for tests that kill it: GECKO_TEST_CUTOVER holds the
 * MigrationInput (JSON) and GECKO_TEST_CONFIG the collector's config file; the stop hook
 * SIGKILLs the process while it holds the SQLite write lock, after the final pass.
 *
 *   node --import tsx test/support/cutoverChild.ts
 */
import { runCutover } from "../../migration/cutover/cutover";
import { silentLogger, type MigrationInput } from "../../migration/data/options";

const input = JSON.parse(process.env.GECKO_TEST_CUTOVER ?? "null") as MigrationInput | null;
if (!input) throw new Error("GECKO_TEST_CUTOVER is not set");

runCutover({
    input,
    freezeBudgetSeconds: 30,
    lockWaitMs: 5000,
    attempts: 1,
    catchUpPasses: 5,
    collectorConfigPath: process.env.GECKO_TEST_CONFIG,
    collector: { postgres: { host: input.target.host, port: input.target.port, database: input.target.database, user: "gecko_collector" } },
    stopCollector: async () => {
        process.stdout.write("frozen\n");
        process.kill(process.pid, "SIGKILL");
    },
    logger: silentLogger,
}).then(
    (report) => process.stdout.write(JSON.stringify(report) + "\n"),
    (err: unknown) => {
        process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
        process.exitCode = 1;
    },
);
