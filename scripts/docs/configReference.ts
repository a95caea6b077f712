#!/usr/bin/env -S npx tsx
/**
 * The configuration reference in docs/configuration.md, generated from the
 * `config:` section of Pulumi.yaml (the one place each key's type, default and
 * description are declared): a Markdown table between the markers
 * `<!-- config:begin -->` and `<!-- config:end -->`.
 *
 *   npx tsx scripts/docs/configReference.ts --write   rewrite the block
 *   npx tsx scripts/docs/configReference.ts --check   exit 1, naming the difference, when the doc is stale
 */
import * as fs from "node:fs";
import * as path from "node:path";

import * as jsYaml from "js-yaml";

export const ROOT = path.resolve(__dirname, "..", "..");
export const PROJECT_FILE = path.join(ROOT, "Pulumi.yaml");
export const DOC_FILE = path.join(ROOT, "docs", "configuration.md");
export const BEGIN = "<!-- config:begin -->";
export const END = "<!-- config:end -->";

export type ConfigType = "string" | "integer" | "boolean";

/** One key of Pulumi.yaml's `config:` section. */
export interface ConfigKey {
    /** The full key, e.g. `gecko-pg:mode`. */
    readonly key: string;
    readonly type: ConfigType;
    /** Undefined: the key has no default and must be set per stack. */
    readonly default?: string | number | boolean;
    readonly secret: boolean;
    readonly description: string;
}

export interface ProjectConfig {
    /** The project's name: the namespace of its keys. */
    readonly namespace: string;
    readonly keys: readonly ConfigKey[];
}

const TYPES: readonly ConfigType[] = ["string", "integer", "boolean"];

/** Parses Pulumi.yaml's text; every key must have a known type and a description. */
export function parseProjectConfig(yamlText: string, filename = "Pulumi.yaml"): ProjectConfig {
    const doc = jsYaml.load(yamlText, { filename }) as { name?: unknown; config?: unknown } | null;
    if (!doc || typeof doc.name !== "string") throw new Error(`${filename}: no project name`);
    if (!doc.config || typeof doc.config !== "object") throw new Error(`${filename}: no config section`);
    const keys = Object.entries(doc.config as Record<string, unknown>).map(([key, raw]) => configKey(filename, key, raw));
    return { namespace: doc.name, keys };
}

function configKey(filename: string, key: string, raw: unknown): ConfigKey {
    const where = `${filename}: config ${key}`;
    if (!raw || typeof raw !== "object") throw new Error(`${where}: expected a mapping with type, default and description`);
    const spec = raw as { type?: unknown; default?: unknown; secret?: unknown; description?: unknown };
    if (!TYPES.includes(spec.type as ConfigType)) throw new Error(`${where}: type must be one of ${TYPES.join(", ")}`);
    if (typeof spec.description !== "string" || !spec.description.trim()) throw new Error(`${where}: no description`);
    const value = spec.default;
    if (value !== undefined && !["string", "number", "boolean"].includes(typeof value))
        throw new Error(`${where}: default must be a scalar`);
    return {
        key,
        type: spec.type as ConfigType,
        default: value as ConfigKey["default"],
        secret: spec.secret === true,
        description: spec.description.trim(),
    };
}

/** A table cell's text: one line, `|` escaped. */
function cell(text: string): string {
    return text.replace(/\s*\n\s*/g, " ").replace(/\|/g, "\\|");
}

function code(text: string): string {
    const fence = text.includes("`") ? "``" : "`";
    const pad = text.startsWith("`") || text.endsWith("`") ? " " : "";
    return `${fence}${pad}${text}${pad}${fence}`;
}

function defaultCell(k: ConfigKey): string {
    if (k.default === undefined) return k.secret ? "*(none: required, secret)*" : "*(none: required)*";
    if (k.default === "") return "(empty)";
    return cell(code(String(k.default)));
}

/** The Markdown table, without the markers. */
export function renderTable(config: ProjectConfig): string {
    const prefix = `${config.namespace}:`;
    const rows = config.keys.map((k) => {
        const name = k.key.startsWith(prefix) ? k.key.slice(prefix.length) : k.key;
        const secret = k.secret ? "**secret** " : "";
        return `| ${code(name)} | ${k.type} | ${defaultCell(k)} | ${secret}${cell(k.description)} |`;
    });
    return ["| key | type | default | description |", "|---|---|---|---|", ...rows].join("\n");
}

/** The whole generated block, markers included. */
export function renderBlock(config: ProjectConfig): string {
    return [
        BEGIN,
        `<!-- Generated from Pulumi.yaml by scripts/docs/configReference.ts (--write); do not edit by hand. -->`,
        "",
        renderTable(config),
        "",
        END,
    ].join("\n");
}

/** The doc's current block (markers included), or undefined when a marker is missing or out of order. */
export function currentBlock(doc: string): string | undefined {
    const begin = doc.indexOf(BEGIN);
    const end = doc.indexOf(END, begin + BEGIN.length);
    if (begin < 0 || end < 0) return undefined;
    return doc.slice(begin, end + END.length);
}

/** The doc with its block replaced by `block`. */
export function replaceBlock(doc: string, block: string): string {
    const current = currentBlock(doc);
    if (current === undefined) throw new Error(`markers ${BEGIN} ... ${END} not found`);
    return doc.replace(current, () => block);
}

/**
 * What differs between the doc's block and the generated one, as `-` (in the doc)
 * and `+` (generated) lines of a line diff; empty when they agree.
 */
export function blockDifference(doc: string, config: ProjectConfig): string[] {
    const current = currentBlock(doc);
    if (current === undefined) return [`markers ${BEGIN} ... ${END} not found`];
    return lineDiff(current.split("\n"), renderBlock(config).split("\n"));
}

/** A longest-common-subsequence line diff; only the changed lines, in order. */
function lineDiff(a: readonly string[], b: readonly string[]): string[] {
    const lcs: number[][] = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
    for (let i = a.length - 1; i >= 0; i--)
        for (let j = b.length - 1; j >= 0; j--) lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
    const out: string[] = [];
    let i = 0;
    let j = 0;
    while (i < a.length || j < b.length) {
        if (i < a.length && j < b.length && a[i] === b[j]) {
            i++;
            j++;
        } else if (i < a.length && (j === b.length || lcs[i + 1][j] >= lcs[i][j + 1])) out.push(`- ${a[i++]}`);
        else out.push(`+ ${b[j++]}`);
    }
    return out;
}

export function readProjectConfig(file = PROJECT_FILE): ProjectConfig {
    return parseProjectConfig(fs.readFileSync(file, "utf8"), path.relative(ROOT, file) || file);
}

const HELP = `Usage: npx tsx scripts/docs/configReference.ts --write | --check

Renders the config: section of Pulumi.yaml (key, type, default, description; secrets marked)
as a Markdown table between ${BEGIN} and ${END} in docs/configuration.md.

  --write     rewrite the block in docs/configuration.md
  --check     exit 1, printing the differing lines (- in the doc, + generated), when the doc is stale
  -h, --help  this help

Exit status: 0 ok, 1 the doc is stale (--check), 2 usage or file error.
`;

/** The files the command reads and writes; tests point them at copies. */
export interface ReferenceFiles {
    readonly project: string;
    readonly doc: string;
}

export function main(
    argv: readonly string[],
    out: (text: string) => void = (t) => process.stdout.write(t),
    files: ReferenceFiles = { project: PROJECT_FILE, doc: DOC_FILE },
): number {
    const mode = argv.length === 1 ? argv[0] : undefined;
    if (mode === "--help" || mode === "-h") {
        out(HELP);
        return 0;
    }
    if (mode !== "--write" && mode !== "--check") {
        out(HELP);
        return 2;
    }
    const config = readProjectConfig(files.project);
    const doc = fs.readFileSync(files.doc, "utf8");
    const docName = path.relative(ROOT, files.doc);
    if (mode === "--write") {
        const next = replaceBlock(doc, renderBlock(config));
        if (next !== doc) fs.writeFileSync(files.doc, next);
        out(`${next === doc ? "up to date" : "rewrote"}: ${docName} (${config.keys.length} keys)\n`);
        return 0;
    }
    const diff = blockDifference(doc, config);
    if (!diff.length) {
        out(`${docName} agrees with Pulumi.yaml (${config.keys.length} keys)\n`);
        return 0;
    }
    out(`${docName} is stale against Pulumi.yaml; run npx tsx scripts/docs/configReference.ts --write\n${diff.join("\n")}\n`);
    return 1;
}

if (require.main === module) {
    try {
        process.exitCode = main(process.argv.slice(2));
    } catch (err) {
        process.stderr.write(`error: ${(err as Error).message}\n`);
        process.exitCode = 2;
    }
}
