import { describe, expect, it } from "vitest";
import {
    alterSystemSql,
    DEFAULT_SETTINGS,
    describeProblem,
    diffSettings,
    localCatalog,
    memoryCapProblems,
    parseSettingValue,
    planApply,
    resolveDesired,
    sameSettingValue,
    settingsDrift,
    SettingsValidationError,
    validateSettings,
    type SettingInfo,
    type SettingsCatalog,
} from "../../../migration/setup/settingsPlan";

/** Rows shaped like PostgreSQL 17's pg_settings, for settings the local table does not know. */
const server: Record<string, SettingInfo> = {
    vacuum_cost_delay: { name: "vacuum_cost_delay", vartype: "real", unit: "ms", context: "user", min: 0, max: 100 },
    statement_timeout: { name: "statement_timeout", vartype: "integer", unit: "ms", context: "user", min: 0, max: 2147483647 },
    block_size: { name: "block_size", vartype: "integer", unit: null, context: "internal", min: 8192, max: 8192 },
    wal_compression: { name: "wal_compression", vartype: "enum", unit: null, context: "superuser", enumvals: ["pglz", "on", "off"] },
};
const serverCatalog: SettingsCatalog = (name) => server[name] ?? localCatalog(name);
const info = (name: string) => serverCatalog(name)!;

describe("parseSettingValue normalises to the server's base unit", () => {
    it.each([
        ["shared_buffers", "256MB", 32768],
        ["shared_buffers", "32768", 32768],
        ["shared_buffers", "1GB", 131072],
        ["shared_buffers", " 256 MB ", 32768],
        ["shared_buffers", "12345kB", 1543], // rounded to whole 8kB pages, like the server
        ["wal_buffers", "-1", -1],
        ["maintenance_work_mem", "64MB", 65536],
        ["maintenance_work_mem", "0.5GB", 524288],
        ["effective_cache_size", "1TB", 134217728],
        ["checkpoint_timeout", "5min", 300],
        ["checkpoint_timeout", "2h", 7200],
        ["statement_timeout", "1.5s", 1500],
        ["vacuum_cost_delay", "500us", 0.5],
        ["checkpoint_completion_target", "0.9", 0.9],
        ["random_page_cost", "1.1", 1.1],
        ["huge_pages", "TRY", "try"],
        ["jit", "yes", "on"],
        ["jit", "0", "off"],
    ])("%s = '%s' -> %s", (name, value, expected) => {
        expect(parseSettingValue(value, info(name))).toEqual({ ok: true, value: expected });
    });
});

describe("parseSettingValue rejects bad units and values", () => {
    it.each([
        ["shared_buffers", "256mb", /bad unit 'mb'.*B, kB, MB, GB, TB/],
        ["shared_buffers", "256MiB", /bad unit 'MiB'/],
        ["shared_buffers", "5min", /bad unit 'min'.*memory units/],
        ["checkpoint_timeout", "10MB", /bad unit 'MB'.*time units are us, ms, s, min, h, d/],
        ["default_statistics_target", "100MB", /takes no unit/],
        ["shared_buffers", "lots", /not a number/],
        ["shared_buffers", "64kB", /below the minimum 16 x 8kB/],
        ["checkpoint_completion_target", "1.5", /above the maximum 1/],
        ["vacuum_cost_delay", "1s", /above the maximum 100 x ms/],
        ["huge_pages", "maybe", /not one of off, on, try/],
        ["jit", "perhaps", /not a boolean/],
    ])("%s = '%s'", (name, value, message) => {
        const parsed = parseSettingValue(value, info(name));
        expect(parsed.ok).toBe(false);
        expect(parsed.ok ? "" : parsed.message).toMatch(message);
    });
});

describe("validateSettings", () => {
    it.each([
        ["unknown to the server", { no_such_setting: "1" }, true, ["no_such_setting = '1': unknown setting (not in pg_settings)"]],
        ["unknown locally: left for the server", { no_such_setting: "1" }, false, []],
        ["server-only setting out of range", { vacuum_cost_delay: "500ms" }, true, ["vacuum_cost_delay = '500ms': above the maximum"]],
        ["read-only setting", { block_size: "16384" }, true, ["block_size = '16384': read-only"]],
        ["unsafe name", { "work_mem = '1GB'; drop table x; --": "1" }, false, ["not a valid setting name"]],
        ["quote in name", { "a'b": "1" }, false, ["not a valid setting name"]],
        ["extension setting name is fine", { "pg_stat_statements.max": "1000" }, false, []],
        [
            "all problems together",
            { shared_buffers: "1gb", work_mem: "1", jit: "maybe" },
            true,
            ["shared_buffers = '1gb'", "work_mem = '1': below the minimum", "jit = 'maybe'"],
        ],
    ])("%s", (_label, settings, requireKnown, expected) => {
        const problems = validateSettings(settings, serverCatalog, { requireKnown });
        const lines = problems.map(describeProblem);
        expect(lines).toHaveLength(expected.length);
        expected.forEach((fragment, i) => expect(lines[i]).toContain(fragment));
    });

    it("names every setting and value in one error", () => {
        const problems = validateSettings({ shared_buffers: "1gb", no_such_setting: "x" }, serverCatalog, { requireKnown: true });
        const error = new SettingsValidationError(problems, "postgres@db:5432/postgres");
        expect(error.message).toBe(
            "invalid server settings for postgres@db:5432/postgres (2 problems):\n" +
                "  - shared_buffers = '1gb': bad unit 'gb': valid memory units are B, kB, MB, GB, TB (case-sensitive)\n" +
                "  - no_such_setting = 'x': unknown setting (not in pg_settings)",
        );
    });
});

describe("memory cap: shared_buffers <= 40% and effective_cache_size <= 100% of serverMemoryMb", () => {
    it.each([
        [undefined, "8GB", "64GB", []],
        [1024, "256MB", "1GB", []],
        [640, "256MB", "640MB", []], // exactly 40% and 100%
        [639, "256MB", "639MB", ["shared_buffers"]],
        [512, "256MB", "1GB", ["shared_buffers", "effective_cache_size"]],
        [1024, "52428", "1GB", []], // 8kB pages: 409.59MB
        [1024, "52429", "1GB", ["shared_buffers"]], // 409.60MB > 409.6MB
        [0, "256MB", "1GB", ["serverMemoryMb"]],
    ])("serverMemoryMb %s, shared_buffers %s, effective_cache_size %s", (memory, sharedBuffers, cacheSize, expected) => {
        const problems = memoryCapProblems({ shared_buffers: sharedBuffers, effective_cache_size: cacheSize }, localCatalog, memory);
        expect(problems.map((p) => p.setting)).toEqual(expected);
    });

    it("says what the limit is", () => {
        const [problem] = memoryCapProblems({ shared_buffers: "1GB" }, localCatalog, 2000);
        expect(problem).toEqual({
            setting: "shared_buffers",
            value: "1GB",
            message: "exceeds 40% of declared serverMemoryMb 2000 (at most 800MB)",
        });
    });

    it("the defaults fit a 1 GB server", () => {
        expect(validateSettings({ ...DEFAULT_SETTINGS }, localCatalog, { requireKnown: true, serverMemoryMb: 1024 })).toEqual([]);
    });
});

describe("resolveDesired", () => {
    it("merges overrides over the defaults with lower-case names", () => {
        const { settings, problems } = resolveDesired({ Shared_Buffers: "512MB", work_mem: "16MB" });
        expect(problems).toEqual([]);
        expect(settings).toEqual({ ...DEFAULT_SETTINGS, shared_buffers: "512MB", work_mem: "16MB" });
        expect(Object.keys(settings)).toEqual(Object.keys(settings).sort());
    });

    it("takes numbers and booleans from YAML config as text", () => {
        const overrides = { max_connections: 200, jit: false } as unknown as Record<string, string>;
        expect(resolveDesired(overrides).settings).toMatchObject({ max_connections: "200", jit: "false" });
    });

    it("flags a name given twice in different case", () => {
        expect(resolveDesired({ TimeZone: "UTC", timezone: "UTC" }).problems).toEqual([
            { setting: "timezone", message: "given twice (also as 'TimeZone')" },
        ]);
    });
});

describe("diffSettings", () => {
    it.each([
        ["equal text", { work_mem: "4MB" }, { work_mem: "4MB" }, [["work_mem", "unchanged", false]]],
        ["same amount in other units", { shared_buffers: "256MB" }, { shared_buffers: "32768" }, [["shared_buffers", "unchanged", false]]],
        ["reloadable change", { work_mem: "4MB" }, { work_mem: "8MB" }, [["work_mem", "set", false]]],
        ["postmaster change", { shared_buffers: "256MB" }, { shared_buffers: "512MB" }, [["shared_buffers", "set", true]]],
        ["added", {}, { wal_buffers: "16MB" }, [["wal_buffers", "set", true]]],
        [
            "removed",
            { work_mem: "8MB", shared_buffers: "1GB" },
            {},
            [
                ["shared_buffers", "reset", true],
                ["work_mem", "reset", false],
            ],
        ],
        ["unknown locally", { foo_bar: "1" }, { foo_bar: "2" }, [["foo_bar", "set", false]]],
    ])("%s", (_label, olds, news, expected) => {
        expect(diffSettings(olds, news).map((c) => [c.name, c.action, c.restart])).toEqual(expected);
    });

    it("compares with pg_settings' stored form", () => {
        expect(sameSettingValue("256MB", "32768", info("shared_buffers"))).toBe(true);
        expect(sameSettingValue("256MB", "32767", info("shared_buffers"))).toBe(false);
        expect(sameSettingValue("on", "TRUE", info("jit"))).toBe(true);
    });
});

describe("SQL", () => {
    it.each([
        [{ name: "shared_buffers", value: "256MB" }, `ALTER SYSTEM SET "shared_buffers" = '256MB'`],
        [{ name: "application_name", value: "o'brien" }, `ALTER SYSTEM SET "application_name" = 'o''brien'`],
        [{ name: "application_name", value: "a\\b'c" }, `ALTER SYSTEM SET "application_name" = E'a\\\\b''c'`],
        [{ name: "pg_stat_statements.max", value: "1000" }, `ALTER SYSTEM SET "pg_stat_statements"."max" = '1000'`],
        [{ name: "work_mem" }, `ALTER SYSTEM RESET "work_mem"`],
    ])("%j", (step, sql) => {
        expect(alterSystemSql(step)).toBe(sql);
    });

    it.each(["work_mem; select 1", 'a"b', "Work_Mem", ""])("refuses name %j", (name) => {
        expect(() => alterSystemSql({ name, value: "1" })).toThrow(/unsafe setting name/);
    });

    it("plans SET for every desired setting and RESET for the ones no longer managed", () => {
        expect(planApply({ work_mem: "8MB", jit: "off" }, ["jit", "shared_buffers", "work_mem"])).toEqual([
            { name: "jit", value: "off" },
            { name: "work_mem", value: "8MB" },
            { name: "shared_buffers" },
        ]);
    });
});

describe("settingsDrift (report mode)", () => {
    it.each([
        [{ work_mem: "4MB" }, { work_mem: "4096kB" }, []],
        [
            { effective_cache_size: "1GB" },
            { effective_cache_size: "4GB" },
            [{ name: "effective_cache_size", desired: "1GB", actual: "4GB", pendingRestart: false }],
        ],
        [
            { shared_buffers: "256MB" },
            { shared_buffers: "128MB" },
            [{ name: "shared_buffers", desired: "256MB", actual: "128MB", pendingRestart: true }],
        ],
        [{ no_such_setting: "1" }, {}, [{ name: "no_such_setting", desired: "1", actual: null, pendingRestart: false }]],
    ])("%j against %j", (desired, effective, expected) => {
        expect(
            settingsDrift(
                desired,
                effective,
                Object.keys(effective).filter((n) => n === "shared_buffers"),
            ),
        ).toEqual(expected);
    });
});
