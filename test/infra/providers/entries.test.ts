/**
 * The dynamic providers' entry modules are part of every stack's state: the SDK
 * serialises each provider's methods, and they `loadLibrary(<path>)` at call time.
 * A moved entry breaks refresh and destroy of every existing stack, so the paths
 * are pinned here: the current entries (infra/providers/*), and the legacy paths
 * that stacks made before them recorded, which must keep exporting the very same
 * operations.
 */
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { adminPasswordProvider } from "../../../infra/adminPassword";
import { migrationProvider } from "../../../infra/migration";
import { schemaProvider } from "../../../infra/schema";
import { serverSettingsProvider } from "../../../infra/settings";
import { PROJECT_ROOT } from "../../support/paths";

/** Per resource: the one entry module its provider loads, and the operations the provider calls on it. */
const ENTRIES = {
    "gecko:Schema": {
        provider: schemaProvider,
        entry: "infra/providers/schema",
        operations: ["checkSchema", "diffSchema", "createSchema", "updateSchema", "deleteSchema"],
    },
    "gecko:Migration": {
        provider: migrationProvider,
        entry: "infra/providers/migration",
        operations: ["checkMigration", "diffMigration", "createMigration", "updateMigration", "deleteMigration", "upLogger"],
    },
    "gecko:ServerSettings": {
        provider: serverSettingsProvider,
        entry: "infra/providers/serverSettings",
        operations: [
            "checkServerSettings",
            "diffServerSettings",
            "createServerSettings",
            "readServerSettings",
            "updateServerSettings",
            "deleteServerSettings",
        ],
    },
    "gecko:AdminPassword": {
        provider: adminPasswordProvider,
        entry: "infra/providers/adminPassword",
        operations: ["checkAdminPassword", "diffAdminPassword", "createAdminPassword", "updateAdminPassword"],
    },
} as const;

/**
 * What stacks created before infra/providers recorded (gecko-pg 0.1, up to commit 64192be):
 * legacy path -> [the module that now has those operations, the operations 0.1's providers called].
 */
const LEGACY_ENTRIES: Record<string, readonly [string, readonly string[]]> = {
    "migration/schema/schemaResource": [ENTRIES["gecko:Schema"].entry, ENTRIES["gecko:Schema"].operations],
    "migration/migrationResource": [
        ENTRIES["gecko:Migration"].entry,
        ENTRIES["gecko:Migration"].operations.filter((o) => o !== "upLogger"),
    ],
    "migration/settings/applySettings": [ENTRIES["gecko:ServerSettings"].entry, ENTRIES["gecko:ServerSettings"].operations],
    "migration/access/adminPassword": [ENTRIES["gecko:AdminPassword"].entry, ENTRIES["gecko:AdminPassword"].operations],
    "migration/report/progress": ["migration/data/report/progress", ["lineLogger"]],
};

/** The paths a serialised provider hands to loadLibrary, as the engine would store them. */
async function loadedPaths(provider: pulumi.dynamic.ResourceProvider): Promise<string[]> {
    const { text } = await pulumi.runtime.serializeFunction(() => provider, { allowSecrets: true });
    return [...new Set([...text.matchAll(/loadLibrary\)?\("([^"]+)"\)/g)].map((m) => m[1]))];
}

/**
 * Loads modules the way the provider host does: plain Node with tsx's hook, through
 * loadLibrary from the project directory. Per path: its function exports, and for each,
 * whether it is the same function object as `sameAs`'s export of that name.
 */
function loadInProviderHost(pairs: readonly { path: string; sameAs: string }[]) {
    const loadLibrary = path.join(PROJECT_ROOT, "infra/providers/loadLibrary.ts");
    const script = `
        const { loadLibrary } = require(${JSON.stringify(loadLibrary)});
        const out = ${JSON.stringify(pairs)}.map(({ path, sameAs }) => {
            const m = loadLibrary(path), o = loadLibrary(sameAs);
            const fns = Object.keys(m).filter((k) => typeof m[k] === "function").sort();
            return { path, functions: fns, identical: fns.filter((k) => m[k] === o[k]) };
        });
        console.log(JSON.stringify(out));`;
    const tsx = require.resolve("tsx/cjs", { paths: [PROJECT_ROOT] });
    const r = spawnSync(process.execPath, ["--require", tsx, "-e", script], { cwd: PROJECT_ROOT, encoding: "utf8" });
    if (r.status !== 0) throw new Error(`provider-host load failed: ${r.stderr}`);
    return JSON.parse(r.stdout) as { path: string; functions: string[]; identical: string[] }[];
}

describe("dynamic provider entry modules", () => {
    it.each(Object.entries(ENTRIES))("%s's serialised provider loads only its entry module", async (_type, e) => {
        expect(await loadedPaths(e.provider)).toEqual([e.entry]);
    });

    it("each entry module, loaded as the provider host loads it, has every operation its provider calls", () => {
        const loaded = loadInProviderHost(Object.values(ENTRIES).map((e) => ({ path: e.entry, sameAs: e.entry })));
        for (const [i, e] of Object.values(ENTRIES).entries())
            expect(loaded[i].functions).toEqual(expect.arrayContaining([...e.operations]));
    });

    it("each legacy path a 0.1 stack recorded still loads, with the very same operations as today's module", () => {
        const pairs = Object.entries(LEGACY_ENTRIES).map(([legacy, [current]]) => ({ path: legacy, sameAs: current }));
        const loaded = loadInProviderHost(pairs);
        for (const [i, [, operations]] of Object.values(LEGACY_ENTRIES).entries()) {
            expect(loaded[i].identical, loaded[i].path).toEqual(expect.arrayContaining([...operations]));
        }
    });
});
