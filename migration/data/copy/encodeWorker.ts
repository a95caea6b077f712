/**
 * A convert worker: its own read-only connection to the source, opened on the
 * same snapshot as the main one (see openSharedSnapshot), converting the pages
 * its lane asks for. Runs in a worker thread; started by ConvertWorkers.
 */
import { parentPort, workerData } from "node:worker_threads";
import { conversionFor } from "../plan/conversion";
import { beginSnapshot, openReadOnly } from "../source/snapshot";
import type { TableMapping } from "../plan/tableMapping";
import { encodePage, pageReader, type PageReader } from "./pageEncoder";
import { RowEncoder } from "./rowEncoder";
import type { WorkerData, WorkerReply, WorkerRequest } from "./workerProtocol";

const { sqlitePath, conversion: conversionOptions } = workerData as WorkerData;
const conversion = conversionFor(conversionOptions);
const db = openReadOnly(sqlitePath);
const tables = new Map<string, { read: PageReader; encoder: RowEncoder }>();

function handle(req: WorkerRequest): { value?: unknown; transfer?: ArrayBuffer[] } {
    switch (req.kind) {
        case "begin":
            beginSnapshot(db);
            return {};
        case "end":
            if (db.inTransaction) db.exec("COMMIT");
            return {};
        case "table": {
            const mapping: TableMapping = req.mapping;
            const tableConversion = Object.keys(req.decidedTimes).length
                ? conversionFor({ ...conversionOptions, decidedTimes: req.decidedTimes })
                : conversion;
            const encoder = new RowEncoder(
                mapping,
                (c) => tableConversion.converterFor(mapping.target.name, c),
                req.buckets,
                tableConversion.rowRulesFor(mapping.target.name),
            );
            tables.set(mapping.target.name, { read: pageReader(db, mapping, encoder.sourceColumns()), encoder });
            return {};
        }
        case "page": {
            const t = tables.get(req.table);
            if (!t) throw new Error(`convert worker: table ${req.table} was not set up`);
            if (!db.inTransaction) throw new Error("convert worker: no snapshot is open");
            const page = encodePage(t.read, t.encoder, req.fromRowid, req.toRowid);
            return { value: page, transfer: [page.copyText.buffer as ArrayBuffer] };
        }
    }
}

parentPort!.on("message", (req: WorkerRequest) => {
    let reply: WorkerReply;
    let transfer: ArrayBuffer[] | undefined;
    try {
        const r = handle(req);
        reply = { id: req.id, ok: true, value: r.value };
        transfer = r.transfer;
    } catch (err) {
        reply = { id: req.id, ok: false, message: (err as Error).message, stack: (err as Error).stack };
    }
    parentPort!.postMessage(reply, transfer);
});
