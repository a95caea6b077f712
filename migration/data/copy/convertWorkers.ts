/**
 * Worker threads that read and convert pages for the copy lanes, one per
 * lane, so conversion (the copy's bottleneck: one client core) runs on as
 * many cores as there are lanes. better-sqlite3 is synchronous, so each
 * worker has its own source connection; `begin`/`end` let openSharedSnapshot
 * put them all on the main connection's snapshot.
 *
 * Workers run the project's TypeScript through tsx, as the dynamic providers
 * do (infra/providers/loadLibrary.ts), so this works from the CLI, the stack
 * and the tests alike.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { Worker } from "node:worker_threads";
import type { DecidedTimes } from "../plan/orderEvidence";
import type { TableMapping } from "../plan/tableMapping";
import type { EncodedPage, PageSource } from "./pageEncoder";
import type { WorkerData, WorkerReply, WorkerRequest } from "./workerProtocol";

// A larger young generation: conversion makes many short-lived strings, and the default
// semi-space promotes a page's rows to the old generation before they die. Measured at 500k
// rows: 16 MB cost ~20% more CPU than 48-128 MB, which were alike.
const YOUNG_GENERATION_MB = 64;

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void };
type Request = WorkerRequest extends infer R ? (R extends { id: number } ? Omit<R, "id"> : never) : never;

class ConvertWorker {
    private nextId = 0;
    private readonly pending = new Map<number, Pending>();
    private failure: Error | undefined;

    constructor(private readonly worker: Worker) {
        worker.on("message", (reply: WorkerReply) => {
            const p = this.pending.get(reply.id);
            if (!p) return;
            this.pending.delete(reply.id);
            if (reply.ok) p.resolve(reply.value);
            else p.reject(Object.assign(new Error(reply.message), { stack: reply.stack }));
        });
        const fail = (err: Error) => {
            this.failure ??= err;
            for (const p of this.pending.values()) p.reject(err);
            this.pending.clear();
        };
        worker.on("error", fail);
        worker.on("exit", (code) => fail(new Error(`convert worker exited (code ${code})`)));
    }

    call<T>(request: Request): Promise<T> {
        if (this.failure) return Promise.reject(this.failure);
        const id = this.nextId++;
        return new Promise<T>((resolve, reject) => {
            this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
            this.worker.postMessage({ ...request, id });
        });
    }

    async stop(): Promise<void> {
        this.failure ??= new Error("convert worker stopped");
        await this.worker.terminate();
    }
}

export class ConvertWorkers {
    private constructor(private readonly workers: readonly ConvertWorker[]) {}

    /** Starts `count` workers on the source file; none holds a snapshot until `begin`. */
    static async start(count: number, data: WorkerData): Promise<ConvertWorkers> {
        const entry = [".ts", ".js"].map((ext) => path.join(__dirname, `encodeWorker${ext}`)).find((p) => fs.existsSync(p));
        if (!entry) throw new Error(`convert worker entry not found next to ${__filename}`);
        const workers = Array.from(
            { length: count },
            () =>
                new ConvertWorker(
                    new Worker(`require("tsx/cjs/api").register(); require(${JSON.stringify(entry)});`, {
                        eval: true,
                        workerData: data,
                        resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB },
                    }),
                ),
        );
        const pool = new ConvertWorkers(workers);
        try {
            // A round trip proves each worker loaded and opened the file.
            await Promise.all(workers.map((w) => w.call({ kind: "end" })));
        } catch (err) {
            await pool.close();
            throw err;
        }
        return pool;
    }

    get size(): number {
        return this.workers.length;
    }

    /** Every worker opens a read transaction and takes its snapshot. */
    async begin(): Promise<void> {
        await Promise.all(this.workers.map((w) => w.call({ kind: "begin" })));
    }

    async end(): Promise<void> {
        await Promise.all(this.workers.map((w) => w.call({ kind: "end" })));
    }

    /** Sets up a table in every worker; `decidedTimes`: its local times the main thread decided by the order of writes. */
    async addTable(mapping: TableMapping, buckets: number, decidedTimes: DecidedTimes = {}): Promise<void> {
        await Promise.all(this.workers.map((w) => w.call({ kind: "table", mapping, buckets, decidedTimes })));
    }

    /** The page source of lane `i`. */
    pageSource(i: number): PageSource {
        const w = this.workers[i % this.workers.length];
        return async (table, fromRowid, toRowid) => {
            const page = await w.call<EncodedPage>({ kind: "page", table, fromRowid, toRowid });
            // The transferred bytes arrive as a plain Uint8Array.
            return { ...page, copyText: Buffer.from(page.copyText.buffer, page.copyText.byteOffset, page.copyText.byteLength) };
        };
    }

    async close(): Promise<void> {
        await Promise.all(this.workers.map((w) => w.stop()));
    }
}
