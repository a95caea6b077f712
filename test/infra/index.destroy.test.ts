/**
 * `pulumi destroy` of the real program (infra/index.ts under mocks): the order the engine
 * may delete the registered resources in, and what protect keeps. The provider drops a Role
 * in the database it connects to (`postgres`) only, so the roles can go only once the
 * collector database is gone: the Database depends on the roles (infra/access.ts), and
 * destroy deletes dependents first. Those orders replayed against a real PostgreSQL:
 * index.destroy.integration.test.ts.
 */
import { describe, expect, it } from "vitest";
import { destroyOrder, keptByExcludeProtected, transitiveDependencies, TYPES as T } from "../support/destroyReplay";
import { destroyStacks, ofType, one, rolesFirst, withoutFix } from "../support/destroyStacks";
import type { RecordedResource } from "../support/pulumiMocks";

const stacks = destroyStacks();

describe.each(["docker", "dockerDropData", "managed", "externalSuperuser", "dockerProtected", "managedProtected"] as const)(
    "destroy order of the %s stack",
    (key) => {
        it("deletes the database before both roles in every order the engine may choose", () => {
            const rs = stacks[key];
            const db = one(rs, T.database);
            const roles = ofType(rs, T.role);
            expect(roles).toHaveLength(2);
            const closure = transitiveDependencies(rs, db);
            for (const role of roles) expect(closure.has(role.urn), `${db.name} depends on ${role.name}`).toBe(true);
        });

        it("has no cycle, and drops everything on the server before the provider and the server go", () => {
            const rs = stacks[key];
            const order = destroyOrder(rs, { priority: rolesFirst });
            expect(order).toHaveLength(rs.length);
            const at = (r: RecordedResource) => order.indexOf(r);
            const db = one(rs, T.database);
            for (const role of ofType(rs, T.role)) expect(at(db), role.name).toBeLessThan(at(role));
            for (const r of [...ofType(rs, T.grant), ...ofType(rs, T.defaults), ...ofType(rs, T.schema), ...ofType(rs, T.migration)]) {
                expect(at(r), r.name).toBeLessThan(at(db));
            }
            // AdminPassword is part of the server's readiness (the provider connects after it) and deletes nothing.
            const onServer = rs.filter(
                (r) =>
                    r.type.startsWith("postgresql:") || (r.type.startsWith("pulumi-nodejs:dynamic") && !r.type.endsWith(":AdminPassword")),
            );
            const provider = one(rs, T.pgProvider);
            for (const r of onServer) expect(at(r), r.name).toBeLessThan(at(provider));
            for (const container of ofType(rs, T.container)) expect(at(provider)).toBeLessThan(at(container));
        });

        it("would let the engine drop a role first without the Database -> Role dependency", () => {
            const rs = withoutFix(stacks[key]);
            const order = destroyOrder(rs, { priority: rolesFirst });
            expect(order.findIndex((r) => r.type === T.role)).toBeLessThan(order.findIndex((r) => r.type === T.database));
        });
    },
);

describe("protect", () => {
    it("protects the database and the docker volume, so a plain destroy is refused", () => {
        expect(one(stacks.dockerProtected, T.database).protect).toBe(true);
        expect(one(stacks.dockerProtected, T.volume).protect).toBe(true);
        expect(one(stacks.managedProtected, T.database).protect).toBe(true);
        for (const key of ["docker", "dockerDropData", "managed", "externalSuperuser"] as const) {
            expect(
                stacks[key].filter((r) => r.protect).map((r) => r.name),
                key,
            ).toEqual([]);
        }
    });

    it("keeps the roles with the protected database under destroy --exclude-protected", () => {
        for (const key of ["dockerProtected", "managedProtected"] as const) {
            const rs = stacks[key];
            const kept = keptByExcludeProtected(rs);
            for (const r of [one(rs, T.database), ...ofType(rs, T.role), one(rs, T.pgProvider)])
                expect(kept.has(r.urn), `${key} ${r.name}`).toBe(true);
            for (const r of [...ofType(rs, T.grant), ...ofType(rs, T.defaults), ...ofType(rs, T.schema)])
                expect(kept.has(r.urn), `${key} ${r.name}`).toBe(false);
        }
    });
});
