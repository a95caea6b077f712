/**
 * The `gecko:ServerSettings` dynamic resource's operations (infra/settings.ts
 * calls one function per provider method): ALTER SYSTEM through
 * migration/setup/applySettings.ts, or in report mode only what differs.
 */
import { describeConnection, type ConnectionSpec } from "../../migration/postgres/connection";
import { applySettings, readSettings, reportSettings, resetSettings, type SettingsState } from "../../migration/setup/applySettings";
import { parseDockerHost } from "../../migration/setup/dockerRestart";
import {
    diffSettings,
    localCatalog,
    resolveDesired,
    SETTINGS_MODES,
    SettingsValidationError,
    validateSettings,
    type RestartStrategy,
    type SettingDrift,
    type SettingProblem,
    type SettingsMode,
} from "../../migration/setup/settingsPlan";
import { checkConnection, isUnknown, UNKNOWN, type CheckFailure, type CheckResult, type PropertyDiff, type ResourceDiff } from "./kit";

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

/** A ResourceDiff plus the settings that need a server restart (the preview prints them). */
export interface SettingsDiff extends ResourceDiff {
    readonly restartRequired: string[];
}

/** Shape checks plus validation against the local catalog (no server during preview); merges the defaults. */
export function checkServerSettings(_olds: unknown, news: Record<string, unknown>): CheckResult {
    const failures: CheckFailure[] = [];
    const fail = (property: string, reason: string) => failures.push({ property, reason });
    checkConnection(news.connection, fail);
    const restart = news.restart as Record<string, unknown> | string | undefined;
    if (restart !== UNKNOWN) {
        if (typeof restart === "object" && restart?.kind === "docker") {
            if (typeof restart.containerName !== "string" || restart.containerName === "")
                fail("restart.containerName", "required when restart.kind is 'docker'");
            if (restart.dockerHost !== undefined && restart.dockerHost !== UNKNOWN) {
                try {
                    parseDockerHost(String(restart.dockerHost));
                } catch (e) {
                    fail("restart.dockerHost", (e as Error).message);
                }
            }
        } else if (typeof restart !== "object" || restart?.kind !== "none")
            fail("restart", "must be { kind: 'docker', containerName } or { kind: 'none' } (external server)");
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
    // A value Pulumi does not know yet (preview) is checked again at create.
    const known = Object.fromEntries(Object.entries(settings).filter(([, value]) => !isUnknown(value)));
    const all = [...problems, ...validateSettings(known, localCatalog, { serverMemoryMb: memory, requireKnown: false })];
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
    const newConn = (news.connection === UNKNOWN ? {} : (news.connection ?? {})) as Record<string, unknown>;
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
            detailedDiff[`settings.${c.name}`] = {
                kind: c.action === "reset" ? "delete" : c.from === undefined ? "add" : "update",
                inputDiff: true,
            };
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
    const { effective, pendingRestart, parameterGroup } = await reportSettings(inputs.connection, settings);
    return {
        connection: inputs.connection,
        settings,
        restart: inputs.restart,
        mode: "report",
        effective,
        pendingRestart,
        parameterGroup,
        ...(inputs.serverMemoryMb === undefined ? {} : { serverMemoryMb: inputs.serverMemoryMb }),
    };
}

async function applyInputs(inputs: ServerSettingsInputs, previouslyManaged: readonly string[]): Promise<ServerSettingsState> {
    const { settings, problems } = resolveDesired(inputs.settings);
    if (problems.length > 0) throw new SettingsValidationError(problems, describeConnection(inputs.connection));
    const { effective, pendingRestart } = await applySettings({
        connection: inputs.connection,
        desired: settings,
        previouslyManaged,
        serverMemoryMb: inputs.serverMemoryMb,
        restart: inputs.restart,
    });
    // Pulumi state cannot hold `undefined`; keep only the keys that are set.
    return {
        connection: inputs.connection,
        settings,
        restart: inputs.restart,
        mode: "apply",
        effective,
        pendingRestart,
        parameterGroup: [],
        ...(inputs.serverMemoryMb === undefined ? {} : { serverMemoryMb: inputs.serverMemoryMb }),
    };
}
