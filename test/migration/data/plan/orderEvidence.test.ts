/**
 * How the order of one pool's sightings decides the readings of a run in a repeated hour
 * (migration/data/plan/orderEvidence.ts `decideRun`): a single drop of the wall clock splits
 * the passes; otherwise a neighbour must place the run; anything else stays undecided.
 */
import { describe, expect, it } from "vitest";
import { decideRun, type Ambiguous } from "../../../../migration/data/plan/orderEvidence";

// Denver, 2025-11-02: 01:MM local is 07:MM UTC (MDT) or 08:MM UTC (MST); seconds since 07:00 UTC.
const at = (minute: number, rowid = minute): Ambiguous => ({
    rowid: BigInt(rowid),
    local: minute * 60,
    earlier: minute * 60,
    later: 3600 + minute * 60,
});

describe("decideRun", () => {
    it("splits a run at the one place its wall clock drops: before it the first pass, from it the second", () => {
        expect(decideRun([at(10, 1), at(40, 2), at(5, 3), at(50, 4)], undefined, undefined)).toEqual([
            "earlier",
            "earlier",
            "later",
            "later",
        ]);
    });

    it("places a run that does not drop by a neighbour already past the first reading, or one still before the second", () => {
        expect(decideRun([at(10), at(20)], 15 * 60, undefined)).toEqual(["later", "later"]); // seen at 07:15 UTC before: 01:10 must be MST
        expect(decideRun([at(10), at(20)], undefined, 3600 + 10 * 60)).toEqual(["earlier", "earlier"]); // seen at 08:10 UTC after
        expect(decideRun([at(10), at(20)], -600, 2 * 3600)).toBeUndefined(); // neighbours fit either reading
        expect(decideRun([at(10)], undefined, undefined)).toBeUndefined(); // nothing around it
    });

    it("decides nothing the order contradicts: two drops, or neighbours out of order with the only choice", () => {
        expect(decideRun([at(10), at(5), at(8), at(2)], undefined, undefined)).toBeUndefined();
        expect(decideRun([at(10), at(40), at(5)], 3600 + 30 * 60, undefined)).toBeUndefined(); // the previous row is already past 01:10 MST
        expect(decideRun([at(10), at(20)], 15 * 60, 3600 + 12 * 60)).toBeUndefined(); // after 07:15 and before 08:12: 01:20 fits neither
    });
});
