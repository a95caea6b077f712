/**
 * The registrations `pulumi destroy` works from: the real program (infra/index.ts) run under
 * mocks for each kind of stack the destroy tests cover (test/infra/index.destroy*.test.ts),
 * and the ways they look at them.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { afterAll, beforeAll, vi } from "vitest";
import { TYPES as T, withoutDependencies } from "./destroyReplay";
import { installMocks, resolve, settle, type RecordedResource } from "./pulumiMocks";

const SECRETS = { "gecko-pg:adminPassword": "adm1n-pw", "gecko-pg:appPassword": "app-pw" };
const DOCKER = { "gecko-pg:mode": "docker", "gecko-pg:hostPort": "15432", "docker:host": "unix:///run/docker.sock" };
const MANAGED = {
    "gecko-pg:mode": "external",
    "gecko-pg:externalHost": "db.internal.example",
    "gecko-pg:externalAdminUser": "cloudadmin",
    "gecko-pg:externalSuperuser": "false",
    "gecko-pg:serverVersion": "16",
};
const EXTERNAL_SUPERUSER = { ...MANAGED, "gecko-pg:externalAdminUser": "pgadmin", "gecko-pg:externalSuperuser": "true" };

type Program = typeof import("../../infra/index");

/** Runs infra/index.ts afresh and returns its registrations. */
async function registrations(config: Record<string, string>): Promise<RecordedResource[]> {
    const mock = await installMocks({
        project: "gecko-pg",
        stack: "prod",
        config: { ...SECRETS, ...config },
        secretKeys: Object.keys(SECRETS),
        outputs: (type) => {
            if (type === "docker:index/remoteImage:RemoteImage") return { imageId: "sha256:0123456789abcdef" };
            if (type === T.settings) return { effective: {}, pendingRestart: [] };
            if (type === T.schema) return { version: 3, tables: [], changes: 0, postLoad: "applied" };
            if (type === T.migration) return { summary: {}, reportRunId: 1, extraTables: [] };
            return {};
        },
    });
    vi.resetModules();
    const program: Program = await import("../../infra/index.js");
    await Promise.all(Object.values(program).map((o) => (pulumi.Output.isInstance(o) ? resolve(o as pulumi.Output<unknown>) : o)));
    await settle();
    return [...mock.resources];
}

export const ofType = (rs: readonly RecordedResource[], type: string) => rs.filter((r) => r.type === type);
export const one = (rs: readonly RecordedResource[], type: string) => {
    const found = ofType(rs, type);
    if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}`);
    return found[0];
};
/** The engine may delete in any order the graph allows: this one deletes roles as early as it can. */
export const rolesFirst = (r: RecordedResource) => (r.type === T.role ? 0 : 1);
/** The registrations as the program made them before the fix: no Database -> Role dependency. */
export const withoutFix = (rs: readonly RecordedResource[]) =>
    withoutDependencies(
        rs,
        one(rs, T.database),
        ofType(rs, T.role).map((r) => r.urn),
    );

export const STACK_KEYS = ["docker", "dockerDropData", "managed", "externalSuperuser", "dockerProtected", "managedProtected"] as const;
export type StackKey = (typeof STACK_KEYS)[number];

/**
 * Every stack's registrations, filled in by a beforeAll of the calling file (a temp dir holds
 * the dropDataOnDelete stack's source file until its afterAll).
 */
export function destroyStacks(): Record<StackKey, RecordedResource[]> {
    let dir: string;
    const stacks = {} as Record<StackKey, RecordedResource[]>;
    beforeAll(async () => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "stack-destroy-"));
        const sqlitePath = path.join(dir, "gecko_data.db");
        fs.writeFileSync(sqlitePath, "SQLite format 3\0");
        const unprotected = { "gecko-pg:protect": "false" };
        stacks.docker = await registrations({ ...DOCKER, ...unprotected });
        stacks.dockerDropData = await registrations({
            ...DOCKER,
            ...unprotected,
            "gecko-pg:dropDataOnDelete": "true",
            "gecko-pg:sqlitePath": sqlitePath,
        });
        stacks.managed = await registrations({ ...MANAGED, ...unprotected });
        stacks.externalSuperuser = await registrations({ ...EXTERNAL_SUPERUSER, ...unprotected });
        stacks.dockerProtected = await registrations({ ...DOCKER, "gecko-pg:protect": "true" });
        stacks.managedProtected = await registrations({ ...MANAGED, "gecko-pg:protect": "true" });
    });
    afterAll(() => {
        if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });
    return stacks;
}
