/**
 * ServerSettings: PostgreSQL tuning through ALTER SYSTEM, as a thin dynamic resource.
 * Validation, the plan and the SQL live in migration/setup; each provider method loads
 * its operations (infra/providers/serverSettings.ts) at call time and calls one function.
 */
import * as pulumi from "@pulumi/pulumi";
import type { ConnectionSpec } from "../migration/postgres/connection";
import type { RestartStrategy, SettingDrift, SettingsMode } from "../migration/setup/settingsPlan";
import { loadLibrary } from "./providers/loadLibrary";

export type { RestartStrategy } from "../migration/setup/settingsPlan";
export { DEFAULT_SETTINGS, MEMORY_CAP } from "../migration/setup/settingsPlan";

type SettingsLibrary = typeof import("./providers/serverSettings");

export interface ServerSettingsArgs {
    /** Admin connection (superuser or ALTER SYSTEM privilege); stored as a secret. */
    readonly connection: pulumi.Input<ConnectionSpec>;
    /** Overrides merged on top of DEFAULT_SETTINGS, e.g. `{ work_mem: "16MB" }`. */
    readonly settings?: pulumi.Input<Record<string, string>>;
    /** Memory the server may use; enables the MEMORY_CAP checks (shared_buffers <= 40%, effective_cache_size <= 100%). */
    readonly serverMemoryMb?: pulumi.Input<number>;
    /** `docker`: restart that container when a setting needs it; `none` (external server): report `pendingRestart`. */
    readonly restart: pulumi.Input<RestartStrategy>;
    /** `apply` (default): ALTER SYSTEM. `report`: change nothing, list in `parameterGroup` what differs (managed servers). */
    readonly mode?: pulumi.Input<SettingsMode>;
}

/** The dynamic provider; exported so tests can call its methods directly. */
export const serverSettingsProvider: pulumi.dynamic.ResourceProvider = {
    async check(olds, news) {
        return loadLibrary<SettingsLibrary>("infra/providers/serverSettings").checkServerSettings(olds, news);
    },
    async diff(_id, olds, news) {
        const diff = loadLibrary<SettingsLibrary>("infra/providers/serverSettings").diffServerSettings(olds, news);
        // The provider host drops detailed diffs; a line on its console is what `pulumi preview` shows.
        if (diff.restartRequired.length)
            console.log(
                `gecko-pg settings: a server restart is needed for ${diff.restartRequired.join(", ")}${news.mode === "report" ? "" : " (docker: up restarts the container; external: restart it yourself)"}`,
            );
        return diff;
    },
    async create(inputs) {
        const created = await loadLibrary<SettingsLibrary>("infra/providers/serverSettings").createServerSettings(inputs);
        warnParameterGroup(created.outs.parameterGroup);
        return created;
    },
    async read(id, props) {
        return loadLibrary<SettingsLibrary>("infra/providers/serverSettings").readServerSettings(id, props);
    },
    async update(_id, olds, news) {
        const updated = await loadLibrary<SettingsLibrary>("infra/providers/serverSettings").updateServerSettings(olds, news);
        warnParameterGroup(updated.outs.parameterGroup);
        return updated;
    },
    async delete(_id, props) {
        return loadLibrary<SettingsLibrary>("infra/providers/serverSettings").deleteServerSettings(props);
    },
};

/** Report mode: what to set by hand. The engine gives the provider host no address, so this reaches stderr as `warning: [runtime] ...`, which the CLI passes through (pulumi/pulumi#6065, #18253). */
function warnParameterGroup(drift: readonly SettingDrift[]): void {
    if (drift.length === 0) return;
    const lines = drift.map(
        (d) => `${d.name} = ${d.desired} (now ${d.actual ?? "unknown to this server"}${d.pendingRestart ? ", pending restart" : ""})`,
    );
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    (require("@pulumi/pulumi") as typeof pulumi).log.warn(
        `server settings to set in the server's parameter group (serverSettingsMode report): ${lines.join("; ")}`,
    );
}

export class ServerSettings extends pulumi.dynamic.Resource {
    /** Values in effect, read back from pg_settings (SHOW format, e.g. `256MB`). */
    declare readonly effective: pulumi.Output<Record<string, string>>;
    /** Managed settings waiting for a server restart (always empty after a docker restart). */
    declare readonly pendingRestart: pulumi.Output<string[]>;
    /** Report mode: desired settings whose value in effect differs; set them in the server's parameter group. */
    declare readonly parameterGroup: pulumi.Output<SettingDrift[]>;

    constructor(name: string, args: ServerSettingsArgs, opts: pulumi.CustomResourceOptions = {}) {
        super(
            serverSettingsProvider,
            name,
            {
                ...args,
                // The state keeps the connection for delete/refresh: always a secret.
                connection: pulumi.secret(args.connection),
                effective: undefined,
                pendingRestart: undefined,
                parameterGroup: undefined,
            },
            { ...opts, additionalSecretOutputs: [...(opts.additionalSecretOutputs ?? []), "connection"] },
            "gecko",
            "ServerSettings",
        );
    }
}
