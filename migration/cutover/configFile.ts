/**
 * Pointing the collector's own configuration file at a database: in a config.yaml only the
 * top-level `database:` block is replaced (other settings and comments stay), in an env
 * file (`*.env`) only the lines the collector reads for its database. The file before the
 * change is kept beside it, so the switch can be undone by hand too.
 */
import * as fs from "node:fs";
import { renderEnv, type CollectorConfig } from "./collectorConfig";

export type ConfigFormat = "yaml" | "env";

export const configFormatOf = (file: string): ConfigFormat => (/\.env$|^\.env/.test(file.split("/").pop() ?? "") ? "env" : "yaml");

/** config.yaml with its top-level `database:` block (up to the next top-level key) replaced, or added. */
export function withDatabaseBlock(yaml: string, block: string): string {
    const lines = yaml.split("\n");
    const start = lines.findIndex((l) => /^database\s*:/.test(l));
    if (start < 0) return (yaml.length && !yaml.endsWith("\n") ? yaml + "\n" : yaml) + block;
    let end = start + 1;
    while (end < lines.length && (lines[end] === "" || /^[\s#]/.test(lines[end]))) end++;
    // Blank lines and comments just before the next key belong to it.
    while (end > start + 1 && (lines[end - 1] === "" || /^#/.test(lines[end - 1]))) end--;
    return [...lines.slice(0, start), ...block.replace(/\n$/, "").split("\n"), ...lines.slice(end)].join("\n");
}

/** An env file with the collector's database variables set to `env` (other lines kept, stale database lines dropped). */
export function withDatabaseEnv(text: string, env: CollectorConfig["env"]): string {
    const names = new Set([...env.map(([n]) => n), "GECKO_DB_URL", "GECKO_DB_POOL_SIZE", "GECKO_DB_MAX_OVERFLOW", "GECKO_DB_TIMEOUT"]);
    const kept = text.split("\n").filter(
        (l) =>
            !names.has(
                l
                    .replace(/^export\s+/, "")
                    .split("=")[0]
                    .trim(),
            ),
    );
    while (kept.length && kept[kept.length - 1] === "") kept.pop();
    return (kept.length ? kept.join("\n") + "\n" : "") + renderEnv(env);
}

/** Writes `config` into `file` (owner-only permissions: it may hold the password); returns the backup's path. */
export function writeCollectorConfig(file: string, config: CollectorConfig, stamp: string): string {
    const before = fs.readFileSync(file, "utf8");
    const after = configFormatOf(file) === "env" ? withDatabaseEnv(before, config.env) : withDatabaseBlock(before, config.yaml);
    const backup = `${file}.before-${config.database}-${stamp}`;
    fs.writeFileSync(backup, before, { mode: 0o600 });
    const tmp = `${file}.gecko-pg-tmp`;
    fs.writeFileSync(tmp, after, { mode: 0o600 });
    fs.renameSync(tmp, file); // whole or not at all: the collector never reads half a file
    return backup;
}
