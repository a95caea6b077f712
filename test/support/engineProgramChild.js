// Runs a Pulumi TypeScript program the way the nodejs language host does (plain Node, the
// SDK's vendored ts-node registered as @pulumi/pulumi/cmd/run/run.js does for a CommonJS
// project), under pulumi.runtime.setMocks, and writes every resource registration to a JSON
// file. Started by test/support/engineProgram.ts; argv[2] is the JSON file of its options.
"use strict";
const fs = require("node:fs");
const path = require("node:path");

const options = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const write = (result) => fs.writeFileSync(options.resultFile, JSON.stringify(result));
const fail = (stage, e) => {
    write({ error: { stage, name: (e && e.name) || "Error", message: String((e && e.message) || e), stack: e && e.stack } });
    process.exit(1);
};
process.on("uncaughtException", (e) => fail("uncaught", e));
process.on("unhandledRejection", (e) => fail("unhandled rejection", e));

async function main() {
    const started = Date.now();
    // run.js: `--pwd` (the project directory), then ts-node from tsconfig.json there.
    process.chdir(options.root);
    const sdk = path.dirname(require.resolve("@pulumi/pulumi/package.json", { paths: [options.root] }));
    const tsutils = require(path.join(sdk, "tsutils"));
    const semver = require(require.resolve("semver", { paths: [sdk] }));
    const tsConfigPath = process.env.PULUMI_NODEJS_TSCONFIG_PATH ?? "tsconfig.json";
    const skipProject = !fs.existsSync(tsConfigPath);
    const compilerOptions = tsutils.loadTypeScriptCompilerOptions(tsConfigPath);
    const transpileOnlyEnv = process.env.PULUMI_NODEJS_TRANSPILE_ONLY;
    const transpileOnly = transpileOnlyEnv ? transpileOnlyEnv === "true" : compilerOptions.noCheck;
    const { tsnodeRequire, typescriptRequire } = tsutils.typeScriptRequireStrings();
    const ts = require(typescriptRequire);
    const tsVersion = semver.parse(ts.version);
    const useNodeNext = tsVersion && tsVersion.compare(new semver.SemVer("4.7.0")) >= 0;
    require(tsnodeRequire).register({
        compiler: typescriptRequire,
        transpileOnly,
        project: tsConfigPath,
        skipProject,
        compilerOptions: {
            target: "ES2020",
            module: useNodeNext ? "nodenext" : "commonjs",
            moduleResolution: useNodeNext ? "nodenext" : "node",
            sourceMap: "true",
            ...compilerOptions,
        },
    });

    // The recording mocks of the in-process tests (loaded through the same ts-node).
    const { installMocks, settle } = require(path.join(__dirname, "pulumiMocks.ts"));
    const pulumi = require("@pulumi/pulumi");
    const run = await installMocks({
        project: options.project,
        stack: options.stack,
        config: options.config,
        secretKeys: options.secretKeys,
        outputs: (type) => options.outputs[type] ?? {},
    });

    let program;
    try {
        program = require(path.resolve(options.root, options.program));
    } catch (e) {
        fail("program", e);
    }
    // Like test/infra/index.test.ts: resolve the exported outputs (their applies may register more), then wait for the RPCs.
    const exported = Object.entries(program ?? {});
    await Promise.all(exported.filter(([, v]) => pulumi.Output.isInstance(v)).map(([, v]) => new Promise((ok) => v.apply(ok))));
    await settle();
    write({
        resources: run.resources,
        exports: exported.map(([k]) => k),
        loader: { tsnode: tsnodeRequire, typescript: typescriptRequire, typescriptVersion: ts.version, typeCheck: transpileOnly !== true },
        ms: Date.now() - started,
    });
    process.exit(0);
}

main().catch((e) => fail("setup", e));
