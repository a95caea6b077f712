/**
 * Every relative link in README.md and docs/*.md resolves: the file or folder
 * exists, and an anchor (`file.md#heading`, `#heading`) names a heading of that
 * file by GitHub's slug rules. Unit: no PostgreSQL.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { PROJECT_ROOT as ROOT } from "../support/paths";

function markdownFiles(): string[] {
    const docs = fs
        .readdirSync(path.join(ROOT, "docs"))
        .filter((f) => f.endsWith(".md"))
        .sort()
        .map((f) => path.join(ROOT, "docs", f));
    return [path.join(ROOT, "README.md"), ...docs];
}

/** The text outside fenced code blocks, line by line (fenced lines become empty, so line numbers stay). */
function proseLines(text: string): string[] {
    let fence: string | undefined;
    return text.split("\n").map((line) => {
        const m = /^\s*(`{3,}|~{3,})/.exec(line);
        if (m && (!fence || m[1].startsWith(fence))) {
            fence = fence ? undefined : m[1];
            return "";
        }
        return fence ? "" : line;
    });
}

/** Inline code spans replaced by their content's length in `x`s: no link or markup inside them counts. */
function withoutCodeSpans(line: string): string {
    return line.replace(/(`+)(.+?)\1/g, (_m, _ticks: string, body: string) => "x".repeat(body.length));
}

/** GitHub's heading slug (github-slugger): lower case, punctuation and symbols dropped, spaces to hyphens. */
function githubSlug(heading: string): string {
    const text = heading
        .replace(/!?\[([^\]]*)\]\([^)]*\)/g, "$1") // links and images: their text
        .replace(/<[^>]+>/g, "") // inline HTML
        .replace(/`/g, "") // code spans keep their content
        .replace(/(\*\*|__|\*)/g, ""); // emphasis markers
    return text
        .trim()
        .toLowerCase()
        .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, "")
        .replace(/ /g, "-");
}

/** The anchors a Markdown file's headings get, duplicates numbered as GitHub does. */
function headingAnchors(text: string): Set<string> {
    const seen = new Map<string, number>();
    const anchors = new Set<string>();
    for (const line of proseLines(text)) {
        const m = /^ {0,3}#{1,6}\s+(.*?)(?:\s+#+)?\s*$/.exec(line);
        if (!m) continue;
        const base = githubSlug(m[1]);
        const n = seen.get(base) ?? 0;
        seen.set(base, n + 1);
        anchors.add(n === 0 ? base : `${base}-${n}`);
    }
    return anchors;
}

interface Link {
    readonly line: number;
    readonly target: string;
}

/** Inline links and images outside code: `[text](target)` and `[text](target "title")`. */
function links(text: string): Link[] {
    const out: Link[] = [];
    proseLines(text).forEach((raw, i) => {
        const line = withoutCodeSpans(raw);
        for (const m of line.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) out.push({ line: i + 1, target: m[1] });
    });
    return out;
}

/** Problems with the relative links of one Markdown file, as `file:line: target: why`. */
function brokenLinks(file: string, text: string, read: (f: string) => string | undefined): string[] {
    const problems: string[] = [];
    const name = path.relative(ROOT, file);
    for (const { line, target } of links(text)) {
        if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:, ...
        const hash = target.indexOf("#");
        const pathPart = decodeURIComponent(hash < 0 ? target : target.slice(0, hash));
        const anchor = hash < 0 ? undefined : decodeURIComponent(target.slice(hash + 1));
        const resolved = pathPart ? path.resolve(path.dirname(file), pathPart) : file;
        const where = `${name}:${line}: ${target}`;
        if (!resolved.startsWith(ROOT + path.sep) && resolved !== ROOT) {
            problems.push(`${where}: points outside the repository`);
            continue;
        }
        if (resolved !== file && !fs.existsSync(resolved)) {
            problems.push(`${where}: no such file`);
            continue;
        }
        if (anchor === undefined) continue;
        if (!resolved.endsWith(".md")) {
            problems.push(`${where}: an anchor into a file that is not Markdown`);
            continue;
        }
        const targetText = resolved === file ? text : read(resolved);
        if (targetText === undefined || !headingAnchors(targetText).has(anchor))
            problems.push(`${where}: no heading #${anchor} in ${path.relative(ROOT, resolved)}`);
    }
    return problems;
}

const readFile = (f: string): string | undefined => (fs.existsSync(f) ? fs.readFileSync(f, "utf8") : undefined);

describe("documentation links", () => {
    it("every relative link in README.md and docs/*.md resolves, anchors included", () => {
        const files = markdownFiles();
        expect(files.length).toBeGreaterThan(1);
        const problems = files.flatMap((f) => brokenLinks(f, fs.readFileSync(f, "utf8"), readFile));
        expect(problems).toEqual([]);
    });

    it("the README links into docs/", () => {
        const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
        const targets = links(readme).map((l) => l.target.split("#")[0]);
        for (const f of fs.readdirSync(path.join(ROOT, "docs")).filter((x) => x.endsWith(".md"))) expect(targets).toContain(`docs/${f}`);
    });

    it("catches a missing file, a missing heading, and ignores links in code", () => {
        const file = path.join(ROOT, "docs", "example.md");
        const text = [
            "# Example: the `gecko_owner` role & more",
            "## Repeated",
            "## Repeated",
            "[ok](#example-the-gecko_owner-role--more) [ok](#repeated-1) [ok](design.md#layout) [ok](../README.md)",
            "[bad](missing.md) [bad](design.md#no-such-heading) [bad](#repeated-2)",
            "`[in code](missing-too.md)`",
            "```",
            "[in a fence](missing-three.md)",
            "```",
            "[web](https://example.com/x.md)",
        ].join("\n");
        expect(brokenLinks(file, text, readFile)).toEqual([
            "docs/example.md:5: missing.md: no such file",
            "docs/example.md:5: design.md#no-such-heading: no heading #no-such-heading in docs/design.md",
            "docs/example.md:5: #repeated-2: no heading #repeated-2 in docs/example.md",
        ]);
    });

    it("slugs headings as GitHub does", () => {
        expect(githubSlug("The stack (Pulumi)")).toBe("the-stack-pulumi");
        expect(githubSlug("What only a real Pulumi CLI with Docker proves")).toBe("what-only-a-real-pulumi-cli-with-docker-proves");
        expect(githubSlug("The proof: the collector's own stack")).toBe("the-proof-the-collectors-own-stack");
        expect(githubSlug("Throughput (`throughput.ts`)")).toBe("throughput-throughputts");
        expect(githubSlug("Checksums: the canonical form")).toBe("checksums-the-canonical-form");
    });
});
