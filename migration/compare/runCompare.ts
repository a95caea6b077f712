/**
 * Blue-green comparison of the collector's reads: every query of the catalogue runs on the SQLite
 * file and on PostgreSQL with the same parameters, and its answers are judged as the collector
 * would see them (docs/compare.md).
 *
 * Each side reads one consistent snapshot: the SQLite file read-only in one read transaction,
 * PostgreSQL in one REPEATABLE READ READ ONLY transaction (a SAVEPOINT per query, so a failing
 * statement is reported and the others still run). Each query runs twice per side. SQLite's
 * second run has `reverse_unordered_selects` on, which reverses the scans an answer without a
 * full ORDER BY depends on: a LIMIT without ORDER BY, or ties under one, then shows as a
 * different answer, calibrating the noise before PostgreSQL's answer is judged.
 */
import { performance } from "node:perf_hooks";
import type Database from "better-sqlite3";
import type { Client } from "pg";
import type { RawValue } from "../data/convert/result";
import { zoneOf } from "../data/convert/timezonePolicy";
import { DEFAULT_OPTIONS, silentLogger, type MigrationInput, type MigrationLogger } from "../data/options";
import { conversionFor, type Conversion } from "../data/plan/conversion";
import { mapSourceToTarget } from "../data/plan/tableMapping";
import { introspectSource } from "../data/source/introspect";
import { openSourceSnapshot } from "../data/source/snapshot";
import { describeConnection } from "../postgres/connection";
import { pgMessage, withSession } from "../postgres/session";
import { literal } from "../postgres/sql";
import { TARGET_TABLES } from "../schema/tables";
import { planCatalogue } from "./catalogue";
import { normaliserFor, type Row } from "./normalise";
import { drawParameters } from "./params";
import { bindParams, type Mappings, type QueryInstance } from "./query";
import { exitStatusOf, shownParams, summarise, summariseParameters, type CompareReport, type QueryResult } from "./report";
import { judge, type ResultShape } from "./verdict";

export interface CompareOptions {
    /** Source, target and clocks, as for migrate (the other fields are not used). */
    readonly input: MigrationInput;
    /** Pools to compare besides the busy and quiet ones drawn from the data. */
    readonly pools?: readonly string[];
    /** Run only the queries whose id starts with one of these (e.g. `ohlcv.`, `orm.pools`). */
    readonly only?: readonly string[];
    /** Differing rows listed per query (default 5). */
    readonly shownDifferences?: number;
    readonly logger?: MigrationLogger;
}

interface RunContext {
    readonly db: Database.Database;
    readonly client: Client;
    readonly conversion: Conversion;
    readonly shown?: number;
}

export async function runCompare(options: CompareOptions): Promise<CompareReport> {
    const { input } = options;
    const logger = options.logger ?? silentLogger;
    const startedAt = new Date();
    const conversion = conversionFor({
        sourceTimeZone: input.sourceTimeZone ?? DEFAULT_OPTIONS.sourceTimeZone,
        clockOverrides: input.clockOverrides,
        repairs: input.repairs,
        ambiguousTime: input.ambiguousTime,
    });
    const sessionTimeZone = input.databaseTimeZone ?? DEFAULT_OPTIONS.databaseTimeZone;
    const snapshot = openSourceSnapshot(input.sqlitePath);
    try {
        const db = snapshot.db;
        const mappings = mappingsOf(db);
        const params = drawParameters(db, mappings, conversion.policy.hostZone, options.pools ?? []);
        const catalogue = planCatalogue(mappings, params, options.only ?? []);
        logger.info(`compare: ${catalogue.instances.length} runs of ${new Set(catalogue.instances.map((i) => i.query.id)).size} queries`);
        const results = await withSession("compare", input.target, (client) =>
            inReadOnlySnapshot(client, sessionTimeZone, async () => {
                const out: QueryResult[] = [];
                for (const instance of catalogue.instances)
                    out.push(await compareInstance({ db, client, conversion, shown: options.shownDifferences }, instance));
                return out;
            }),
        );
        const finishedAt = new Date();
        const report = {
            startedAt: startedAt.toISOString(),
            finishedAt: finishedAt.toISOString(),
            totalSeconds: (finishedAt.getTime() - startedAt.getTime()) / 1000,
            source: input.sqlitePath,
            target: describeConnection(input.target),
            hostTimeZone: conversion.policy.hostZone,
            sessionTimeZone,
            parameters: summariseParameters(params),
            summary: summarise(results, catalogue.skipped),
            results,
            skipped: catalogue.skipped,
        };
        return { ok: exitStatusOf(report) === 0, ...report };
    } finally {
        snapshot.close();
    }
}

/** Each collector table the file has, mapped onto the target as the migration maps it. */
function mappingsOf(db: Database.Database): Mappings {
    const { tables } = mapSourceToTarget(introspectSource(db), TARGET_TABLES);
    return new Map(tables.filter((t) => !t.extra).map((t) => [t.target.name, t]));
}

/** One snapshot for every query, read only, in the session TimeZone the collector's sessions get. */
async function inReadOnlySnapshot<T>(client: Client, timeZone: string, fn: () => Promise<T>): Promise<T> {
    await client.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    try {
        await client.query(`SET LOCAL TimeZone = ${literal(timeZone)}`);
        await client.query("SET LOCAL DateStyle = 'ISO, YMD'");
        return await fn();
    } finally {
        await client.query("ROLLBACK").catch(() => undefined);
    }
}

async function compareInstance(ctx: RunContext, instance: QueryInstance): Promise<QueryResult> {
    const { query } = instance;
    const zone = (table: string, column: string) => zoneOf(ctx.conversion.policy, table, column);
    const limited = query.limited ? { limit: instance.limit } : undefined;
    const sqliteParams = instance.paramSets.map((p) => bindParams(p, "sqlite", zone, limited));
    const pgParams = instance.paramSets.map((p) => bindParams(p, "postgres", zone, limited));
    const normalisers = query.columns.map((c) => normaliserFor(c, ctx.conversion.converterFor, zone));
    const sqliteRows = (rows: readonly RawValue[][]): Row[] => rows.map((r) => r.map((v, i) => normalisers[i].sqlite(v)));
    const pgRows = (rows: readonly (string | null)[][]): Row[] => rows.map((r) => r.map((v, i) => normalisers[i].postgres(v)));
    const base = {
        id: query.id,
        label: instance.label,
        title: query.title,
        origin: query.origin,
        runs: instance.paramSets.length,
        sql: { sqlite: query.sqlite, postgres: query.postgres },
        params: { sqlite: shownParams(sqliteParams[0] ?? []), postgres: shownParams(pgParams[0] ?? []) },
    };
    const sqlite = attempt("SQLite", () => [
        runSqlite(ctx.db, query.sqlite, sqliteParams, false),
        runSqlite(ctx.db, query.sqlite, sqliteParams, true),
    ]);
    const pg = await runPostgresTwice(ctx.client, query.postgres, pgParams);
    if (typeof sqlite === "string" || typeof pg === "string") {
        const error = [sqlite, pg].filter((x): x is string => typeof x === "string").join("; ");
        const rows = {
            sqlite: typeof sqlite === "string" ? 0 : sqlite[0].rows.length,
            postgres: typeof pg === "string" ? 0 : pg[0].rows.length,
        };
        return {
            ...base,
            verdict: "different",
            reason: "a statement failed",
            error,
            rows,
            ms: { sqlite: 0, postgres: 0 },
            differences: [],
        };
    }
    const unlimited = instance.paramSets.map((p) => bindParams(p, "sqlite", zone, query.limited ? {} : undefined));
    const verdict = judge(
        shapeOf(instance),
        {
            sqlite: [sqliteRows(sqlite[0].rows), sqliteRows(sqlite[1].rows)],
            postgres: [pgRows(pg[0].rows), pgRows(pg[1].rows)],
            candidates: query.limited ? () => sqliteRows(runSqlite(ctx.db, query.sqlite, unlimited, false).rows) : undefined,
        },
        ctx.shown,
    );
    return {
        ...base,
        verdict: verdict.kind,
        ...(verdict.reason ? { reason: verdict.reason } : {}),
        rows: { sqlite: sqlite[0].rows.length, postgres: pg[0].rows.length },
        ms: { sqlite: Math.min(sqlite[0].ms, sqlite[1].ms), postgres: Math.min(pg[0].ms, pg[1].ms) },
        ...(verdict.counts ? { counts: verdict.counts } : {}),
        differences: verdict.differences,
    };
}

/** The comparison's view of a query: which columns are SUM/AVG or timestamps, ORDER BY and key as indexes. */
export function shapeOf(instance: Pick<QueryInstance, "query" | "limit">): ResultShape {
    const { query } = instance;
    const names = query.columns.map((c) => c.name);
    const indexOf = (name: string) => {
        const i = names.indexOf(name);
        if (i < 0) throw new Error(`compare ${query.id}: no output column ${name}`);
        return i;
    };
    return {
        columns: query.columns.map((c) => {
            if (c.kind === "approx")
                return { name: c.name, approx: { op: c.op, scale: c.scale, countIndex: c.count ? indexOf(c.count) : undefined } };
            const type = c.kind === "value" ? c.column.type : c.type;
            return type.kind === "timestamptz" ? { name: c.name, timestamp: true } : { name: c.name };
        }),
        order: query.order.map((o) => ({ index: indexOf(o.column), desc: o.desc })),
        key: query.key.map(indexOf),
        ...(query.limited ? { limit: instance.limit ?? Number.MAX_SAFE_INTEGER } : {}),
    };
}

interface Timed<T> {
    readonly rows: T[];
    readonly ms: number;
}

function runSqlite(db: Database.Database, sql: string, paramSets: readonly unknown[][], reversed: boolean): Timed<RawValue[]> {
    // Read when the statement is prepared: set it first, and always set it back.
    db.pragma(`reverse_unordered_selects = ${reversed ? "ON" : "OFF"}`);
    try {
        const started = performance.now();
        const statement = db.prepare(sql).raw(true);
        const rows = paramSets.flatMap((p) => statement.all(...p) as RawValue[][]);
        return { rows, ms: performance.now() - started };
    } finally {
        if (reversed) db.pragma("reverse_unordered_selects = OFF");
    }
}

/** Every value as the server's output text: the normaliser reads it as the column's type. */
const OUTPUT_TEXT = { getTypeParser: () => (text: string) => text };

async function runPostgres(client: Client, sql: string, paramSets: readonly unknown[][]): Promise<Timed<(string | null)[]>> {
    const started = performance.now();
    const rows: (string | null)[][] = [];
    for (const values of paramSets) {
        const result = await client.query({ text: sql, values: [...values], rowMode: "array", types: OUTPUT_TEXT as never });
        rows.push(...(result.rows as (string | null)[][]));
    }
    return { rows, ms: performance.now() - started };
}

/**
 * Both runs inside a SAVEPOINT, so a failing statement is reported (`PostgreSQL: ...`) and the
 * snapshot goes on; a session that cannot roll back to it is gone, which ends the run.
 */
async function runPostgresTwice(client: Client, sql: string, paramSets: readonly unknown[][]) {
    await client.query("SAVEPOINT compare_query");
    let runs: readonly [Timed<(string | null)[]>, Timed<(string | null)[]>];
    try {
        runs = [await runPostgres(client, sql, paramSets), await runPostgres(client, sql, paramSets)];
    } catch (error) {
        await client.query("ROLLBACK TO SAVEPOINT compare_query");
        return `PostgreSQL: ${pgMessage(error)}`;
    }
    await client.query("RELEASE SAVEPOINT compare_query");
    return runs;
}

/** `fn`'s value, or `side: message` when its statement fails. */
function attempt<T>(side: string, fn: () => T): T | string {
    try {
        return fn();
    } catch (error) {
        return `${side}: ${(error as Error).message}`;
    }
}
