/**
 * Runs one migration in its own process, for tests that kill it (SIGKILL)
 * mid-copy. Input: GECKO_TEST_MIGRATION (JSON MigrationInput) and optionally
 * GECKO_TEST_CHUNK_DELAY_MS, a pause before each chunk commits that widens the
 * window in which the copy is half done. Exit code 0 when the run finished.
 *
 *   node --import tsx test/support/migrationChild.ts
 */
import { runMigration } from "../../migration/data/run/runMigration";
import type { MigrationInput } from "../../migration/data/options";

const input = JSON.parse(process.env.GECKO_TEST_MIGRATION ?? "null") as MigrationInput | null;
if (!input) throw new Error("GECKO_TEST_MIGRATION is not set");
const delayMs = Number(process.env.GECKO_TEST_CHUNK_DELAY_MS ?? 0);

runMigration(input, undefined, { beforeChunkCommit: () => new Promise((resolve) => setTimeout(resolve, delayMs)) }).then(
    (report) => {
        process.stdout.write(JSON.stringify({ ok: report.ok, failures: report.failures }) + "\n");
    },
    (err: unknown) => {
        process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
        process.exitCode = 1;
    },
);
