/**
 * Faults that go away by themselves (a terminated session, a restarting server, a
 * dropped network connection, a serialization failure or deadlock) and the one retry
 * loop for them: reconnect with backoff for up to a number of seconds, each retry
 * logged. Anything else fails at once. Also how a run is told to stop (a signal):
 * `Interrupted`, thrown at the next safe point.
 */

/** SQLSTATEs worth a retry: the session or server went away, or the transaction lost a race. */
const TRANSIENT_SQLSTATES = new Set([
    "57P01", // admin_shutdown (pg_terminate_backend, a fast shutdown)
    "57P02", // crash_shutdown
    "57P03", // cannot_connect_now (starting up, shutting down, in recovery)
    "40001", // serialization_failure
    "40P01", // deadlock_detected
    "08000", // connection_exception
    "08003", // connection_does_not_exist
    "08006", // connection_failure
    "08001", // sqlclient_unable_to_establish_sqlconnection
    "08004", // sqlserver_rejected_establishment_of_sqlconnection
]);

/** Socket errors of a connection that was reset, refused or cut. */
const TRANSIENT_ERRNOS = new Set(["ECONNRESET", "ECONNREFUSED", "EPIPE", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "EAI_AGAIN"]);

/** What node-postgres says, without a code, when the server closed the connection under it. */
const TRANSIENT_MESSAGES = [
    /connection terminated/i,
    /connection error and is not queryable/i,
    /the database system is (starting up|shutting down|in recovery mode)/i,
    /server closed the connection unexpectedly/i,
];

/** Whether `err` (or an error it was caused by) is a fault a fresh connection may not meet again. */
export function isTransient(err: unknown): boolean {
    for (let e = err as { code?: unknown; message?: unknown; cause?: unknown } | undefined; e; e = e.cause as typeof e) {
        if (e instanceof Interrupted) return false;
        const code = typeof e.code === "string" ? e.code : "";
        if (TRANSIENT_SQLSTATES.has(code) || TRANSIENT_ERRNOS.has(code)) return true;
        if (typeof e.message === "string" && TRANSIENT_MESSAGES.some((m) => m.test(e.message as string))) return true;
    }
    return false;
}

const lostWith = new WeakMap<object, Error>();

/**
 * Keeps a connection's `error` event from crashing the process (a session the server ends
 * while the client is idle: pg_terminate_backend, a restart) and remembers it: the next query
 * then fails with only "not queryable", and `connectionLoss` tells what really happened.
 */
export function watchConnection(client: { on(event: "error", listener: (err: Error) => void): unknown }): void {
    client.on("error", (err) => {
        if (!lostWith.has(client)) lostWith.set(client, err);
    });
}

/**
 * What a query on a watched connection failed of: its own error when the server said why
 * (a SQLSTATE), else the error that ended the connection (a lost session fails its next
 * query with only "not queryable" or EPIPE), else its own.
 */
export function queryFault(err: unknown, client: object): unknown {
    const lost = lostWith.get(client);
    return sqlState(err) || !lost ? err : lost;
}

const sqlState = (err: unknown): boolean => /^[0-9A-Z]{5}$/.test(String((err as { code?: unknown })?.code ?? ""));

/** An error's message with its SQLSTATE or errno, e.g. `terminating connection due to administrator command (57P01)`. */
export function describeFault(err: unknown): string {
    const e = err as { message?: string; code?: unknown };
    const message = e?.message ?? String(err);
    return typeof e?.code === "string" && !message.includes(e.code) ? `${message} (${e.code})` : message;
}

/** The run was asked to stop (SIGINT, SIGTERM) and did, at a safe point; `where` names it (`trades chunk 7`). */
export class Interrupted extends Error {
    override readonly name = "Interrupted";
    constructor(readonly where: string) {
        super(`interrupted during ${where}`);
    }
}

/** Throws `Interrupted` when `signal` was aborted. */
export function throwIfInterrupted(signal: AbortSignal | undefined, where: string): void {
    if (signal?.aborted) throw new Interrupted(where);
}

/** A fault that was still there when the retry window closed: the last error, and for how long it was retried. */
export class RetriesExhausted extends Error {
    override readonly name = "RetriesExhausted";
    constructor(
        readonly last: Error,
        readonly retriedSeconds: number,
    ) {
        super(`${last.message}; retried for ${retriedSeconds} s`, { cause: last });
    }
}

export interface RetryPolicy {
    /** How long a fault may last, from its first failure, before the work fails for good. */
    readonly retrySeconds: number;
    /** One line per retry: what failed, the attempt, the wait. */
    readonly onRetry: (message: string) => void;
    /** Stops the waiting (and so the retries) with `Interrupted`. */
    readonly signal?: AbortSignal;
}

/** Backoff between attempts: 0.5 s, doubling, at most 8 s. */
export function backoffSeconds(attempt: number): number {
    return Math.min(8, 0.5 * 2 ** (attempt - 1));
}

/**
 * Runs `fn` until it succeeds, a fault is not transient, or transient faults have lasted
 * `retrySeconds` (then `RetriesExhausted`). `fn` starts from scratch each attempt (fresh
 * connections) and calls `progressed()` when it made durable progress (a chunk committed):
 * a later fault then opens a new window instead of eating into the old one.
 */
export async function withRetry<T>(fn: (attempt: number, progressed: () => void) => Promise<T>, policy: RetryPolicy): Promise<T> {
    let windowStart: number | undefined;
    let failures = 0;
    for (let attempt = 1; ; attempt++) {
        let progressed = false;
        try {
            return await fn(attempt, () => (progressed = true));
        } catch (err) {
            if (!isTransient(err) || policy.signal?.aborted) throw err;
            if (progressed || windowStart === undefined) [windowStart, failures] = [Date.now(), 0];
            failures++;
            const left = policy.retrySeconds - (Date.now() - windowStart) / 1000;
            if (left <= 0) throw new RetriesExhausted(err as Error, Math.round((Date.now() - windowStart) / 1000));
            const wait = Math.min(backoffSeconds(failures), left);
            policy.onRetry(
                `${(err as Error).message}; retry ${failures} after ${wait.toFixed(1)} s (retrying for up to ${policy.retrySeconds} s)`,
            );
            await sleep(wait * 1000, policy.signal);
        }
    }
}

/** Waits `ms`, or until `signal` aborts (then `Interrupted`). */
async function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
    await new Promise<void>((resolve) => {
        const timer = setTimeout(done, ms);
        function done() {
            clearTimeout(timer);
            signal?.removeEventListener("abort", done);
            resolve();
        }
        signal?.addEventListener("abort", done, { once: true });
    });
    throwIfInterrupted(signal, "a wait before a retry");
}
