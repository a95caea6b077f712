import { defineConfig } from "vitest/config";

// Two projects. `unit`: every test/**/*.test.ts but the integration ones; needs no PostgreSQL
// (no globalSetup: nothing starts a server) and uses every core. `integration`: every
// test/**/*.integration.test.ts, on the one PostgreSQL test/support/globalSetup.ts starts, with
// vitest's default worker count. `npm test` (vitest run) runs unit, then integration (groupOrder:
// projects with different worker counts run one after the other); `npm run test:unit` runs unit.
const shared = {
    pool: "forks",
    testTimeout: 120_000,
    hookTimeout: 120_000,
} as const;

export default defineConfig({
    test: {
        projects: [
            {
                test: {
                    ...shared,
                    name: "unit",
                    include: ["test/**/*.test.ts"],
                    exclude: ["test/**/*.integration.test.ts"],
                    maxWorkers: "100%",
                    sequence: { groupOrder: 0 },
                },
            },
            {
                test: {
                    ...shared,
                    name: "integration",
                    include: ["test/**/*.integration.test.ts"],
                    globalSetup: ["test/support/globalSetup.ts"],
                    sequence: { groupOrder: 1 },
                },
            },
        ],
    },
});
