/**
 * Runs Pulumi programs under `pulumi.runtime.setMocks` and records every
 * resource registration as the engine would see it: inputs (plain and in their
 * wire form, where secrets are still wrapped), parent, provider, dependencies,
 * protect and deleteBeforeReplace.
 */
import * as pulumi from "@pulumi/pulumi";

/** The type tokens of the stack's resources, as the engine records them. */
export const RESOURCE_TYPES = {
    image: "docker:index/remoteImage:RemoteImage",
    volume: "docker:index/volume:Volume",
    container: "docker:index/container:Container",
    pgProvider: "pulumi:providers:postgresql",
    database: "postgresql:index/database:Database",
    role: "postgresql:index/role:Role",
    grant: "postgresql:index/grant:Grant",
    grantRole: "postgresql:index/grantRole:GrantRole",
    defaults: "postgresql:index/defaultPrivileges:DefaultPrivileges",
    settings: "pulumi-nodejs:dynamic/gecko:ServerSettings",
    schema: "pulumi-nodejs:dynamic/gecko:Schema",
    migration: "pulumi-nodejs:dynamic/gecko:Migration",
    adminPassword: "pulumi-nodejs:dynamic/gecko:AdminPassword",
} as const;

/** One resource registration. */
export interface RecordedResource {
    readonly type: string;
    readonly name: string;
    readonly urn: string;
    readonly parent: string;
    /** Provider reference (`urn::id`), empty for the default provider. */
    readonly provider: string;
    /** Direct dependencies (URNs): explicit dependsOn plus the resources its inputs came from. */
    readonly dependencies: readonly string[];
    readonly protect: boolean;
    readonly deleteBeforeReplace: boolean;
    readonly additionalSecretOutputs: readonly string[];
    readonly ignoreChanges: readonly string[];
    /** Inputs with secrets unwrapped. */
    readonly inputs: Record<string, unknown>;
    /** Inputs as sent to the engine: secrets are `{ [specialSigKey]: specialSecretSig, value }`. */
    readonly wireInputs: Record<string, unknown>;
}

export interface MockRun {
    readonly resources: RecordedResource[];
    one(type: string, name?: string): RecordedResource;
    ofType(type: string): RecordedResource[];
}

export interface MockOptions {
    readonly project: string;
    readonly stack: string;
    /** Fully qualified keys (`gecko-pg:mode`); values as strings. */
    readonly config: Record<string, string>;
    readonly secretKeys?: string[];
    /** Extra output state per resource type (e.g. computed ids). */
    readonly outputs?: (type: string, inputs: Record<string, unknown>) => Record<string, unknown>;
}

/** The parts of the engine's RegisterResourceRequest (a protobuf message) the recorder reads. */
interface RegisterResourceRequest {
    getType(): string;
    getName(): string;
    getParent(): string;
    getProvider(): string;
    getDependenciesList(): string[];
    getProtect(): boolean;
    getDeletebeforereplace(): boolean;
    getAdditionalsecretoutputsList(): string[];
    getIgnorechangesList(): string[];
    getObject(): Parameters<typeof pulumi.runtime.deserializeProperties>[0];
}

interface RegisterResourceResponse {
    getUrn(): string;
}

/** Installs fresh mocks and config; import the program after this, then `await settle()`. */
export async function installMocks(options: MockOptions): Promise<MockRun> {
    const resources: RecordedResource[] = [];
    await pulumi.runtime.setMocks(
        {
            newResource: (args) => ({ id: `${args.name}-id`, state: { ...args.inputs, ...options.outputs?.(args.type, args.inputs) } }),
            call: (args) => args.inputs,
        },
        options.project,
        options.stack,
        false,
    );
    pulumi.runtime.setAllConfig(options.config, options.secretKeys);

    // Wrap the mock monitor to see the request, which the `newResource` mock does not get.
    const monitor = pulumi.runtime.getMonitor() as unknown as {
        registerResource(req: RegisterResourceRequest, cb: (err: unknown, res: RegisterResourceResponse) => void): Promise<void>;
    };
    const register = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req, cb) =>
        register(req, (err, res) => {
            if (!err) {
                resources.push({
                    type: req.getType(),
                    name: req.getName(),
                    urn: res.getUrn(),
                    parent: req.getParent(),
                    provider: req.getProvider(),
                    dependencies: req.getDependenciesList(),
                    protect: req.getProtect(),
                    deleteBeforeReplace: req.getDeletebeforereplace(),
                    additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
                    ignoreChanges: req.getIgnorechangesList(),
                    inputs: unwrapSecrets(pulumi.runtime.deserializeProperties(req.getObject())) as Record<string, unknown>,
                    wireInputs: req.getObject().toJavaScript(),
                });
            }
            cb(err, res);
        });

    const ofType = (type: string) => resources.filter((r) => r.type === type);
    return {
        resources,
        ofType,
        one(type, name) {
            const found = ofType(type).filter((r) => name === undefined || r.name === name);
            if (found.length !== 1) {
                throw new Error(
                    `expected one ${type}${name ? ` named ${name}` : ""}, found ${found.length}: ${resources.map((r) => `${r.type}/${r.name}`).join(", ")}`,
                );
            }
            return found[0];
        },
    };
}

/** The value of an output, and whether it is secret. */
export async function resolve<T>(output: pulumi.Output<T>): Promise<{ value: T; secret: boolean }> {
    const value = await new Promise<T>((ok) => output.apply((v) => ok(v)));
    return { value, secret: await pulumi.isSecret(output) };
}

/** Waits until every pending registration has reached the mock monitor. */
export async function settle(): Promise<void> {
    await (pulumi.runtime as unknown as { waitForRPCs(): Promise<void> }).waitForRPCs();
}

/** `value` with every secret envelope replaced by its content. */
export function unwrapSecrets(value: unknown): unknown {
    if (Array.isArray(value)) return value.map(unwrapSecrets);
    if (value && typeof value === "object") {
        const o = value as Record<string, unknown>;
        if (o[pulumi.runtime.specialSigKey] === pulumi.runtime.specialSecretSig) return unwrapSecrets(o.value);
        return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, unwrapSecrets(v)]));
    }
    return value;
}

/** Whether a wire value is a secret envelope. */
export function isWireSecret(value: unknown): boolean {
    return (
        !!value &&
        typeof value === "object" &&
        (value as Record<string, unknown>)[pulumi.runtime.specialSigKey] === pulumi.runtime.specialSecretSig
    );
}

/**
 * Paths under `wire` where `needle` appears outside a secret envelope
 * (a plain-text leak of a secret value).
 */
export function plaintextPaths(wire: unknown, needle: string, path = "$"): string[] {
    if (typeof wire === "string") return wire.includes(needle) ? [path] : [];
    if (Array.isArray(wire)) return wire.flatMap((v, i) => plaintextPaths(v, needle, `${path}[${i}]`));
    if (wire && typeof wire === "object") {
        const o = wire as Record<string, unknown>;
        if (isWireSecret(o)) return [];
        return Object.entries(o).flatMap(([k, v]) => plaintextPaths(v, needle, `${path}.${k}`));
    }
    return [];
}
