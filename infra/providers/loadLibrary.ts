/**
 * Loads a module of this project's TypeScript library from inside a dynamic
 * provider method.
 *
 * Pulumi serialises provider methods and runs them in a separate plain-Node
 * process (cwd = the project directory), where neither ts-node nor the
 * program's module graph exists. So the methods must `require()` at call time,
 * with tsx's CommonJS hook registered to load `.ts`. This function is captured
 * by value into each serialised provider.
 */
export function loadLibrary<T>(relativePath: string): T {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const nodePath = require("path") as typeof import("path");
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const fs = require("fs") as typeof import("fs");
    // Absolute, so the library's own relative requires resolve; an empty GECKO_PG_ROOT means unset.
    let root = nodePath.resolve(process.env.GECKO_PG_ROOT || process.cwd());
    while (!fs.existsSync(nodePath.join(root, "Pulumi.yaml"))) {
        const parent = nodePath.dirname(root);
        if (parent === root)
            throw new Error(
                `gecko-pg: cannot find Pulumi.yaml in or above ${nodePath.resolve(process.env.GECKO_PG_ROOT || process.cwd())}; run from the project directory or set GECKO_PG_ROOT to it`,
            );
        root = parent;
    }
    const g = globalThis as { __geckoPgTsx?: boolean };
    if (!g.__geckoPgTsx && !require.extensions[".ts"]) {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        require(require.resolve("tsx/cjs/api", { paths: [root] })).register();
        g.__geckoPgTsx = true;
    }
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(nodePath.join(root, relativePath)) as T;
}
