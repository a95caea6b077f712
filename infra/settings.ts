/**
 * ServerSettings: PostgreSQL tuning through ALTER SYSTEM, as a thin dynamic resource.
 * Validation, the plan and the SQL live in migration/settings; each provider method
 * loads that library at call time and calls one function.
 */
import * as pulumi from "@pulumi/pulumi";
import type { ConnectionSpec } from "../migration/postgres/connection";
import type { RestartStrategy } from "../migration/settings/settingsPlan";
import { loadLibrary } from "./dynamic/loadLibrary";

export type { RestartStrategy } from "../migration/settings/settingsPlan";
export { DEFAULT_SETTINGS, MEMORY_CAP } from "../migration/settings/settingsPlan";

type SettingsLibrary = typeof import("../migration/settings/applySettings");

export interface ServerSettingsArgs {
    /** Admin connection (superuser or ALTER SYSTEM privilege); stored as a secret. */
    readonly connection: pulumi.Input<ConnectionSpec>;
    /** Overrides merged on top of DEFAULT_SETTINGS, e.g. `{ work_mem: "16MB" }`. */
    readonly settings?: pulumi.Input<Record<string, string>>;
    /** Memory the server may use; enables the MEMORY_CAP checks (shared_buffers <= 40%, effective_cache_size <= 100%). */
    readonly serverMemoryMb?: pulumi.Input<number>;
    /** `docker`: restart that container when a setting needs it; `none` (external server): report `pendingRestart`. */
    readonly restart: pulumi.Input<RestartStrategy>;
}

/** The dynamic provider; exported so tests can call its methods directly. */
export const serverSettingsProvider: pulumi.dynamic.ResourceProvider = {
    async check(olds, news) {
        return loadLibrary<SettingsLibrary>("migration/settings/applySettings").checkServerSettings(olds, news);
    },
    async diff(_id, olds, news) {
        return loadLibrary<SettingsLibrary>("migration/settings/applySettings").diffServerSettings(olds, news);
    },
    async create(inputs) {
        return loadLibrary<SettingsLibrary>("migration/settings/applySettings").createServerSettings(inputs);
    },
    async read(id, props) {
        return loadLibrary<SettingsLibrary>("migration/settings/applySettings").readServerSettings(id, props);
    },
    async update(_id, olds, news) {
        return loadLibrary<SettingsLibrary>("migration/settings/applySettings").updateServerSettings(olds, news);
    },
    async delete(_id, props) {
        return loadLibrary<SettingsLibrary>("migration/settings/applySettings").deleteServerSettings(props);
    },
};

export class ServerSettings extends pulumi.dynamic.Resource {
    /** Values in effect, read back from pg_settings (SHOW format, e.g. `256MB`). */
    declare readonly effective: pulumi.Output<Record<string, string>>;
    /** Managed settings waiting for a server restart (always empty after a docker restart). */
    declare readonly pendingRestart: pulumi.Output<string[]>;

    constructor(name: string, args: ServerSettingsArgs, opts: pulumi.CustomResourceOptions = {}) {
        super(serverSettingsProvider, name, {
            ...args,
            // The state keeps the connection for delete/refresh: always a secret.
            connection: pulumi.secret(args.connection),
            effective: undefined,
            pendingRestart: undefined,
        }, { ...opts, additionalSecretOutputs: [...(opts.additionalSecretOutputs ?? []), "connection"] }, "gecko", "ServerSettings");
    }
}
