/**
 * Who may do what in the collector database, as data.
 *
 * One plan drives both provisioning paths: infra/access.ts maps every entry
 * 1:1 onto a `@pulumi/postgresql` resource, and `renderAccessSql` turns the
 * same entries into idempotent SQL for the demo, the CLI and the tests. Pure:
 * imports neither `pg` nor `@pulumi/*`.
 */
import { ident, literal } from "../postgres/sql";

/** Schema every collector object lives in. */
export const COLLECTOR_SCHEMA = "public";

/** A role the plan creates. */
export interface RolePlan {
    /** Stable key, used in resource names (`owner`, `app`). */
    readonly key: "owner" | "app";
    readonly name: string;
    /** NOLOGIN for the owner (only reached through SET ROLE), LOGIN (with a password) for the app. */
    readonly login: boolean;
}

/** A `GRANT ... ON DATABASE|SCHEMA` (one `postgresql.Grant`). Never a table grant: see docs/design.md. */
export interface GrantPlan {
    readonly key: string;
    readonly role: string;
    readonly objectType: "database" | "schema";
    /** Set for `objectType: "schema"`: the schema itself is the object. */
    readonly schema?: string;
    /** Upper case, sorted. */
    readonly privileges: readonly string[];
}

/** `ALTER DEFAULT PRIVILEGES FOR ROLE owner IN SCHEMA schema GRANT ... TO role` (one `postgresql.DefaultPrivileges`). */
export interface DefaultPrivilegePlan {
    readonly key: string;
    /** Role whose future objects get the privileges (the owner role). */
    readonly owner: string;
    readonly role: string;
    readonly schema: string;
    readonly objectType: "table" | "sequence";
    /** Upper case, sorted. */
    readonly privileges: readonly string[];
}

/** `GRANT role TO member` (one `postgresql.GrantRole`). */
export interface MembershipPlan {
    readonly key: string;
    readonly role: string;
    readonly member: string;
}

/** Everything `planAccess` decided; see docs/design.md "Roles and ownership". */
export interface AccessPlan {
    readonly database: string;
    readonly ownerRole: string;
    readonly appRole: string;
    /** TimeZone of the app role and of the database (the collector never sets one itself). */
    readonly timezone: string;
    readonly roles: readonly RolePlan[];
    readonly memberships: readonly MembershipPlan[];
    readonly grants: readonly GrantPlan[];
    readonly defaultPrivileges: readonly DefaultPrivilegePlan[];
}

export interface AccessOptions {
    readonly database: string;
    readonly ownerRole: string;
    readonly appRole: string;
    readonly timezone: string;
    /**
     * Admin user that is not a superuser (managed servers): it is made a member of
     * the owner role so the migration can `SET ROLE` and the provider can alter
     * the owner's default privileges. Leave unset for a superuser admin.
     */
    readonly nonSuperuserAdmin?: string;
}

/** PostgreSQL identifiers the plan accepts: lower case, unquoted-safe, at most 63 bytes. */
const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

export function isPlainIdentifier(name: string): boolean {
    return IDENTIFIER.test(name);
}

export function planAccess(options: AccessOptions): AccessPlan {
    const { database, ownerRole, appRole, timezone, nonSuperuserAdmin } = options;
    const names: Record<string, string | undefined> = { database, ownerRole, appRole, nonSuperuserAdmin };
    for (const [field, value] of Object.entries(names)) {
        if (value !== undefined && !isPlainIdentifier(value)) {
            throw new Error(`planAccess: ${field} '${value}' must match ${IDENTIFIER} (lower case, no quoting needed)`);
        }
    }
    if (ownerRole === appRole) throw new Error(`planAccess: ownerRole and appRole must differ (both '${ownerRole}')`);
    if (nonSuperuserAdmin === ownerRole || nonSuperuserAdmin === appRole) {
        throw new Error(`planAccess: the admin user '${nonSuperuserAdmin}' cannot also be the owner or app role`);
    }
    if (!timezone.trim()) throw new Error("planAccess: timezone must not be empty");

    return {
        database,
        ownerRole,
        appRole,
        timezone,
        roles: [
            { key: "owner", name: ownerRole, login: false },
            { key: "app", name: appRole, login: true },
        ],
        memberships: nonSuperuserAdmin ? [{ key: "admin-owner", role: ownerRole, member: nonSuperuserAdmin }] : [],
        grants: [
            { key: "app-database", role: appRole, objectType: "database", privileges: sorted(["CONNECT", "TEMPORARY"]) },
            { key: "app-schema", role: appRole, objectType: "schema", schema: COLLECTOR_SCHEMA, privileges: ["USAGE"] },
            // PostgreSQL 15+ no longer lets PUBLIC create in `public`, so the owner needs CREATE explicitly.
            {
                key: "owner-schema",
                role: ownerRole,
                objectType: "schema",
                schema: COLLECTOR_SCHEMA,
                privileges: sorted(["USAGE", "CREATE"]),
            },
        ],
        defaultPrivileges: [
            {
                key: "app-tables",
                owner: ownerRole,
                role: appRole,
                schema: COLLECTOR_SCHEMA,
                objectType: "table",
                privileges: sorted(["SELECT", "INSERT", "UPDATE", "DELETE"]),
            },
            {
                key: "app-sequences",
                owner: ownerRole,
                role: appRole,
                schema: COLLECTOR_SCHEMA,
                objectType: "sequence",
                privileges: sorted(["USAGE", "SELECT", "UPDATE"]),
            },
        ],
    };
}

function sorted(privileges: string[]): string[] {
    return [...privileges].sort();
}

/** One SQL statement of the rendered plan. */
export interface AccessStatement {
    readonly sql: string;
    /** What the statement does, safe to log: never contains the password. */
    readonly summary: string;
}

/**
 * `CREATE DATABASE` for the plan. Separate from `renderAccessSql` because it
 * cannot run inside a DO block or a transaction, and must be issued from
 * another database; callers treat SQLSTATE 42P04 (duplicate_database) as done.
 */
export function renderCreateDatabaseSql(plan: AccessPlan): string {
    return `CREATE DATABASE ${ident(plan.database)}`;
}

/**
 * The plan as ordered, idempotent SQL, to run as the admin user connected to
 * `plan.database` (schema grants and default privileges are per database).
 * Re-running converges: roles are created if missing and their attributes
 * (LOGIN, password) reset every time. The password statement's `sql` holds the
 * secret: log `summary`, never `sql`.
 */
export function renderAccessSql(plan: AccessPlan, appPassword: string): AccessStatement[] {
    if (!appPassword) throw new Error(`renderAccessSql: a password for ${plan.appRole} is required`);
    const out: AccessStatement[] = [];
    for (const role of plan.roles) {
        const attrs = role.login ? "LOGIN" : "NOLOGIN";
        // A DO block with an exception handler: race-free "create if missing", which CREATE ROLE lacks.
        out.push({
            sql: `DO $gecko$ BEGIN CREATE ROLE ${ident(role.name)} ${attrs}; EXCEPTION WHEN duplicate_object THEN NULL; END $gecko$`,
            summary: `create role ${role.name} if missing`,
        });
        out.push(
            role.login
                ? {
                      sql: `ALTER ROLE ${ident(role.name)} LOGIN PASSWORD ${literal(appPassword)}`,
                      summary: `set ${role.name} LOGIN and password`,
                  }
                : { sql: `ALTER ROLE ${ident(role.name)} NOLOGIN`, summary: `set ${role.name} NOLOGIN` },
        );
    }
    for (const m of plan.memberships) {
        out.push({ sql: `GRANT ${ident(m.role)} TO ${ident(m.member)}`, summary: `grant ${m.role} to ${m.member}` });
    }
    out.push(...renderTimezoneSql(plan));
    for (const g of plan.grants) {
        const on = g.objectType === "database" ? `DATABASE ${ident(plan.database)}` : `SCHEMA ${ident(g.schema ?? COLLECTOR_SCHEMA)}`;
        out.push({
            sql: `GRANT ${g.privileges.join(", ")} ON ${on} TO ${ident(g.role)}`,
            summary: `grant ${g.privileges.join(", ")} on ${g.objectType} to ${g.role}`,
        });
    }
    for (const d of plan.defaultPrivileges) {
        const objects = d.objectType === "table" ? "TABLES" : "SEQUENCES";
        out.push({
            sql:
                `ALTER DEFAULT PRIVILEGES FOR ROLE ${ident(d.owner)} IN SCHEMA ${ident(d.schema)} ` +
                `GRANT ${d.privileges.join(", ")} ON ${objects} TO ${ident(d.role)}`,
            summary: `default privileges on ${d.owner}'s ${objects.toLowerCase()} in ${d.schema} for ${d.role}`,
        });
    }
    return out;
}

/**
 * Role- and database-level TimeZone. Separate because `@pulumi/postgresql`'s
 * Role has no per-role settings, so the Pulumi path must run these as SQL too.
 */
export function renderTimezoneSql(plan: AccessPlan): AccessStatement[] {
    const tz = literal(plan.timezone);
    return [
        { sql: `ALTER ROLE ${ident(plan.appRole)} SET timezone TO ${tz}`, summary: `set ${plan.appRole} TimeZone ${plan.timezone}` },
        { sql: `ALTER DATABASE ${ident(plan.database)} SET timezone TO ${tz}`, summary: `set ${plan.database} TimeZone ${plan.timezone}` },
    ];
}
