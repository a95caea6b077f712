/**
 * Provisions an AccessPlan with plain SQL (demo, CLI, tests): the same database,
 * roles, grants and default privileges the Pulumi stack declares.
 */
import type { Client } from "pg";
import type { ConnectionSpec } from "../postgres/connection";
import { renderAccessSql, renderCreateDatabaseSql, type AccessPlan } from "./accessPlan";
import { inTransaction, withSession } from "../postgres/session";

export interface ApplyAccessResult {
    /** False when the database already existed. */
    readonly createdDatabase: boolean;
    /** Summaries of the statements run, in order (no secrets). */
    readonly applied: readonly string[];
}

/**
 * Creates `plan.database` if missing (connected to `admin.database`, usually
 * `postgres`), then applies the rest of the plan inside that database.
 */
export async function applyAccess(admin: ConnectionSpec, plan: AccessPlan, appPassword: string): Promise<ApplyAccessResult> {
    const createdDatabase = await withSession("access", admin, (c) => ensureDatabase(c, plan));
    const applied = await withSession("access", { ...admin, database: plan.database }, (c) => applyAccessSql(c, plan, appPassword));
    return { createdDatabase, applied };
}

/** `CREATE DATABASE` unless it exists; returns whether it created it. */
export async function ensureDatabase(client: Client, plan: AccessPlan): Promise<boolean> {
    try {
        await client.query(renderCreateDatabaseSql(plan));
        return true;
    } catch (err) {
        if ((err as { code?: string }).code === "42P04") return false; // duplicate_database
        throw new Error(`access: create database ${plan.database}: ${(err as Error).message}`, { cause: err });
    }
}

/**
 * Runs `renderAccessSql` in one transaction on a client connected to
 * `plan.database` as the admin user: all of it or none.
 */
export async function applyAccessSql(client: Client, plan: AccessPlan, appPassword: string): Promise<string[]> {
    return inTransaction(client, async () => {
        const applied: string[] = [];
        for (const statement of renderAccessSql(plan, appPassword)) {
            try {
                await client.query(statement.sql);
            } catch (err) {
                // The summary, never the SQL: one statement carries the password.
                throw new Error(`access: ${statement.summary}: ${(err as Error).message}`, { cause: err });
            }
            applied.push(statement.summary);
        }
        return applied;
    });
}
