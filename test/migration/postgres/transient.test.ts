/** Which faults are retried, and the retry loop's window, backoff, log lines and stop. */
import { describe, expect, it } from "vitest";
import {
    backoffSeconds,
    describeFault,
    Interrupted,
    isTransient,
    RetriesExhausted,
    withRetry,
} from "../../../migration/postgres/transient";

const pgError = (code: string, message = "x") => Object.assign(new Error(message), { code });

describe("isTransient", () => {
    it.each([
        ["terminated by an administrator (57P01)", pgError("57P01", "terminating connection due to administrator command"), true],
        ["crash shutdown (57P02)", pgError("57P02"), true],
        ["cannot connect now (57P03)", pgError("57P03", "the database system is starting up"), true],
        ["serialization failure (40001)", pgError("40001"), true],
        ["deadlock (40P01)", pgError("40P01"), true],
        ["connection reset", pgError("ECONNRESET", "read ECONNRESET"), true],
        ["connection refused", pgError("ECONNREFUSED", "connect ECONNREFUSED 127.0.0.1:5432"), true],
        ["broken pipe", pgError("EPIPE", "write EPIPE"), true],
        ["node-postgres: terminated", new Error("Connection terminated unexpectedly"), true],
        ["node-postgres: not queryable", new Error("Client has encountered a connection error and is not queryable"), true],
        ["wrapped: the cause decides", new Error("copy trades chunk 7: lost", { cause: pgError("57P01") }), true],
        ["disk full (53100)", pgError("53100", "could not extend file"), false],
        ["permission denied (42501)", pgError("42501", "permission denied for table trades"), false],
        ["a unique violation (23505)", pgError("23505"), false],
        ["a query cancelled (57014)", pgError("57014", "canceling statement due to user request"), false],
        ["a plain error", new Error("simulated crash"), false],
        ["an interruption", new Interrupted("trades chunk 3"), false],
    ])("%s: %s", (_, err, transient) => {
        expect(isTransient(err)).toBe(transient);
    });
});

describe("describeFault", () => {
    it("adds the SQLSTATE or errno once", () => {
        expect(describeFault(pgError("57P01", "terminating connection"))).toBe("terminating connection (57P01)");
        expect(describeFault(pgError("EPIPE", "write EPIPE"))).toBe("write EPIPE");
        expect(describeFault(new Error("simulated crash"))).toBe("simulated crash");
    });
});

describe("withRetry", () => {
    it("backs off 0.5, 1, 2, 4, 8, 8 s", () => {
        expect([1, 2, 3, 4, 5, 6].map(backoffSeconds)).toEqual([0.5, 1, 2, 4, 8, 8]);
    });

    it("retries a transient fault, logging one line per retry, until it succeeds", async () => {
        const lines: string[] = [];
        let calls = 0;
        const result = await withRetry(
            async () => {
                if (++calls < 3) throw pgError("57P01", `terminated ${calls}`);
                return "done";
            },
            { retrySeconds: 10, onRetry: (l) => lines.push(l) },
        );
        expect(result).toBe("done");
        expect(lines).toEqual([
            "terminated 1; retry 1 after 0.5 s (retrying for up to 10 s)",
            "terminated 2; retry 2 after 1.0 s (retrying for up to 10 s)",
        ]);
    });

    it("fails at once on a fault that is not transient", async () => {
        let calls = 0;
        const err = pgError("42501", "permission denied");
        await expect(
            withRetry(
                async () => {
                    calls++;
                    throw err;
                },
                { retrySeconds: 10, onRetry: () => undefined },
            ),
        ).rejects.toBe(err);
        expect(calls).toBe(1);
    });

    it("gives up when the fault outlasts the window, saying for how long", async () => {
        const t0 = Date.now();
        const err = await withRetry(
            async () => {
                throw pgError("57P01", "terminated");
            },
            { retrySeconds: 1, onRetry: () => undefined },
        ).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(RetriesExhausted);
        expect((err as Error).message).toBe("terminated; retried for 1 s");
        expect((err as Error).cause).toMatchObject({ code: "57P01" });
        expect(isTransient(err)).toBe(true);
        expect(Date.now() - t0).toBeGreaterThanOrEqual(1000);
        expect(Date.now() - t0).toBeLessThan(2000);
    });

    it("a fault after progress opens a new window", async () => {
        let calls = 0;
        const lines: string[] = [];
        await withRetry(
            async (_, progressed) => {
                calls++;
                progressed();
                if (calls < 4) throw pgError("40P01", `deadlock ${calls}`);
            },
            { retrySeconds: 0.6, onRetry: (l) => lines.push(l) },
        );
        // Each fault is the first of its window: the same short wait every time, never exhausted.
        expect(lines.map((l) => l.replace(/^deadlock \d; /, ""))).toEqual(Array(3).fill("retry 1 after 0.5 s (retrying for up to 0.6 s)"));
    });

    it("a stop during the wait ends it at once with Interrupted", async () => {
        const stop = new AbortController();
        const t0 = Date.now();
        const run = withRetry(
            async () => {
                throw pgError("57P03", "the database system is starting up");
            },
            { retrySeconds: 60, onRetry: () => setTimeout(() => stop.abort(), 50), signal: stop.signal },
        );
        await expect(run).rejects.toBeInstanceOf(Interrupted);
        expect(Date.now() - t0).toBeLessThan(400);
    });
});
