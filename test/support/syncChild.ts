/**
 * One sync pass in its own process, for tests that kill it: GECKO_TEST_SYNC holds the
 * MigrationInput (JSON); with GECKO_TEST_KILL_BEFORE_COMMIT=1 the process SIGKILLs itself
 * inside the pass's transaction, everything applied but not committed.
 *
 *   node --import tsx test/support/syncChild.ts
 */
import { syncPass } from "../../migration/cutover/sync";
import type { MigrationInput } from "../../migration/data/options";

const input = JSON.parse(process.env.GECKO_TEST_SYNC ?? "null") as MigrationInput | null;
if (!input) throw new Error("GECKO_TEST_SYNC is not set");
const kill = process.env.GECKO_TEST_KILL_BEFORE_COMMIT === "1";

syncPass(input, undefined, { beforeCommit: () => void (kill && process.kill(process.pid, "SIGKILL")) }).then(
    (report) => process.stdout.write(JSON.stringify({ ok: report.ok, changes: report.changes }) + "\n"),
    (err: unknown) => {
        process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
        process.exitCode = 1;
    },
);
