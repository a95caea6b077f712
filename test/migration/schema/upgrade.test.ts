/** The pure upgrade planner (migration/schema/upgrade.ts): catalog shape in, ALTER steps out. */
import { describe, expect, it } from "vitest";
import { targetTable } from "../../../migration/schema/tables";
import { planTableUpgrade, upgradeStepSql, type ActualColumn, type ActualTable } from "../../../migration/schema/upgrade";

const col = (name: string, type: string, o: Partial<ActualColumn> = {}): ActualColumn => ({
    name,
    type,
    nullable: true,
    hasDefault: false,
    identity: false,
    ...o,
});

/** dexes as schema version 2 made it. */
const dexesV2: ActualTable = {
    name: "dexes",
    columns: [
        col("id", "character varying(50)", { nullable: false }),
        col("name", "character varying(100)", { nullable: false }),
        col("network", "character varying(20)", { nullable: false }),
        col("last_updated", "timestamp with time zone", { hasDefault: true }),
        col("metadata_json", "jsonb", { hasDefault: true }),
    ],
    primaryKey: { name: "dexes_pkey", columns: ["id"] },
    uniques: [],
};

describe("planTableUpgrade", () => {
    it("widens varchars and adds the missing column: no step for what already matches", () => {
        const steps = planTableUpgrade(targetTable("dexes"), dexesV2);
        expect(steps.map((s) => `${s.kind} ${"column" in s && typeof s.column === "object" ? s.column.name : ""}`)).toEqual([
            "widen id",
            "widen name",
            "widen network",
            "add-column created_at",
        ]);
    });

    it("adds a column with a constant fill as a fast default, then sets the planned DEFAULT; a time stays NULL for old rows", () => {
        const trades = targetTable("trades");
        const json = trades.columns.find((c) => c.name === "metadata_json")!;
        expect(upgradeStepSql(trades, { kind: "add-column", column: json })).toEqual([
            `ALTER TABLE "public"."trades" ADD COLUMN "metadata_json" jsonb DEFAULT '{}'::jsonb`,
            `ALTER TABLE "public"."trades" ALTER COLUMN "metadata_json" SET DEFAULT '{}'::jsonb`,
        ]);
        const dexes = targetTable("dexes");
        expect(upgradeStepSql(dexes, { kind: "add-column", column: dexes.columns.find((c) => c.name === "created_at")! })).toEqual([
            `ALTER TABLE "public"."dexes" ADD COLUMN "created_at" timestamptz`,
            `ALTER TABLE "public"."dexes" ALTER COLUMN "created_at" SET DEFAULT now()`,
        ]);
    });

    it("moves collection_metadata's key to the new identity and keeps collector_type unique, without adding that unique twice", () => {
        const actual: ActualTable = {
            name: "collection_metadata",
            columns: targetTable("collection_metadata")
                .columns.filter((c) => c.name !== "id")
                .map((c) =>
                    col(c.name, c.name === "collector_type" ? "character varying(100)" : "x", {
                        hasDefault: true,
                        nullable: c.name !== "collector_type",
                    }),
                ),
            primaryKey: { name: "collection_metadata_pkey", columns: ["collector_type"] },
            uniques: [],
        };
        const t = targetTable("collection_metadata");
        const steps = planTableUpgrade({ ...t, columns: t.columns.filter((c) => ["id", "collector_type"].includes(c.name)) }, actual);
        expect(steps.map((s) => s.kind)).toEqual(["add-column", "move-primary-key"]);
        expect(upgradeStepSql(t, steps[1])).toEqual([
            `ALTER TABLE "public"."collection_metadata" DROP CONSTRAINT "collection_metadata_pkey"`,
            `ALTER TABLE "public"."collection_metadata" ADD CONSTRAINT "collection_metadata_collector_type_key" UNIQUE ("collector_type")`,
            `ALTER TABLE "public"."collection_metadata" ADD CONSTRAINT "collection_metadata_pkey" PRIMARY KEY ("id")`,
        ]);
    });

    it.each([
        ["a narrower varchar", "character varying(300)"],
        ["another type", "integer"],
    ])("refuses %s, naming table, column and both types", (_label, type) => {
        const actual = { ...dexesV2, columns: [col("id", type, { nullable: false }), ...dexesV2.columns.slice(1)] };
        expect(() => planTableUpgrade(targetTable("dexes"), actual)).toThrow(
            `upgrade dexes.id: the table has ${type}, this version plans character varying(100)`,
        );
    });

    it("refuses a numeric scale change (it would rewrite and could round)", () => {
        const trades = targetTable("trades");
        const actual: ActualTable = {
            name: "trades",
            columns: trades.columns.map((c) => col(c.name, c.name === "volume_usd" ? "numeric(26,2)" : "x")),
            primaryKey: { name: "trades_pkey", columns: ["id"] },
            uniques: [],
        };
        expect(() => planTableUpgrade({ ...trades, columns: trades.columns.filter((c) => c.name === "volume_usd") }, actual)).toThrow(
            /volume_usd: the table has numeric\(26,2\), this version plans numeric\(26,8\)/,
        );
    });
});
