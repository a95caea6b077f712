/**
 * What `pulumi up` shows of a migration: the provider host's console lines (the CLI passes a
 * dynamic provider's output through). Phases always; progress per table at most every interval,
 * and each table's last line.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { lineLogger, ProgressMeter } from "../../../../migration/data/report/progress";

afterEach(() => vi.useRealTimers());

describe("lineLogger", () => {
    it("prefixes phases and warnings, throttles progress per table, always prints a table's end", () => {
        vi.useFakeTimers({ now: 0 });
        const lines: string[] = [];
        const log = lineLogger((l) => lines.push(l), "gecko-pg migration: ", 5000);
        log.info("schema: up to date");
        log.warn("clock of trades.block_timestamp looks 6 h off");
        const meter = new ProgressMeter("trades", 1000, log, 0);
        meter.update(100);
        vi.setSystemTime(1000);
        meter.update(200); // within 5 s: not printed
        vi.setSystemTime(6000);
        meter.update(600);
        meter.finish(1000);
        expect(lines[0]).toBe("gecko-pg migration: schema: up to date");
        expect(lines[1]).toBe("gecko-pg migration: warning: clock of trades.block_timestamp looks 6 h off");
        expect(lines.slice(2).map((l) => /(\d+)\/1000 rows/.exec(l)?.[1])).toEqual(["100", "600", "1000"]);
        expect(lines[4]).toMatch(/^gecko-pg migration: trades\s+1000\/1000 rows 100%/);
    });
});
