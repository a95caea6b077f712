/**
 * Planting tools: pick random rows (never the same row for two defects),
 * update or insert them, and record each planted defect for the manifest.
 */
import type Database from "better-sqlite3";
import type { Rng } from "./prng";
import type { DefectName, PlantedDefect } from "./types";
import type { GeneratedTable } from "./variants";

/** A row picked for a defect: its rowid and current values. */
export interface PickedRow {
    readonly rowid: number;
    readonly row: Record<string, unknown>;
}

/** A numeric column value that must be stored as TEXT (see textNumbers.ts). */
export interface TextNumberWrite {
    readonly table: GeneratedTable;
    readonly column: string;
    readonly rowid: number;
    readonly value: string;
}

type Value = string | number | null;

export class DefectKit {
    readonly planted: PlantedDefect[] = [];
    readonly textNumbers: TextNumberWrite[] = [];
    private readonly claimed = new Map<string, Set<number>>();
    private readonly columnCache = new Map<string, { names: string[]; key: string[] }>();

    constructor(
        readonly db: Database.Database,
        readonly rng: Rng,
    ) {}

    /** Whether the table exists and (when given) has the column. */
    has(table: GeneratedTable, column?: string): boolean {
        const info = this.columns(table);
        return info.names.length > 0 && (column === undefined || info.names.includes(column));
    }

    /** `count` random unclaimed rows matching `where` (fewer if the table has fewer). */
    pick(table: GeneratedTable, count: number, where = "1"): PickedRow[] {
        if (!this.has(table)) return [];
        // Two queries: min() and max() together defeat SQLite's min/max optimisation (full scan).
        const first = this.db.prepare(`SELECT rowid AS r FROM ${table} ORDER BY rowid LIMIT 1`).get() as { r: number } | undefined;
        const last = this.db.prepare(`SELECT rowid AS r FROM ${table} ORDER BY rowid DESC LIMIT 1`).get() as { r: number } | undefined;
        if (!first || !last) return [];
        const lo = first.r;
        const hi = last.r;
        const next = this.db.prepare(`SELECT rowid AS _rowid, * FROM ${table} WHERE rowid >= ? AND (${where}) ORDER BY rowid LIMIT 1`);
        const taken = this.claimedSet(table);
        const out: PickedRow[] = [];
        for (let tries = 0; out.length < count && tries < count * 40; tries++) {
            // Random start, wrapping to the beginning when nothing matches after it.
            const hit = (next.get(this.rng.int(lo, hi)) ?? next.get(lo)) as Record<string, unknown> | undefined;
            if (!hit) break;
            const rowid = hit._rowid as number;
            if (taken.has(rowid)) continue;
            taken.add(rowid);
            delete hit._rowid;
            out.push({ rowid, row: hit });
        }
        return out;
    }

    /** Sets `values` on a picked row and records it. */
    update(defect: DefectName, kind: string, table: GeneratedTable, picked: PickedRow, values: Record<string, Value>): void {
        const columns = Object.keys(values);
        this.db
            .prepare(`UPDATE ${table} SET ${columns.map((c) => `${c} = ?`).join(", ")} WHERE rowid = ?`)
            .run(...columns.map((c) => values[c]), picked.rowid);
        this.record(
            defect,
            kind,
            table,
            this.keyOf(table, { ...picked.row, ...values }),
            columns,
            columns.length === 1 ? values[columns[0]] : undefined,
        );
    }

    /** Records a numeric column to be rewritten as TEXT once bulk writing is over. */
    textNumber(defect: DefectName, kind: string, table: GeneratedTable, picked: PickedRow, column: string, value: string): void {
        this.textNumbers.push({ table, column, rowid: picked.rowid, value });
        this.record(defect, kind, table, this.keyOf(table, picked.row), [column], value);
    }

    /** Inserts a whole row (columns the table lacks are dropped) and records it. */
    insert(defect: DefectName, kind: string, table: GeneratedTable, row: Record<string, Value>): void {
        if (!this.has(table)) return;
        const names = this.columns(table).names.filter((c) => c in row);
        const result = this.db
            .prepare(`INSERT INTO ${table} (${names.join(", ")}) VALUES (${names.map(() => "?").join(", ")})`)
            .run(...names.map((c) => row[c]));
        this.claimedSet(table).add(Number(result.lastInsertRowid));
        this.record(defect, kind, table, this.keyOf(table, row), []);
    }

    /** Largest rowid-alias id, so inserted rows continue the sequence. */
    maxId(table: GeneratedTable): number {
        return ((this.db.prepare(`SELECT max(id) AS m FROM ${table}`).get() as { m: number | null }).m ?? 0) as number;
    }

    private record(
        defect: DefectName,
        kind: string,
        table: GeneratedTable,
        key: Record<string, string | number>,
        columns: string[],
        value?: Value,
    ): void {
        this.planted.push(value === undefined ? { defect, kind, table, key, columns } : { defect, kind, table, key, columns, value });
    }

    private keyOf(table: GeneratedTable, row: Record<string, unknown>): Record<string, string | number> {
        const key: Record<string, string | number> = {};
        for (const c of this.columns(table).key) key[c] = row[c] as string | number;
        return key;
    }

    private columns(table: GeneratedTable): { names: string[]; key: string[] } {
        let info = this.columnCache.get(table);
        if (!info) {
            const rows = this.db.prepare(`SELECT name, pk FROM pragma_table_info(?)`).all(table) as { name: string; pk: number }[];
            info = {
                names: rows.map((r) => r.name),
                key: rows
                    .filter((r) => r.pk > 0)
                    .sort((a, b) => a.pk - b.pk)
                    .map((r) => r.name),
            };
            this.columnCache.set(table, info);
        }
        return info;
    }

    private claimedSet(table: string): Set<number> {
        let set = this.claimed.get(table);
        if (!set) this.claimed.set(table, (set = new Set()));
        return set;
    }
}
