/** A run's first step, shared by migrate, validate and sync: the source as it is, and how it is read. */
import { TARGET_TABLES } from "../../schema/tables";
import { conversionFor, type Conversion } from "../plan/conversion";
import { mapSourceToTarget } from "../plan/tableMapping";
import { introspectSource } from "../source/introspect";
import { timed, type RunContext } from "./context";

/** What the source holds, how it maps onto the collector's tables, and how its clocks read. */
export async function readSource(ctx: RunContext) {
    const source = await timed(ctx, "introspect", () => introspectSource(ctx.snapshot.db));
    const mapping = mapSourceToTarget(source, TARGET_TABLES);
    const conversion: Conversion = conversionFor(ctx.opts);
    const warnings: string[] = [];
    const clockChecks = await timed(ctx, "clockCheck", () => conversion.checkClocks(ctx.snapshot.db, warnings));
    return { source, mapping, conversion, warnings, clockChecks };
}
