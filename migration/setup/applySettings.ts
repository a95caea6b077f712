/**
 * Applies server settings with ALTER SYSTEM and reads back what is in effect.
 *
 * ALTER SYSTEM cannot run in a transaction block, so "all or nothing" is: validate every
 * setting against the server's pg_settings first; if a statement still fails midway,
 * restore the entries already touched to their previous postgresql.auto.conf value
 * (or RESET them) before rethrowing. Reload, then wait until this session has re-read
 * the configuration (pg_conf_load_time advances) before reading pg_settings back.
 */
import type { Client } from "pg";
import { describeConnection, type ConnectionSpec } from "../postgres/connection";
import { withSession } from "../postgres/session";
import { restartContainer } from "./dockerRestart";
import {
    alterSystemSql,
    localCatalog,
    planApply,
    settingsDrift,
    SettingsValidationError,
    validateSettings,
    type ApplyStep,
    type RestartStrategy,
    type SettingDrift,
    type SettingInfo,
} from "./settingsPlan";

const WHAT = "server settings";

export interface ApplyRequest {
    readonly connection: ConnectionSpec;
    /** Full desired map (defaults already merged), lower-case names. */
    readonly desired: Readonly<Record<string, string>>;
    /** Names this owner set before; those no longer desired are RESET. */
    readonly previouslyManaged?: readonly string[];
    readonly serverMemoryMb?: number;
    readonly restart: RestartStrategy;
    /** How long to wait for the server after a container restart. Default 60 s. */
    readonly readyTimeoutMs?: number;
}

/** What the server reports for the managed settings (no credentials). */
export interface SettingsState {
    /** SHOW-formatted values in effect now, e.g. `256MB`. */
    readonly effective: Record<string, string>;
    /** Managed settings changed in the config that wait for a server restart. */
    readonly pendingRestart: string[];
}

export async function applySettings(req: ApplyRequest): Promise<SettingsState & { restarted: boolean }> {
    const steps = planApply(req.desired, req.previouslyManaged);
    const names = steps.map((s) => s.name);
    const where = describeConnection(req.connection);
    const { state, before } = await withSession(WHAT, req.connection, async (client) => {
        const catalog = await readCatalog(client, Object.keys(req.desired));
        const problems = validateSettings(req.desired, (n) => catalog.get(n), { serverMemoryMb: req.serverMemoryMb, requireKnown: true });
        if (problems.length > 0) throw new SettingsValidationError(problems, where);
        const before = await runSteps(client, steps, where);
        await reloadAndWait(client);
        return { state: await readState(client, names), before };
    });
    if (state.pendingRestart.length === 0 || req.restart.kind !== "docker") return { ...only(state, req.desired), restarted: false };
    try {
        await restartContainer(req.restart.containerName, { dockerHost: req.restart.dockerHost });
    } catch (cause) {
        // The container was not restarted, so the server is up: undo to keep create/update all or nothing.
        const undo = await withSession(WHAT, req.connection, async (client) => {
            await restore(client, steps, before);
            await reloadAndWait(client);
        }).then(
            () => "restored the previous settings",
            (e: unknown) => `restoring the previous settings ALSO failed (${(e as Error).message})`,
        );
        throw new Error(
            `server settings: restart of container '${req.restart.containerName}' failed (${(cause as Error).message}); ${undo}`,
            { cause },
        );
    }
    await waitForServer(req.connection, req.readyTimeoutMs ?? 60_000);
    return { ...only(await readSettings(req.connection, names), req.desired), restarted: true };
}

/** Effective values of the desired settings only; pendingRestart keeps RESET ones too (they also wait for a restart). */
function only(state: SettingsState, desired: Readonly<Record<string, string>>): SettingsState {
    return { ...state, effective: Object.fromEntries(Object.entries(state.effective).filter(([name]) => name in desired)) };
}

/** RESET exactly `names` (what this owner set), then reload; restores on a midway failure. */
export async function resetSettings(connection: ConnectionSpec, names: readonly string[]): Promise<SettingsState> {
    return withSession(WHAT, connection, async (client) => {
        await runSteps(
            client,
            [...new Set(names)].sort().map((name) => ({ name })),
            describeConnection(connection),
        );
        await reloadAndWait(client);
        return readState(client, names);
    });
}

export async function readSettings(connection: ConnectionSpec, names: readonly string[]): Promise<SettingsState> {
    return withSession(WHAT, connection, (client) => readState(client, names));
}

async function readCatalog(client: Client, names: readonly string[]): Promise<Map<string, SettingInfo>> {
    const { rows } = await client.query<{
        name: string;
        vartype: SettingInfo["vartype"];
        unit: string | null;
        context: string;
        min_val: string | null;
        max_val: string | null;
        enumvals: string[] | null;
    }>(
        `SELECT lower(name) AS name, vartype, unit, context, min_val, max_val, enumvals FROM pg_settings WHERE lower(name) = ANY($1::text[])`,
        [names],
    );
    return new Map(
        rows.map((r) => [
            r.name,
            {
                name: r.name,
                vartype: r.vartype,
                unit: r.unit,
                context: r.context,
                enumvals: r.enumvals,
                min: r.min_val === null ? null : Number(r.min_val),
                max: r.max_val === null ? null : Number(r.max_val),
            },
        ]),
    );
}

/** postgresql.auto.conf entries now (last one wins), to restore on failure. */
async function autoConfEntries(client: Client): Promise<Map<string, string>> {
    try {
        const { rows } = await client.query<{ name: string; setting: string }>(
            `SELECT lower(name) AS name, setting FROM pg_file_settings WHERE sourcefile LIKE '%postgresql.auto.conf' ORDER BY seqno`,
        );
        return new Map(rows.map((r) => [r.name, r.setting]));
    } catch (cause) {
        // pg_read_all_settings does not open it: only a superuser (or a grant of EXECUTE on pg_show_all_file_settings()).
        throw new Error(
            "server settings: cannot read pg_file_settings, which ALTER SYSTEM needs to stay all or nothing (a superuser can); " +
                "on a managed server whose admin is not one, set gecko-pg:serverSettingsMode to report and set the values in the provider's parameter group",
            { cause },
        );
    }
}

/** Runs the steps; returns the auto.conf entries from before, for a later undo. */
async function runSteps(client: Client, steps: readonly ApplyStep[], where: string): Promise<ReadonlyMap<string, string>> {
    const before = await autoConfEntries(client);
    const done: ApplyStep[] = [];
    for (const step of steps) {
        const sql = alterSystemSql(step);
        try {
            await client.query(sql);
            done.push(step);
        } catch (cause) {
            const restoreError = await restore(client, done, before).then(
                () => undefined,
                (e: unknown) => e,
            );
            const outcome = restoreError
                ? `restoring ${done.map((s) => s.name).join(", ")} ALSO failed (${(restoreError as Error).message}); check postgresql.auto.conf`
                : `restored the ${done.length} setting(s) already changed; nothing applied`;
            throw new Error(`server settings: ${sql} failed on ${where}: ${(cause as Error).message}; ${outcome}`, { cause });
        }
    }
    return before;
}

async function restore(client: Client, done: readonly ApplyStep[], before: ReadonlyMap<string, string>): Promise<void> {
    for (const step of [...done].reverse()) {
        await client.query(alterSystemSql({ name: step.name, value: before.get(step.name) }));
    }
}

/** pg_reload_conf() only signals; wait until this backend has processed the reload. */
async function reloadAndWait(client: Client, timeoutMs = 10_000): Promise<void> {
    const { rows } = await client.query<{ t: string }>("SELECT pg_conf_load_time()::text AS t");
    await client.query("SELECT pg_reload_conf()");
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        const r = await client.query<{ done: boolean }>("SELECT pg_conf_load_time() > $1::timestamptz AS done", [rows[0].t]);
        if (r.rows[0].done) return;
        if (Date.now() > deadline) throw new Error(`server settings: configuration not reloaded within ${timeoutMs / 1000}s`);
        await sleep(25);
    }
}

async function readState(client: Client, names: readonly string[]): Promise<SettingsState> {
    const { rows } = await client.query<{ name: string; shown: string; pending_restart: boolean }>(
        `SELECT lower(name) AS name, current_setting(name) AS shown, pending_restart FROM pg_settings WHERE lower(name) = ANY($1::text[]) ORDER BY 1`,
        [[...names]],
    );
    return {
        effective: Object.fromEntries(rows.map((r) => [r.name, r.shown])),
        pendingRestart: rows.filter((r) => r.pending_restart).map((r) => r.name),
    };
}

async function waitForServer(spec: ConnectionSpec, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        try {
            await withSession(WHAT, spec, (c) => c.query("SELECT 1"));
            return;
        } catch (cause) {
            if (Date.now() > deadline) {
                throw new Error(
                    `server settings: ${describeConnection(spec)} did not accept connections within ${timeoutMs / 1000}s after the restart`,
                    { cause },
                );
            }
            await sleep(250);
        }
    }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Report mode (managed servers): reads pg_settings, open to any role, and lists the
 * desired settings whose value in effect differs, to set in the server's parameter group.
 */
export async function reportSettings(
    connection: ConnectionSpec,
    desired: Readonly<Record<string, string>>,
): Promise<SettingsState & { parameterGroup: SettingDrift[] }> {
    const names = Object.keys(desired);
    const { state, catalog } = await withSession(WHAT, connection, async (client) => ({
        state: await readState(client, names),
        catalog: await readCatalog(client, names),
    }));
    const parameterGroup = settingsDrift(desired, state.effective, state.pendingRestart, (n) => catalog.get(n) ?? localCatalog(n));
    return { ...state, parameterGroup };
}
