/**
 * Writes a realistic GeckoTerminal-collector SQLite database (and
 * `<out>.manifest.json`) with scripts/generator/collectorDb.ts.
 *
 *   npx tsx scripts/generate-collector-db.ts --out /tmp/gecko_data.db --rows 2000000 --defects all
 */
import * as path from "node:path";
import {
    DEFECT_NAMES,
    generateCollectorDb,
    SCHEMA_VARIANTS,
    type DefectName,
    type GenerationManifest,
    type SchemaVariant,
} from "./generator/collectorDb";
import { chalk, fs, minimist } from "./lib/zx";

const HELP = `Usage: npx tsx scripts/generate-collector-db.ts --out FILE [options]

Writes a SQLite database shaped like the GeckoTerminal collector's, plus FILE.manifest.json
listing row counts, time span and every planted defect (table + key + columns).

  --out FILE               output database (required)
  --rows N                 approximate total rows (default 10000); trades/ohlcv ~45% each
  --seed N                 PRNG seed (default 1); same seed + options = same content
  --variant NAME           ${SCHEMA_VARIANTS.join(" | ")} (default current)
  --defects LIST           all | comma list of: ${DEFECT_NAMES.join(", ")}
  --host-time-zone ZONE    IANA zone for local-clock columns (default UTC)
  --months N               time span in months, ending 2025-06-01 (default 4)
  --end-at ISO             end of the span instead of 2025-06-01T00:00:00Z
  --force                  overwrite FILE and its manifest
  --help                   this text

uncheckpointed-wal cannot live in a closed file: tests use openLiveWriter() (see scripts/generator/liveWriter.ts).`;

function int(name: string, value: unknown, fallback: number): number {
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!Number.isSafeInteger(n) || n < 0) throw new Error(`--${name} must be a non-negative integer, got '${String(value)}'`);
    return n;
}

function summary(m: GenerationManifest, seconds: number, bytes: number): string {
    const width = Math.max(...Object.keys(m.tables).map((t) => t.length));
    const lines = Object.entries(m.tables).map(([t, n]) => `  ${t.padEnd(width)} ${String(n).padStart(12)}`);
    const byDefect = new Map<string, number>();
    for (const d of m.defects) byDefect.set(d.defect, (byDefect.get(d.defect) ?? 0) + 1);
    const defects = [...byDefect].map(([d, n]) => `  ${d}: ${n} rows`);
    return [
        chalk.bold(`${m.file} (${m.variant}, seed ${m.seed}, ${m.hostTimeZone}, ${m.timeSpan.start} .. ${m.timeSpan.end})`),
        ...lines,
        ...(defects.length ? ["defects:", ...defects] : []),
        ...m.notes.map((n) => chalk.dim(`note: ${n}`)),
        chalk.green(
            `${m.totalRows.toLocaleString("en-US")} rows, ${(bytes / 1e6).toFixed(1)} MB in ${seconds.toFixed(1)}s ` +
                `(${Math.round(m.totalRows / seconds).toLocaleString("en-US")} rows/s)`,
        ),
    ].join("\n");
}

function main(): void {
    const args = minimist(process.argv.slice(2), {
        string: ["out", "variant", "defects", "host-time-zone", "end-at", "rows", "seed", "months"],
        boolean: ["force", "help"],
        unknown: (flag) => {
            if (flag.startsWith("-")) throw new Error(`unknown option ${flag} (see --help)`);
            return true;
        },
    });
    if (args.help) {
        console.log(HELP);
        return;
    }
    if (!args.out) throw new Error("--out is required (see --help)");
    const out = path.resolve(String(args.out));
    const manifestFile = `${out}.manifest.json`;
    for (const file of [out, manifestFile]) {
        if (fs.existsSync(file) && !args.force) throw new Error(`${file} exists; pass --force to overwrite`);
    }
    const variant = (args.variant ?? "current") as SchemaVariant;
    const defects =
        args.defects === undefined
            ? []
            : args.defects === "all"
              ? "all"
              : (String(args.defects).split(",").filter(Boolean) as DefectName[]);
    const rows = int("rows", args.rows, 10_000);
    const months = args.months === undefined ? undefined : Number(args.months);

    const started = Date.now();
    const tty = Boolean(process.stderr.isTTY);
    const manifest = generateCollectorDb({
        path: out,
        overwrite: Boolean(args.force),
        rows,
        seed: int("seed", args.seed, 1),
        variant,
        defects,
        hostTimeZone: args["host-time-zone"],
        months,
        endAt: args["end-at"],
        onProgress: (p) => {
            const seconds = (Date.now() - started) / 1000;
            const pct = p.rowsPlanned ? Math.min(100, (100 * p.rowsWritten) / p.rowsPlanned) : 100;
            const line = `${p.table.padEnd(20)} ${p.rowsWritten.toLocaleString("en-US").padStart(12)}/${p.rowsPlanned.toLocaleString("en-US")} rows ${pct.toFixed(0).padStart(3)}%  ${Math.round(p.rowsWritten / Math.max(seconds, 0.001)).toLocaleString("en-US")} rows/s`;
            process.stderr.write(tty ? `\r${line}` : `${line}\n`);
        },
    });
    if (tty) process.stderr.write("\n");
    fs.writeFileSync(manifestFile, JSON.stringify(manifest, null, 2) + "\n");
    const seconds = (Date.now() - started) / 1000;
    console.log(summary(manifest, seconds, fs.statSync(out).size));
    console.log(chalk.dim(`manifest: ${manifestFile}`));
}

try {
    main();
} catch (error) {
    console.error(chalk.red(`generate-collector-db: ${(error as Error).message}`));
    process.exitCode = 1;
}
