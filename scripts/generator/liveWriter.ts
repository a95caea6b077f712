/**
 * The `uncheckpointed-wal` defect. A generated file is closed, and closing the
 * last connection checkpoints the WAL into the main file and deletes it, so
 * the generator cannot leave WAL-only data behind. A live collector can: its
 * recent writes sit in `<file>-wal` until a checkpoint, and copying only the
 * `.db` loses them. `openLiveWriter` plays that collector: it keeps a
 * connection open with automatic checkpoints off and inserts trades that exist
 * only in the WAL until `close()`. Tests run the migration while it is open.
 */
import Database from "better-sqlite3";
import { pythonText, sqliteText } from "./clock";
import { slotAt, tradeId } from "./market";
import { Rng } from "./prng";
import { solanaAddress, txSignature } from "./shapes";
import type { PlantedDefect } from "./types";

export interface LiveWriterOptions {
    /** Trades inserted on open. Default 100. */
    readonly rows?: number;
    /** PRNG seed for the inserted rows. Default 1. */
    readonly seed?: number;
}

export interface LiveWriter {
    /** The open connection (WAL mode, `wal_autocheckpoint = 0`). */
    readonly db: Database.Database;
    /** Every row inserted so far: they live only in the -wal file until `close()`. */
    readonly inserted: readonly PlantedDefect[];
    /** Inserts `n` more trades (one transaction) and returns them. */
    insert(n: number): PlantedDefect[];
    /** Closes the connection; as the last connection it checkpoints the WAL into the main file. */
    close(): void;
}

/** Opens a generated collector database as a live collector that has not checkpointed yet. */
export function openLiveWriter(file: string, options: LiveWriterOptions = {}): LiveWriter {
    const db = new Database(file, { fileMustExist: true });
    const rng = new Rng(options.seed ?? 1).fork("live-writer");
    const inserted: PlantedDefect[] = [];
    try {
        db.pragma("journal_mode = WAL");
        db.pragma("wal_autocheckpoint = 0");
        db.pragma("foreign_keys = OFF"); // as the collector runs
        const pools = (db.prepare("SELECT id FROM pools ORDER BY rowid LIMIT 50").all() as { id: string }[]).map((p) => p.id);
        if (pools.length === 0) throw new Error(`${file} has no pools to write trades for`);
        const last = db.prepare("SELECT max(block_number) AS b FROM trades").get() as { b: number | null };
        // Continue after the newest trade: block time from the slot the generator derives from it.
        let epoch = last.b === null ? 1_748_736_000 : Math.ceil(1_725_000_000 + (last.b - 290_000_000) / 2.5) + 1;
        const stmt = db.prepare(
            `INSERT INTO trades (id, pool_id, block_number, tx_hash, tx_from_address, from_token_amount, to_token_amount,
             price_usd, volume_usd, side, block_timestamp, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        );
        const insert = db.transaction((n: number) => {
            const rows: PlantedDefect[] = [];
            for (let i = 0; i < n; i++) {
                epoch += rng.int(1, 20);
                const tx = txSignature(rng);
                const id = tradeId(slotAt(epoch), tx, rng.int(0, 8), epoch);
                const price = rng.logRange(1e-6, 3);
                const amount = rng.logRange(1, 1e6);
                stmt.run(
                    id,
                    rng.pick(pools),
                    slotAt(epoch),
                    tx,
                    solanaAddress(rng),
                    (amount * price) / 150.3,
                    amount,
                    price,
                    amount * price,
                    rng.chance(0.5) ? "buy" : "sell",
                    pythonText(epoch * 1e6),
                    sqliteText((epoch + 3) * 1e6),
                );
                rows.push({ defect: "uncheckpointed-wal", kind: "wal-only-row", table: "trades", key: { id }, columns: [] });
            }
            inserted.push(...rows);
            return rows;
        });
        insert(options.rows ?? 100);
        return { db, inserted, insert: (n) => insert(n), close: () => db.close() };
    } catch (error) {
        db.close();
        throw new Error(`openLiveWriter ${file}: ${(error as Error).message}`, { cause: error });
    }
}
