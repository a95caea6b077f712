/**
 * A rollback in its own process, for tests that kill it: GECKO_TEST_ROLLBACK holds the
 * MigrationInput (JSON) and GECKO_TEST_BACKUP the backup directory; the process SIGKILLs
 * itself inside the SQLite transaction, every row written back but not committed.
 *
 *   node --import tsx test/support/rollbackChild.ts
 */
import { runRollback } from "../../migration/rollback/rollback";
import { silentLogger, type MigrationInput } from "../../migration/data/options";

const input = JSON.parse(process.env.GECKO_TEST_ROLLBACK ?? "null") as MigrationInput | null;
if (!input) throw new Error("GECKO_TEST_ROLLBACK is not set");

runRollback({
    input,
    backupDir: process.env.GECKO_TEST_BACKUP!,
    collectorStopped: true,
    beforeCommit: () => void process.kill(process.pid, "SIGKILL"),
    logger: silentLogger,
}).then(
    (report) => process.stdout.write(JSON.stringify(report) + "\n"),
    (err: unknown) => {
        process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
        process.exitCode = 1;
    },
);
