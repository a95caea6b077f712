/**
 * Where the writers' PostgreSQL backends spend their time: pg_stat_activity sampled at a
 * fixed interval during a write run, each backend's state counted (running on CPU, waiting
 * for a row lock, for the WAL flush, for the client...). The shares say whether a run is
 * bound by the server's CPU, by locks, by fsync or by the clients.
 */
import { Client } from "pg";
import { clientConfig, type ConnectionSpec } from "../../../migration/postgres/connection";

export interface WaitSampler {
    /** Starts counting (the beginning of the measured window). */
    start(): void;
    /** Stops counting (its end); sampling stops within one interval. */
    end(): void;
    /** Waits for the last sample, closes the connection; share of samples per state (0..1), most frequent first. */
    finish(): Promise<Record<string, number>>;
}

/** A backend's row of pg_stat_activity reduced to one label. */
export function stateLabel(state: string | null, waitType: string | null, waitEvent: string | null): string {
    if (state === "active") return waitType ? `${waitType}:${waitEvent}` : "running (CPU)";
    if (state === "idle in transaction") return "client, in transaction";
    if (state === "idle") return "client, between transactions";
    return state ?? "unknown";
}

/** A sampler of the backends whose application_name starts with `applicationPrefix`, every `intervalMs` once started. */
export async function createWaitSampler(spec: ConnectionSpec, applicationPrefix: string, intervalMs = 20): Promise<WaitSampler> {
    const client = new Client(clientConfig(spec, { application_name: "gecko-bench wait sampler" }));
    await client.connect();
    const counts = new Map<string, number>();
    let total = 0;
    let running = false;
    let loop: Promise<void> = Promise.resolve();
    const sampleLoop = async () => {
        while (running) {
            const t0 = Date.now();
            const { rows } = await client.query<{ state: string | null; wait_event_type: string | null; wait_event: string | null }>(
                "SELECT state, wait_event_type, wait_event FROM pg_stat_activity WHERE application_name LIKE $1 AND pid <> pg_backend_pid()",
                [`${applicationPrefix}%`],
            );
            if (!running) break;
            for (const r of rows) {
                const label = stateLabel(r.state, r.wait_event_type, r.wait_event);
                counts.set(label, (counts.get(label) ?? 0) + 1);
                total++;
            }
            await new Promise((resolve) => setTimeout(resolve, Math.max(0, intervalMs - (Date.now() - t0))));
        }
    };
    return {
        start: () => {
            if (running) return;
            running = true;
            loop = sampleLoop();
        },
        end: () => {
            running = false;
        },
        finish: async () => {
            running = false;
            try {
                await loop;
            } finally {
                await client.end();
            }
            return Object.fromEntries([...counts].sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, v / Math.max(1, total)]));
        },
    };
}
