/** A run's first step, shared by migrate, validate and sync: the source as it is, and how it is read. */
import { TARGET_TABLES } from "../../schema/tables";
import { conversionFor, type Conversion } from "../plan/conversion";
import { decideByOrder } from "../plan/orderEvidence";
import { mapSourceToTarget, requireCollectorTables } from "../plan/tableMapping";
import { introspectSource } from "../source/introspect";
import { timed, type RunContext } from "./context";

/** What the source holds, how it maps onto the collector's tables, and how its clocks read. */
export async function readSource(ctx: RunContext, options: { readonly checkClocks?: boolean } = {}) {
    const source = await timed(ctx, "introspect", () => introspectSource(ctx.snapshot.db));
    const mapping = mapSourceToTarget(source, TARGET_TABLES, ctx.opts);
    requireCollectorTables(ctx.snapshot.path, source, mapping, ctx.opts.allowMissingTables);
    const policyOnly = conversionFor(ctx.opts);
    // Local times a DST fall-back repeats, decided by the order of the collector's writes on this snapshot.
    const decidedTimes = await timed(ctx, "orderEvidence", () => decideByOrder(ctx.snapshot.db, policyOnly.policy, mapping.tables));
    const conversion: Conversion = Object.keys(decidedTimes).length ? conversionFor({ ...ctx.opts, decidedTimes }) : policyOnly;
    const warnings: string[] = [];
    // A sync pass skips it: the copy measured the clocks, and a pass converts by the same policy.
    const clockChecks =
        options.checkClocks === false ? [] : await timed(ctx, "clockCheck", () => conversion.checkClocks(ctx.snapshot.db, warnings));
    return { source, mapping, conversion, warnings, clockChecks };
}
