/**
 * zx for the CommonJS scripts, set up in this one place. zx ships a CommonJS build
 * (build/index.cjs) but declares its types for ESM only, so take the types from the ESM side.
 */
import { spawnSync, type SpawnSyncOptions } from "node:child_process";
import type * as Zx from "zx" with { "resolution-mode": "import" };

// eslint-disable-next-line @typescript-eslint/no-require-imports
const zx = require("zx") as typeof Zx;

export const { $, argv, chalk, fs, minimist, spinner, which } = zx;
export type ProcessPromise = Zx.ProcessPromise;

/** What `$.sync` may capture of a child's output (git's file lists, say). */
const SYNC_MAX_BUFFER = 64 << 20;

// The scripts read their children's output themselves and print what they choose: zx would
// echo every child's stderr unless quiet (commands are never echoed: verbose stays off).
$.quiet = true;
// `$.sync` captures through spawnSync, which zx leaves at its 1 MiB default.
$.spawnSync = ((file: string, args: readonly string[], options: SpawnSyncOptions) =>
    spawnSync(file, args, { maxBuffer: SYNC_MAX_BUFFER, ...options })) as typeof spawnSync;
