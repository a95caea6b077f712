/**
 * The gecko-pg that migrated with schema version 2, exactly as it shipped: its tree
 * from git (`git archive`, the repository's history), run with this checkout's
 * node_modules. An upgrade test thus starts from a database the previous version
 * really made, not from a hand-written imitation of it.
 */
import { spawnSync } from "node:child_process";

/** The last commit whose target schema is version 2. */
export const SCHEMA_V2_COMMIT = "ce595b7d0b1f11658447afcab780d39a32496958";

/** Extracts a commit's tree into a temp dir (node_modules linked); shared with scripts/bench/versions.ts. */
export { exportCommit } from "../../scripts/lib/gitTree";

/** Runs that version's CLI (`scripts/migrate.ts`) with the target URL in the environment only. */
export function runCli(dir: string, args: readonly string[], targetUrl: string): { code: number; stdout: string; stderr: string } {
    const r = spawnSync(process.execPath, ["--import", "tsx", "scripts/migrate.ts", ...args], {
        cwd: dir,
        env: { ...process.env, GECKO_TARGET_URL: targetUrl },
        encoding: "utf8",
        maxBuffer: 64 << 20,
        timeout: 300_000,
    });
    return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}
