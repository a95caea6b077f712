/**
 * Other versions of this repository, from its git history: a commit's tree
 * extracted into a temp dir (run with this checkout's node_modules), and what
 * the checkout itself is (HEAD, and a digest of its working tree, uncommitted
 * changes included). Used by the upgrade tests (an earlier version really
 * migrating) and by scripts/bench/versions.ts (an earlier version's speed).
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { $, which } from "./zx";

/** This checkout's root. */
export const REPO_ROOT = path.resolve(__dirname, "../..");

function git(args: readonly string[], root: string): { ok: boolean; stdout: string; stderr: string } {
    requireGit();
    const r = $.sync({ nothrow: true })`git -C ${root} ${args}`;
    return { ok: r.exitCode === 0, stdout: r.stdout.trim(), stderr: r.stderr.trim() };
}

/** Throws, saying to install it, when git is not on PATH (the shell would only answer 127). */
function requireGit(): void {
    if (!which.sync("git", { nothrow: true })) throw new Error("git is not available (not found on PATH): install git");
}

/** The full id of `commit` (any revision git understands); throws naming it when git lacks it (e.g. a shallow clone). */
export function resolveCommit(commit: string, root = REPO_ROOT): string {
    const r = git(["rev-parse", "--verify", "--quiet", `${commit}^{commit}`], root);
    if (!r.ok || !r.stdout)
        throw new Error(`commit ${commit} not found in ${root} (a clone with its history is needed${r.stderr ? `: ${r.stderr}` : ""})`);
    return r.stdout;
}

/** Whether `file` exists in `commit`'s tree. */
export function commitHasFile(commit: string, file: string, root = REPO_ROOT): boolean {
    return git(["cat-file", "-e", `${commit}:${file}`], root).ok;
}

/** Extracts the commit's tree into a temp dir (node_modules linked); throws naming the commit when git lacks it. */
export function exportCommit(commit: string, root = REPO_ROOT): { dir: string; remove(): void } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gecko-prev-"));
    // git writes the archive to a file beside the tree (a binary tar is no text for zx to hand back).
    const tarFile = `${dir}.tar`;
    try {
        const archive = git(["archive", "--format=tar", "-o", tarFile, commit], root);
        if (!archive.ok) throw new Error(`git archive ${commit} failed (a clone with its history is needed): ${archive.stderr}`);
        const untar = $.sync({ nothrow: true })`tar -x -C ${dir} -f ${tarFile}`;
        if (!untar.ok) throw new Error(`tar -x -C ${dir} failed: ${untar.stderr.trim()}`);
        fs.symlinkSync(path.join(root, "node_modules"), path.join(dir, "node_modules"), "dir");
    } catch (err) {
        fs.rmSync(dir, { recursive: true, force: true });
        throw err;
    } finally {
        fs.rmSync(tarFile, { force: true });
    }
    return { dir, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

export interface WorkingTree {
    /** HEAD's commit id. */
    readonly head: string;
    /** The paths looked at (git pathspecs; empty: the whole tree). */
    readonly paths: readonly string[];
    /** Files among them differing from HEAD, untracked ones included (.gitignore'd files not). */
    readonly changedFiles: number;
    /** sha256 (first 12 hex digits) over every such tracked or untracked, not ignored, file's path and content: equal digests, same code. */
    readonly digest: string;
}

/** What the checkout at `root` holds right now, under `paths` (git pathspecs; default: everything). */
export function workingTree(root = REPO_ROOT, paths: readonly string[] = []): WorkingTree {
    const head = resolveCommit("HEAD", root);
    const spec = paths.length ? ["--", ...paths] : [];
    const status = git(["status", "--porcelain", "--untracked-files=all", ...spec], root).stdout;
    const files = git(["ls-files", "-z", "--cached", "--others", "--exclude-standard", ...spec], root)
        .stdout.split("\0")
        .filter(Boolean)
        .sort();
    const hash = createHash("sha256");
    for (const f of files) {
        hash.update(f).update("\0");
        try {
            hash.update(fs.readFileSync(path.join(root, f)));
        } catch {
            hash.update("<deleted>"); // tracked but removed from the working tree
        }
        hash.update("\0");
    }
    return { head, paths, changedFiles: status ? status.split("\n").length : 0, digest: hash.digest("hex").slice(0, 12) };
}
