/**
 * One source row in, one COPY line (plus its checksum contribution) or one
 * quarantine record out. Pure apart from the injected converter.
 */
import type { TableMapping } from "../plan/tableMapping";
import { copyEscape, mayNeedCopyEscape } from "../convert/copyText";
import { ROWID_EVIDENCE, withEvidence, type EvidenceRule, type RowRules } from "../convert/evidence";
import { accept, reject, REPAIR_WARNINGS, type FieldConversion, type FieldConverter } from "../convert/result";
import { describeInvalidUtf8, isInvalidUtf8, lossyText, type InvalidUtf8Text } from "../source/utf8";
import type { TargetColumn } from "../../schema/types";
import { bucketOf, canonicalRowText } from "../checksum/checksum";

const NONE: readonly string[] = Object.freeze([]);

/** A value as better-sqlite3 returns it with safe integers on. */
export type RawValue = null | number | bigint | string | Buffer;

/** The converter of one target column of the table (closes over the timezone policy). */
export type ConverterFor = (column: TargetColumn) => FieldConverter;

const UNDECIDED: Readonly<Record<string, string>> = {
    "dst-ambiguous": "names two instants (a DST fall-back repeats it)",
    "dst-nonexistent": "names no instant (a DST spring-forward skips it)",
};

export interface EncodedRow {
    readonly ok: true;
    /** Canonical text per target column, in target column order. */
    readonly values: readonly (string | null)[];
    /** The row text of the checksums, which is also the row's COPY line without its newline. */
    readonly line: string;
    readonly bucket: number;
    /** Target columns filled with the application default because the source held NULL in a NOT NULL column. */
    readonly filled: readonly string[];
    /** Values recovered from a form the column should not hold (REPAIR_WARNINGS); absent when none. */
    readonly repairs?: readonly RepairRecord[];
    /** Values that cannot be stored exactly in nullable columns outside any key: NULL in `values`, kept here. */
    readonly setAside?: readonly SetAsideValue[];
}

/** A source value kept beside its row's key because the target holds it otherwise (a repair, or NULL). */
interface KeptValue {
    readonly rowid: bigint;
    readonly key: Record<string, string | null>;
    readonly column: string;
    /** rawText of the source value. */
    readonly rawValue: string | null;
}

/**
 * One value set aside while its row is copied: the column is nullable and in no key or
 * uniqueness rule, so one bad value costs that value, not the row and its children.
 */
export interface SetAsideValue extends KeptValue {
    readonly rawType: string;
    readonly reason: string;
}

/** One repaired value: what the source held and what the target got, kept beside the row's key. */
export interface RepairRecord extends KeptValue {
    readonly kind: string;
    readonly value: string | null;
}

export interface QuarantinedRow {
    readonly ok: false;
    readonly rowid: bigint;
    /** The row key as raw source text, e.g. `{ "id": "solana_..." }`. */
    readonly key: Record<string, string | null>;
    /** First failing column; `reason` lists all of them. */
    readonly column: string;
    readonly rawValue: string | null;
    readonly rawType: string;
    readonly reason: string;
    /** Every raw source value of the row, so nothing is lost. */
    readonly row: Record<string, string | null>;
}

export type EncodeResult = EncodedRow | QuarantinedRow;

/** Text form of a raw value for quarantine and error messages. */
export function rawText(raw: RawValue): string | null {
    if (raw === null) return null;
    if (Buffer.isBuffer(raw)) return "x'" + raw.toString("hex") + "'";
    // PostgreSQL text cannot hold NUL: keep such a value exactly, as hex of its UTF-8 bytes.
    if (typeof raw === "string" && raw.includes("\u0000")) return "x'" + Buffer.from(raw, "utf8").toString("hex") + "'";
    return String(raw);
}

/**
 * The raw value's SQLite storage class; `text (hex)` when rawText gave a TEXT value's bytes in
 * hex (it holds NUL, or is not UTF-8), so the raw text can be told from a value that merely looks like hex.
 */
export function rawType(raw: RawValue): string {
    if (raw === null) return "null";
    if (isInvalidUtf8(raw)) return "text (hex)";
    if (Buffer.isBuffer(raw)) return "blob";
    if (typeof raw === "bigint") return "integer";
    // With safe integers on, SQLite INTEGERs arrive as bigint: a number is always a REAL, integral or not.
    if (typeof raw === "number") return "real";
    return raw.includes("\u0000") ? "text (hex)" : "text";
}

export class RowEncoder {
    /** Index into the raw select row (0 is rowid) per mapped column, or -1 for a fill. */
    private readonly rawIndex: number[];
    private readonly keyPositions: number[];
    /** Per mapped column, undefined for a fill. */
    private readonly converters: (FieldConverter | undefined)[];
    /** Per mapped column: its converted text never needs COPY escaping (fills are always checked). */
    private readonly plain: boolean[];
    /** Per mapped column: in the primary key, the row key or a uniqueness rule (a bad value there sets the row aside). */
    private readonly identifying: boolean[];
    /** Per mapped column: the rule and the raw index of its evidence, if any. */
    private readonly evidence: ({ rule: EvidenceRule; rawIndex: number } | undefined)[];
    /** Accepted-with-a-warning conversions, keyed `column: warning` (e.g. `created_at: empty-as-null`). */
    readonly warnings = new Map<string, number>();
    /** The first keys (raw source text, as JSON) of each warning's values, for the report. */
    readonly warningExamples = new Map<string, string[]>();

    constructor(
        readonly mapping: TableMapping,
        converterFor: ConverterFor,
        readonly buckets: number,
        private readonly rules: RowRules = {},
    ) {
        this.converters = mapping.columns.map((c) => (c.source.kind === "column" ? converterFor(c.target) : undefined));
        this.plain = mapping.columns.map((c) => c.source.kind === "column" && !mayNeedCopyEscape(c.target.type));
        let next = 1;
        this.rawIndex = mapping.columns.map((c) => (c.source.kind === "column" ? next++ : -1));
        const names = mapping.columns.map((c) => c.target.name);
        this.evidence = mapping.columns.map((c) => {
            const rule = c.source.kind === "column" ? rules.evidenceFor?.(c.target) : undefined;
            if (rule?.column === ROWID_EVIDENCE) return { rule, rawIndex: 0 };
            const at = rule ? names.indexOf(rule.column) : -1;
            return rule && at >= 0 && this.rawIndex[at] >= 0 ? { rule, rawIndex: this.rawIndex[at] } : undefined;
        });
        const t = mapping.target;
        const identifying = new Set([...t.primaryKey, ...t.rowKey, ...t.uniques.flatMap((u) => u.columns)]);
        this.identifying = mapping.columns.map((c) => identifying.has(c.target.name));
        this.keyPositions = mapping.target.rowKey.map((k) => {
            const i = names.indexOf(k);
            if (i < 0) throw new Error(`${mapping.target.name}: row key column ${k} is not mapped`);
            return i;
        });
    }

    /** The source columns to select after `rowid`, in order. */
    sourceColumns(): string[] {
        return this.mapping.columns.flatMap((c) => (c.source.kind === "column" ? [c.source.name] : []));
    }

    encode(raw: readonly RawValue[]): EncodeResult {
        const cols = this.mapping.columns;
        const values: (string | null)[] = new Array(cols.length);
        // Allocated only when needed: this runs once per source row.
        let failures: { column: string; raw: RawValue; reason: string }[] | undefined;
        let filled: string[] | undefined;
        let repairs: RepairRecord[] | undefined;
        let setAside: { column: string; raw: RawValue; reason: string }[] | undefined;
        for (let i = 0; i < cols.length; i++) {
            const col = cols[i];
            if (col.source.kind === "fill") {
                values[i] = col.source.value;
                continue;
            }
            const r = raw[this.rawIndex[i]];
            const e = this.evidence[i];
            const c = isInvalidUtf8(r)
                ? this.invalidText(i, r)
                : e
                  ? withEvidence(this.converters[i]!(r), r, e.rule, raw[e.rawIndex])
                  : this.converters[i]!(r);
            let v: string | null = null;
            let failure: string | undefined;
            if (c === null || typeof c === "string") v = c;
            else if (!c.ok) failure = c.reason;
            else if (c.warning && this.rules.quarantineUndecidedTimes && Object.hasOwn(UNDECIDED, c.warning))
                failure = `${rawText(r)} ${UNDECIDED[c.warning]} in the column's clock and nothing in the row decides it (--ambiguous-time earlier|later chooses)`;
            if (failure !== undefined) {
                const f = { column: col.target.name, raw: r, reason: failure };
                // NULL is what a nullable column outside every key can hold without standing for another row.
                if (col.target.nullable && !this.identifying[i]) {
                    (setAside ??= []).push(f);
                    values[i] = null;
                } else (failures ??= []).push(f);
                continue;
            }
            if (c !== null && typeof c !== "string" && c.ok) {
                if (c.warning) {
                    const k = `${col.target.name}: ${c.warning}`;
                    const n = (this.warnings.get(k) ?? 0) + 1;
                    this.warnings.set(k, n);
                    if (n <= WARNING_EXAMPLES) addExample(this.warningExamples, k, JSON.stringify(this.rawKey(raw)));
                    if (REPAIR_WARNINGS.has(c.warning))
                        (repairs ??= []).push({
                            rowid: BigInt(raw[0] as bigint),
                            key: this.rawKey(raw),
                            column: col.target.name,
                            kind: c.warning,
                            rawValue: rawText(r),
                            value: c.value,
                        });
                }
                v = c.value;
            }
            if (v === null && !col.target.nullable) {
                const fill = col.target.appDefault?.nullFill ?? col.target.appDefault?.fill;
                if (fill === undefined || fill === null) {
                    (failures ??= []).push({ column: col.target.name, raw: r, reason: "NULL in a NOT NULL column" });
                    continue;
                }
                v = fill;
                (filled ??= []).push(col.target.name);
            }
            values[i] = v;
        }
        if (failures) return this.quarantine(raw, [...failures, ...(setAside ?? [])]);
        const keys = this.keyPositions;
        const keyText = keys.length === 1 ? copyEscape(values[keys[0]]) : canonicalRowText(keys.map((p) => values[p]));
        return {
            ok: true,
            values,
            line: canonicalRowText(values, this.plain),
            bucket: bucketOf(keyText, this.buckets),
            filled: filled ?? NONE,
            ...(repairs ? { repairs } : {}),
            ...(setAside ? { setAside: setAside.map((f) => this.setAsideValue(raw, f)) } : {}),
        };
    }

    /**
     * A TEXT value whose bytes are not UTF-8: set aside, or with `--repair utf8` (outside the
     * row's keys, which must never merge) the text with U+FFFD, counted as a repair.
     */
    private invalidText(i: number, raw: InvalidUtf8Text): FieldConversion {
        if (!this.rules.repairInvalidUtf8 || this.identifying[i]) return reject(describeInvalidUtf8(raw));
        const c = this.converters[i]!(lossyText(raw));
        if (c === null || typeof c === "string") return accept(c, "utf8-replaced");
        return c.ok ? accept(c.value, "utf8-replaced") : c;
    }

    private setAsideValue(raw: readonly RawValue[], f: { column: string; raw: RawValue; reason: string }): SetAsideValue {
        return {
            rowid: BigInt(raw[0] as bigint),
            key: this.rawKey(raw),
            column: f.column,
            rawValue: rawText(f.raw),
            rawType: rawType(f.raw),
            reason: f.reason,
        };
    }

    /** The checksum row text (and COPY line) of converted values in target column order. */
    lineOf(values: readonly (string | null)[]): string {
        return canonicalRowText(values, this.plain);
    }

    rawKey(raw: readonly RawValue[]): Record<string, string | null> {
        const key: Record<string, string | null> = {};
        for (const p of this.keyPositions) {
            const { target, source } = this.mapping.columns[p];
            key[target.name] = source.kind === "fill" ? source.value : rawText(raw[this.rawIndex[p]]);
        }
        return key;
    }

    rawRow(raw: readonly RawValue[]): Record<string, string | null> {
        const row: Record<string, string | null> = { rowid: rawText(raw[0]) };
        this.mapping.columns.forEach((c, i) => {
            if (c.source.kind === "column") row[c.source.name] = rawText(raw[this.rawIndex[i]]);
        });
        return row;
    }

    private quarantine(raw: readonly RawValue[], failures: { column: string; raw: RawValue; reason: string }[]): QuarantinedRow {
        const first = failures[0];
        return {
            ok: false,
            rowid: BigInt(raw[0] as bigint),
            key: this.rawKey(raw),
            column: first.column,
            rawValue: rawText(first.raw),
            rawType: rawType(first.raw),
            reason: failures.map((f) => `${f.column}: ${f.reason}`).join("; "),
            row: this.rawRow(raw),
        };
    }
}

/** How many keys the report names per warning. */
export const WARNING_EXAMPLES = 3;

/** Adds a key to a warning's examples, up to WARNING_EXAMPLES. */
export function addExample(examples: Map<string, string[]>, warning: string, key: string): void {
    const list = examples.get(warning) ?? [];
    if (list.length < WARNING_EXAMPLES) list.push(key);
    examples.set(warning, list);
}

/** `table key=value[, ...]` for error messages. */
export function describeKey(table: string, key: Record<string, string | null>): string {
    return `${table} ${Object.entries(key)
        .map(([k, v]) => `${k}=${v === null ? "NULL" : JSON.stringify(v)}`)
        .join(", ")}`;
}
