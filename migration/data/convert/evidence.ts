/**
 * Evidence in the row: a column whose naive local time another column of the same row pins
 * down. The collector writes `ohlcv_data.datetime` as `fromtimestamp(timestamp)`, so in the
 * repeated hour of a DST fall-back (where the wall clock alone names two instants) and in a
 * spring-forward gap, the row's own epoch says which instant it was. Only conversions that
 * came back with a DST warning are re-decided: everything else is as the column alone says.
 */
import type { TargetColumn } from "../../schema/types";
import { accept, type FieldConversion, type RawValue } from "./result";
import { resolveByEpoch } from "./timestamp";

/** `table.column` -> the column of the same row holding the epoch it was derived from. */
export const EPOCH_EVIDENCE: Readonly<Record<string, string>> = {
    "ohlcv_data.datetime": "timestamp",
};

/** The column of the same row that decides one column's ambiguous values, if any. */
export type EvidenceFor = (column: TargetColumn) => EvidenceRule | undefined;

/** What decides a value beyond its own column (a table's RowEncoder takes them). */
export interface RowRules {
    readonly evidenceFor?: EvidenceFor;
    /** Set a row aside whose local time a DST change made ambiguous (or skipped) and nothing in the row decided. */
    readonly quarantineUndecidedTimes?: boolean;
    /** Store TEXT whose bytes are not UTF-8 with U+FFFD for each bad sequence, as a repair (`--repair utf8`), outside the row's keys. */
    readonly repairInvalidUtf8?: boolean;
}

/** The evidence "column" that is the source row's rowid. */
export const ROWID_EVIDENCE = "\u0000rowid";

export interface EvidenceRule {
    /** The target column holding the evidence (ROWID_EVIDENCE: the source rowid). */
    readonly column: string;
    resolve(raw: RawValue, evidence: RawValue): FieldConversion | undefined;
}

/** The rule for `table.column` read in `zone`, if the collector derived it from another column. */
export function evidenceRule(table: string, column: string, zone: string): EvidenceRule | undefined {
    const epochColumn = EPOCH_EVIDENCE[`${table}.${column}`];
    if (!epochColumn) return undefined;
    return { column: epochColumn, resolve: (raw, evidence) => (raw === null ? undefined : resolveByEpoch(raw, evidence, zone)) };
}

/** Values decided ahead of the copy by rowid (the order of the collector's writes: plan/orderEvidence.ts). */
export function decidedRule(decided: Readonly<Record<string, string>>): EvidenceRule {
    return {
        column: ROWID_EVIDENCE,
        resolve: (_raw, rowid) => {
            const value = rowid === null ? undefined : decided[String(rowid)];
            return value === undefined ? undefined : accept(value, "dst-resolved-by-order");
        },
    };
}

/** A conversion that left a DST warning, decided by the row's evidence when the evidence agrees with the value. */
export function withEvidence(c: FieldConversion, raw: RawValue, rule: EvidenceRule | undefined, evidence: RawValue): FieldConversion {
    if (!rule || c === null || typeof c === "string" || !c.ok || (c.warning !== "dst-ambiguous" && c.warning !== "dst-nonexistent"))
        return c;
    return rule.resolve(raw, evidence) ?? c;
}
