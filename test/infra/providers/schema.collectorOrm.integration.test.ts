/**
 * The collector's own stack on the PostgreSQL this project builds: SQLAlchemy ORM +
 * psycopg2 (test/support/collector_orm.py, run by Debian's /usr/bin/python3) with the
 * collector's models, connected as the collector's app role. The URL's prefix picks
 * the model set, as in the collector: `postgresql://` its PostgreSQL models,
 * `postgresql+psycopg2://` its SQLite models. Every check the script runs (create_all,
 * reads, inserts, upserts, onupdate, the duplicate-history error, the collector's
 * frequent queries, retention deletes) must pass.
 */
import { afterAll, beforeAll, describe, it } from "vitest";
import { checkSchema, createSchema, type SchemaInputs } from "../../../infra/providers/schema";
import { SCHEMA_VARIANTS } from "../../../scripts/generator/collectorDb";
import { expectAllPassed, missingStack, runCollectorOrm, URL_FORMS } from "../../support/collectorOrm";
import { createMigrationFixture, type MigrationFixture } from "../../support/migrationFixture";

describe.skipIf(missingStack !== undefined)("the collector's SQLAlchemy stack on a migrated database", () => {
    const cases = SCHEMA_VARIANTS.flatMap((variant) => [
        { variant, defects: "none" as const },
        { variant, defects: "all" as const },
    ]);

    describe.each(cases)("$variant source, defects: $defects", ({ variant, defects }) => {
        let fx: MigrationFixture;
        beforeAll(async () => {
            fx = await createMigrationFixture("orm");
            const { path: source } = fx.generate(`${variant}-${defects}`, {
                variant,
                rows: 2500,
                seed: 17,
                ...(defects === "all" ? { defects: "all" as const } : {}),
            });
            // Quarantined rows (planted defects, generator overflows) are not what this file tests.
            const report = await fx.migrate(source, { allowQuarantine: true });
            if (!report.ok) throw new Error(`migrating the ${variant} source failed: ${report.failures.join("; ")}`);
        });
        afterAll(() => fx?.dispose());

        // In this order on one database: the SQLite models' run also sees the rows the first wrote.
        it.each(URL_FORMS)("%s (%s models)", (prefix, models) => {
            expectAllPassed(runCollectorOrm(fx.app, prefix), models);
        });
    });
});

describe.skipIf(missingStack !== undefined)(
    "the collector's SQLAlchemy stack on an empty database given the schema by the Schema resource",
    () => {
        let fx: MigrationFixture;
        beforeAll(async () => {
            fx = await createMigrationFixture("ormempty");
            // What the Schema resource does without a Migration after it: check, then create
            // (applySchema "tables", then "post-load" with no source data).
            const checked = checkSchema(
                {},
                { connection: fx.target, ownerRole: fx.ownerRole, appRole: fx.appRole, timeZone: "UTC", deferPostLoad: false },
            );
            if (checked.failures.length) throw new Error(`schema check failed: ${JSON.stringify(checked.failures)}`);
            const { outs } = await createSchema(checked.inputs as unknown as SchemaInputs);
            if (outs.postLoad !== "applied") throw new Error(`post-load was ${outs.postLoad}`);
        });
        afterAll(() => fx?.dispose());

        it.each(URL_FORMS)("%s (%s models)", (prefix, models) => {
            expectAllPassed(runCollectorOrm(fx.app, prefix), models);
        });
    },
);

// (c), a database upgraded from the previous schema version: test/migration/schema/upgrade.integration.test.ts.
