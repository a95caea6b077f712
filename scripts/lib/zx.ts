/**
 * zx for the CommonJS scripts. zx ships a CommonJS build (build/index.cjs)
 * but declares its types for ESM only, so take the types from the ESM side.
 */
import type * as Zx from "zx" with { "resolution-mode": "import" };

// eslint-disable-next-line @typescript-eslint/no-require-imports
const zx = require("zx") as typeof Zx;

export const { $, argv, chalk, fs, minimist, spinner, which } = zx;
