/**
 * Ground truths: what the collector's own data says a converted value must be, whatever the
 * conversion rules. The checksums compare the target with the source converted by the same
 * rules, so a wrong rule (an ambiguous local time read as the wrong instant) passes them;
 * these checks do not share the rules. Every target row is checked in SQL; each mismatch is
 * then looked up in the source: when the source value agrees with the truth, the conversion
 * is wrong (a failure); when the source itself disagrees, the file carries the defect (a
 * warning: the value was kept as written).
 */
import type Database from "better-sqlite3";
import type { ClientBase } from "pg";
import { ident, sqliteIdent } from "../../postgres/sql";
import type { RawValue, SqliteValue } from "../convert/result";
import { parseTimestamp } from "../convert/timestamp";
import { utcOffsetAt } from "../convert/timeZone";
import { zoneOf } from "../convert/timezonePolicy";
import type { Conversion } from "../plan/conversion";
import type { TableMapping } from "../plan/tableMapping";
import { tradeIdEpoch } from "../source/clockCheck";

export interface GroundTruthFinding {
    readonly check: string;
    readonly table: string;
    readonly column: string;
    /** Target rows whose value differs from the truth. */
    readonly mismatches: number;
    /** Of those, rows whose source value agrees with the truth: the conversion got them wrong. */
    readonly conversionFaults: number;
    /** Of those, rows whose source value disagrees with its own truth: kept as the file has them. */
    readonly sourceDisagrees: number;
    /** Mismatches beyond the ones looked up in the source (counted as faults). */
    readonly notLookedUp: number;
    readonly examples: readonly { key: string; target: string; truth: string; source: string | null; fault: boolean }[];
}

interface Truth {
    readonly table: string;
    readonly column: string;
    /** The column of the same row the truth is read from. */
    readonly evidence: string;
    readonly check: string;
    /** SQL (over `t`) of the true instant; NULL when the row holds none. */
    readonly truthSql: string;
    /** The true epoch second from the source's evidence value. */
    epochOf(evidence: RawValue): number | undefined;
}

const TRUTHS: readonly Truth[] = [
    {
        table: "ohlcv_data",
        column: "datetime",
        evidence: "timestamp",
        check: "ohlcv_data.datetime = to_timestamp(timestamp)",
        truthSql: "to_timestamp(CASE WHEN abs(t.timestamp) >= 1e11 THEN t.timestamp / 1000.0 ELSE t.timestamp END)",
        epochOf: (v) => {
            if (v === null || Buffer.isBuffer(v) || typeof v === "string") return undefined;
            const p = parseTimestamp(v);
            return typeof p === "string" || p.kind !== "absolute" ? undefined : p.epochSeconds;
        },
    },
    {
        table: "trades",
        column: "block_timestamp",
        evidence: "id",
        check: "trades.block_timestamp = the epoch second at the end of its id",
        truthSql: `to_timestamp(substring(t.id, '_([0-9]{9,11})$')::bigint)`,
        epochOf: (v) => {
            const epoch = tradeIdEpoch(v);
            return epoch === null ? undefined : Number(epoch);
        },
    },
];

/** At most this many mismatches per check are looked up in the source. */
const LOOKUPS = 10_000;
const EXAMPLES = 5;

export async function checkGroundTruths(
    pg: ClientBase,
    db: Database.Database,
    plans: readonly { readonly mapping: TableMapping }[],
    conversion: Conversion,
): Promise<GroundTruthFinding[]> {
    const findings: GroundTruthFinding[] = [];
    for (const truth of TRUTHS) {
        const plan = plans.find((p) => p.mapping.target.name === truth.table && p.mapping.source);
        const sourceOf = (target: string) => {
            const c = plan?.mapping.columns.find((x) => x.target.name === target);
            return c?.source.kind === "column" ? c.source.name : undefined;
        };
        const key = plan?.mapping.target.rowKey[0];
        const [column, evidence, sourceKey] = [sourceOf(truth.column), sourceOf(truth.evidence), key && sourceOf(key)];
        if (!plan || !key || !column || !evidence || !sourceKey) continue;
        findings.push(
            await checkTruth(pg, db, truth, { table: plan.mapping.source!.name, key: sourceKey, column, evidence }, key, conversion),
        );
    }
    return findings;
}

async function checkTruth(
    pg: ClientBase,
    db: Database.Database,
    truth: Truth,
    source: { table: string; key: string; column: string; evidence: string },
    key: string,
    conversion: Conversion,
): Promise<GroundTruthFinding> {
    const mismatch = `FROM (SELECT t.${ident(key)} AS k, t.${ident(truth.column)} AS v, ${truth.truthSql} AS truth FROM ${ident(truth.table)} t) s
                      WHERE s.v <> s.truth`;
    const count = await pg.query<{ n: string }>(`SELECT count(*) AS n ${mismatch}`);
    const rows = await pg.query<{ k: string; v: string; truth: string }>(
        `SELECT s.k::text AS k, s.v::text AS v, s.truth::text AS truth ${mismatch} ORDER BY s.k LIMIT ${LOOKUPS}`,
    );
    const zone = zoneOf(conversion.policy, truth.table, truth.column);
    const lookup = db
        .prepare(
            `SELECT ${sqliteIdent(source.column)}, ${sqliteIdent(source.evidence)} FROM ${sqliteIdent(source.table)} WHERE ${sqliteIdent(source.key)} = ?`,
        )
        .raw(true);
    let faults = 0;
    let disagrees = 0;
    const examples: GroundTruthFinding["examples"][number][] = [];
    for (const r of rows.rows) {
        const found = lookup.get(/^-?\d+$/.test(r.k) ? BigInt(r.k) : r.k) as RawValue[] | undefined;
        const fault = found !== undefined && sourceAgrees(found[0], truth.epochOf(found[1]), zone);
        if (fault) faults++;
        else disagrees++;
        if (examples.length < EXAMPLES || (fault && examples.every((e) => !e.fault)))
            examples.push({ key: r.k, target: r.v, truth: r.truth, source: found?.[0] == null ? null : String(found[0]), fault });
    }
    const total = Number(count.rows[0].n);
    return {
        check: truth.check,
        table: truth.table,
        column: truth.column,
        mismatches: total,
        conversionFaults: faults,
        sourceDisagrees: disagrees,
        notLookedUp: total - rows.rows.length,
        examples: examples.slice(-EXAMPLES),
    };
}

/** Whether the source value names the true instant: as a wall clock in `zone`, or as an absolute time. */
function sourceAgrees(value: RawValue, epoch: number | undefined, zone: string): boolean {
    if (value === null || epoch === undefined) return false;
    const p = parseTimestamp(value as SqliteValue);
    if (typeof p === "string") return false;
    return p.kind === "naive" ? p.localSeconds === epoch + utcOffsetAt(zone, epoch) : p.epochSeconds === epoch;
}

/** Failure lines: conversions the truths prove wrong. */
export function groundTruthFailures(findings: readonly GroundTruthFinding[]): string[] {
    return findings
        .filter((f) => f.conversionFaults + f.notLookedUp > 0)
        .map((f) => {
            const e = f.examples.find((x) => x.fault);
            return (
                `${f.check}: ${f.conversionFaults + f.notLookedUp} rows converted to another instant than the source's own ${f.table === "trades" ? "id" : "epoch"} says` +
                (e ? ` (e.g. ${f.table} key ${e.key}: source ${JSON.stringify(e.source)}, target ${e.target}, truth ${e.truth})` : "")
            );
        });
}

/** Warning lines: rows whose source value disagrees with its own truth (a defect the file carries; kept as written). */
export function groundTruthWarnings(findings: readonly GroundTruthFinding[]): string[] {
    return findings
        .filter((f) => f.sourceDisagrees > 0)
        .map((f) => {
            const e = f.examples.find((x) => !x.fault);
            return (
                `${f.check}: ${f.sourceDisagrees} rows of the source disagree with their own evidence (kept as written)` +
                (e ? `, e.g. ${f.table} key ${e.key}: source ${JSON.stringify(e.source)}, truth ${e.truth}` : "")
            );
        });
}
