import { defineConfig } from "vitest/config";

export default defineConfig({
    test: {
        include: ["test/**/*.test.ts"],
        globalSetup: ["test/support/globalSetup.ts"],
        pool: "forks",
        testTimeout: 120_000,
        hookTimeout: 120_000,
    },
});
