/**
 * The conversion rules of one run, bound to its TimezonePolicy: the converter
 * each table's RowEncoder uses, the matching SQL canonical form for checksums,
 * and the check of the policy against the clocks found in the data.
 */
import type Database from "better-sqlite3";
import { canonicalSql as canonicalSqlOf } from "./convert/copyText";
import { columnContext, convertValue } from "./convert/convertValue";
import { createTimezonePolicy, type TimezonePolicy } from "./convert/timezonePolicy";
import type { ColumnConverter } from "./copy/rowEncoder";
import type { MigrationOptions } from "./options";
import type { TargetColumn } from "./schema/types";
import { checkClocks, type ClockCheckFinding } from "./source/clockCheck";

export interface Conversion {
    readonly policy: TimezonePolicy;
    /** Converter for the columns of `table`. */
    converterFor(table: string): ColumnConverter;
    /** SQL giving a stored value's canonical text. */
    canonicalSql(columnSql: string, column: TargetColumn): string;
    /** Measures the clocks in the data; pushes a warning for each disagreement with the policy. */
    checkClocks(db: Database.Database, warnings: string[]): ClockCheckFinding[];
}

export function conversionFor(options: Pick<MigrationOptions, "sourceTimeZone" | "clockOverrides">): Conversion {
    const policy = createTimezonePolicy({ hostZone: options.sourceTimeZone, overrides: options.clockOverrides });
    return {
        policy,
        converterFor(table) {
            // Contexts are per column and fixed for the run: compute once, not per value.
            const contexts = new Map<TargetColumn, ReturnType<typeof columnContext>>();
            return (raw, column) => {
                let ctx = contexts.get(column.target);
                if (!ctx) {
                    // NOT NULL is enforced by the encoder (which may fill an app default), so convert as nullable.
                    ctx = { ...columnContext(policy, table, column.target), nullable: true };
                    contexts.set(column.target, ctx);
                }
                return convertValue(raw, column.target.type, ctx);
            };
        },
        canonicalSql: (columnSql, column) => canonicalSqlOf(columnSql, column.type),
        checkClocks(db, warnings) {
            const findings = checkClocks(db, policy);
            for (const f of findings) if (f.policyAgrees === false) warnings.push(f.message);
            return findings;
        },
    };
}
