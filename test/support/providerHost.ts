/**
 * The SDK's own dynamic-provider host (`@pulumi/pulumi/cmd/dynamic-provider`),
 * started as a child process and driven over gRPC the way the Pulumi engine
 * drives it during `pulumi preview` / `up` / `refresh` / `destroy`:
 *
 * - Configure first (acceptSecrets + acceptResources). The host answers
 *   acceptSecrets=false, so, like the engine, every bag sent afterwards has its
 *   secret envelopes stripped.
 * - Every bag carries `__provider` (the serialised provider): the news of check,
 *   create and update, and the olds / properties (state) of diff, read,
 *   update and delete. The host deserialises the provider from it.
 * - Unknown values are the string `UNKNOWN` (preview).
 * - Requests and responses go through `Struct.fromJavaScript`: `undefined` or a
 *   bigint anywhere in a provider's result makes the host fail the call.
 * - Diff answers only changes (none/some/unknown), replaces and
 *   deleteBeforeReplace: the SDK host drops a dynamic provider's `detailedDiff`.
 *
 * A real engine starts the host without PULUMI_NODEJS_ENGINE, so `pulumi.log`
 * in a provider falls back to console output (passed through by the engine as
 * plain text since pulumi/pulumi#18253). `fakeEngine: true` sets it to an
 * in-process Engine service instead, capturing structured log calls.
 */
import { spawn, type ChildProcess } from "node:child_process";
import * as path from "node:path";
import * as readline from "node:readline";
import * as grpc from "@grpc/grpc-js";
import * as pulumi from "@pulumi/pulumi";
import * as engrpc from "@pulumi/pulumi/proto/engine_grpc_pb";
import * as engpb from "@pulumi/pulumi/proto/engine_pb";
import { ResourceProviderClient } from "@pulumi/pulumi/proto/provider_grpc_pb";
import * as pb from "@pulumi/pulumi/proto/provider_pb";
import { Empty } from "google-protobuf/google/protobuf/empty_pb";
import { Struct, type JavaScriptValue } from "google-protobuf/google/protobuf/struct_pb";
import { installMocks, settle, unwrapSecrets } from "./pulumiMocks";

export type Props = Record<string, unknown>;

/** The project root (where Pulumi.yaml and node_modules are). */
export const PROJECT_ROOT = path.resolve(__dirname, "../..");
/** What the engine sends for a value not known yet (preview). */
export const UNKNOWN: string = pulumi.runtime.unknownValue;
export const PROVIDER_KEY = "__provider";

/** What the engine does to each bag for a provider that answered Configure with acceptSecrets=false. */
export const stripSecrets = (bag: Props): Props => unwrapSecrets(bag) as Props;

/** The provider's text exactly as @pulumi/pulumi/dynamic/index.js serialises it (serializeFunctionMaybeSecret). */
export async function serializeProvider(provider: pulumi.dynamic.ResourceProvider): Promise<string> {
    return (await pulumi.runtime.serializeFunction(() => provider, { allowSecrets: true })).text;
}

/**
 * The `__provider` string the SDK registers for a dynamic resource: `construct` creates it
 * under fresh mocks (installMocks), and this returns the wire input of the resource of `type`.
 */
export async function registeredProvider(type: string, construct: () => unknown): Promise<string> {
    const run = await installMocks({ project: "gecko-pg", stack: "test", config: {} });
    construct();
    await settle();
    const text = run.one(type).wireInputs[PROVIDER_KEY];
    if (typeof text !== "string")
        throw new Error(`${type}: __provider is not a plain string on the wire: ${JSON.stringify(text)?.slice(0, 200)}`);
    return text;
}

export interface CheckResponse {
    readonly inputs: Props;
    readonly failures: { property: string; reason: string }[];
}
export interface DiffResponse {
    readonly changes: "unknown" | "none" | "some";
    readonly replaces: string[];
    readonly deleteBeforeReplace: boolean;
    readonly hasDetailedDiff: boolean;
    readonly detailedDiff: Record<string, unknown>;
}
export interface HostLog {
    /** `engine`: a structured pulumi.log call (fakeEngine); `stdout` / `stderr`: a line the host printed. */
    readonly source: "engine" | "stdout" | "stderr";
    readonly message: string;
    readonly severity?: "debug" | "info" | "warning" | "error";
    readonly urn?: string;
}

/** A failed call: `details` is what the engine would show the user. */
export class HostCallError extends Error {
    constructor(
        readonly method: string,
        readonly code: number,
        readonly details: string,
    ) {
        super(`${method}: ${details}`);
        this.name = "HostCallError";
    }
}

export interface ProviderHost {
    check(urn: string, olds: Props, news: Props): Promise<CheckResponse>;
    diff(urn: string, id: string, olds: Props, news: Props, oldInputs?: Props): Promise<DiffResponse>;
    create(urn: string, news: Props): Promise<{ id: string; outs: Props }>;
    read(urn: string, id: string, state: Props, inputs?: Props): Promise<{ id: string; props: Props; inputs?: Props }>;
    update(urn: string, id: string, olds: Props, news: Props, oldInputs?: Props): Promise<{ outs: Props }>;
    delete(urn: string, id: string, state: Props, oldInputs?: Props): Promise<void>;
    /** Everything the host logged so far (stderr includes the SDK's own `${error}: ${stack}` lines). */
    logs(): HostLog[];
    stop(): Promise<void>;
}

export interface ProviderHostOptions {
    /** Working directory of the host (the engine uses the project directory). Default PROJECT_ROOT. */
    readonly cwd?: string;
    /** Environment of the host. Default process.env; PULUMI_NODEJS_ENGINE is always removed unless fakeEngine. */
    readonly env?: NodeJS.ProcessEnv;
    /** Serve an Engine service and point the host's pulumi.log at it (PULUMI_NODEJS_ENGINE). */
    readonly fakeEngine?: boolean;
}

/** `urn:pulumi:<stack>::gecko-pg::<type>::<name>`, as the engine names a resource. */
export function urnOf(type: string, name: string, stack = "test"): string {
    return `urn:pulumi:${stack}::gecko-pg::${type}::${name}`;
}

const SEVERITY: Record<number, HostLog["severity"]> = {
    [engpb.LogSeverity.DEBUG]: "debug",
    [engpb.LogSeverity.INFO]: "info",
    [engpb.LogSeverity.WARNING]: "warning",
    [engpb.LogSeverity.ERROR]: "error",
};
const CHANGES = ["unknown", "none", "some"] as const;

export async function startProviderHost(options: ProviderHostOptions = {}): Promise<ProviderHost> {
    const logs: HostLog[] = [];
    const engine = options.fakeEngine ? await startFakeEngine(logs) : undefined;
    const env: NodeJS.ProcessEnv = { ...(options.env ?? process.env) };
    delete env.PULUMI_NODEJS_ENGINE;
    if (engine) env.PULUMI_NODEJS_ENGINE = engine.address;
    // The engine's pulumi-resource-pulumi-nodejs plugin resolves this script from the project; the argument is the engine's address.
    const hostJs = require.resolve("@pulumi/pulumi/cmd/dynamic-provider/index.js", { paths: [PROJECT_ROOT] });
    const child: ChildProcess = spawn(process.execPath, [hostJs, engine?.address ?? "127.0.0.1:1"], {
        cwd: options.cwd ?? PROJECT_ROOT,
        env,
        stdio: ["ignore", "pipe", "pipe"],
    });
    readline.createInterface({ input: child.stderr! }).on("line", (message) => logs.push({ source: "stderr", message }));
    const stdout = readline.createInterface({ input: child.stdout! });
    const port = await new Promise<number>((resolve, reject) => {
        stdout.once("line", (line) => resolve(Number(line.trim())));
        child.once("exit", (code) =>
            reject(new Error(`provider host exited (${code}) before listening: ${logs.map((l) => l.message).join("\n")}`)),
        );
    });
    stdout.on("line", (message) => logs.push({ source: "stdout", message }));

    const client = new ResourceProviderClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    const call = <Res>(method: string, invoke: (cb: (err: grpc.ServiceError | null, res: Res) => void) => unknown) =>
        new Promise<Res>((resolve, reject) =>
            invoke((err, res) => (err ? reject(new HostCallError(method, err.code, err.details)) : resolve(res))),
        );

    const configure = new pb.ConfigureRequest();
    configure.setArgs(Struct.fromJavaScript({}));
    configure.setAcceptsecrets(true);
    configure.setAcceptresources(true);
    const configured = await call<pb.ConfigureResponse>("Configure", (cb) => client.configure(configure, cb));
    const acceptsSecrets = configured.getAcceptsecrets();

    /** A bag as the engine marshals it for this provider. */
    const bag = (what: string, props: Props, needsProvider = true): Struct => {
        if (needsProvider && typeof props[PROVIDER_KEY] !== "string")
            throw new Error(`${what}: no ${PROVIDER_KEY} in the bag (the engine always sends it)`);
        return Struct.fromJavaScript((acceptsSecrets ? props : stripSecrets(props)) as Record<string, JavaScriptValue>);
    };
    const js = (s: Struct | undefined): Props => (s?.toJavaScript() ?? {}) as Props;

    return {
        async check(urn, olds, news) {
            const r = new pb.CheckRequest();
            r.setUrn(urn);
            r.setOlds(bag("check olds", olds, Object.keys(olds).length > 0));
            r.setNews(bag("check news", news));
            const res = await call<pb.CheckResponse>("Check", (cb) => client.check(r, cb));
            return {
                inputs: js(res.getInputs()),
                failures: res.getFailuresList().map((f) => ({ property: f.getProperty(), reason: f.getReason() })),
            };
        },
        async diff(urn, id, olds, news, oldInputs = {}) {
            const r = new pb.DiffRequest();
            r.setUrn(urn);
            r.setId(id);
            r.setOlds(bag("diff olds", olds));
            r.setNews(bag("diff news", news));
            r.setOldInputs(bag("diff oldInputs", oldInputs, false));
            const res = await call<pb.DiffResponse>("Diff", (cb) => client.diff(r, cb));
            return {
                changes: CHANGES[res.getChanges()],
                replaces: res.getReplacesList(),
                deleteBeforeReplace: res.getDeletebeforereplace(),
                hasDetailedDiff: res.getHasdetaileddiff(),
                detailedDiff: Object.fromEntries(res.getDetaileddiffMap().toObject()),
            };
        },
        async create(urn, news) {
            const r = new pb.CreateRequest();
            r.setUrn(urn);
            r.setProperties(bag("create", news));
            const res = await call<pb.CreateResponse>("Create", (cb) => client.create(r, cb));
            return { id: res.getId(), outs: js(res.getProperties()) };
        },
        async read(urn, id, state, inputs = {}) {
            const r = new pb.ReadRequest();
            r.setUrn(urn);
            r.setId(id);
            r.setProperties(bag("read", state));
            r.setInputs(bag("read inputs", inputs, false));
            const res = await call<pb.ReadResponse>("Read", (cb) => client.read(r, cb));
            return { id: res.getId(), props: js(res.getProperties()), ...(res.hasInputs() ? { inputs: js(res.getInputs()) } : {}) };
        },
        async update(urn, id, olds, news, oldInputs = {}) {
            const r = new pb.UpdateRequest();
            r.setUrn(urn);
            r.setId(id);
            r.setOlds(bag("update olds", olds));
            r.setNews(bag("update news", news));
            r.setOldInputs(bag("update oldInputs", oldInputs, false));
            const res = await call<pb.UpdateResponse>("Update", (cb) => client.update(r, cb));
            return { outs: js(res.getProperties()) };
        },
        async delete(urn, id, state, oldInputs = {}) {
            const r = new pb.DeleteRequest();
            r.setUrn(urn);
            r.setId(id);
            r.setProperties(bag("delete", state));
            r.setOldInputs(bag("delete oldInputs", oldInputs, false));
            await call<Empty>("Delete", (cb) => client.delete(r, cb));
        },
        logs: () => [...logs],
        async stop() {
            client.close();
            if (child.exitCode === null && child.signalCode === null) {
                const exited = new Promise((resolve) => child.once("exit", resolve));
                child.kill();
                await exited;
            }
            engine?.server.forceShutdown();
        },
    };
}

/** An Engine gRPC service that records Log calls (the only call a dynamic provider makes). */
async function startFakeEngine(logs: HostLog[]): Promise<{ address: string; server: grpc.Server }> {
    const server = new grpc.Server();
    const unimplemented = (_call: unknown, cb: grpc.sendUnaryData<Empty>) => cb({ code: grpc.status.UNIMPLEMENTED });
    const service = {
        log: (call: grpc.ServerUnaryCall<engpb.LogRequest, Empty>, cb: grpc.sendUnaryData<Empty>) => {
            const r = call.request;
            logs.push({ source: "engine", severity: SEVERITY[r.getSeverity()], message: r.getMessage(), urn: r.getUrn() });
            cb(null, new Empty());
        },
        getRootResource: unimplemented,
        setRootResource: unimplemented,
        startDebugging: unimplemented,
        requirePulumiVersion: unimplemented,
    };
    server.addService(engrpc.EngineService, service);
    const port = await new Promise<number>((resolve, reject) =>
        server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
    );
    return { address: `127.0.0.1:${port}`, server };
}
