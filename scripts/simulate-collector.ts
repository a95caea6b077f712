#!/usr/bin/env -S npx tsx
/**
 * A simulated GeckoTerminal collector in its own process, writing into a collector
 * SQLite file at a busy rate and logging every committed row
 * (scripts/generator/simulatedCollector.ts), so a test or benchmark can run a
 * sync or cutover next to it and check that no committed write was lost.
 *
 *   npx tsx scripts/simulate-collector.ts --file /tmp/gecko_data.db --log /tmp/writes.jsonl --seconds 60
 */
import { runSimulatedCollector } from "./generator/simulatedCollector";
import { parseFlags, runMain } from "./lib/cli";
import { int, str, UsageError, type Flags } from "./lib/options";

const HELP = `Usage: npx tsx scripts/simulate-collector.ts --file FILE --log FILE [options]

Writes into a collector SQLite database as the GeckoTerminal collector does, one write per tick, each
in its own BEGIN IMMEDIATE transaction: trade ingest (SELECT id IN (...) + multi-row INSERT ... ON
CONFLICT(id) DO NOTHING, ~10% known ids), OHLCV upserts row by row (half update the newest candle),
UPDATE pools ... last_updated; every 20 ticks a retention DELETE of the 5-50 oldest trades or candles,
now and then a watchlist or collection_metadata update. Connection as the collector's: WAL,
busy_timeout 30000 ms, foreign keys off, automatic checkpoints on. Write kinds the file's schema
cannot take are skipped.

  --file FILE             collector database to write into (must exist)
  --log FILE              JSON lines appended after each COMMIT, one per affected row:
                          {"seq":n,"op":"insert|update|upsert|delete","table":"trades","key":"...","at":ms}
                          and {"seq":n,"op":"error","kind":...,"code":...,"message":...,"at":ms} per failed write
  --tick-ms MS            one write per tick (default 100: a busy collector)
  --seed N                seed of the write mix and values (default 1)
  --seconds S             stop after S seconds (default: run until SIGTERM or SIGINT)
  --host-time-zone ZONE   IANA zone of the collector host, for local-clock columns (default: this machine's)
  --busy-timeout MS       SQLite busy timeout (default 30000, the collector's)
  --retention-every N     ticks between two retention deletes of a table (default 20: every 2 s, a stress
                          schedule; the collector's own retention runs far less often)
  --help                  this text

Prints "ready" once the connection is open and the first tick committed. On SIGTERM/SIGINT (or after
--seconds) it finishes the current transaction, closes the file, prints one JSON line
{ticks, commits, rows, errors, maxWaitMs, seconds, skipped} and exits 0. A signal that arrives while a
write waits for the lock is handled when that wait ends (up to --busy-timeout).`;

/** A non-negative number of seconds (fractions allowed), or undefined. */
function seconds(flags: Flags): number | undefined {
    const text = str(flags, "seconds");
    if (text === undefined) return undefined;
    const n = Number(text);
    if (!Number.isFinite(n) || n < 0) throw new UsageError(`--seconds must be a non-negative number, got '${text}'`);
    return n;
}

function required(flags: Flags, name: string): string {
    const value = str(flags, name);
    if (!value) throw new UsageError(`--${name} is required (see --help)`);
    return value;
}

async function main(argv: string[]): Promise<number> {
    const flags = parseFlags(argv, {
        string: ["file", "log", "tick-ms", "seed", "seconds", "host-time-zone", "busy-timeout", "retention-every"],
    });
    if (flags.help) {
        process.stdout.write(HELP + "\n");
        return 0;
    }
    if (flags._.length) throw new UsageError(`unexpected argument '${flags._[0]}' (see --help)`);
    const stop = new AbortController();
    for (const signal of ["SIGTERM", "SIGINT"] as const) process.on(signal, () => stop.abort());
    const summary = await runSimulatedCollector({
        file: required(flags, "file"),
        log: required(flags, "log"),
        tickMs: int(flags, "tick-ms", 100),
        seed: int(flags, "seed", 1),
        retentionEveryTicks: int(flags, "retention-every", 20),
        seconds: seconds(flags),
        hostTimeZone: str(flags, "host-time-zone"),
        busyTimeoutMs: int(flags, "busy-timeout", 30_000),
        signal: stop.signal,
        onReady: () => process.stdout.write("ready\n"),
    });
    process.stdout.write(JSON.stringify(summary) + "\n");
    return 0;
}

runMain(main);
