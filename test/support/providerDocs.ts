/**
 * The input rules @pulumi/docker and @pulumi/postgresql state in their own type
 * declarations (the `<Resource>Args` interfaces and `types/input.d.ts`, generated
 * from the providers' schemas), read with the TypeScript parser and applied to a
 * recorded registration. Nothing here names a property of this program: every
 * rule comes from a property's declared type, optionality or doc comment:
 *
 * - declared: every input is a property of the Args interface (nested types too);
 * - required: non-optional properties are present;
 * - type: number / boolean / string / array / object as declared (a provider
 *   resource's inputs travel as strings, so there the string must parse);
 * - "(ms|s|m|h)": a duration in those units (`10s`, `1m30s`);
 * - "one of: a, b" / "one of 'a', 'b'": that set;
 * - "in MBs": a whole number of megabytes (<= 1 TiB, else it is bytes);
 * - "in seconds": a whole, non-negative number;
 * - "port": an integer 1..65535; "IP address": an IP (or a CIDR);
 * - "kinds of privileges: A, B, and C": each privilege one of those;
 * - "You cannot specify this option if the `x` is `a` or `b`" and
 *   "Required except if x is \"a\"" / "Required when `x` is `a`".
 */
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import ts from "typescript";
import type { RecordedResource } from "./pulumiMocks";

const ROOT = path.resolve(__dirname, "../..");

interface PropertyDoc {
    readonly name: string;
    readonly optional: boolean;
    readonly type: string;
    readonly doc: string;
}
type InterfaceDocs = Map<string, PropertyDoc>;

const parsed = new Map<string, Map<string, InterfaceDocs>>();

/** Interfaces declared at the top level of a .d.ts, with their properties' docs. */
function interfacesOf(file: string): Map<string, InterfaceDocs> {
    let found = parsed.get(file);
    if (found) return found;
    found = new Map();
    const source = ts.createSourceFile(file, fs.readFileSync(file, "utf8"), ts.ScriptTarget.Latest, true);
    for (const statement of source.statements) {
        if (!ts.isInterfaceDeclaration(statement)) continue;
        const props: InterfaceDocs = new Map();
        for (const member of statement.members) {
            if (!ts.isPropertySignature(member) || !member.type) continue;
            const name = member.name.getText(source);
            const doc = ts
                .getJSDocCommentsAndTags(member)
                .filter(ts.isJSDoc)
                .map((d) => ts.getTextOfJSDocComment(d.comment) ?? "")
                .join("\n");
            props.set(name, { name, optional: member.questionToken !== undefined, type: member.type.getText(source), doc });
        }
        found.set(statement.name.text, props);
    }
    parsed.set(file, found);
    return found;
}

/** `docker:index/container:Container` -> @pulumi/docker/container.d.ts ContainerArgs; `pulumi:providers:postgresql` -> provider.d.ts ProviderArgs. */
function argsOf(type: string): { pkg: string; args: InterfaceDocs } {
    const provider = /^pulumi:providers:(\w+)$/.exec(type);
    const resource = /^(\w+):index\/(\w+):(\w+)$/.exec(type);
    const [pkg, module, name] = provider ? [provider[1], "provider", "Provider"] : resource ? [resource[1], resource[2], resource[3]] : [];
    if (!pkg) throw new Error(`not a provider resource type: ${type}`);
    const pkgDir = path.join(ROOT, "node_modules/@pulumi", pkg);
    const args = interfacesOf(path.join(pkgDir, `${module}.d.ts`)).get(`${name}Args`);
    if (!args) throw new Error(`${pkg}: no ${name}Args in ${module}.d.ts`);
    return { pkg: pkgDir, args };
}

type Kind = "number" | "boolean" | "string" | "object";

/** The declared shape: `pulumi.Input<pulumi.Input<inputs.ContainerPort>[] | undefined>` -> object ContainerPort, array. */
function shapeOf(type: string): { kind: Kind; array: boolean; nested?: string } {
    const nested = /\binputs\.(\w+)/.exec(type)?.[1];
    const array = /\[\]/.test(type);
    if (nested) return { kind: "object", array, nested };
    if (/\bnumber\b/.test(type)) return { kind: "number", array };
    if (/\bboolean\b/.test(type)) return { kind: "boolean", array };
    if (/\bstring\b/.test(type) && !/\[key: string\]/.test(type)) return { kind: "string", array };
    return { kind: "object", array };
}

/** Violations of the documented rules by `resource`'s inputs (empty: all satisfied). */
export function inputRuleViolations(resource: RecordedResource): string[] {
    const { pkg, args } = argsOf(resource.type);
    const isProvider = resource.type.startsWith("pulumi:providers:");
    const nestedTypes = () => interfacesOf(path.join(pkg, "types/input.d.ts"));
    const out: string[] = [];
    const inputs = Object.fromEntries(Object.entries(resource.inputs).filter(([k, v]) => k !== "__provider" && v !== undefined));
    checkObject(inputs, args, "", out, isProvider, nestedTypes);
    return out;
}

function checkObject(
    value: Record<string, unknown>,
    docs: InterfaceDocs,
    prefix: string,
    out: string[],
    asStrings: boolean,
    nestedTypes: () => Map<string, InterfaceDocs>,
) {
    const present = (k: string) => value[k] !== undefined && !(Array.isArray(value[k]) && (value[k] as unknown[]).length === 0);
    for (const key of Object.keys(value)) {
        if (value[key] !== undefined && !docs.has(key)) out.push(`${prefix}${key}: not an input of this resource`);
    }
    for (const doc of docs.values()) {
        const p = `${prefix}${doc.name}`;
        const v = value[doc.name];
        if (v === undefined) {
            if (!doc.optional) out.push(`${p}: required`);
            const except = /Required except if (\w+) is "(\w+)"/.exec(doc.doc);
            if (except && value[except[1]] !== except[2]) out.push(`${p}: required unless ${except[1]} is ${except[2]}`);
            const when = /Required when `(\w+)` is `(\w+)`/.exec(doc.doc);
            if (when && value[when[1]] === when[2]) out.push(`${p}: required when ${when[1]} is ${when[2]}`);
            continue;
        }
        const forbidden = /You cannot specify this option if the `(\w+)` is (not )?((?:`\w+`(?:,? or )?)+)/.exec(doc.doc);
        if (forbidden && present(doc.name)) {
            const listed = [...forbidden[3].matchAll(/`(\w+)`/g)].map((m) => m[1]).includes(String(value[forbidden[1]]));
            if (listed !== Boolean(forbidden[2])) out.push(`${p}: may not be set when ${forbidden[1]} is ${String(value[forbidden[1]])}`);
        }
        const shape = shapeOf(doc.type);
        if (shape.array) {
            if (!Array.isArray(v)) {
                out.push(`${p}: must be a list`);
                continue;
            }
            v.forEach((item, i) => checkValue(item, doc, shape, `${p}[${i}]`, out, asStrings, nestedTypes));
        } else {
            checkValue(v, doc, shape, p, out, asStrings, nestedTypes);
        }
    }
}

function checkValue(
    v: unknown,
    doc: PropertyDoc,
    shape: ReturnType<typeof shapeOf>,
    p: string,
    out: string[],
    asStrings: boolean,
    nestedTypes: () => Map<string, InterfaceDocs>,
) {
    if (shape.nested) {
        const nested = nestedTypes().get(shape.nested);
        if (!nested) return void out.push(`${p}: unknown nested type ${shape.nested}`);
        if (typeof v !== "object" || v === null || Array.isArray(v)) return void out.push(`${p}: must be an object (${shape.nested})`);
        return checkObject(v as Record<string, unknown>, nested, `${p}.`, out, asStrings, nestedTypes);
    }
    // Provider configuration travels as strings: what the string encodes must have the declared type.
    let value = v;
    if (asStrings && typeof v === "string" && shape.kind !== "string") {
        value =
            shape.kind === "number" && /^-?\d+(\.\d+)?$/.test(v)
                ? Number(v)
                : shape.kind === "boolean" && /^(true|false)$/.test(v)
                  ? v === "true"
                  : v;
    }
    if (shape.kind !== "object" && typeof value !== shape.kind)
        return void out.push(`${p}: must be a ${shape.kind}, got ${JSON.stringify(v)}`);
    const text = doc.doc;
    const units = /\(((?:[a-zµ]+\|)+[a-zµ]+)\)/.exec(text)?.[1].split("|");
    if (units && !new RegExp(`^(\\d+(\\.\\d+)?(${units.join("|")}))+$`).test(String(value))) {
        out.push(`${p}: must be a duration in ${units.join("|")} (e.g. 10s), got ${JSON.stringify(v)}`);
    }
    const oneOf = /one of:?\s*([^.)]+)/i
        .exec(text)?.[1]
        .split(/,\s*|\s+or\s+|\s+and\s+/)
        .map((s) => s.replace(/['"`]/g, "").trim())
        .filter((s) => /^[\w-]+$/.test(s));
    if (oneOf?.length && !oneOf.includes(String(value))) out.push(`${p}: must be one of ${oneOf.join(", ")}, got ${JSON.stringify(v)}`);
    if (/\bin MBs?\b/.test(text) && !(Number.isInteger(value) && (value as number) > 0 && (value as number) <= 1024 * 1024)) {
        out.push(`${p}: must be a whole number of MB, got ${JSON.stringify(v)}`);
    }
    if (/\bin seconds\b/.test(text) && !(Number.isInteger(value) && (value as number) >= 0))
        out.push(`${p}: must be whole seconds, got ${JSON.stringify(v)}`);
    if (
        shape.kind === "number" &&
        /\bport\b/i.test(text) &&
        !(Number.isInteger(value) && (value as number) >= 1 && (value as number) <= 65535)
    ) {
        out.push(`${p}: must be a TCP port 1..65535, got ${JSON.stringify(v)}`);
    }
    if (shape.kind === "string" && /\bIP address\b/.test(text) && !net.isIP(String(value).replace(/\/\d+$/, "")))
        out.push(`${p}: must be an IP address, got ${JSON.stringify(v)}`);
    const kinds = /kinds of privileges: ([^.]+)\./
        .exec(text)?.[1]
        .split(/,\s*(?:and\s+)?|\s+and\s+/)
        .map((s) => s.trim());
    if (kinds && !kinds.includes(String(value))) out.push(`${p}: ${JSON.stringify(v)} is not one of the privileges ${kinds.join(", ")}`);
}
