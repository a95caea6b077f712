/** What the last sync pass saw of the source file, kept in the target and written in the pass's transaction. */
import type { ClientBase } from "pg";
import type { PageHashes } from "./pageScan";

export interface SyncState {
    readonly pageSize: number;
    readonly schemaCookie: number;
    readonly hashes: PageHashes;
    /** Source row count per target table. */
    readonly rowCounts: Readonly<Record<string, number>>;
    readonly fingerprint: string;
}

export async function loadSyncState(pg: ClientBase): Promise<SyncState | undefined> {
    const r = await pg.query<{
        page_size: number;
        schema_cookie: string;
        page_hashes: Buffer;
        row_counts: Record<string, number>;
        fingerprint: string;
    }>("SELECT page_size, schema_cookie, page_hashes, row_counts, fingerprint FROM gecko_migration.sync_state WHERE id = 1");
    const s = r.rows[0];
    if (!s) return undefined;
    return {
        pageSize: s.page_size,
        schemaCookie: Number(s.schema_cookie),
        hashes: s.page_hashes,
        rowCounts: s.row_counts,
        fingerprint: s.fingerprint,
    };
}

export async function saveSyncState(pg: ClientBase, s: SyncState): Promise<void> {
    await pg.query(
        `INSERT INTO gecko_migration.sync_state (id, page_size, schema_cookie, page_hashes, row_counts, fingerprint) VALUES (1, $1, $2, $3, $4, $5)
         ON CONFLICT (id) DO UPDATE SET page_size = $1, schema_cookie = $2, page_hashes = $3, row_counts = $4, fingerprint = $5, taken_at = now()`,
        [s.pageSize, s.schemaCookie, s.hashes, JSON.stringify(s.rowCounts), s.fingerprint],
    );
}
