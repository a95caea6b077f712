/**
 * Loads the Pulumi program (infra/index.ts) the way `pulumi preview` / `up`
 * does: in a plain-Node child process (no vitest transform, no tsx), with the
 * SDK's vendored ts-node registered exactly as @pulumi/pulumi/cmd/run/run.js
 * registers it for a CommonJS project (this project's tsconfig.json, type
 * checking on unless tsconfig says noCheck), under `pulumi.runtime.setMocks`
 * with the given stack config. Returns every resource registration as
 * test/support/pulumiMocks.ts records it (wireInputs keep the exact
 * `__provider` text of each dynamic resource).
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { RecordedResource } from "./pulumiMocks";

const ROOT = path.resolve(__dirname, "../..");

export interface EngineProgramOptions {
    readonly stack: string;
    /** Fully qualified keys (`gecko-pg:mode`), values as strings: what the CLI passes in PULUMI_CONFIG. */
    readonly config: Record<string, string>;
    /** Keys of `config` that are secrets. */
    readonly secretKeys?: string[];
    /** Extra mock output state per resource type (e.g. the image id a RemoteImage computes). */
    readonly outputs?: Record<string, Record<string, unknown>>;
    /** Project directory (the CLI's --pwd). Default: this project. */
    readonly root?: string;
    /** Entry point relative to `root`. Default `infra/index.ts` (Pulumi.yaml `main`). */
    readonly program?: string;
    readonly project?: string;
    readonly timeoutMs?: number;
}

export interface EngineProgramRun {
    readonly resources: RecordedResource[];
    /** Names the program exports (the stack outputs). */
    readonly exports: string[];
    /** Which ts-node / TypeScript loaded the program, and whether it type-checked. */
    readonly loader: { tsnode: string; typescript: string; typescriptVersion: string; typeCheck: boolean };
    readonly ms: number;
    one(type: string, name?: string): RecordedResource;
    ofType(type: string): RecordedResource[];
}

/** The program failed to load (config error, TSError, ...); `stage`, `name` and `message` come from the child. */
export class EngineProgramError extends Error {
    constructor(
        readonly stage: string,
        readonly errorName: string,
        message: string,
        readonly output: string,
    ) {
        super(message);
        this.name = "EngineProgramError";
    }
}

export async function runEngineProgram(options: EngineProgramOptions): Promise<EngineProgramRun> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gecko-engine-program-"));
    try {
        const resultFile = path.join(dir, "result.json");
        const root = options.root ?? ROOT;
        fs.writeFileSync(
            path.join(dir, "options.json"),
            JSON.stringify({
                root,
                program: options.program ?? "infra/index.ts",
                project: options.project ?? "gecko-pg",
                stack: options.stack,
                config: options.config,
                secretKeys: options.secretKeys ?? [],
                outputs: options.outputs ?? {},
                resultFile,
            }),
        );
        // The CLI's environment, minus anything that would switch type checking off or point at a real engine.
        const env = { ...process.env };
        for (const k of Object.keys(env)) if (/^(TS_NODE_|PULUMI_NODEJS_)/.test(k)) delete env[k];
        const child = spawn(process.execPath, [path.join(__dirname, "engineProgramChild.js"), path.join(dir, "options.json")], {
            cwd: root,
            env,
            stdio: ["ignore", "pipe", "pipe"],
        });
        let output = "";
        child.stdout.on("data", (d) => (output += d));
        child.stderr.on("data", (d) => (output += d));
        const timeoutMs = options.timeoutMs ?? 90_000;
        const code = await new Promise<number | null>((resolve) => {
            const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
            child.once("exit", (c) => {
                clearTimeout(timer);
                resolve(c);
            });
        });
        if (!fs.existsSync(resultFile))
            throw new Error(`program child exited (${code}) without a result after at most ${timeoutMs} ms:\n${output}`);
        const result = JSON.parse(fs.readFileSync(resultFile, "utf8"));
        if (result.error) throw new EngineProgramError(result.error.stage, result.error.name, result.error.message, output);
        const resources = result.resources as RecordedResource[];
        const ofType = (type: string) => resources.filter((r) => r.type === type);
        return {
            resources,
            exports: result.exports,
            loader: result.loader,
            ms: result.ms,
            ofType,
            one(type, name) {
                const found = ofType(type).filter((r) => name === undefined || r.name === name);
                if (found.length !== 1)
                    throw new Error(
                        `expected one ${type}${name ? ` named ${name}` : ""}, found ${found.length}: ${resources.map((r) => `${r.type}/${r.name}`).join(", ")}`,
                    );
                return found[0];
            },
        };
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}
