import type { TestProject } from "vitest/node" with { "resolution-mode": "import" };
import { startLocalPostgres } from "../../migration/postgres/localServer";

/** One PostgreSQL for the whole run (or DATABASE_URL's); each test file makes its own databases on it. */
export default async function setup(project: TestProject) {
    const server = await startLocalPostgres();
    project.provide("adminUrl", server.url);
    project.provide("serverMajor", server.major);
    return async () => server.stop();
}

declare module "vitest" {
    export interface ProvidedContext {
        adminUrl: string;
        serverMajor: number;
    }
}
