/**
 * AdminPassword: the docker server's admin password, rotated inside the server when the
 * config changes (the container ignores its POSTGRES_PASSWORD after the first start), as a
 * thin dynamic resource over infra/providers/adminPassword.ts.
 */
import * as pulumi from "@pulumi/pulumi";
import type { ConnectionSpec } from "../migration/postgres/connection";
import { loadLibrary } from "./providers/loadLibrary";

type PasswordLibrary = typeof import("./providers/adminPassword");

export interface AdminPasswordArgs {
    /** Where and as whom to log in (no password). */
    readonly connection: pulumi.Input<Omit<ConnectionSpec, "password">>;
    /** The password to be in force; secret. The previous one stays in the resource's state (secret) for the rotation. */
    readonly password: pulumi.Input<string>;
}

/** The dynamic provider; exported so tests can call its methods directly. */
export const adminPasswordProvider: pulumi.dynamic.ResourceProvider = {
    async check(olds, news) {
        return loadLibrary<PasswordLibrary>("infra/providers/adminPassword").checkAdminPassword(olds, news);
    },
    async diff(_id, olds, news) {
        return loadLibrary<PasswordLibrary>("infra/providers/adminPassword").diffAdminPassword(olds, news);
    },
    async create(inputs) {
        return loadLibrary<PasswordLibrary>("infra/providers/adminPassword").createAdminPassword(inputs);
    },
    async update(_id, olds, news) {
        return loadLibrary<PasswordLibrary>("infra/providers/adminPassword").updateAdminPassword(olds, news);
    },
    // Delete: nothing to undo (the password stays what it is); read: the state is the truth.
};

export class AdminPassword extends pulumi.dynamic.Resource {
    constructor(name: string, args: AdminPasswordArgs, opts: pulumi.CustomResourceOptions = {}) {
        super(
            adminPasswordProvider,
            name,
            { ...args, password: pulumi.secret(args.password) },
            {
                ...opts,
                additionalSecretOutputs: [...(opts.additionalSecretOutputs ?? []), "password"],
            },
            "gecko",
            "AdminPassword",
        );
    }
}
