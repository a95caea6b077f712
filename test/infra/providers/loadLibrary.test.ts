/**
 * infra/providers/loadLibrary.ts as the provider host runs it (plain Node with tsx's hook):
 * it finds the project from a relative or empty GECKO_PG_ROOT as well as from its working
 * directory, and says what to do outside the project.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../../support/paths";

const ROOT = PROJECT_ROOT;

describe("loadLibrary in the provider host", () => {
    const TSX_CJS = require.resolve("tsx/cjs", { paths: [ROOT] });
    // Plain Node with tsx's hook, as in the provider host; prints the library's SCHEMA_VERSION.
    const load = (cwd: string, root: string | undefined) =>
        spawnSync(
            process.execPath,
            [
                "--require",
                TSX_CJS,
                "-e",
                `console.log(require(${JSON.stringify(path.join(ROOT, "infra/providers/loadLibrary.ts"))}).loadLibrary("migration/schema/tables").SCHEMA_VERSION)`,
            ],
            { cwd, env: { ...process.env, GECKO_PG_ROOT: root }, encoding: "utf8" },
        );

    it.each([
        ["the project directory, no GECKO_PG_ROOT", ROOT, undefined],
        ["a subdirectory, empty GECKO_PG_ROOT", path.join(ROOT, "infra"), ""],
        ["elsewhere, a relative GECKO_PG_ROOT", os.tmpdir(), path.relative(os.tmpdir(), ROOT)],
    ])("finds the project from %s", (_label, cwd, root) => {
        const r = load(cwd, root);
        expect(r.stderr).toBe("");
        expect(r.stdout.trim()).toMatch(/^\d+$/);
    });

    it("outside the project without GECKO_PG_ROOT, says what to do", () => {
        const r = load(os.tmpdir(), undefined);
        expect(r.status).not.toBe(0);
        expect(r.stderr).toContain(`cannot find Pulumi.yaml in or above ${fs.realpathSync(os.tmpdir())}`);
    });
});
