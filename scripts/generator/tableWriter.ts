/**
 * Bulk insert into one table: multi-row prepared INSERTs (one statement per
 * ~200 rows is several times faster than a statement per row), and the
 * variant's late `ALTER TABLE ... ADD COLUMN` applied mid-stream.
 */
import type Database from "better-sqlite3";
import { layoutColumns, type TableLayout } from "./variants";

/** A generated row: column name -> value. Columns the table lacks are ignored, missing ones are NULL. */
export type Row = Record<string, unknown>;

const MAX_VARIABLES = 30_000; // SQLite's default limit is 32766

/** Rows a table gets before its late columns are added (they read NULL). */
export function rowsBeforeAlter(expectedRows: number, table: TableLayout): number {
    return table.late ? Math.floor(expectedRows * table.late.afterFraction) : expectedRows;
}

export class TableWriter {
    private columns: string[];
    private batchRows = 0;
    private batch: Database.Statement | null = null;
    private single: Database.Statement | null = null;
    private buffer: unknown[] = [];
    private pos = 0;
    private buffered = 0;
    private altered: boolean;
    private readonly alterAt: number;
    /** Rows written so far. */
    written = 0;

    /**
     * @param expectedRows rows this writer will get; with late columns, the ALTER happens after
     *   `afterFraction` of them (so the earliest rows read NULL, as in a real upgraded install).
     */
    constructor(
        private readonly db: Database.Database,
        readonly table: TableLayout,
        expectedRows: number,
        private readonly onFlush: (rows: number) => void = () => {},
    ) {
        this.altered = !table.late;
        this.alterAt = table.late ? rowsBeforeAlter(expectedRows, table) : 0;
        this.columns = layoutColumns(table, false);
        this.prepare();
        if (!this.altered && this.alterAt === 0) this.alter();
    }

    /** Whether the table currently has `column` (late columns only after the ALTER). */
    has(column: string): boolean {
        return this.columns.includes(column);
    }

    add(row: Row): void {
        const cols = this.columns;
        const buffer = this.buffer;
        for (let i = 0; i < cols.length; i++) {
            const v = row[cols[i]];
            buffer[this.pos++] = v === undefined ? null : v;
        }
        this.buffered++;
        this.written++;
        if (this.buffered === this.batchRows) this.flush();
        if (!this.altered && this.written === this.alterAt) this.alter();
    }

    /** Writes buffered rows; applies a pending ALTER so the final schema always has the late columns. */
    finish(): number {
        this.flush();
        if (!this.altered) this.alter();
        return this.written;
    }

    private flush(): void {
        if (this.buffered === 0) return;
        if (this.buffered === this.batchRows) {
            this.batch!.run(this.buffer);
        } else {
            const width = this.columns.length;
            for (let r = 0; r < this.buffered; r++) this.single!.run(this.buffer.slice(r * width, (r + 1) * width));
        }
        this.onFlush(this.buffered);
        this.pos = 0;
        this.buffered = 0;
    }

    private alter(): void {
        this.flush();
        for (const item of this.table.late!.items) this.db.exec(`ALTER TABLE ${this.table.name} ADD COLUMN ${item}`);
        this.altered = true;
        this.columns = layoutColumns(this.table, true);
        this.prepare();
    }

    private prepare(): void {
        const width = this.columns.length;
        const one = `(${new Array(width).fill("?").join(", ")})`;
        const head = `INSERT INTO ${this.table.name} (${this.columns.join(", ")}) VALUES `;
        this.batchRows = Math.max(1, Math.min(200, Math.floor(MAX_VARIABLES / width)));
        this.batch = this.db.prepare(head + new Array(this.batchRows).fill(one).join(", "));
        this.buffer = new Array(this.batchRows * width).fill(null); // reused: one allocation per table, not per batch
        this.single = this.db.prepare(head + one);
    }
}
