import { describe, expect, it } from "vitest";
import { convertInteger } from "../../../../migration/data/convert/integer";
import { resultText } from "../../../support/convertOracle";

describe("convertInteger", () => {
    it.each([
        [42n, "integer", "42"],
        [-(2n ** 31n), "integer", "-2147483648"],
        [2n ** 31n - 1n, "integer", "2147483647"],
        [2n ** 31n, "integer", "ERROR"],
        [-(2n ** 31n) - 1n, "integer", "ERROR"],
        [2n ** 63n - 1n, "bigint", "9223372036854775807"],
        [-(2n ** 63n), "bigint", "-9223372036854775808"],
        [2n ** 63n, "bigint", "ERROR"],
        [5.0, "integer", "5"], // integral REAL
        [-0, "integer", "0"],
        [2 ** 60, "bigint", "1152921504606846976"], // exact, not 1152921504606847000
        [2 ** 63, "bigint", "ERROR"],
        [1e300, "bigint", "ERROR"],
        [5.5, "integer", "ERROR"],
        [Number.NaN, "integer", "ERROR"],
        ["42", "integer", "42"],
        [" -17 ", "integer", "-17"],
        ["+7", "bigint", "7"],
        ["42.0", "integer", "42"],
        ["4.2e1", "integer", "42"],
        ["4200e-2", "integer", "42"],
        ["4.25e1", "integer", "ERROR"],
        ["9223372036854775807", "bigint", "9223372036854775807"],
        ["9223372036854775808", "bigint", "ERROR"],
        ["1e400", "bigint", "ERROR"],
        ["0.000", "integer", "0"],
        ["-0", "integer", "0"],
        ["0x10", "integer", "ERROR"],
        ["twelve", "integer", "ERROR"],
        [Buffer.from("1"), "integer", "ERROR"],
    ] as const)("%s as %s -> %s", (raw, kind, expected) => {
        expect(resultText(convertInteger(raw, kind))).toBe(expected);
    });

    it("says why a value is rejected", () => {
        expect(convertInteger(5.5, "integer")).toEqual({ ok: false, reason: "REAL 5.5 is not a valid integer: has a fractional part" });
        expect(convertInteger(2n ** 31n, "integer")).toEqual({
            ok: false,
            reason: "INTEGER 2147483648 is out of range for integer (-2147483648..2147483647)",
        });
    });
});
