/**
 * Which defects exist and how each is planted. Planting runs in a fixed
 * order whatever order the caller lists them in, so a seed gives one result.
 */
import type { GenContext } from "./context";
import { DefectKit } from "./defectKit";
import { plantBlankPools, plantOrphans, plantPlaceholderTokens, plantTestRows } from "./defectsRows";
import {
    plantBadBooleans,
    plantInvalidJson,
    plantNanAndExponent,
    plantNullDefaults,
    plantOddDatetimes,
    plantPrecisionLimit,
} from "./defectsValues";
import { DEFECT_NAMES, type DefectName } from "./types";

/** Planters of the defects that live in the file itself (`uncheckpointed-wal` needs a live connection: see liveWriter.ts). */
const PLANTERS: Record<Exclude<DefectName, "uncheckpointed-wal">, (kit: DefectKit, ctx: GenContext) => void> = {
    "test-rows": plantTestRows,
    "blank-pools": plantBlankPools,
    "placeholder-tokens": plantPlaceholderTokens,
    orphans: plantOrphans,
    "nan-and-exponent": plantNanAndExponent,
    "precision-limit": plantPrecisionLimit,
    "null-defaults": plantNullDefaults,
    "odd-datetimes": plantOddDatetimes,
    "invalid-json": plantInvalidJson,
    "bad-booleans": plantBadBooleans,
};

/** The defect list an option stands for, validated, in canonical order. */
export function resolveDefects(option: readonly DefectName[] | "all" | undefined): DefectName[] {
    if (option === undefined) return [];
    if (option === "all") return [...DEFECT_NAMES];
    const unknown = option.filter((d) => !DEFECT_NAMES.includes(d));
    if (unknown.length) throw new Error(`unknown defect(s) ${unknown.join(", ")}; known: ${DEFECT_NAMES.join(", ")}`);
    return DEFECT_NAMES.filter((d) => option.includes(d));
}

/** Plants the defects into the open database; the kit lists what was planted and the deferred TEXT numbers. */
export function plantDefects(ctx: GenContext, defects: readonly DefectName[]): DefectKit {
    const kit = new DefectKit(ctx.db, ctx.rng.fork("defects"));
    for (const [name, plant] of Object.entries(PLANTERS) as [DefectName, (kit: DefectKit, ctx: GenContext) => void][]) {
        if (defects.includes(name)) plant(kit, ctx);
    }
    return kit;
}
