/**
 * The `gecko:AdminPassword` dynamic resource's operations (infra/adminPassword.ts
 * calls one function per provider method): the docker server's admin password,
 * rotated in place by migration/setup/adminPassword.ts.
 */
import type { ConnectionSpec } from "../../migration/postgres/connection";
import { rotateAdminPassword } from "../../migration/setup/adminPassword";
import { isUnknown, type CheckFailure, type CheckResult } from "./kit";

/** Inputs of the AdminPassword resource: where and who, and the password (secret). */
export interface AdminPasswordInputs {
    readonly connection: Omit<ConnectionSpec, "password">;
    readonly password: string;
}

export function checkAdminPassword(_olds: unknown, news: Record<string, unknown>): CheckResult {
    const failures: CheckFailure[] = [];
    if (!isUnknown(news.password) && (typeof news.password !== "string" || news.password === ""))
        failures.push({ property: "password", reason: "must be a non-empty string" });
    const c = news.connection as Record<string, unknown> | undefined;
    if (!isUnknown(c) && (typeof c !== "object" || c === null || (!isUnknown(c.user) && typeof c.user !== "string"))) {
        failures.push({ property: "connection", reason: "required: { host, port, user, database }" });
    }
    return { inputs: news, failures };
}

/** A new password is an update (rotated in place); nothing is ever replaced. */
export function diffAdminPassword(
    olds: Partial<AdminPasswordInputs>,
    news: Record<string, unknown>,
): { changes: boolean; replaces: string[]; deleteBeforeReplace: false } {
    const changes = olds.password !== news.password || JSON.stringify(olds.connection) !== JSON.stringify(news.connection);
    return { changes, replaces: [], deleteBeforeReplace: false };
}

/** Create: the server must already accept the password (a fresh container was initialised with it). */
export async function createAdminPassword(inputs: AdminPasswordInputs): Promise<{ id: string; outs: AdminPasswordInputs }> {
    await rotateAdminPassword(inputs.connection, undefined, inputs.password);
    return { id: `${inputs.connection.host}:${inputs.connection.port}/${inputs.connection.user}`, outs: inputs };
}

export async function updateAdminPassword(olds: AdminPasswordInputs, news: AdminPasswordInputs): Promise<{ outs: AdminPasswordInputs }> {
    await rotateAdminPassword(news.connection, olds.password, news.password);
    return { outs: news };
}
