/**
 * Applies server settings with ALTER SYSTEM and reads back what is in effect.
 *
 * ALTER SYSTEM cannot run in a transaction block, so "all or nothing" is: validate every
 * setting against the server's pg_settings first; if a statement still fails midway,
 * restore the entries already touched to their previous postgresql.auto.conf value
 * (or RESET them) before rethrowing. Reload, then wait until this session has re-read
 * the configuration (pg_conf_load_time advances) before reading pg_settings back.
 */
import { Client } from "pg";
import { clientConfig, describeConnection, type ConnectionSpec } from "../postgres/connection";
import { parseDockerHost, restartContainer } from "./dockerRestart";
import {
    alterSystemSql, diffSettings, localCatalog, planApply, resolveDesired, SETTINGS_MODES, settingsDrift, SettingsValidationError, UNKNOWN, validateSettings,
    type ApplyStep, type RestartStrategy, type SettingDrift, type SettingInfo, type SettingProblem, type SettingsMode,
} from "./settingsPlan";

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
    const { state, before } = await withSession(req.connection, async (client) => {
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
        const undo = await withSession(req.connection, async (client) => {
            await restore(client, steps, before);
            await reloadAndWait(client);
        }).then(() => "restored the previous settings", (e: unknown) => `restoring the previous settings ALSO failed (${(e as Error).message})`);
        throw new Error(`server settings: restart of container '${req.restart.containerName}' failed (${(cause as Error).message}); ${undo}`, { cause });
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
    return withSession(connection, async (client) => {
        await runSteps(client, [...new Set(names)].sort().map((name) => ({ name })), describeConnection(connection));
        await reloadAndWait(client);
        return readState(client, names);
    });
}

export async function readSettings(connection: ConnectionSpec, names: readonly string[]): Promise<SettingsState> {
    return withSession(connection, (client) => readState(client, names));
}

async function withSession<T>(spec: ConnectionSpec, fn: (c: Client) => Promise<T>): Promise<T> {
    const client = new Client(clientConfig(spec, { connectionTimeoutMillis: 10_000, application_name: "gecko-pg settings" }));
    try {
        await client.connect();
    } catch (cause) {
        throw new Error(`server settings: cannot connect to ${describeConnection(spec)}`, { cause });
    }
    try {
        return await fn(client);
    } finally {
        await client.end().catch(() => undefined);
    }
}

async function readCatalog(client: Client, names: readonly string[]): Promise<Map<string, SettingInfo>> {
    const { rows } = await client.query<{ name: string; vartype: SettingInfo["vartype"]; unit: string | null; context: string; min_val: string | null; max_val: string | null; enumvals: string[] | null }>(
        `SELECT lower(name) AS name, vartype, unit, context, min_val, max_val, enumvals FROM pg_settings WHERE lower(name) = ANY($1::text[])`,
        [names],
    );
    return new Map(rows.map((r) => [r.name, {
        name: r.name, vartype: r.vartype, unit: r.unit, context: r.context, enumvals: r.enumvals,
        min: r.min_val === null ? null : Number(r.min_val), max: r.max_val === null ? null : Number(r.max_val),
    }]));
}

/** postgresql.auto.conf entries now (last one wins), to restore on failure. */
async function autoConfEntries(client: Client): Promise<Map<string, string>> {
    try {
        const { rows } = await client.query<{ name: string; setting: string }>(
            `SELECT lower(name) AS name, setting FROM pg_file_settings WHERE sourcefile LIKE '%postgresql.auto.conf' ORDER BY seqno`);
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
            const restoreError = await restore(client, done, before).then(() => undefined, (e: unknown) => e);
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
            await withSession(spec, (c) => c.query("SELECT 1"));
            return;
        } catch (cause) {
            if (Date.now() > deadline) {
                throw new Error(`server settings: ${describeConnection(spec)} did not accept connections within ${timeoutMs / 1000}s after the restart`, { cause });
            }
            await sleep(250);
        }
    }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---- Provider operations: one function per dynamic-provider method (infra/settings.ts). ----

/** Inputs of the ServerSettings resource as the provider receives them. */
export interface ServerSettingsInputs {
    readonly connection: ConnectionSpec;
    readonly settings?: Record<string, string>;
    readonly serverMemoryMb?: number;
    readonly restart: RestartStrategy;
    /** `apply` (default): ALTER SYSTEM; `report`: change nothing, list what differs (managed servers). */
    readonly mode?: SettingsMode;
}

/** Stored state: the inputs (settings with defaults merged) plus what the server reports. */
export interface ServerSettingsState extends ServerSettingsInputs, SettingsState {
    readonly settings: Record<string, string>;
    /** Report mode: desired settings whose value in effect differs, to set in the server's parameter group; empty in apply mode. */
    readonly parameterGroup: SettingDrift[];
}

export interface PropertyDiff {
    readonly kind: "add" | "update" | "delete" | "update-replace";
    readonly inputDiff: boolean;
}

/** Structural twin of pulumi.dynamic.DiffResult plus `detailedDiff` and the settings needing a restart. */
export interface SettingsDiff {
    readonly changes: boolean;
    readonly replaces: string[];
    readonly deleteBeforeReplace: false;
    readonly detailedDiff: Record<string, PropertyDiff>;
    readonly restartRequired: string[];
}

/** Shape checks plus validation against the local catalog (no server during preview); merges the defaults. */
export function checkServerSettings(_olds: unknown, news: Record<string, unknown>): { inputs: Record<string, unknown>; failures: Array<{ property: string; reason: string }> } {
    const failures: Array<{ property: string; reason: string }> = [];
    const fail = (property: string, reason: string) => failures.push({ property, reason });
    const conn = news.connection as Record<string, unknown> | string | undefined;
    if (conn !== UNKNOWN) {
        if (typeof conn !== "object" || conn === null) fail("connection", "required: { host, port, user, password, database }");
        else {
            for (const key of ["host", "user", "database"]) if (typeof conn[key] !== "string" || conn[key] === "") fail(`connection.${key}`, "must be a non-empty string");
            if (conn.port !== UNKNOWN && !(Number.isInteger(conn.port) && (conn.port as number) > 0 && (conn.port as number) < 65536)) fail("connection.port", "must be a TCP port number");
        }
    }
    const restart = news.restart as Record<string, unknown> | string | undefined;
    if (restart !== UNKNOWN) {
        if (typeof restart === "object" && restart?.kind === "docker") {
            if (typeof restart.containerName !== "string" || restart.containerName === "") fail("restart.containerName", "required when restart.kind is 'docker'");
            if (restart.dockerHost !== undefined && restart.dockerHost !== UNKNOWN) {
                try {
                    parseDockerHost(String(restart.dockerHost));
                } catch (e) {
                    fail("restart.dockerHost", (e as Error).message);
                }
            }
        } else if (typeof restart !== "object" || restart?.kind !== "none") fail("restart", "must be { kind: 'docker', containerName } or { kind: 'none' } (external server)");
    }
    if (news.mode !== undefined && news.mode !== UNKNOWN && !SETTINGS_MODES.includes(news.mode as SettingsMode)) {
        fail("mode", `must be one of ${SETTINGS_MODES.join(", ")}, got '${String(news.mode)}'`);
    }
    const memory = news.serverMemoryMb === UNKNOWN ? undefined : (news.serverMemoryMb as number | undefined);
    const raw = news.settings ?? {};
    if (raw === UNKNOWN) return { inputs: news, failures };
    if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
        fail("settings", "must be a map of setting name to string value");
        return { inputs: news, failures };
    }
    const { settings, problems } = resolveDesired(raw as Record<string, string>);
    const all = [...problems, ...validateSettings(settings, localCatalog, { serverMemoryMb: memory, requireKnown: false })];
    for (const p of all) fail(problemProperty(p), `${p.setting}${p.value === undefined ? "" : ` = '${p.value}'`}: ${p.message}`);
    return { inputs: { ...news, settings }, failures };
}

function problemProperty(p: SettingProblem): string {
    return p.setting === "serverMemoryMb" ? "serverMemoryMb" : `settings.${p.setting}`;
}

/** Per-setting diff; a different host/port means another server, so replace. */
export function diffServerSettings(olds: Partial<ServerSettingsState>, news: Record<string, unknown>): SettingsDiff {
    const detailedDiff: Record<string, PropertyDiff> = {};
    const replaces: string[] = [];
    const oldConn = (olds.connection ?? {}) as unknown as Record<string, unknown>;
    const newConn = (news.connection === UNKNOWN ? {} : news.connection ?? {}) as Record<string, unknown>;
    for (const key of ["host", "port", "user", "password", "database", "sslmode"]) {
        const unknown = news.connection === UNKNOWN || newConn[key] === UNKNOWN;
        if (!unknown && oldConn[key] === newConn[key]) continue;
        if (unknown && key !== "host" && key !== "port") continue;
        const replace = key === "host" || key === "port";
        detailedDiff[`connection.${key}`] = { kind: replace ? "update-replace" : "update", inputDiff: true };
        if (replace && !replaces.includes("connection")) replaces.push("connection");
    }
    const restartRequired: string[] = [];
    if (news.settings === UNKNOWN) detailedDiff.settings = { kind: "update", inputDiff: true };
    else {
        const desired = resolveDesired((news.settings ?? {}) as Record<string, string>).settings;
        for (const c of diffSettings(olds.settings ?? {}, desired)) {
            if (c.action === "unchanged") continue;
            detailedDiff[`settings.${c.name}`] = { kind: c.action === "reset" ? "delete" : c.from === undefined ? "add" : "update", inputDiff: true };
            if (c.restart) restartRequired.push(c.name);
        }
    }
    if (olds.serverMemoryMb !== news.serverMemoryMb) detailedDiff.serverMemoryMb = { kind: "update", inputDiff: true };
    if (JSON.stringify(olds.restart) !== JSON.stringify(news.restart)) detailedDiff.restart = { kind: "update", inputDiff: true };
    if ((olds.mode ?? "apply") !== (news.mode ?? "apply")) detailedDiff.mode = { kind: "update", inputDiff: true };
    return { changes: Object.keys(detailedDiff).length > 0, replaces, deleteBeforeReplace: false, detailedDiff, restartRequired };
}

export async function createServerSettings(inputs: ServerSettingsInputs): Promise<{ id: string; outs: ServerSettingsState }> {
    const outs = inputs.mode === "report" ? await reportInputs(inputs) : await applyInputs(inputs, []);
    return { id: `${inputs.connection.host}:${inputs.connection.port}`, outs };
}

export async function updateServerSettings(olds: ServerSettingsState, news: ServerSettingsInputs): Promise<{ outs: ServerSettingsState }> {
    if (news.mode === "report") {
        // Settings applied before the switch to report mode stay as they are: report mode changes nothing.
        return { outs: await reportInputs(news) };
    }
    return { outs: await applyInputs(news, olds.mode === "report" ? [] : Object.keys(olds.settings ?? {})) };
}

/** RESETs what this resource set (nothing in report mode); throws on failure so the resource stays in state. */
export async function deleteServerSettings(props: ServerSettingsState): Promise<void> {
    if (props.mode === "report") return;
    await resetSettings(props.connection, Object.keys(props.settings ?? {}));
}

export async function readServerSettings(id: string, props: ServerSettingsState): Promise<{ id: string; props: ServerSettingsState }> {
    if (props.mode === "report") return { id, props: await reportInputs(props) };
    const state = await readSettings(props.connection, Object.keys(props.settings ?? {}));
    return { id, props: { ...props, ...state } };
}

/** Report mode: reads pg_settings (open to any role) and lists what differs from the desired values. */
async function reportInputs(inputs: ServerSettingsInputs): Promise<ServerSettingsState> {
    const { settings, problems } = resolveDesired(inputs.settings);
    if (problems.length > 0) throw new SettingsValidationError(problems, describeConnection(inputs.connection));
    const names = Object.keys(settings);
    const { state, catalog } = await withSession(inputs.connection, async (client) => ({ state: await readState(client, names), catalog: await readCatalog(client, names) }));
    const parameterGroup = settingsDrift(settings, state.effective, state.pendingRestart, (n) => catalog.get(n) ?? localCatalog(n));
    return {
        connection: inputs.connection, settings, restart: inputs.restart, mode: "report", effective: state.effective, pendingRestart: state.pendingRestart, parameterGroup,
        ...(inputs.serverMemoryMb === undefined ? {} : { serverMemoryMb: inputs.serverMemoryMb }),
    };
}

async function applyInputs(inputs: ServerSettingsInputs, previouslyManaged: readonly string[]): Promise<ServerSettingsState> {
    const { settings, problems } = resolveDesired(inputs.settings);
    if (problems.length > 0) throw new SettingsValidationError(problems, describeConnection(inputs.connection));
    const { effective, pendingRestart } = await applySettings({
        connection: inputs.connection, desired: settings, previouslyManaged, serverMemoryMb: inputs.serverMemoryMb, restart: inputs.restart,
    });
    // Pulumi state cannot hold `undefined`; keep only the keys that are set.
    return {
        connection: inputs.connection, settings, restart: inputs.restart, mode: "apply", effective, pendingRestart, parameterGroup: [],
        ...(inputs.serverMemoryMb === undefined ? {} : { serverMemoryMb: inputs.serverMemoryMb }),
    };
}
