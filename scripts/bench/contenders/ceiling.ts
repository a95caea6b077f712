/**
 * The ceiling: what the tools alone reach. Per table `sqlite3 -csv` piped into
 * `psql \copy ... FROM STDIN (FORMAT csv)` into bare typed tables (the target
 * columns and types, no PK/UNIQUE/indexes, ohlcv_data not partitioned), then
 * the same PK/UNIQUE constraints and secondary indexes as this project's schema
 * (plain CREATE INDEX, not CONCURRENTLY), the foreign keys, and ANALYZE.
 *
 * No conversion (clocks, numbers as stored), no checksums: a throughput bound,
 * not a correct migration. Variants: `seq` loads one table after the other;
 * `par2` loads in two lanes balanced by row count (constraints and indexes are
 * built the same way, one statement at a time, in both).
 */
import Database from "better-sqlite3";
import * as fs from "node:fs";
import * as path from "node:path";
import { addForeignKeySql, analyzeSql, createIndexSql, createTableSql, qualified } from "../../../migration/schema/ddl";
import { ident } from "../../../migration/postgres/sql";
import { TARGET_TABLES } from "../../../migration/schema/tables";
import type { TargetTable } from "../../../migration/schema/types";
import { introspectSource } from "../../../migration/data/source/introspect";
import { sqliteIdent } from "../../../migration/postgres/sql";
import { mapSourceToTarget, type TableMapping } from "../../../migration/data/plan/tableMapping";
import { runMeasured, type MeasuredRun } from "../lib/measure";
import { compareCounts, countTargetRows, withClient } from "../lib/targetDb";
import type { ContenderContext, ContenderResult } from "../lib/types";

export type CeilingVariant = "seq" | "par2";

export async function runCeiling(ctx: ContenderContext, variant: CeilingVariant): Promise<ContenderResult> {
    const name = `ceiling-${variant}`;
    const target = { ...ctx.admin, database: ctx.database };
    const mappings = sourceMappings(ctx.sqlitePath);
    const sourceCounts = Object.fromEntries(mappings.map((m) => [m.source!.name, m.source!.rowCount]));
    const sourceRows = Object.values(sourceCounts).reduce((a, b) => a + b, 0);
    const notes: string[] = [];
    const phases: Record<string, number> = {};

    await withClient(target, async (c) => {
        for (const m of mappings) await c.query(createTableSql(bareTable(m.target)));
    });

    const lanes = variant === "seq" ? [mappings] : twoLanes(mappings);
    const { run, perTable } = await loadLanes(ctx, name, lanes);
    if (run.code !== 0) return failed(ctx, name, sourceRows, `load script exited ${run.code}: ${run.stderrTail.slice(-2000)}`, notes);
    phases.load = run.usage.wallSeconds;
    const statements = await buildConstraints(ctx, name, mappings, phases);

    const counts = compareCounts(sourceCounts, await countTargetRows(target));
    const loadedRows = Object.values(counts).reduce((a, c) => a + (c.target ?? 0), 0);
    const missing = Object.entries(counts).filter(([, c]) => c.target !== c.source);
    if (missing.length) notes.push(`row counts differ: ${missing.map(([t, c]) => `${t} ${c.target}/${c.source}`).join(", ")}`);
    notes.push("index = PK/UNIQUE + secondary indexes (plain CREATE INDEX); foreign keys and ANALYZE timed apart");
    const total = phases.load + phases.index + phases.foreignKeys + phases.analyze;
    return {
        contender: name,
        scale: ctx.scale,
        database: ctx.database,
        ok: missing.length === 0,
        ...(missing.length ? { error: notes[0] } : {}),
        sourceRows,
        loadedRows,
        phases,
        totalSeconds: total,
        loadRowsPerSecond: sourceRows / phases.load,
        totalRowsPerSecond: sourceRows / total,
        usage: run.usage,
        details: {
            lanes: lanes.map((l) => l.map((m) => m.target.name)),
            loadSecondsPerTable: perTable,
            statementSeconds: statements,
            counts,
        },
        notes,
    };
}

/** The load script under GNU time, psql's connection in its environment; the seconds each table took. */
async function loadLanes(
    ctx: ContenderContext,
    name: string,
    lanes: readonly (readonly TableMapping[])[],
): Promise<{ run: MeasuredRun; perTable: Record<string, number> }> {
    const target = { ...ctx.admin, database: ctx.database };
    const script = path.join(ctx.workDir, `${name}.sh`);
    fs.writeFileSync(script, loadScript(ctx.sqlitePath, lanes), { mode: 0o700 });
    const perTable: Record<string, number> = {};
    const tables = lanes.reduce((a, l) => a + l.length, 0);
    ctx.log(`${name}: loading ${tables} tables (${lanes.length} lane${lanes.length > 1 ? "s" : ""})`);
    const run = await runMeasured("bash", [script], {
        // psql reads host, port, user, database and password from the environment: nothing secret on a command line.
        env: {
            ...process.env,
            PGHOST: target.host,
            PGPORT: String(target.port),
            PGUSER: target.user,
            PGDATABASE: target.database,
            PGPASSWORD: target.password,
            PGAPPNAME: `gecko-pg bench ${name}`,
        },
        timeFile: path.join(ctx.workDir, `${name}.time`),
        postmasterPid: ctx.postmasterPid,
        onStderrLine: (l) => {
            const m = /^loaded (\S+) ([0-9.]+) ([0-9.]+)$/.exec(l);
            if (m) perTable[m[1]] = Number(m[3]) - Number(m[2]);
            else ctx.log(`${name}: ${l}`);
        },
    });
    return { run, perTable };
}

/**
 * PK/UNIQUE and secondary indexes (phase `index`), foreign keys and ANALYZE, one statement at
 * a time, into `phases`; the seconds of each statement.
 */
async function buildConstraints(
    ctx: ContenderContext,
    name: string,
    mappings: readonly TableMapping[],
    phases: Record<string, number>,
): Promise<Record<string, number>> {
    const statements: Record<string, number> = {};
    await withClient({ ...ctx.admin, database: ctx.database }, async (c) => {
        await c.query("SET maintenance_work_mem = DEFAULT"); // the server's setting, as for every contender
        const timed = async (phase: string, sqls: string[]) => {
            const t0 = Date.now();
            for (const sql of sqls) {
                const s0 = Date.now();
                await c.query(sql);
                statements[sql.replace(/\s+/g, " ").slice(0, 120)] = (Date.now() - s0) / 1000;
            }
            phases[phase] = (Date.now() - t0) / 1000;
        };
        const tables = mappings.map((m) => m.target);
        ctx.log(`${name}: primary keys, unique constraints, secondary indexes`);
        await timed("index", tables.flatMap(constraintAndIndexSql));
        ctx.log(`${name}: foreign keys`);
        await timed(
            "foreignKeys",
            tables.flatMap((t) => t.foreignKeys.map((fk) => addForeignKeySql(t, fk, { notValid: false }))),
        );
        await timed("analyze", tables.map(analyzeSql));
    });
    return statements;
}

/** The source tables this project would copy, with their target shapes (the library's own mapping). */
function sourceMappings(sqlitePath: string): TableMapping[] {
    const db = new Database(sqlitePath, { readonly: true, fileMustExist: true });
    try {
        db.defaultSafeIntegers(true);
        return mapSourceToTarget(introspectSource(db), TARGET_TABLES).tables.filter((m) => m.source && m.source.rowCount >= 0);
    } finally {
        db.close();
    }
}

/** The target table with its columns and types only. */
function bareTable(t: TargetTable): TargetTable {
    return { ...t, primaryKey: [], uniques: [], foreignKeys: [], indexes: [], partitioning: undefined };
}

function constraintAndIndexSql(t: TargetTable): string[] {
    const cols = (c: readonly string[]) => c.map(ident).join(", ");
    return [
        ...(t.primaryKey.length
            ? [`ALTER TABLE ${qualified(t.name)} ADD CONSTRAINT ${ident(`${t.name}_pkey`)} PRIMARY KEY (${cols(t.primaryKey)})`]
            : []),
        ...t.uniques.map((u) => `ALTER TABLE ${qualified(t.name)} ADD CONSTRAINT ${ident(u.name)} UNIQUE (${cols(u.columns)})`),
        ...t.indexes.map((i) => createIndexSql(t, i)),
    ];
}

/** Two lanes of about equal row counts: largest table first into the lighter lane. */
function twoLanes(mappings: readonly TableMapping[]): TableMapping[][] {
    const lanes: { rows: number; tables: TableMapping[] }[] = [
        { rows: 0, tables: [] },
        { rows: 0, tables: [] },
    ];
    for (const m of [...mappings].sort((a, b) => b.source!.rowCount - a.source!.rowCount)) {
        const lane = lanes[0].rows <= lanes[1].rows ? lanes[0] : lanes[1];
        lane.tables.push(m);
        lane.rows += m.source!.rowCount;
    }
    return lanes.map((l) => l.tables).filter((l) => l.length);
}

/** A bash script: per lane, per table, sqlite3 -csv | psql \copy; prints "loaded <table> <start> <end>" on stderr. */
function loadScript(sqlitePath: string, lanes: readonly (readonly TableMapping[])[]): string {
    const sh = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
    const copyOne = (m: TableMapping) => {
        const cols = m.columns.filter((c) => c.source.kind === "column");
        const select = `SELECT ${cols.map((c) => sqliteIdent(c.source.kind === "column" ? c.source.name : "")).join(", ")} FROM ${sqliteIdent(m.source!.name)}`;
        const copy = `\\copy ${qualified(m.target.name)} (${cols.map((c) => ident(c.target.name)).join(", ")}) FROM STDIN WITH (FORMAT csv)`;
        return [
            `t0=$EPOCHREALTIME`,
            `sqlite3 -readonly -bail -csv ${sh(sqlitePath)} ${sh(select)} | psql -X -q -v ON_ERROR_STOP=1 -c ${sh(copy)}`,
            `echo "loaded ${m.target.name} $t0 $EPOCHREALTIME" >&2`,
        ].join("\n");
    };
    const body =
        lanes.length === 1
            ? lanes[0].map(copyOne).join("\n")
            : lanes.map((l) => `(\n${l.map(copyOne).join("\n")}\n) &\npids+=($!)`).join("\n") +
              `\nfor p in "\${pids[@]}"; do wait "$p"; done`;
    return `#!/usr/bin/env bash\nset -euo pipefail\npids=()\n${body}\n`;
}

function failed(ctx: ContenderContext, contender: string, sourceRows: number, error: string, notes: string[]): ContenderResult {
    return {
        contender,
        scale: ctx.scale,
        database: ctx.database,
        ok: false,
        error,
        sourceRows,
        loadedRows: 0,
        phases: {},
        totalSeconds: 0,
        loadRowsPerSecond: 0,
        totalRowsPerSecond: 0,
        notes,
    };
}
