/** Where things are, for tests at any depth of test/ (it mirrors the source tree). */
import * as path from "node:path";

/** The repository root: package.json, Pulumi.yaml, infra/, migration/, scripts/. */
export const PROJECT_ROOT = path.resolve(__dirname, "../..");

/** test/support itself, for helpers run as child processes. */
export const SUPPORT_DIR = __dirname;
