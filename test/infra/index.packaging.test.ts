/**
 * What `pulumi up` needs at deploy time is installed by `npm ci --omit=dev`: the
 * packages the program and the dynamic providers' library import, `typescript`
 * (the Pulumi CLI compiles the program with the project's own TypeScript; without
 * it the SDK falls back to its bundled 3.8, which rejects this tsconfig with TS6046)
 * and `tsx` (loadLibrary registers it in the provider host to load the library's
 * `.ts`). How the provider host finds the project: providers/loadLibrary.test.ts.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { builtinModules } from "node:module";
import { describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../support/paths";

const ROOT = PROJECT_ROOT;
/** The lockfile's packages: what `npm ci --omit=dev` installs is every entry not marked dev or devOptional. */
const lock = JSON.parse(fs.readFileSync(path.join(ROOT, "package-lock.json"), "utf8")) as {
    packages: Record<string, { dev?: boolean; devOptional?: boolean }>;
};
const installedWithoutDev = (name: string) => {
    const entry = lock.packages[`node_modules/${name}`];
    return entry !== undefined && !entry.dev && !entry.devOptional;
};

function tsFiles(dir: string): string[] {
    return fs
        .readdirSync(path.join(ROOT, dir), { withFileTypes: true })
        .flatMap((e) => (e.isDirectory() ? tsFiles(path.join(dir, e.name)) : e.name.endsWith(".ts") ? [path.join(dir, e.name)] : []));
}

/** Package names of the bare specifiers a file imports or requires. */
function importedPackages(file: string): string[] {
    const text = fs.readFileSync(path.join(ROOT, file), "utf8");
    const specifiers = [...text.matchAll(/(?:\bfrom\s+|\brequire(?:\.resolve)?\(\s*|\bimport\(\s*)["']([^"'.][^"']*)["']/g)].map(
        (m) => m[1],
    );
    return specifiers
        .filter((s) => !s.startsWith("node:") && !builtinModules.includes(s.split("/")[0]))
        .map((s) => (s.startsWith("@") ? s.split("/").slice(0, 2).join("/") : s.split("/")[0]));
}

describe("deploy-time dependencies", () => {
    it("every package the program and the providers' library load, TypeScript and tsx among them, is installed by npm ci --omit=dev", () => {
        const needed = new Set(["typescript", "tsx", ...["infra", "migration"].flatMap(tsFiles).flatMap(importedPackages)]);
        expect(needed.has("pg") && needed.has("@pulumi/pulumi")).toBe(true); // the scan sees imports at all
        const missing = [...needed].filter((p) => !installedWithoutDev(p)).sort();
        expect(missing).toEqual([]);
    });

    it("so are their type declarations: the CLI type-checks the program (TS7016 for pg without @types/pg)", () => {
        const packages = ["node", ...["infra", "migration"].flatMap(tsFiles).flatMap(importedPackages)];
        const typings = [...new Set(packages.map((p) => `@types/${p.replace(/^@([^/]+)\/(.+)$/, "$1__$2")}`))].filter(
            (t) => `node_modules/${t}` in lock.packages,
        );
        expect(typings).toContain("@types/pg");
        expect(typings.filter((t) => !installedWithoutDev(t)).sort()).toEqual([]);
    });
});
