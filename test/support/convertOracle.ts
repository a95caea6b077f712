/**
 * Test helpers for the converter tests: a seeded PRNG, a result as the text compared,
 * and "ask real PostgreSQL" in one round trip for a whole batch of inputs (only the
 * integration tests call oracleClient; the rest needs no server).
 */
import { Client } from "pg";
import { afterAll, beforeAll } from "vitest";
import type { ConvertResult } from "../../migration/data/convert/result";
import { createScratchDatabase, type ScratchDatabase } from "./db";

/** A converter's result as compared with PostgreSQL's text: the value, `NULL`, or `ERROR` when rejected. */
export const resultText = (r: ConvertResult): string => (r.ok ? (r.value ?? "NULL") : "ERROR");

/**
 * A client on a scratch database with `pg_try` installed, for the `describe`
 * block it is called in; the returned function gives the connected client.
 */
export function oracleClient(prefix: string): () => Client {
    let db: ScratchDatabase | undefined;
    let c: Client | undefined;
    beforeAll(async () => {
        db = await createScratchDatabase(prefix);
        c = new Client({ connectionString: db.url });
        await c.connect();
        await installTry(c);
    });
    afterAll(async () => {
        await c?.end();
        await db?.drop();
    });
    return () => c!;
}

/** mulberry32: small, fast, deterministic. */
export function prng(seed: number): {
    next(): number;
    int(lo: number, hi: number): number;
    pick<T>(items: readonly T[]): T;
    chance(p: number): boolean;
} {
    let a = seed >>> 0;
    const next = () => {
        a = (a + 0x6d2b79f5) >>> 0;
        let t = a;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const int = (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1));
    return { next, int, pick: (items) => items[int(0, items.length - 1)]!, chance: (p) => next() < p };
}

/** Installs `pg_try(query, value)`: the query's single text result for `$1 = value`, or 'ERROR' when PostgreSQL raises. */
export async function installTry(c: Client): Promise<void> {
    await c.query(`
        create or replace function pg_try(q text, v text) returns text language plpgsql as $$
        declare r text;
        begin
            execute q into r using v;
            return r;
        exception when others then
            return 'ERROR';
        end $$`);
}

/** Runs `query` (with `$1` the text input) for every input in one statement; 'ERROR' where PostgreSQL raised. */
export async function pgEach(c: Client, query: string, inputs: readonly string[]): Promise<string[]> {
    const r = await c.query<{ out: string | null }>(
        "select pg_try($1, x) as out from unnest($2::text[]) with ordinality as u(x, i) order by i",
        [query, inputs],
    );
    return r.rows.map((row) => row.out ?? "NULL");
}

/** Pairs of [input, ours, postgres] that differ (empty when all agree), capped for readable failures. */
export function mismatches(inputs: readonly string[], ours: readonly string[], theirs: readonly string[], cap = 20): string[][] {
    const out: string[][] = [];
    for (let i = 0; i < inputs.length && out.length < cap; i++) {
        if (ours[i] !== theirs[i]) out.push([inputs[i]!, ours[i]!, theirs[i]!]);
    }
    return out;
}
