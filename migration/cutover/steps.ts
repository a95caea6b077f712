/** Named steps of a long operation (cutover, rollback): each logged with its time and result, and kept for the report. */
import type { MigrationLogger } from "../data/options";

export interface StepRecord {
    readonly step: string;
    readonly startedAt: string;
    readonly seconds: number;
    readonly ok: boolean;
    readonly detail: string;
}

export type Steps = {
    run<T>(name: string, work: () => Promise<T>, detail: (result: T) => string): Promise<T>;
    readonly records: StepRecord[];
};

export function stepRecorder(logger: MigrationLogger, what = "cutover"): Steps {
    const records: StepRecord[] = [];
    return {
        records,
        async run(name, work, detail) {
            const t0 = Date.now();
            const startedAt = new Date(t0).toISOString();
            try {
                const result = await work();
                const record = { step: name, startedAt, seconds: (Date.now() - t0) / 1000, ok: true, detail: detail(result) };
                records.push(record);
                logger.info(`${what} ${name}: ok in ${record.seconds.toFixed(2)} s; ${record.detail}`);
                return result;
            } catch (err) {
                records.push({ step: name, startedAt, seconds: (Date.now() - t0) / 1000, ok: false, detail: (err as Error).message });
                logger.warn(`${what} ${name}: FAILED: ${(err as Error).message}`);
                throw err;
            }
        },
    };
}
