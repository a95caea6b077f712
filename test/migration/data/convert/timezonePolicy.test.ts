import { describe, expect, it } from "vitest";
import { clockOf, createTimezonePolicy, zoneOf } from "../../../../migration/data/convert/timezonePolicy";

describe("TimezonePolicy", () => {
    it("defaults: local for the four local-clock columns, utc for everything else (pools.last_updated included)", () => {
        const p = createTimezonePolicy();
        expect(p.hostZone).toBe("UTC");
        expect(clockOf(p, "ohlcv_data", "datetime")).toBe("local");
        expect(clockOf(p, "new_pools_history", "collected_at")).toBe("local");
        expect(clockOf(p, "collection_metadata", "last_run")).toBe("local");
        expect(clockOf(p, "collection_metadata", "last_success")).toBe("local");
        expect(clockOf(p, "trades", "block_timestamp")).toBe("utc");
        expect(clockOf(p, "pools", "last_updated")).toBe("utc");
        expect(clockOf(p, "pools", "created_at")).toBe("utc");
        expect(clockOf(p, "pools", "toString")).toBe("utc");
    });

    it("applies overrides and maps clocks to zones", () => {
        const p = createTimezonePolicy({
            hostZone: "europe/berlin",
            overrides: { "pools.last_updated": "local", "ohlcv_data.datetime": "utc" },
        });
        expect(p.hostZone).toBe("Europe/Berlin");
        expect(zoneOf(p, "pools", "last_updated")).toBe("Europe/Berlin");
        expect(zoneOf(p, "ohlcv_data", "datetime")).toBe("UTC");
        expect(zoneOf(p, "new_pools_history", "collected_at")).toBe("Europe/Berlin");
        expect(zoneOf(p, "trades", "block_timestamp")).toBe("UTC");
    });

    it.each([
        [{ hostZone: "Mars/Olympus" }, "time zone 'Mars/Olympus' is not a known IANA zone name"],
        [{ hostZone: "" }, "expected an IANA zone name"],
        [{ hostZone: "+02:00" }, "a UTC offset is not a zone name"],
        [{ overrides: { pools_last_updated: "local" } }, "timezone override 'pools_last_updated': expected 'table.column'"],
        [{ overrides: { "pools.last_updated": "LOCAL" } }, "clock must be 'utc' or 'local', got 'LOCAL'"],
    ])("rejects %j", (options, message) => {
        expect(() => createTimezonePolicy(options as never)).toThrow(message);
    });
});
