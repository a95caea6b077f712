/**
 * The collector database and who may use it: an AccessPlan
 * (migration/setup/accessPlan.ts) mapped 1:1 onto `@pulumi/postgresql`
 * resources. The same plan renders to SQL for the demo and the CLI.
 *
 * Preview on an unchanged stack shows no diff because every resource reads
 * back exactly what it declares: grants only on the database and the schema
 * (never a table grant with empty `objects`, which reads back every table and
 * drifts when one is added); table and sequence privileges come from default
 * privileges on the owner role.
 */
import * as postgresql from "@pulumi/postgresql";
import * as pulumi from "@pulumi/pulumi";
import type { AccessPlan } from "../migration/setup/accessPlan";
import type { SslMode } from "../migration/postgres/connection";

/** How the postgresql provider reaches the server as its admin user. */
export interface AdminEndpoint {
    readonly host: pulumi.Input<string>;
    readonly port: pulumi.Input<number>;
    readonly user: pulumi.Input<string>;
    /** Secret. */
    readonly password: pulumi.Input<string>;
    readonly sslmode: pulumi.Input<SslMode>;
    /** False on managed servers: the provider then skips superuser-only reads. */
    readonly superuser: boolean;
    /** Server version (e.g. `17.6`) so the provider need not connect to learn it during preview. */
    readonly expectedVersion: pulumi.Input<string>;
}

export interface DatabaseAccessArgs {
    readonly admin: AdminEndpoint;
    /** What to create; produce it with `planAccess`. */
    readonly plan: AccessPlan;
    /** Password of `plan.appRole` (secret). */
    readonly appPassword: pulumi.Input<string>;
    /** Protect the database from deletion. */
    readonly protect?: boolean;
    /** Resources that must be up before the provider connects (`PostgresServer.ready`). */
    readonly serverReady?: pulumi.Input<pulumi.Resource>[];
    /** Seconds the provider waits for a connection (default 15). */
    readonly connectTimeoutSeconds?: number;
}

/**
 * The collector database, the owner (NOLOGIN) and app (LOGIN) roles, the grants
 * and default privileges of an AccessPlan, through an explicit postgresql
 * provider that connects only once the server is ready.
 */
export class DatabaseAccess extends pulumi.ComponentResource {
    readonly database: pulumi.Output<string>;
    readonly ownerRole: pulumi.Output<string>;
    readonly appRole: pulumi.Output<string>;
    readonly provider: postgresql.Provider;
    /** Everything this component creates: depend on it before using the database as the app or owner role. */
    readonly ready: pulumi.Resource[];

    constructor(name: string, args: DatabaseAccessArgs, opts: pulumi.ComponentResourceOptions = {}) {
        super("gecko:access:DatabaseAccess", name, {}, opts);
        const { plan } = args;
        this.provider = adminProvider(name, args, this);
        const child = { parent: this, provider: this.provider };
        const roles = createRoles(name, args, child);
        // The database depends on the roles so that `pulumi destroy` (dependents first) drops it BEFORE them.
        // The provider deletes a Role with REASSIGN OWNED / DROP OWNED / DROP ROLE in the database it is
        // connected to (`postgres`) only: while the collector database still holds the owner's tables,
        // DROP ROLE fails ("cannot be dropped because some objects depend on it"). DROP DATABASE removes
        // them first. Nothing the roles take depends on the database, so this adds no cycle.
        const db = new postgresql.Database(
            `${name}-database`,
            { name: plan.database },
            { ...child, protect: args.protect, dependsOn: [...roles.values()] },
        );
        // Reference the role resources (not just names) so each grant waits for its role.
        const roleName = (n: string): pulumi.Input<string> => roles.get(n)?.name ?? n;
        const memberships = plan.memberships.map(
            (m) => new postgresql.GrantRole(`${name}-${m.key}-membership`, { grantRole: roleName(m.role), role: m.member }, child),
        );
        const grants = createGrants(name, plan, db, roleName, child);
        const defaults = createDefaultPrivileges(name, plan, db, roleName, { ...child, dependsOn: memberships });

        this.database = db.name;
        this.ownerRole = pulumi.output(roleName(plan.ownerRole));
        this.appRole = pulumi.output(roleName(plan.appRole));
        this.ready = [db, ...roles.values(), ...memberships, ...grants, ...defaults];
        this.registerOutputs({ database: this.database, ownerRole: this.ownerRole, appRole: this.appRole });
    }
}

type RoleName = (name: string) => pulumi.Input<string>;

/** The `@pulumi/postgresql` provider logged in as the admin, to the `postgres` database. */
function adminProvider(name: string, args: DatabaseAccessArgs, parent: pulumi.Resource): postgresql.Provider {
    const { admin } = args;
    return new postgresql.Provider(
        `${name}-provider`,
        {
            host: admin.host,
            port: admin.port,
            username: admin.user,
            password: admin.password,
            database: "postgres",
            sslmode: admin.sslmode,
            superuser: admin.superuser,
            expectedVersion: admin.expectedVersion,
            connectTimeout: args.connectTimeoutSeconds ?? 15,
        },
        { parent, dependsOn: args.serverReady },
    );
}

function createRoles(name: string, args: DatabaseAccessArgs, child: pulumi.CustomResourceOptions): Map<string, postgresql.Role> {
    const roles = new Map<string, postgresql.Role>();
    for (const r of args.plan.roles) {
        const inputs = { name: r.name, login: r.login, password: r.login ? args.appPassword : undefined };
        roles.set(r.name, new postgresql.Role(`${name}-${r.key}-role`, inputs, child));
    }
    return roles;
}

function createGrants(name: string, plan: AccessPlan, db: postgresql.Database, roleName: RoleName, child: pulumi.CustomResourceOptions) {
    return plan.grants.map(
        (g) =>
            new postgresql.Grant(
                `${name}-${g.key}-grant`,
                { database: db.name, role: roleName(g.role), objectType: g.objectType, schema: g.schema, privileges: [...g.privileges] },
                child,
            ),
    );
}

/**
 * A non-superuser admin may alter the owner's default privileges only as its member; being one
 * already also stops the provider from granting (and afterwards revoking) that membership itself:
 * so `options` carries dependsOn the memberships.
 */
function createDefaultPrivileges(
    name: string,
    plan: AccessPlan,
    db: postgresql.Database,
    roleName: RoleName,
    options: pulumi.CustomResourceOptions,
) {
    return plan.defaultPrivileges.map(
        (d) =>
            new postgresql.DefaultPrivileges(
                `${name}-${d.key}-defaults`,
                {
                    database: db.name,
                    owner: roleName(d.owner),
                    role: roleName(d.role),
                    schema: d.schema,
                    objectType: d.objectType,
                    privileges: [...d.privileges],
                },
                options,
            ),
    );
}
