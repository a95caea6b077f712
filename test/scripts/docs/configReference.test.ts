/**
 * docs/configuration.md's reference table is what scripts/docs/configReference.ts
 * generates from Pulumi.yaml, and a change to Pulumi.yaml the doc does not follow
 * is caught. Unit: no PostgreSQL.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import {
    BEGIN,
    blockDifference,
    DOC_FILE,
    END,
    main,
    PROJECT_FILE,
    readProjectConfig,
    renderBlock,
    renderTable,
    replaceBlock,
    parseProjectConfig,
    type ProjectConfig,
} from "../../../scripts/docs/configReference";

const committedDoc = () => fs.readFileSync(DOC_FILE, "utf8");

function withDescription(config: ProjectConfig, key: string, description: string): ProjectConfig {
    return { ...config, keys: config.keys.map((k) => (k.key === key ? { ...k, description } : k)) };
}

describe("configuration reference", () => {
    it("the committed docs/configuration.md is what the script generates from Pulumi.yaml", () => {
        const config = readProjectConfig();
        const doc = committedDoc();
        expect(blockDifference(doc, config)).toEqual([]);
        expect(replaceBlock(doc, renderBlock(config))).toBe(doc);
    });

    it("lists every key of Pulumi.yaml once, the secrets marked and without a default", () => {
        const config = readProjectConfig();
        const table = renderTable(config);
        for (const k of config.keys) {
            const name = k.key.replace(/^gecko-pg:/, "");
            expect(table.split("\n").filter((line) => line.startsWith(`| \`${name}\` |`))).toHaveLength(1);
        }
        const secrets = config.keys.filter((k) => k.secret).map((k) => k.key);
        expect(secrets).toEqual(["gecko-pg:adminPassword", "gecko-pg:appPassword"]);
        expect(config.keys.filter((k) => k.default === undefined).map((k) => k.key)).toEqual(secrets);
        expect(table).toMatch(/^\| `adminPassword` \| string \| \*\(none: required, secret\)\* \| \*\*secret\*\* /m);
    });

    it("catches a changed description, naming the key", () => {
        const config = readProjectConfig();
        const changed = withDescription(config, "gecko-pg:chunkRows", "Rows per COPY chunk, changed.");
        const diff = blockDifference(committedDoc(), changed);
        expect(diff).toEqual([
            expect.stringMatching(/^- \| `chunkRows` \| integer \| `50000` \| Rows per COPY chunk \(one transaction/),
            "+ | `chunkRows` | integer | `50000` | Rows per COPY chunk, changed. |",
        ]);
    });

    it("--check exits 1 on a stale doc and --write repairs it", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gecko-pg-config-doc-"));
        try {
            const project = path.join(dir, "Pulumi.yaml");
            const doc = path.join(dir, "configuration.md");
            fs.writeFileSync(
                project,
                fs.readFileSync(PROJECT_FILE, "utf8").replace("external: server port.", "external: the server's port."),
            );
            fs.writeFileSync(doc, committedDoc());
            const out: string[] = [];
            expect(main(["--check"], (t) => out.push(t), { project, doc })).toBe(1);
            expect(out.join("")).toContain("- | `externalPort` | integer | `5432` | external: server port. |");
            expect(out.join("")).toContain("+ | `externalPort` | integer | `5432` | external: the server's port. |");
            expect(main(["--write"], () => undefined, { project, doc })).toBe(0);
            expect(main(["--check"], () => undefined, { project, doc })).toBe(0);
            expect(fs.readFileSync(doc, "utf8")).toContain("external: the server's port.");
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("--check on the committed files succeeds; --help explains; no mode is a usage error", () => {
        const out: string[] = [];
        expect(main(["--check"], (t) => out.push(t))).toBe(0);
        expect(main(["--help"], (t) => out.push(t))).toBe(0);
        expect(out.join("")).toContain("--write");
        expect(main([], () => undefined)).toBe(2);
    });

    it("reports missing markers and rejects a key without a description", () => {
        expect(blockDifference("# no markers\n", readProjectConfig())).toEqual([`markers ${BEGIN} ... ${END} not found`]);
        expect(() => parseProjectConfig("name: p\nconfig:\n  p:x:\n    type: string\n")).toThrow(/p:x: no description/);
        expect(() => parseProjectConfig("name: p\nconfig:\n  p:x:\n    type: float\n    description: d\n")).toThrow(/type must be/);
    });
});
