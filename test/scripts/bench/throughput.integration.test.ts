/**
 * Smoke test of scripts/bench/throughput.ts at a tiny scale, as a child process
 * against the run's PostgreSQL: every contender reports its figures and our
 * migration's report is ok. No timing assertions.
 */
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { adminUrl } from "../../support/db";
import { PROJECT_ROOT } from "../../support/paths";

const ROOT = PROJECT_ROOT;
const hasPgloader = ["/usr/bin", "/usr/local/bin"].some((d) => fs.existsSync(path.join(d, "pgloader")));

describe("throughput benchmark", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gecko-bench-test-"));
    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("measures every contender and our report is ok", async () => {
        const json = path.join(dir, "out.json");
        const args = [
            "--import",
            "tsx",
            "scripts/bench/throughput.ts",
            "--rows",
            "20000",
            "--scales",
            "20000",
            "--repeat",
            "2",
            "--json",
            json,
            ...(hasPgloader ? [] : ["--skip-pgloader"]),
        ];
        const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
            execFile(
                process.execPath,
                args,
                { cwd: ROOT, env: { ...process.env, DATABASE_URL: adminUrl() }, maxBuffer: 16 << 20 },
                (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
            );
        });
        expect(code, stderr.slice(-3000)).toBe(0);
        expect(stdout).toContain("Targets (informational):");
        expect(stderr).not.toContain(new URL(adminUrl()).password); // the password never reaches a log

        const out = JSON.parse(fs.readFileSync(json, "utf8"));
        const expected = ["gecko-pg", "gecko-pg-2-workers", ...(hasPgloader ? ["pgloader"] : []), "ceiling-seq", "ceiling-par2"];
        expect(out.results.map((r: { contender: string }) => r.contender)).toEqual(expected);
        for (const r of out.results) {
            expect(r.ok, `${r.contender}: ${r.error}`).toBe(true);
            expect(r.sourceRows).toBeGreaterThan(15_000);
            expect(r.loadedRows).toBe(r.sourceRows);
            expect(r.phases.load).toBeGreaterThan(0);
            expect(r.phases.index).toBeGreaterThanOrEqual(0);
            expect(r.totalSeconds).toBeGreaterThan(0);
            expect(r.usage.peakTreeRssMb).toBeGreaterThan(0);
            expect(r.usage.maxProcessRssMb).toBeGreaterThan(0);
            // Two rounds each, in turn; the figures are the fastest round's.
            expect(r.details.rounds.map((x: { totalSeconds: number }) => x.totalSeconds)).toHaveLength(2);
            expect(r.totalSeconds).toBe(Math.min(...r.details.rounds.map((x: { totalSeconds: number }) => x.totalSeconds)));
        }
        expect(stdout).toContain("each contender: its fastest of 2 rounds");
        const ours = out.results[0];
        expect(ours.phases.validate).toBeGreaterThan(0);
        expect(ours.details.convertWorkers).toBe(0);
        expect(out.results[1].details.convertWorkers).toBe(2);
        expect(out.ourReportsOk).toBe(true);
        expect(out.rssScales).toHaveLength(1);
        expect(out.rssScales[0].usage.peakTreeRssMb).toBeGreaterThan(0);
        expect(out.targets.map((t: { name: string }) => t.name)).toHaveLength(5);
        expect(out.server.memoryCounted).toBe(false);
    }, 180_000);
});
