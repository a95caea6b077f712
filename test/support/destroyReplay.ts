/**
 * `pulumi destroy` of the stack, replayed against a real PostgreSQL.
 *
 * - `destroyOrder` computes, from the registrations the mocks recorded, an order
 *   in which the engine may delete the resources: a resource goes only after
 *   every resource that depends on it (its `dependencies`, a child through
 *   `parent`, a resource through its `provider`), as pulumi's DependencyGraph
 *   counts them. The engine may pick any such order; `priority` picks one of them
 *   (e.g. the one deleting roles as early as the graph allows).
 * - `replayDestroy` then runs, resource by resource, the SQL the postgresql
 *   provider's Delete runs (cyrilgdn/terraform-provider-postgresql, which
 *   @pulumi/postgresql bridges), connected as the provider is: to its
 *   `database` (postgres) as its admin, and to the collector database for grants
 *   and default privileges. The dynamic Schema/Migration resources call their
 *   real delete; docker resources and the server settings are skipped.
 */
import { Client, type QueryResultRow } from "pg";
import { ident } from "../../migration/postgres/sql";
import { deleteMigration } from "../../infra/providers/migration";
import type { MigrationResourceState } from "../../infra/providers/migration";
import { clientConfig, type ConnectionSpec } from "../../migration/postgres/connection";
import { deleteSchema, type SchemaState } from "../../infra/providers/schema";
import { RESOURCE_TYPES, type RecordedResource } from "./pulumiMocks";

export { RESOURCE_TYPES as TYPES };

/** The URN of a provider reference (`urn::id`). */
export function providerUrn(ref: string): string {
    return ref.slice(0, ref.lastIndexOf("::"));
}

/** What `r` depends on for ordering: its dependencies, its parent, its provider (recorded resources only). */
export function dependenciesOf(r: RecordedResource, known: ReadonlySet<string>): string[] {
    const out = new Set(r.dependencies);
    if (r.parent) out.add(r.parent);
    if (r.provider) out.add(providerUrn(r.provider));
    out.delete(r.urn);
    return [...out].filter((u) => known.has(u));
}

/** Every URN `r` depends on, directly or through other resources (pulumi's TransitiveDependenciesOf). */
export function transitiveDependencies(resources: readonly RecordedResource[], r: RecordedResource): Set<string> {
    const known = new Set(resources.map((x) => x.urn));
    const byUrn = new Map(resources.map((x) => [x.urn, x]));
    const seen = new Set<string>();
    const todo = dependenciesOf(r, known);
    while (todo.length) {
        const urn = todo.pop()!;
        if (seen.has(urn)) continue;
        seen.add(urn);
        todo.push(...dependenciesOf(byUrn.get(urn)!, known));
    }
    return seen;
}

export interface DestroyOrderOptions {
    /** Among the resources the engine could delete next, lower goes first (ties: last registered first). */
    readonly priority?: (r: RecordedResource) => number;
}

/** A delete order the engine may use (reverse topological); throws on a dependency cycle. */
export function destroyOrder(resources: readonly RecordedResource[], options: DestroyOrderOptions = {}): RecordedResource[] {
    const known = new Set(resources.map((r) => r.urn));
    const index = new Map(resources.map((r, i) => [r.urn, i]));
    const deps = new Map(resources.map((r) => [r.urn, dependenciesOf(r, known)]));
    const dependents = new Map(resources.map((r) => [r.urn, 0]));
    for (const ds of deps.values()) for (const d of ds) dependents.set(d, dependents.get(d)! + 1);
    const priority = options.priority ?? (() => 0);
    const order: RecordedResource[] = [];
    const left = new Set(resources);
    while (left.size) {
        const ready = [...left].filter((r) => dependents.get(r.urn) === 0);
        if (!ready.length) throw new Error(`dependency cycle among: ${[...left].map((r) => r.name).join(", ")}`);
        ready.sort((a, b) => priority(a) - priority(b) || index.get(b.urn)! - index.get(a.urn)!);
        const next = ready[0];
        order.push(next);
        left.delete(next);
        for (const d of deps.get(next.urn)!) dependents.set(d, dependents.get(d)! - 1);
    }
    return order;
}

/** The registrations with `from` no longer depending on `dropped` (simulates a program without that dependsOn). */
export function withoutDependencies(
    resources: readonly RecordedResource[],
    from: RecordedResource,
    dropped: readonly string[],
): RecordedResource[] {
    return resources.map((r) => (r.urn === from.urn ? { ...r, dependencies: r.dependencies.filter((d) => !dropped.includes(d)) } : r));
}

/**
 * What `pulumi destroy --exclude-protected` keeps: each protected resource and everything it
 * depends on (pulumi's separateProtected in pkg/cmd/pulumi destroy).
 */
export function keptByExcludeProtected(resources: readonly RecordedResource[]): Set<string> {
    const kept = new Set<string>();
    for (const r of resources.filter((x) => x.protect)) {
        kept.add(r.urn);
        for (const u of transitiveDependencies(resources, r)) kept.add(u);
    }
    return kept;
}

// ---- Replay ----

export interface ReplayOptions {
    /** How the postgresql provider logs in: its username/password, and its `database` (postgres). */
    readonly admin: ConnectionSpec;
    /** Recorded identifier (database, role, admin user) -> the scratch one. */
    readonly rename: ReadonlyMap<string, string>;
    /** Admin connection to the collector database, the dynamic resources' `connection`. */
    readonly collectorDb: ConnectionSpec;
}

export interface ReplayStep {
    readonly resource: string;
    readonly type: string;
    /** Statements run, in order (queries that only read included). */
    readonly sql: string[];
    /** Why nothing ran. */
    readonly skipped?: string;
}

export interface ReplayFailure {
    readonly resource: string;
    readonly type: string;
    readonly sql: string;
    readonly message: string;
    readonly code?: string;
    readonly detail?: string;
}

export interface ReplayResult {
    readonly steps: ReplayStep[];
    /** The first delete that failed; the replay stops there (its dependencies would never be deleted). */
    readonly failure?: ReplayFailure;
}

class StatementError extends Error {
    constructor(
        readonly sql: string,
        readonly pgError: Error & { code?: string; detail?: string },
    ) {
        super(pgError.message);
    }
}

/** The provider's connections: one pool per database, kept open between resources as database/sql does. */
class ProviderSession {
    private readonly pools = new Map<string, Client>();
    private log: string[] = [];

    constructor(readonly admin: ConnectionSpec) {}

    get username(): string {
        return this.admin.user;
    }

    startStep(): string[] {
        this.log = [];
        return this.log;
    }

    async connect(database = this.admin.database): Promise<Client> {
        const existing = this.pools.get(database);
        if (existing) return existing;
        const c = await this.open(database);
        this.pools.set(database, c);
        return c;
    }

    /** A second connection (database/sql takes another one from the pool while a transaction holds the first). */
    async open(database = this.admin.database): Promise<Client> {
        const c = new Client(clientConfig({ ...this.admin, database }, { application_name: "destroy-replay" }));
        // DROP DATABASE terminates the pooled connections to the collector database.
        c.on("error", () => undefined);
        await c.connect();
        return c;
    }

    async exec<T extends QueryResultRow = QueryResultRow>(c: Client, sql: string, params: unknown[] = []): Promise<T[]> {
        this.log.push(params.length ? `${sql} -- ${JSON.stringify(params)}` : sql);
        try {
            return (await c.query<T>(sql, params)).rows;
        } catch (e) {
            throw new StatementError(sql, e as Error);
        }
    }

    async close(): Promise<void> {
        for (const c of this.pools.values()) await c.end().catch(() => undefined);
        this.pools.clear();
    }
}

const q = ident;

/** startTransaction + deferredRollback: commits unless `fn` returns "rollback" or throws. */
async function inTransaction(s: ProviderSession, c: Client, fn: () => Promise<"rollback" | void>): Promise<void> {
    await s.exec(c, "BEGIN");
    try {
        const outcome = await fn();
        await s.exec(c, outcome === "rollback" ? "ROLLBACK" : "COMMIT");
    } catch (e) {
        await c.query("ROLLBACK").catch(() => undefined);
        throw e;
    }
}

// helpers.go
async function pgLockRole(s: ProviderSession, c: Client, role: string): Promise<void> {
    await s.exec(c, "SET statement_timeout = 0");
    await s.exec(c, "SELECT pg_advisory_xact_lock(oid::bigint) FROM pg_roles WHERE rolname = $1", [role]);
    await s.exec(
        c,
        "SELECT pg_advisory_xact_lock(member::bigint) FROM pg_auth_members JOIN pg_roles ON roleid = pg_roles.oid WHERE rolname = $1",
        [role],
    );
}

async function pgLockDatabase(s: ProviderSession, c: Client, database: string): Promise<void> {
    await s.exec(c, "SET statement_timeout = 0");
    await s.exec(c, "SELECT pg_advisory_xact_lock(oid::bigint) FROM pg_database WHERE datname = $1", [database]);
}

async function isSuperuser(s: ProviderSession, c: Client, role: string): Promise<boolean> {
    const rows = await s.exec<{ rolsuper: boolean }>(c, "SELECT rolsuper FROM pg_roles WHERE rolname = $1", [role]);
    if (!rows.length) throw new Error(`could not check if role ${role} is superuser: no rows`);
    return rows[0].rolsuper;
}

async function isMemberOfRole(s: ProviderSession, c: Client, role: string, member: string): Promise<boolean> {
    const setOption =
        (await s.exec(c, "SELECT 1 FROM information_schema.columns WHERE table_name='pg_auth_members' AND column_name = 'set_option'"))
            .length > 0;
    const sql =
        "SELECT 1 FROM pg_auth_members WHERE pg_get_userbyid(roleid) = $1 AND pg_get_userbyid(member) = $2" +
        (setOption ? " AND set_option" : "");
    return (await s.exec(c, sql, [role, member])).length > 0;
}

async function grantRoleMembership(s: ProviderSession, c: Client, role: string, member: string): Promise<boolean> {
    if (member === role || (await isMemberOfRole(s, c, role, member))) return false;
    await s.exec(c, `GRANT ${q(role)} TO ${q(member)}`);
    return true;
}

async function revokeRoleMembership(s: ProviderSession, c: Client, role: string, member: string): Promise<boolean> {
    if (member === role || !(await isMemberOfRole(s, c, role, member))) return false;
    await s.exec(c, `REVOKE ${q(role)} FROM ${q(member)}`);
    return true;
}

/** Temporarily makes a non-superuser admin a member of `roles` around `fn` (helpers.go withRolesGranted). */
async function withRolesGranted(s: ProviderSession, c: Client, roles: readonly string[], fn: () => Promise<void>): Promise<void> {
    if (!roles.length) return fn();
    const [{ current_user: currentUser }] = await s.exec<{ current_user: string }>(c, "SELECT CURRENT_USER");
    if (await isSuperuser(s, c, currentUser)) return fn();
    const granted: string[] = [];
    const revoked: string[] = [];
    for (const role of roles) {
        if (await isSuperuser(s, c, role)) continue;
        if (await revokeRoleMembership(s, c, currentUser, role)) revoked.push(role);
        if (await grantRoleMembership(s, c, role, currentUser)) granted.push(role);
    }
    await fn();
    for (const role of granted) await revokeRoleMembership(s, c, role, currentUser);
    for (const role of revoked) {
        if ((await s.exec(c, "SELECT 1 FROM pg_roles WHERE rolname=$1", [role])).length) await grantRoleMembership(s, c, currentUser, role);
    }
}

// resource_postgresql_role.go resourcePostgreSQLRoleDelete
async function deleteRole(s: ProviderSession, r: RecordedResource, name: (n: unknown) => string): Promise<void> {
    const role = name(r.inputs.name);
    const c = await s.connect();
    await inTransaction(s, c, async () => {
        await pgLockRole(s, c, role);
        if (r.inputs.skipReassignOwned !== true) {
            await withRolesGranted(s, c, [role], async () => {
                await s.exec(c, `REASSIGN OWNED BY ${q(role)} TO ${q(s.username)}`);
                await s.exec(c, `DROP OWNED BY ${q(role)}`);
            });
        }
        if (r.inputs.skipDropRole !== true) await s.exec(c, `DROP ROLE ${q(role)}`);
    });
}

// resource_postgresql_database.go resourcePostgreSQLDatabaseDelete + terminateBConnections
async function deleteDatabase(s: ProviderSession, r: RecordedResource, name: (n: unknown) => string): Promise<void> {
    const database = name(r.inputs.name);
    const c = await s.connect();
    // `owner` is computed: the state holds what Read found (the program sets none, so the provider's user).
    const [{ owner }] = await s.exec<{ owner: string }>(
        c,
        "SELECT pg_catalog.pg_get_userbyid(d.datdba) AS owner FROM pg_database d WHERE datname=$1",
        [database],
    );
    const lock = await s.open();
    let granted = false;
    try {
        await s.exec(lock, "BEGIN");
        await pgLockRole(s, lock, s.username);
        granted = await grantRoleMembership(s, c, owner, s.username);
        await s.exec(c, `ALTER DATABASE ${q(database)} ALLOW_CONNECTIONS false`);
        await s.exec(c, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${database}' AND pid <> pg_backend_pid()`);
        await s.exec(c, `DROP DATABASE ${q(database)} WITH ( FORCE )`);
    } finally {
        if (granted) await revokeRoleMembership(s, c, owner, s.username);
        await lock.query("ROLLBACK").catch(() => undefined);
        await lock.end().catch(() => undefined);
    }
}

// resource_postgresql_grant.go resourcePostgreSQLGrantDelete (object types database and schema)
async function deleteGrant(s: ProviderSession, r: RecordedResource, name: (n: unknown) => string): Promise<void> {
    const database = name(r.inputs.database);
    const role = name(r.inputs.role);
    const objectType = String(r.inputs.objectType);
    if (objectType !== "database" && objectType !== "schema") throw new Error(`replay: grant on ${objectType} not modelled`);
    const c = await s.connect(database);
    await inTransaction(s, c, async () => {
        await pgLockRole(s, c, role);
        if (objectType === "database") await pgLockDatabase(s, c, database);
        const owners: string[] = [];
        if (objectType === "schema") {
            // getRolesToGrant: the schema owner, pg_database_owner resolved to the database's owner.
            const rows = await s.exec<{ rolname: string }>(
                c,
                "SELECT rolname FROM pg_namespace JOIN pg_roles ON nspowner = pg_roles.oid WHERE nspname = $1",
                [r.inputs.schema],
            );
            if (!rows.length) return "rollback"; // schema gone: treated as already destroyed
            let owner = rows[0].rolname;
            if (owner === "pg_database_owner") {
                owner = (
                    await s.exec<{ rolname: string }>(
                        c,
                        "SELECT rolname FROM pg_database JOIN pg_roles ON datdba = pg_roles.oid WHERE datname = current_database()",
                    )
                )[0].rolname;
            }
            owners.push(owner);
        }
        const revoke =
            objectType === "database"
                ? `REVOKE ALL PRIVILEGES ON DATABASE ${q(database)} FROM ${q(role)}`
                : `REVOKE ALL PRIVILEGES ON SCHEMA ${q(String(r.inputs.schema))} FROM ${q(role)}`;
        try {
            await withRolesGranted(s, c, owners, async () => void (await s.exec(c, revoke)));
        } catch (e) {
            // revokeSuppressible: schema or grantee already gone.
            if (e instanceof StatementError && (e.pgError.code === "3F000" || e.pgError.code === "42704")) return "rollback";
            throw e;
        }
        return undefined;
    });
}

// resource_postgresql_default_privileges.go resourcePostgreSQLDefaultPrivilegesDelete
async function deleteDefaultPrivileges(s: ProviderSession, r: RecordedResource, name: (n: unknown) => string): Promise<void> {
    const database = name(r.inputs.database);
    const owner = name(r.inputs.owner);
    const inSchema = r.inputs.schema ? `IN SCHEMA ${q(String(r.inputs.schema))} ` : "";
    const c = await s.connect(database);
    await inTransaction(s, c, async () => {
        await pgLockRole(s, c, owner);
        await withRolesGranted(s, c, [owner], async () => {
            await s.exec(
                c,
                `ALTER DEFAULT PRIVILEGES FOR ROLE ${q(owner)} ${inSchema}REVOKE ALL ON ${String(r.inputs.objectType).toUpperCase()}S FROM ${q(name(r.inputs.role))}`,
            );
        });
    });
}

// resource_postgresql_grant_role.go resourcePostgreSQLGrantRoleDelete
async function deleteGrantRole(s: ProviderSession, r: RecordedResource, name: (n: unknown) => string): Promise<void> {
    const c = await s.connect();
    await inTransaction(s, c, async () => void (await s.exec(c, `REVOKE ${q(name(r.inputs.grantRole))} FROM ${q(name(r.inputs.role))}`)));
}

/** Runs each resource's delete in `order`; stops at the first failure and reports it. */
export async function replayDestroy(order: readonly RecordedResource[], options: ReplayOptions): Promise<ReplayResult> {
    const name = (n: unknown) => options.rename.get(String(n)) ?? String(n);
    const s = new ProviderSession(options.admin);
    const steps: ReplayStep[] = [];
    try {
        for (const r of order) {
            const sql = s.startStep();
            const step = (skipped?: string) => steps.push({ resource: r.name, type: r.type, sql, ...(skipped ? { skipped } : {}) });
            try {
                switch (r.type) {
                    case RESOURCE_TYPES.database:
                        await deleteDatabase(s, r, name);
                        break;
                    case RESOURCE_TYPES.role:
                        await deleteRole(s, r, name);
                        break;
                    case RESOURCE_TYPES.grant:
                        await deleteGrant(s, r, name);
                        break;
                    case RESOURCE_TYPES.defaults:
                        await deleteDefaultPrivileges(s, r, name);
                        break;
                    case RESOURCE_TYPES.grantRole:
                        await deleteGrantRole(s, r, name);
                        break;
                    case RESOURCE_TYPES.schema: {
                        const props = {
                            ...r.inputs,
                            connection: options.collectorDb,
                            ownerRole: name(r.inputs.ownerRole),
                            appRole: name(r.inputs.appRole),
                        } as SchemaState;
                        sql.push(`schema delete (dropOnDelete ${props.dropOnDelete === true})`);
                        await deleteSchema(props);
                        break;
                    }
                    case RESOURCE_TYPES.migration: {
                        const props = {
                            ...r.inputs,
                            connection: options.collectorDb,
                            ownerRole: name(r.inputs.ownerRole),
                            extraTables: [],
                        } as unknown as MigrationResourceState;
                        sql.push(`migration delete (dropOnDelete ${props.dropOnDelete === true})`);
                        await deleteMigration(props);
                        break;
                    }
                    default:
                        step(
                            r.type.startsWith("docker:")
                                ? "docker resource (no daemon in tests)"
                                : r.type === RESOURCE_TYPES.settings
                                  ? "server settings (would RESET ALTER SYSTEM on the shared test server)"
                                  : "no delete action (component, provider or stack)",
                        );
                        continue;
                }
            } catch (e) {
                step();
                const cause = (e instanceof StatementError ? e.pgError : e) as Error & { code?: string; detail?: string };
                return {
                    steps,
                    failure: {
                        resource: r.name,
                        type: r.type,
                        sql: e instanceof StatementError ? e.sql : "",
                        message: cause.message,
                        code: cause.code,
                        detail: cause.detail,
                    },
                };
            }
            step();
        }
        return { steps };
    } finally {
        await s.close();
    }
}
