#!/usr/bin/env -S npx tsx
/**
 * The whole job on this machine, no Docker and no Pulumi CLI: start an
 * embedded PostgreSQL (or use DATABASE_URL), provision the same database,
 * roles, grants and settings as the stack, generate (or take --sqlite) a
 * collector database, migrate, validate, print the report.
 */
import { randomBytes } from "node:crypto";
import * as os from "node:os";
import * as path from "node:path";
import { planAccess } from "../migration/setup/accessPlan";
import { applyAccess } from "../migration/setup/applyAccess";
import { connectionUrl, parseConnectionUrl } from "../migration/postgres/connection";
import { redactUrl, startLocalPostgres } from "../migration/postgres/localServer";
import { renderReport, runMigration } from "../migration/data/run/runMigration";
import { applySettings } from "../migration/setup/applySettings";
import { DEFAULT_SETTINGS } from "../migration/setup/settingsPlan";
import { DEFECT_NAMES, generateCollectorDb, type DefectName } from "./generator/collectorDb";
import { int, str } from "./lib/options";
import { terminalLogger } from "./lib/terminal";
import { chalk, fs } from "./lib/zx";
import { parseFlags, runMain, saveReport } from "./lib/cli";

const HELP = `Usage: npm run demo -- [options]      (npx tsx scripts/demo.ts)

Starts a throwaway PostgreSQL (embedded PostgreSQL 17; DATABASE_URL to use an existing server;
GECKO_PG_ENGINE=debian for Debian's PostgreSQL 15), provisions database gecko_terminal_collector,
roles gecko_owner / gecko_collector, grants, default privileges and ALTER SYSTEM settings exactly
as the Pulumi stack does, then migrates a collector SQLite database into it and validates.

  --sqlite PATH            migrate this collector database instead of a generated one (read-only)
  --rows N                 rows to generate (default 200000)
  --defects LIST           plant defects in the generated file: all | ${DEFECT_NAMES.join(",")}
  --host-time-zone ZONE    collector host zone for generated local-clock columns (default America/Chicago)
  --source-time-zone ZONE  zone the migration reads local-clock columns in (default: --host-time-zone)
  --allow-quarantine       succeed even when rows were quarantined (useful with --defects)
  --keep                   keep the server running afterwards (Ctrl-C stops it); the collector URL
                           is written to a 0600 file, never printed
  --report PATH            JSON report path (default reports/demo-<time>.json)
  --quiet                  no progress
  -h, --help               this help
`;

async function main(argv: string[]): Promise<number> {
    const flags = parseFlags(argv, {
        boolean: ["keep", "quiet", "allow-quarantine"],
        string: ["sqlite", "rows", "defects", "host-time-zone", "source-time-zone", "report"],
    });
    if (flags.help) {
        process.stdout.write(HELP);
        return 0;
    }
    const logger = terminalLogger({ quiet: Boolean(flags.quiet) });
    const hostZone = str(flags, "host-time-zone") ?? "America/Chicago";
    const workDir = await fs.mkdtemp(path.join(os.tmpdir(), "gecko-pg-demo-"));

    logger.info("starting PostgreSQL ...");
    const server = await startLocalPostgres({ log: flags.quiet ? undefined : undefined });
    try {
        logger.info(`PostgreSQL ${server.engine} at ${redactUrl(server.url)}`);
        const admin = parseConnectionUrl(server.url);
        const appPassword = randomBytes(18).toString("base64url");
        const plan = planAccess({
            database: "gecko_terminal_collector",
            ownerRole: "gecko_owner",
            appRole: "gecko_collector",
            timezone: "UTC",
        });
        await applyAccess(admin, plan, appPassword);
        logger.info("provisioned database gecko_terminal_collector, roles gecko_owner + gecko_collector, grants and default privileges");
        const settings = await applySettings({ connection: admin, desired: DEFAULT_SETTINGS, restart: { kind: "none" } });
        if (settings.pendingRestart.length && server.engine !== "external") {
            await server.restart(); // what the stack's docker restart does
            logger.info(`applied ${Object.keys(settings.effective).length} settings (restarted for ${settings.pendingRestart.join(", ")})`);
        } else
            logger.info(
                `applied ${Object.keys(settings.effective).length} settings; pending restart: ${settings.pendingRestart.join(", ") || "none"}`,
            );

        let sqlitePath = str(flags, "sqlite");
        if (!sqlitePath) {
            sqlitePath = path.join(workDir, "gecko_data.db");
            const defects =
                flags.defects === undefined ? [] : flags.defects === "all" ? "all" : (String(flags.defects).split(",") as DefectName[]);
            const rows = int(flags, "rows", 200_000);
            const t0 = Date.now();
            const m = generateCollectorDb({ path: sqlitePath, rows, defects, hostTimeZone: hostZone });
            logger.info(
                `generated ${m.totalRows.toLocaleString("en-US")} collector rows (${m.variant}, host zone ${hostZone}, ${m.defects.length} planted defects) in ${((Date.now() - t0) / 1000).toFixed(1)}s`,
            );
        }
        const target = { ...admin, database: "gecko_terminal_collector" };
        const report = await runMigration(
            {
                sqlitePath,
                target,
                sourceTimeZone: str(flags, "source-time-zone") ?? (flags.sqlite ? "UTC" : hostZone),
                allowQuarantine: Boolean(flags["allow-quarantine"]),
            },
            logger,
        );
        const file = await saveReport(flags, "demo", report);
        process.stdout.write(renderReport(report) + "\n");
        process.stderr.write(`${report.ok ? chalk.green("OK") : chalk.red("FAILED")}: ${report.tables.length} tables, report ${file}\n`);
        if (flags.keep) {
            const urlFile = path.join(workDir, "collector-url");
            await fs.writeFile(urlFile, connectionUrl({ ...target, user: "gecko_collector", password: appPassword }) + "\n", {
                mode: 0o600,
            });
            process.stderr.write(
                `server kept running; the collector's URL (GECKO_DB_URL) is in ${urlFile}. Ctrl-C stops and removes it.\n`,
            );
            await new Promise<void>((resolve) => process.once("SIGINT", () => resolve()));
        }
        return report.ok ? 0 : 1;
    } finally {
        await server.stop();
        await fs.remove(workDir);
    }
}

runMain(main);
