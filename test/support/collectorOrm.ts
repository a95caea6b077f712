/**
 * Runs the collector's own database stack (test/support/collector_orm.py: SQLAlchemy ORM +
 * psycopg2 under Debian's /usr/bin/python3, with the collector's two model sets) against a
 * database, as the collector's role, and asserts every check passed.
 */
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { expect } from "vitest";
import { connectionUrl, type ConnectionSpec } from "../../migration/postgres/connection";

const PYTHON = "/usr/bin/python3";
const SCRIPT = path.join(__dirname, "collector_orm.py");

/** Why the collector's stack cannot run here (Debian's python lacks it; .ci/run installs it), or undefined. */
export const missingStack = ((): string | undefined => {
    const r = spawnSync(PYTHON, ["-c", "import sqlalchemy, psycopg2"], { encoding: "utf8" });
    if (r.status === 0) return undefined;
    const why = r.error?.message ?? r.stderr.trim().split("\n").pop();
    return `${PYTHON} cannot import sqlalchemy and psycopg2 (apt-get install python3-sqlalchemy python3-psycopg2): ${why}`;
})();
// CI installs the stack: there a missing one is a failure, never a silent skip.
if (missingStack && process.env.CI) throw new Error(missingStack);
if (missingStack) console.warn(`collector ORM checks skipped: ${missingStack}`);

/** Both prefixes the collector may be configured with, and the model set each selects. */
export const URL_FORMS = [
    ["postgresql://", "postgresql"],
    ["postgresql+psycopg2://", "sqlite"],
] as const;

interface OrmCheck {
    readonly name: string;
    readonly ok: boolean;
    readonly error?: string;
    readonly detail?: unknown;
}

interface OrmRun {
    readonly models: "postgresql" | "sqlite";
    readonly checks: readonly OrmCheck[];
    readonly passed: number;
    readonly failed: number;
}

/** The spec's URL with the collector's prefix (the password travels only in the environment). */
function collectorUrl(spec: ConnectionSpec, prefix: string): string {
    return prefix + connectionUrl(spec).slice("postgresql://".length);
}

export function runCollectorOrm(spec: ConnectionSpec, prefix: string): OrmRun & { status: number | null } {
    const r = spawnSync(PYTHON, [SCRIPT], {
        env: { ...process.env, GECKO_DB_URL: collectorUrl(spec, prefix) },
        encoding: "utf8",
        timeout: 100_000,
    });
    const redact = (text: string) => (spec.password ? text.replaceAll(spec.password, "****") : text);
    try {
        const run = JSON.parse(r.stdout) as OrmRun;
        return { ...run, checks: run.checks.map((c) => (c.error ? { ...c, error: redact(c.error) } : c)), status: r.status };
    } catch {
        const why = r.error ? r.error.message : `exit status ${r.status}`;
        throw new Error(`collector_orm.py printed no JSON (${why}): ${redact(r.stderr.trim().slice(-2000))}`);
    }
}

/** Every check passed; otherwise the failing checks' names and errors are the assertion's diff. */
export function expectAllPassed(run: OrmRun & { status: number | null }, models: OrmRun["models"]): void {
    expect(run.models).toBe(models);
    const failing = run.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.error}`);
    expect(failing, `${failing.length} of ${run.checks.length} collector ORM checks failed with the ${models} models`).toEqual([]);
    expect(run.checks.length).toBeGreaterThan(30);
    expect(run.status).toBe(0);
}
