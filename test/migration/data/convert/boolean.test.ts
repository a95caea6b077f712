import { describe, expect, it } from "vitest";
import { convertBoolean } from "../../../../migration/data/convert/boolean";
import { resultText } from "../../../support/convertOracle";

describe("convertBoolean", () => {
    it.each([
        [1n, "true"],
        [0n, "false"],
        [1, "true"],
        [0, "false"],
        ["true", "true"],
        ["TRUE", "true"],
        [" t ", "true"],
        ["yes", "true"],
        ["Yes", "true"],
        ["1", "true"],
        ["false", "false"],
        ["F", "false"],
        ["no", "false"],
        ["NO", "false"],
        ["0", "false"],
        [2n, "ERROR"],
        [-1n, "ERROR"],
        [0.5, "ERROR"],
        ["on", "ERROR"],
        ["y", "ERROR"],
        ["2", "ERROR"],
        ["constructor", "ERROR"],
        ["", "ERROR"],
        [Buffer.from([1]), "ERROR"],
    ] as const)("%s -> %s", (raw, expected) => {
        expect(resultText(convertBoolean(raw))).toBe(expected);
    });
});
