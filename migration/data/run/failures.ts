/** Why a run is not ok: the report's `failures`, one line each. Pure. */
import type { QuarantineSummary, SchemaCheckSummary, SetAsideSummary, TableReport } from "../report/report";

export interface FailureInput {
    /** Every table's report, validated. */
    readonly tables: readonly TableReport[];
    readonly schema: SchemaCheckSummary;
    readonly quarantine: Pick<QuarantineSummary, "total" | "location">;
    readonly setAsideValues?: Pick<SetAsideSummary, "total" | "location">;
    /** The operator accepted quarantined rows (allowQuarantine / --allow-quarantine). */
    readonly allowQuarantine: boolean;
}

export function runFailures(input: FailureInput): string[] {
    const failures = input.tables.flatMap(tableFailures);
    failures.push(...input.schema.problems);
    const { total, location } = input.quarantine;
    if (total > 0 && !input.allowQuarantine) {
        failures.push(`${total} rows quarantined in ${location} (accept with allowQuarantine / --allow-quarantine after review)`);
    }
    const values = input.setAsideValues;
    if (values?.total && !input.allowQuarantine) {
        failures.push(
            `${values.total} values set aside in ${values.location}, NULL in their rows (accept with allowQuarantine / --allow-quarantine after review)`,
        );
    }
    return failures;
}

function tableFailures(t: TableReport): string[] {
    const v = t.validation;
    if (!v) return [`${t.table}: not validated`];
    const failures: string[] = [];
    if (!v.countsMatch) {
        failures.push(
            `${t.table}: source ${v.sourceRows} rows != target ${v.targetRows - v.placeholderRows} + quarantined ${v.quarantinedRows}`,
        );
    }
    if (v.mismatchedBuckets.length) {
        failures.push(
            `${t.table}: checksum mismatch in ${v.mismatchedBuckets.length} of ${v.buckets} buckets (${v.differences.length} rows listed)`,
        );
    }
    if (v.sampleMismatches.length) failures.push(`${t.table}: ${v.sampleMismatches.length} sampled rows differ`);
    return failures;
}
