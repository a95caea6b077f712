import { randomBytes } from "node:crypto";
import { planAccess } from "../../migration/setup/accessPlan";
import { applyAccess } from "../../migration/setup/applyAccess";
import { parseConnectionUrl, type ConnectionSpec } from "../../migration/postgres/connection";
import { withDatabase } from "../../migration/postgres/localServer";
import { adminUrl, withClient } from "./db";

/** A collector database with its owner and app roles, as the access stage leaves it. */
export interface Target {
    readonly connection: ConnectionSpec;
    readonly ownerRole: string;
    readonly appRole: string;
    /** Superuser URL of the target database. */
    readonly url: string;
    drop(): Promise<void>;
}

/** Provisions a target with unique names (roles are cluster-wide and test files run concurrently). */
export async function provisionTarget(prefix: string): Promise<Target> {
    const id = randomBytes(4).toString("hex");
    const plan = planAccess({
        database: `${prefix}_${id}`,
        ownerRole: `${prefix}_owner_${id}`,
        appRole: `${prefix}_app_${id}`,
        timezone: "UTC",
    });
    const admin = parseConnectionUrl(adminUrl());
    await applyAccess({ ...admin, database: "postgres" }, plan, randomBytes(12).toString("hex"));
    return {
        connection: { ...admin, database: plan.database },
        ownerRole: plan.ownerRole,
        appRole: plan.appRole,
        url: withDatabase(adminUrl(), plan.database),
        drop: () =>
            withClient(adminUrl(), async (c) => {
                await c.query(`DROP DATABASE IF EXISTS ${plan.database} WITH (FORCE)`);
                await c.query(`DROP ROLE IF EXISTS ${plan.appRole}`);
                await c.query(`DROP ROLE IF EXISTS ${plan.ownerRole}`);
            }),
    };
}

/** Rows of `text` run as the superuser in the target database. */
export function targetRows<T extends Record<string, unknown>>(t: Target, text: string, params: unknown[] = []): Promise<T[]> {
    return withClient(t.url, (c) => c.query<T>(text, params).then((r) => r.rows));
}
