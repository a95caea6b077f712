/** Messages between ConvertWorkers (main thread) and encodeWorker (worker thread). */
import type { ConversionOptions } from "../plan/conversion";
import type { DecidedTimes } from "../plan/orderEvidence";
import type { TableMapping } from "../plan/tableMapping";

export interface WorkerData {
    readonly sqlitePath: string;
    readonly conversion: ConversionOptions;
}

export type WorkerRequest = { readonly id: number } & (
    | { readonly kind: "begin" }
    | { readonly kind: "end" }
    | { readonly kind: "table"; readonly mapping: TableMapping; readonly buckets: number; readonly decidedTimes: DecidedTimes }
    | { readonly kind: "page"; readonly table: string; readonly fromRowid: bigint; readonly toRowid: bigint }
);

export type WorkerReply =
    | { readonly id: number; readonly ok: true; readonly value: unknown }
    | { readonly id: number; readonly ok: false; readonly message: string; readonly stack?: string };
