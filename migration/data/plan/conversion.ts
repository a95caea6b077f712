/**
 * The conversion rules of one run, bound to its TimezonePolicy: the converter
 * each table's RowEncoder uses, the matching SQL canonical form for checksums,
 * and the check of the policy against the clocks found in the data.
 */
import type Database from "better-sqlite3";
import { canonicalSql as canonicalSqlOf } from "../convert/copyText";
import { columnContext, fieldConverter } from "../convert/convertValue";
import { decidedRule, evidenceRule, type EvidenceRule, type RowRules } from "../convert/evidence";
import type { DecidedTimes } from "./orderEvidence";
import type { FieldConverter } from "../convert/result";
import { createTimezonePolicy, zoneOf, type TimezonePolicy } from "../convert/timezonePolicy";
import { DEFAULT_AMBIGUOUS_TIME, DEFAULT_REPAIRS, type MigrationOptions } from "../options";
import type { TargetColumn } from "../../schema/types";
import { checkClocks, type ClockCheckFinding } from "../source/clockCheck";

export interface Conversion {
    readonly policy: TimezonePolicy;
    /** The converter of one column of `table`. */
    converterFor(table: string, column: TargetColumn): FieldConverter;
    /** Another column of the same row that decides this column's ambiguous values (evidence.ts), if any. */
    evidenceFor(table: string, column: TargetColumn): EvidenceRule | undefined;
    /** The row-level rules of `table`'s encoder: evidence, and what becomes of a local time nothing decides. */
    rowRulesFor(table: string): RowRules;
    /** The local times of `table` the order of writes decided (for a convert worker to apply too). */
    decidedTimesOf(table: string): DecidedTimes;
    /** SQL giving a stored value's canonical text. */
    canonicalSql(columnSql: string, column: TargetColumn): string;
    /** Measures the clocks in the data; pushes a warning for each disagreement with the policy. */
    checkClocks(db: Database.Database, warnings: string[]): ClockCheckFinding[];
}

/** The options a run's conversion depends on (a convert worker gets them as plain data). */
export type ConversionOptions = Pick<MigrationOptions, "sourceTimeZone" | "clockOverrides" | "repairs" | "ambiguousTime"> & {
    /** Local times the order of the collector's writes decided (orderEvidence.ts), found on the run's snapshot. */
    readonly decidedTimes?: DecidedTimes;
};

export function conversionFor(options: ConversionOptions): Conversion {
    const policy = createTimezonePolicy({ hostZone: options.sourceTimeZone, overrides: options.clockOverrides });
    const repairs = options.repairs ?? DEFAULT_REPAIRS;
    const pythonRepr = repairs.includes("python-repr");
    const ambiguous = options.ambiguousTime ?? DEFAULT_AMBIGUOUS_TIME;
    const dstPick = ambiguous === "earlier" ? "earlier" : "later";
    const decidedTimes = options.decidedTimes ?? {};
    const evidenceFor = (table: string, column: TargetColumn): EvidenceRule | undefined => {
        if (column.type.kind !== "timestamptz") return undefined;
        const decided = decidedTimes[`${table}.${column.name}`];
        return evidenceRule(table, column.name, zoneOf(policy, table, column.name)) ?? (decided ? decidedRule(decided) : undefined);
    };
    return {
        policy,
        converterFor(table, column) {
            // NOT NULL is enforced by the encoder (which may fill an app default), so convert as nullable.
            return fieldConverter(column.type, { ...columnContext(policy, table, column), nullable: true, pythonRepr, dstPick });
        },
        evidenceFor,
        decidedTimesOf: (table) => Object.fromEntries(Object.entries(decidedTimes).filter(([k]) => k.startsWith(`${table}.`))),
        rowRulesFor: (table) => ({
            evidenceFor: (column) => evidenceFor(table, column),
            quarantineUndecidedTimes: ambiguous === "quarantine",
            repairInvalidUtf8: repairs.includes("utf8"),
        }),
        canonicalSql: (columnSql, column) => canonicalSqlOf(columnSql, column.type),
        checkClocks(db, warnings) {
            const findings = checkClocks(db, policy);
            for (const f of findings) if (f.policyAgrees === false) warnings.push(f.message);
            return findings;
        },
    };
}
