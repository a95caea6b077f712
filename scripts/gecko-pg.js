#!/usr/bin/env node
// The `gecko-pg` command (package.json "bin"; `npx gecko-pg <command>`): the command line in
// scripts/migrate.ts, loaded through tsx's CommonJS hook like every script here.
require("tsx/cjs");
require("./migrate.ts");
