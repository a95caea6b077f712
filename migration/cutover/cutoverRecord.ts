/**
 * The cutover as PostgreSQL remembers it (gecko_migration.cutovers): when, from which source
 * state (fingerprint, each table's recorded checksum), how long the collector's writes waited,
 * every freeze attempt, and whether the collector was started on PostgreSQL yet (resume).
 */
import type { ConnectionSpec } from "../postgres/connection";
import type { ClientBase } from "pg";
import { asRoleInTransaction, withSession } from "../postgres/session";
import { BucketSums } from "../data/checksum/checksum";
import { armChangeCapture, disarmChangeCapture } from "./changeCapture";

export interface CutoverRecord {
    readonly id: string;
    readonly switchedAt: string;
    readonly fingerprint: string;
    /** Per table: rows and checksum (sum of the row hashes) recorded at the switch. */
    readonly tables: Readonly<Record<string, { readonly rows: number; readonly checksum: string }>>;
    readonly collectorStarted: boolean;
    /** Set by `finalize`: the fallback period ended, nothing is captured for a rollback any more. */
    readonly finalizedAt?: string;
}

interface CutoverFacts {
    readonly fingerprint: string;
    readonly [more: string]: unknown;
}

const exists = "SELECT to_regclass('gecko_migration.cutovers') IS NOT NULL AS ok";

export async function cutoverState(target: ConnectionSpec): Promise<{ recorded?: CutoverRecord }> {
    return withSession("cutover", target, async (c) => {
        if (!(await c.query<{ ok: boolean }>(exists)).rows[0].ok) return {};
        const r = await c.query<{ id: string; switched_at: Date; fingerprint: string; report: Record<string, unknown> }>(
            "SELECT id::text, switched_at, fingerprint, report FROM gecko_migration.cutovers WHERE report->>'rolledBackAt' IS NULL ORDER BY id DESC LIMIT 1",
        );
        return r.rows[0] ? { recorded: recordOf(r.rows[0]) } : {};
    });
}

function recordOf(row: { id: string; switched_at: Date; fingerprint: string; report: Record<string, unknown> }): CutoverRecord {
    return {
        id: row.id,
        switchedAt: row.switched_at.toISOString(),
        fingerprint: row.fingerprint,
        tables: (row.report.tables ?? {}) as CutoverRecord["tables"],
        collectorStarted: row.report.collectorStarted === true,
        ...(typeof row.report.finalizedAt === "string" ? { finalizedAt: row.report.finalizedAt } : {}),
    };
}

/** The last full validation (a migrate or validate run, not a sync pass) passed; else there is nothing to cut over to. */
export async function requireValidated(target: ConnectionSpec): Promise<void> {
    const last = await withSession("cutover", target, async (c) => {
        const has = await c.query<{ ok: boolean }>("SELECT to_regclass('gecko_migration.runs') IS NOT NULL AS ok");
        if (!has.rows[0].ok) return undefined;
        const r = await c.query<{ ok: boolean; at: Date }>(
            "SELECT ok, finished_at AS at FROM gecko_migration.runs WHERE report->>'kind' IS NULL ORDER BY id DESC LIMIT 1",
        );
        return r.rows[0];
    });
    if (!last) throw new Error("the target holds no migration: run gecko-pg migrate first");
    if (!last.ok) throw new Error(`the target's last validation (${last.at.toISOString()}) failed: fix it and run gecko-pg validate first`);
}

/**
 * Records the switch, with each table's recorded checksums as they are now, and arms the change
 * capture a rollback reads (changeCapture.ts), in one transaction as the owner role.
 */
export async function recordCutover(target: ConnectionSpec, ownerRole: string, facts: CutoverFacts): Promise<CutoverRecord> {
    return withSession("cutover", target, (c) => asRoleInTransaction(c, ownerRole, () => insertRecord(c, facts)));
}

async function insertRecord(c: ClientBase, facts: CutoverFacts): Promise<CutoverRecord> {
    const captured = await armChangeCapture(c);
    const tables = await recordedChecksums(c);
    const r = await c.query<{ id: string; switched_at: Date; fingerprint: string; report: Record<string, unknown> }>(
        "INSERT INTO gecko_migration.cutovers (fingerprint, report) VALUES ($1, $2) RETURNING id::text, switched_at, fingerprint, report",
        [facts.fingerprint, JSON.stringify({ ...facts, tables, captured, collectorStarted: false })],
    );
    return recordOf(r.rows[0]);
}

/** Each table's rows and checksum (the sum of its row hashes) as the chunks record them. */
async function recordedChecksums(c: ClientBase): Promise<Record<string, { rows: number; checksum: string }>> {
    const chunks = await c.query<{ table_name: string; bucket_sums: Record<string, [number, string]> | null }>(
        "SELECT table_name, bucket_sums FROM gecko_migration.chunks WHERE status = 'done'",
    );
    const sums = new Map<string, BucketSums>();
    for (const row of chunks.rows) {
        const s = sums.get(row.table_name) ?? new BucketSums();
        s.merge(BucketSums.fromJSON(row.bucket_sums));
        sums.set(row.table_name, s);
    }
    const tables: Record<string, { rows: number; checksum: string }> = {};
    for (const [table, s] of sums) {
        const all = [...s.sums.values()];
        tables[table] = { rows: all.reduce((n, b) => n + b.count, 0), checksum: all.reduce((n, b) => n + b.sum, 0n).toString() };
    }
    return tables;
}

export async function markCollectorStarted(target: ConnectionSpec, id: string): Promise<void> {
    await withSession("cutover", target, (c) =>
        c.query(`UPDATE gecko_migration.cutovers SET report = report || '{"collectorStarted": true}'::jsonb WHERE id = $1`, [id]),
    );
}

/** Ends the fallback period: the change capture is removed (the log stays, as history) and the cutover marked final. */
export async function finalizeCutover(target: ConnectionSpec, ownerRole: string): Promise<CutoverRecord> {
    return withSession("finalize", target, (c) =>
        asRoleInTransaction(c, ownerRole, async () => {
            const { recorded } = await cutoverState(target);
            if (!recorded) throw new Error("finalize: no cutover recorded in this database");
            await disarmChangeCapture(c);
            const r = await c.query<{ id: string; switched_at: Date; fingerprint: string; report: Record<string, unknown> }>(
                `UPDATE gecko_migration.cutovers SET report = report || jsonb_build_object('finalizedAt', coalesce(report->>'finalizedAt', now()::text))
                  WHERE id = $1 RETURNING id::text, switched_at, fingerprint, report`,
                [recorded.id],
            );
            return recordOf(r.rows[0]);
        }),
    );
}
