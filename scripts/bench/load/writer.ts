/**
 * One emulated collector: a separate process with its own connection (SQLite locks
 * are per connection, and the collector runs as separate processes), running the
 * write mix from `go` until the deadline. Started by scripts/bench/concurrency.ts
 * through `child_process.fork`; talks over the IPC channel only.
 */
import Database from "better-sqlite3";
import { createHash } from "node:crypto";
import { performance } from "node:perf_hooks";
import { Client } from "pg";
import { clientConfig } from "../../../migration/postgres/connection";
import { OP_NAMES, OpSource, type OpName, type OpPlan, type Statement } from "./ops";
import type { ErrorKind, FromWriter, OpResult, PgStatementMode, ToWriter, WriterConfig, WriterResult } from "./protocol";
import { mogrify } from "./psycopg2";

/** Runs one plan; returns rows written. Throws the store's error. */
type Executor = (plan: OpPlan) => Promise<number> | number;

interface Store {
    readonly execute: Executor;
    readonly classify: (err: unknown) => ErrorKind;
    readonly close: () => Promise<void> | void;
}

/** The mix's in-transaction client time after a write statement (see MixOptions.inTxnMs). */
function inTransactionPause(ms: number): Promise<void> | undefined {
    return ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : undefined;
}

/** Resolves once the message is handed to the IPC channel (a large result must be flushed before disconnect). */
function send(message: FromWriter): Promise<void> {
    return new Promise((resolve) => {
        if (!process.send) return resolve();
        process.send(message, undefined, {}, () => resolve());
    });
}

function openSqlite(config: WriterConfig & { target: { store: "sqlite" } }): Store {
    const { path, busyTimeoutMs, synchronous } = config.target;
    // better-sqlite3's `timeout` is sqlite3_busy_timeout: the same as the collector's PRAGMA.
    const db = new Database(path, { timeout: busyTimeoutMs });
    db.pragma("journal_mode = WAL");
    db.pragma(`busy_timeout = ${busyTimeoutMs}`);
    // SQLite's compiled default (what Python's sqlite3 gets); better-sqlite3 would use NORMAL in WAL.
    db.pragma(`synchronous = ${synchronous}`);
    // Python's sqlite3 leaves foreign keys off; better-sqlite3 turns them on.
    db.pragma("foreign_keys = OFF");
    // pysqlite keeps a statement cache too (128 statements).
    const cache = new Map<string, Database.Statement>();
    const stmt = (sql: string) => {
        let s = cache.get(sql);
        if (!s) {
            s = db.prepare(sql);
            cache.set(sql, s);
        }
        return s;
    };
    const plucked = new Map<string, Database.Statement>();
    return {
        execute: async (plan) => {
            // pysqlite: the SELECT runs outside the write transaction; its implicit BEGIN (DEFERRED) comes before the first write.
            let found: Set<string> = new Set();
            if (plan.select) {
                let s = plucked.get(plan.select.sql);
                if (!s) {
                    s = db.prepare(plan.select.sql).pluck();
                    plucked.set(plan.select.sql, s);
                }
                found = new Set(s.all(...plan.select.params) as string[]);
            }
            const writes = plan.buildWrites(found);
            if (!writes.length) return 0;
            let rows = 0;
            try {
                db.exec("BEGIN");
                for (const w of writes) {
                    rows += stmt(w.sql).run(...(w.params as unknown[])).changes;
                    // The write lock is held meanwhile: that is what other SQLite writers wait on.
                    await inTransactionPause(config.mix.inTxnMs);
                }
                db.exec("COMMIT");
            } catch (err) {
                if (db.inTransaction) db.exec("ROLLBACK");
                throw err;
            }
            return rows;
        },
        classify: (err) => {
            const code = String((err as { code?: string }).code ?? "");
            return code.startsWith("SQLITE_BUSY") ||
                code.startsWith("SQLITE_LOCKED") ||
                /database is locked/i.test(String((err as Error).message))
                ? "locked"
                : "other";
        },
        close: () => void db.close(),
    };
}

async function openPostgres(config: WriterConfig & { target: { store: "postgres" } }): Promise<Store> {
    const client = new Client(clientConfig(config.target.connection, { application_name: `gecko-bench writer ${config.worker}` }));
    await client.connect();
    if (config.target.lockTimeoutMs > 0) await client.query(`SET lock_timeout = ${Math.floor(config.target.lockTimeoutMs)}`);
    const run = pgStatementRunner(client, config.target.statements);
    return {
        // psycopg2: BEGIN before the first statement, the SELECT included.
        execute: async (plan) => {
            await client.query("BEGIN");
            try {
                const found = new Set<string>();
                if (plan.select) for (const r of (await run(plan.select)).rows as { id: string }[]) found.add(r.id);
                let rows = 0;
                for (const w of plan.buildWrites(found)) {
                    rows += (await run(w)).rowCount ?? 0;
                    await inTransactionPause(config.mix.inTxnMs);
                }
                await client.query("COMMIT");
                return rows;
            } catch (err) {
                await client.query("ROLLBACK").catch(() => undefined);
                throw err;
            }
        },
        classify: (err) => {
            switch ((err as { code?: string }).code) {
                case "40P01":
                    return "deadlock";
                case "40001":
                    return "serialization";
                case "55P03":
                    return "lock_timeout";
                case "57014":
                    return "statement_timeout";
                default:
                    return "other";
            }
        },
        close: () => client.end(),
    };
}

/** How one statement is sent, per PgStatementMode. BEGIN/COMMIT are always simple queries, as psycopg2 sends them. */
function pgStatementRunner(client: Client, mode: PgStatementMode): (s: Statement) => Promise<{ rows: unknown[]; rowCount: number | null }> {
    switch (mode) {
        case "psycopg2":
            // No values: node-pg sends a simple-protocol Query, as psycopg2 does.
            return (s) => client.query(mogrify(s.sql, s.params));
        case "extended":
            return (s) => client.query(s.sql, s.params as unknown[]);
        case "prepared": {
            const names = new Map<string, string>();
            return (s) => {
                let name = names.get(s.sql);
                if (!name) names.set(s.sql, (name = "b" + createHash("sha1").update(s.sql).digest("hex").slice(0, 16)));
                return client.query({ name, text: s.sql, values: s.params as unknown[] });
            };
        }
    }
}

/**
 * Runs operations until `deadline`. Those started before `measureFrom` are the warm-up
 * (connection caches, JIT): run but not counted. Throughput counts the successful
 * operations that completed by the deadline; latencies and errors cover every operation
 * started in the window, including one that finishes after the deadline (a long lock
 * wait is not hidden).
 */
async function runWriter(config: WriterConfig, store: Store, measureFrom: number, deadline: number): Promise<WriterResult> {
    const source = new OpSource(config.target.store, config.workload, config.mix, config.tag, config.worker, config.seed);
    const ops = Object.fromEntries(
        OP_NAMES.map((n): [OpName, OpResult] => [n, { latenciesMs: [], completedInWindow: 0, rows: 0, slow: 0, errors: {} }]),
    ) as Record<OpName, OpResult>;
    const errorSamples: string[] = [];
    let warmupOps = 0;
    let opsStarted = 0;
    let cpuAtStart: NodeJS.CpuUsage | undefined;
    let startedAt = 0;
    for (let i = 0; i < config.maxOps && Date.now() < deadline; i++) {
        const plan = source.next();
        const measured = Date.now() >= measureFrom;
        if (measured && !cpuAtStart) {
            cpuAtStart = process.cpuUsage();
            startedAt = Date.now();
        }
        const t0 = performance.now();
        try {
            const rows = await store.execute(plan);
            const ms = performance.now() - t0;
            if (!measured) {
                warmupOps++;
                continue;
            }
            const r = ops[plan.name];
            r.latenciesMs.push(ms);
            if (ms > config.slowMs) r.slow++;
            if (Date.now() <= deadline) {
                r.completedInWindow++;
                r.rows += rows;
            }
        } catch (err) {
            if (!measured) {
                warmupOps++;
                continue;
            }
            const r = ops[plan.name];
            const kind = store.classify(err);
            r.errors[kind] = (r.errors[kind] ?? 0) + 1;
            const message = `${plan.name}: ${(err as Error).message} after ${(performance.now() - t0).toFixed(0)} ms`.slice(0, 300);
            if (errorSamples.length < 5 && !errorSamples.some((m) => m.startsWith(message.slice(0, 60)))) errorSamples.push(message);
        } finally {
            if (measured) opsStarted++;
        }
    }
    const cpu = cpuAtStart ? process.cpuUsage(cpuAtStart) : { user: 0, system: 0 };
    return {
        worker: config.worker,
        startedAt: startedAt || Date.now(),
        endedAt: Date.now(),
        ops,
        opsStarted,
        cpuMs: (cpu.user + cpu.system) / 1000,
        warmupOps,
        errorSamples,
    };
}

let config: WriterConfig | undefined;
let store: Store | undefined;

process.on("message", (message: ToWriter) => {
    void (async () => {
        try {
            if (message.type === "init") {
                config = message.config;
                const c = config;
                store =
                    c.target.store === "sqlite"
                        ? openSqlite(c as WriterConfig & { target: { store: "sqlite" } })
                        : await openPostgres(c as WriterConfig & { target: { store: "postgres" } });
                await send({ type: "ready", worker: c.worker });
            } else if (message.type === "go") {
                if (!config || !store) throw new Error("go before init");
                const result = await runWriter(config, store, message.measureFrom, message.deadline);
                await send({ type: "result", result });
            } else if (message.type === "close") {
                await store?.close();
                process.disconnect?.();
            }
        } catch (err) {
            await send({ type: "failed", worker: config?.worker ?? -1, message: (err as Error).message });
            process.exitCode = 1;
            process.disconnect?.();
        }
    })();
});
