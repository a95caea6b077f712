/**
 * Splitting a table into rowid ranges, each copied in one transaction with
 * its checkpoint. Pure. Ranges are closed and contiguous from the smallest to
 * the largest rowid seen in the snapshot; gaps just make a chunk smaller.
 */

export interface Chunk {
    readonly table: string;
    /** 0-based, stable across reruns (the plan is persisted with the checkpoints). */
    readonly chunkNo: number;
    readonly rowidLo: bigint;
    readonly rowidHi: bigint;
}

export interface ChunkPlan {
    readonly table: string;
    readonly chunks: readonly Chunk[];
    /** Rows the snapshot holds (for progress and ETA). */
    readonly rowCount: number;
}

export interface ChunkPlanInput {
    readonly table: string;
    readonly rowCount: number;
    readonly minRowid: bigint | null;
    readonly maxRowid: bigint | null;
    /** Desired rows per chunk. */
    readonly chunkRows: number;
}

export function planChunks(input: ChunkPlanInput): ChunkPlan {
    const { table, rowCount, minRowid, maxRowid } = input;
    if (!Number.isInteger(input.chunkRows) || input.chunkRows < 1)
        throw new Error(`chunkRows must be a positive integer, got ${input.chunkRows}`);
    if (rowCount === 0 || minRowid === null || maxRowid === null) return { table, chunks: [], rowCount: 0 };
    const span = maxRowid - minRowid + 1n;
    // Width in rowids so that, at the table's average density, a chunk holds ~chunkRows rows.
    const chunksWanted = BigInt(Math.max(1, Math.ceil(rowCount / input.chunkRows)));
    const width = (span + chunksWanted - 1n) / chunksWanted;
    const chunks: Chunk[] = [];
    for (let lo = minRowid, n = 0; lo <= maxRowid; lo += width, n++) {
        const hi = lo + width - 1n > maxRowid ? maxRowid : lo + width - 1n;
        chunks.push({ table, chunkNo: n, rowidLo: lo, rowidHi: hi });
    }
    return { table, chunks, rowCount };
}

/**
 * Order tables so that every parent comes before its children (foreign keys),
 * ties broken by name for a stable plan. Throws on a cycle.
 */
export function foreignKeyOrder<
    T extends { readonly name: string; readonly foreignKeys: readonly { readonly references: { readonly table: string } }[] },
>(tables: readonly T[]): T[] {
    const byName = new Map(tables.map((t) => [t.name, t]));
    const done = new Set<string>();
    const visiting = new Set<string>();
    const out: T[] = [];
    const visit = (t: T, path: string[]) => {
        if (done.has(t.name)) return;
        if (visiting.has(t.name)) throw new Error(`foreign key cycle: ${[...path, t.name].join(" -> ")}`);
        visiting.add(t.name);
        for (const fk of [...t.foreignKeys].sort((a, b) => a.references.table.localeCompare(b.references.table))) {
            const parent = byName.get(fk.references.table);
            if (parent && parent.name !== t.name) visit(parent, [...path, t.name]);
        }
        visiting.delete(t.name);
        done.add(t.name);
        out.push(t);
    };
    for (const t of [...tables].sort((a, b) => a.name.localeCompare(b.name))) visit(t, []);
    return out;
}
