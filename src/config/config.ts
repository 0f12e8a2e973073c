import { isLoopback } from "../addresses";
import type { LogFormat, LogLevel } from "../log";
import { ConfigError, expected } from "../validation";
import type { CapturedTree } from "./captured";
import type { ScheduledEvent } from "./events";
import {
  isMapping,
  readSections,
  scalar,
  SECTION_KEYS,
  type DescriptionSections,
  type SecondaryInterfaceSettings,
} from "./description";
import {
  camelName,
  envName,
  ENV_PREFIX,
  OPTION_BY_NAME,
  OPTIONS,
  type HTTP_ENDPOINT,
  type HTTP_TOKENS,
  type LIFE_CYCLES,
  type OptionName,
  type TypedOptions,
  type UNKNOWN_CALLERS,
  type ValueOf,
} from "./schema";
import { checkOverlaps, parseCallers, singleAddress, type CallerSpec } from "./callers";
import type { FaultRule } from "./fault-rule";
import type { InstanceMonitoring } from "./description-keys";
import { nearest } from "./suggest";

export { ConfigError } from "../validation";
export type { SecondaryInterfaceSettings } from "./description";

export const DEFAULT_ROLE_NAME = "imds-emulator";
/**
 * Credentials served with less than this left fall into an SDK's refresh or outage window: botocore
 * treats a set with under 10 minutes plus 2 to 10 minutes of jitter left as stale and extends it
 * (IMDS-SPEC "Role credentials"); its advisory refresh starts at 15 minutes.
 */
export const SDK_REFRESH_WINDOW_SECONDS = 1200;

export type HttpTokens = (typeof HTTP_TOKENS)[number];
export type HttpEndpoint = (typeof HTTP_ENDPOINT)[number];
export type InstanceLifeCycle = (typeof LIFE_CYCLES)[number];

/** What a user may say about the emulated instance; everything left out is derived or generated. */
export interface InstanceSettings {
  readonly region: string;
  readonly instanceType: string;
  readonly instanceLifeCycle: InstanceLifeCycle;
  readonly accountId?: string;
  readonly availabilityZone?: string;
  readonly instanceId?: string;
  readonly amiId?: string;
  readonly localIpv4?: string;
  readonly publicIpv4?: string;
  readonly mac?: string;
  readonly architecture?: string;
  readonly keyName?: string;
  readonly launchTime?: number;
  /** Interfaces after the primary one (device 0, which the top-level values describe). */
  readonly secondaryInterfaces?: readonly SecondaryInterfaceSettings[];
  /** The primary interface's IPv6 addresses. */
  readonly ipv6?: readonly string[];
  /** Entries beside (or replacing) `ami` and `root`. */
  readonly blockDeviceMapping?: Readonly<Record<string, string>>;
  readonly instanceMonitoring?: InstanceMonitoring;
}

export interface StsSettings {
  readonly roleArn: string;
  readonly roleSessionName?: string;
  readonly externalId?: string;
  readonly webIdentityTokenFile?: string;
  readonly region: string;
  readonly endpoint?: string;
}

export interface KubernetesSettings {
  readonly nodeName: string;
  /** Interface patterns whose metadata packets are redirected here; none: the pods are pointed here otherwise. */
  readonly podInterfaces: readonly string[];
  readonly removeTaint?: string;
}

/** The ECS-style endpoint: its path on the metadata port, and the token (or the file holding it). */
export interface ContainerCredentialsSettings {
  readonly path: string;
  readonly token?: string;
  readonly tokenFile?: string;
}

/** The settings of one emulated instance: the top level's, or what an `instances:` entry makes of them. */
export interface InstanceConfig {
  readonly roleName: string;
  readonly sts?: StsSettings;
  readonly durationSeconds: number;
  readonly rotateBeforeSeconds?: number;
  readonly instance: InstanceSettings;
  readonly httpTokens: HttpTokens;
  readonly httpEndpoint: HttpEndpoint;
  readonly instanceMetadataTags: boolean;
  readonly userDataFile?: string;
  /** User data given inline in the config file or to the library. */
  readonly userData?: Buffer;
  readonly tags: Readonly<Record<string, string>>;
  readonly metadata: Readonly<Record<string, string>>;
  /** A captured instance's tree, replayed byte for byte with live credentials and signatures (docs/replay.md). */
  readonly captured?: CapturedTree;
  readonly events: readonly ScheduledEvent[];
  /** EC2's HttpPutResponseHopLimit, and how many routed hops this instance's callers sit behind. */
  readonly httpPutResponseHopLimit: number;
  readonly hops: number;
  /** Requests a second before this instance's callers are throttled; unlimited when unset. */
  readonly requestRateLimit?: number;
}

/** An `instances:` entry: its own instance, for the callers it names. */
export interface NamedInstanceConfig extends InstanceConfig {
  readonly name: string;
  readonly callers: readonly CallerSpec[];
  /** A template: each distinct caller address it matches gets an instance of its own. */
  readonly onePerCaller: boolean;
}

export type UnknownCallers = (typeof UNKNOWN_CALLERS)[number];

/** The top-level instance's settings, the daemon's, and the `instances:` entries (empty: one instance for every caller). */
export interface Config extends InstanceConfig {
  readonly hosts: readonly string[];
  readonly port: number;
  readonly instances: readonly NamedInstanceConfig[];
  /** Node mode: the pods of this node are the callers, each its own instance. */
  readonly kubernetes?: KubernetesSettings;
  /** With `instances`, what a caller no entry names gets. */
  readonly unknownCallers: UnknownCallers;
  readonly admin?: { readonly host: string; readonly port: number; readonly token?: string };
  readonly allowHosts: readonly string[];
  /** Undefined: loopback and the listen addresses' own networks, found when listening. */
  readonly allowCidrs?: readonly string[];
  /** Undefined: derived from the open-file limit when listening (src/limits.ts). */
  readonly maxConnections?: number;
  readonly containerCredentials?: ContainerCredentialsSettings;
  readonly logLevel: LogLevel;
  /** Fault rules in force from the start (src/faults/). */
  readonly faults: readonly FaultRule[];
  /** A scenario file to play from the start. */
  readonly scenario?: string;
  readonly logFormat: LogFormat;
  /** Keep retrying a first STS failure that only the user can fix, instead of stopping the start. */
  readonly waitForCredentials: boolean;
  /** Mistakes that do not stop the start (a misspelt IMDS_EMULATOR_* variable), for the log. */
  readonly warnings: readonly string[];
  /** Reads an instance entry given at run time, over the top level's settings, as the file's entries are read. */
  readonly entry: (data: Readonly<Record<string, unknown>>, where: string) => NamedInstanceConfig;
}

/** A config file's content, already parsed; `path` names it in error messages. */
export interface ConfigFile {
  readonly path: string;
  readonly data: unknown;
}

/** A value as given and where it came from (`--port`, `IMDS_EMULATOR_PORT`, `instance.yaml: port`), for messages. */
interface RawValue {
  readonly value: unknown;
  readonly origin: string;
}
type Raw = Map<string, RawValue>;

const NAMES = OPTIONS.map((option) => option.name);

function defaults(): Raw {
  const raw: Raw = new Map();
  for (const option of OPTIONS) {
    if (option.default !== undefined) raw.set(option.name, { value: String(option.default), origin: `--${option.name}` });
  }
  return raw;
}

function readFile(file: ConfigFile, raw: Raw): DescriptionSections {
  if (!isMapping(file.data)) {
    throw new ConfigError(`${file.path}: expected a mapping of option names to values at the top level`);
  }
  for (const [key, value] of Object.entries(file.data)) {
    const where = `${file.path}: ${key}`;
    if (SECTION_KEYS.includes(key) || key === "instances") continue;
    // `faults:` is a list of rules, written as mappings or in --fault's compact form.
    if (key === "faults") {
      raw.set("fault", { value: Array.isArray(value) ? value : [value], origin: where });
      continue;
    }
    if (!OPTION_BY_NAME.has(key) || key === "config") {
      const hint = nearest(key, [...NAMES, ...SECTION_KEYS, "instances", "faults"]);
      throw new ConfigError(
        `${file.path}: unknown key "${key}"; ${hint === undefined ? "" : `did you mean "${hint}"? `}expected an option name (see --help), instances or ${SECTION_KEYS.join(", ")}`,
      );
    }
    setFromFile(raw, key, value, where);
  }
  return readSections(file.path, file.data);
}

function setFromFile(raw: Raw, key: string, value: unknown, where: string): void {
  const values = Array.isArray(value) ? value.map(scalar) : [scalar(value)];
  if (values.some((item) => item === undefined)) throw expected(where, "a text or number value", value);
  raw.set(key, { value: Array.isArray(value) ? values : values[0], origin: where });
}

const ENTRY_KEYS = ["name", "callers", "one-per-caller"];
const INSTANCE_OPTIONS: readonly string[] = OPTIONS.filter((option) => option.scope === "instance").map((option) => option.name);
const INSTANCE_NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
/** What makes one machine: an entry never inherits these, so no two instances share an id, a MAC or an address. */
const ONE_MACHINE_ONLY: readonly string[] = ["instance-id", "mac", "local-ipv4", "public-ipv4"];

/**
 * The `instances:` list. Each entry starts from the top level's instance settings, whatever set them
 * (file, environment, command line), and replaces those it names: options and description sections
 * alike (an entry's `tags` replace the top level's, they are not merged). What identifies one machine
 * (instance id, MAC, addresses, interfaces) is never inherited.
 */
function readInstances(file: ConfigFile, top: Raw, topSections: DescriptionSections, warnings: string[]): NamedInstanceConfig[] {
  const list = (file.data as Record<string, unknown>).instances;
  if (list === undefined) return [];
  const where = `${file.path}: instances`;
  if (!Array.isArray(list) || list.length === 0) throw expected(where, "a list of instances, each with a name and callers", list);
  const names = new Set<string>();
  const entries = list.map((entry, index): NamedInstanceConfig => {
    const read = readEntry(entry, `${where}[${index}]`, (name) => `${where}[${name}]`, top, topSections, warnings);
    if (names.has(read.name)) throw new ConfigError(`${where}[${index}].name: ${read.name} is the name of an earlier entry too`);
    names.add(read.name);
    return read;
  });
  checkOverlaps(entries.map((entry) => ({ where: `${where}[${entry.name}]`, callers: entry.callers })));
  return entries;
}

/** One entry over the top level's settings; `at` names it before its name is known, `named` after. */
function readEntry(
  entry: unknown,
  at: string,
  named: (name: string) => string,
  top: Raw,
  topSections: DescriptionSections,
  warnings: string[],
): NamedInstanceConfig {
  if (!isMapping(entry)) throw expected(at, "a mapping with name, callers and instance options", entry);
  const name = entry.name;
  if (typeof name !== "string" || !INSTANCE_NAME.test(name)) throw expected(`${at}.name`, "a name of lower-case letters, digits and -", name);
  if (name === "default") throw new ConfigError(`${at}.name: default is the top-level instance's name; choose another`);
  const entryWhere = named(name);
  if (entry.callers === undefined) throw new ConfigError(`${entryWhere}: callers is required (addresses, networks or DNS names)`);
  const onePerCaller = entry["one-per-caller"] ?? false;
  if (typeof onePerCaller !== "boolean") throw expected(`${entryWhere}.one-per-caller`, "true or false", onePerCaller);
  const raw: Raw = new Map([...top].filter(([option]) => INSTANCE_OPTIONS.includes(option) && !ONE_MACHINE_ONLY.includes(option)));
  const sectionData: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(entry)) {
    if (ENTRY_KEYS.includes(key)) continue;
    if (SECTION_KEYS.includes(key)) sectionData[key] = value;
    else if (INSTANCE_OPTIONS.includes(key)) setFromFile(raw, key, value, `${entryWhere}.${key}`);
    else if (OPTION_BY_NAME.has(key)) throw new ConfigError(`${entryWhere}: ${key} is daemon-wide; set it at the top level`);
    else {
      const hint = nearest(key, [...INSTANCE_OPTIONS, ...SECTION_KEYS, ...ENTRY_KEYS]);
      throw new ConfigError(`${entryWhere}: unknown key "${key}"${hint === undefined ? "" : `; did you mean "${hint}"?`}`);
    }
  }
  const own = readSections(entryWhere, sectionData);
  const sections: DescriptionSections = {
    metadata: "metadata" in sectionData ? own.metadata : topSections.metadata,
    tags: "tags" in sectionData ? own.tags : topSections.tags,
    userData: "user-data" in sectionData ? own.userData : topSections.userData,
    captured: "captured" in sectionData ? own.captured : topSections.captured,
    secondaryInterfaces: own.secondaryInterfaces,
    settings: { ...topSections.settings, ipv6: undefined, ...own.settings },
  };
  const callers = parseCallers(`${entryWhere}.callers`, entry.callers);
  const settings = buildInstance(new Values(raw), sections, entryWhere, warnings, (option) => option in entry);
  // A container sees its own address: an entry for one IPv4 address serves it as local-ipv4.
  const own4 = callers.length === 1 && !onePerCaller ? singleAddress(callers[0]!) : undefined;
  const instance = settings.instance.localIpv4 === undefined && own4?.includes(".") ? { ...settings.instance, localIpv4: own4 } : settings.instance;
  return { ...settings, instance, name, callers, onePerCaller };
}

/** Reads IMDS_EMULATOR_* variables; returns a warning for each one that names no option. */
function readEnv(env: NodeJS.ProcessEnv, raw: Raw): string[] {
  // Made at the first variable with the prefix: most starts set none.
  let known: Map<string, OptionName> | undefined;
  const warnings: string[] = [];
  for (const [variable, value] of Object.entries(env)) {
    if (!variable.startsWith(ENV_PREFIX) || value === undefined) continue;
    known ??= new Map(NAMES.map((name) => [envName(name), name]));
    const name = known.get(variable);
    if (name === undefined) {
      const hint = nearest(variable, [...known.keys()]);
      warnings.push(`${variable} is not an option and is ignored${hint === undefined ? "" : `; did you mean ${hint}?`}`);
      continue;
    }
    if (value === "") continue;
    const option = OPTION_BY_NAME.get(name)!;
    raw.set(name, { value: option.repeatable ? value.split(option.envSeparator ?? /[\s,]+/).filter(Boolean) : value, origin: variable });
  }
  return warnings;
}

function readCli(cli: Record<string, unknown>, raw: Raw): void {
  for (const option of OPTIONS) {
    const value = cli[option.name];
    if (value === undefined) continue;
    // As on most command lines, a repeated single-value option takes its last value.
    const values = (Array.isArray(value) ? value : [value]).map(String);
    raw.set(option.name, { value: option.repeatable ? values : values.at(-1), origin: `--${option.name}` });
  }
}

/** The typed options of the library, checked by the same parsers. */
function readLibrary(options: TypedOptions, raw: Raw): void {
  for (const option of OPTIONS) {
    const value = (options as Record<string, unknown>)[camelName(option.name)];
    if (value !== undefined) raw.set(option.name, { value, origin: `startEmulator: ${option.name}` });
  }
}

/** Each option's value, parsed by its own entry of the schema; every given value is checked, used or not. */
class Values {
  private readonly parsed = new Map<string, unknown>();

  constructor(private readonly raw: Raw) {
    for (const [name, entry] of raw) {
      const option = OPTION_BY_NAME.get(name)!;
      let value = entry.value;
      if (!option.repeatable && Array.isArray(value)) {
        if (value.length > 1) throw new ConfigError(`${entry.origin}: given more than once; it takes one value`);
        value = value[0];
      }
      this.parsed.set(name, option.parse(value, entry.origin));
    }
  }

  origin(name: OptionName): string {
    return this.raw.get(name)?.origin ?? `--${name}`;
  }

  get<N extends OptionName>(name: N): ValueOf<N> | undefined {
    return this.parsed.get(name) as ValueOf<N> | undefined;
  }

  /** An option with a default: always has a value. */
  must<N extends OptionName>(name: N): ValueOf<N> {
    return this.get(name)!;
  }

  list<N extends OptionName>(name: N): NonNullable<ValueOf<N>> | [] {
    return this.get(name) ?? [];
  }
}

function scheduledEvents(read: Values): ScheduledEvent[] {
  const events: ScheduledEvent[] = [];
  const spotAfter = read.get("spot-interruption-after");
  if (spotAfter !== undefined) events.push({ request: { kind: "spot-interruption", action: read.must("spot-action") }, afterMs: spotAfter });
  const rebalanceAfter = read.get("rebalance-after");
  if (rebalanceAfter !== undefined) events.push({ request: { kind: "rebalance-recommendation" }, afterMs: rebalanceAfter });
  const maintenanceAfter = read.get("maintenance-after");
  if (maintenanceAfter !== undefined) {
    events.push({ request: { kind: "maintenance", code: read.must("maintenance-code") }, afterMs: maintenanceAfter });
  }
  for (const { state, afterMs } of read.list("target-lifecycle-state")) {
    events.push({ request: { kind: "target-lifecycle-state", state }, afterMs });
  }
  return events;
}

function only(read: Values, names: readonly OptionName[], condition: boolean, what: string): void {
  for (const name of names) {
    if (!condition && read.get(name) !== undefined) throw new ConfigError(`${read.origin(name)}: only meaningful with ${what}`);
  }
}

/** The rules between an instance's options, and the settings they make. Each single option was checked by its parser. */
function buildInstance(
  read: Values,
  sections: DescriptionSections,
  sectionsOrigin: string,
  warnings: string[],
  checked: (name: OptionName) => boolean = () => true,
): InstanceConfig {
  const durationSeconds = read.must("duration-seconds");
  const rotateBeforeSeconds = read.get("rotate-before");
  if (rotateBeforeSeconds !== undefined && rotateBeforeSeconds >= durationSeconds) {
    throw expected(read.origin("rotate-before"), `an integer from 1 to ${durationSeconds - 1}`, String(rotateBeforeSeconds));
  }
  if (rotateBeforeSeconds !== undefined && rotateBeforeSeconds < SDK_REFRESH_WINDOW_SECONDS) {
    warnings.push(
      `${read.origin("rotate-before")} ${rotateBeforeSeconds}: served credentials will come within ${Math.ceil(rotateBeforeSeconds / 60)} minutes of expiry; ` +
        "botocore reads a set with under 20 minutes left as an outage and extends it past expiry, and JS v3 calls one with under 5 minutes expired. " +
        `Keep it at ${SDK_REFRESH_WINDOW_SECONDS} or more (default 1800)`,
    );
  }
  const region = read.must("region");
  const role = read.get("role-arn");
  const stsOptions = (["role-session-name", "external-id", "web-identity-token-file", "sts-region", "sts-endpoint"] as const).filter(checked);
  only(read, stsOptions, role !== undefined, "--role-arn");
  const availabilityZone = read.get("availability-zone");
  if (availabilityZone !== undefined && availabilityZone.slice(0, -1) !== region) {
    throw expected(read.origin("availability-zone"), `a zone of ${region}`, availabilityZone);
  }
  const userDataFile = read.get("user-data-file");
  if (userDataFile !== undefined && sections.userData !== undefined) {
    throw new ConfigError(`${sectionsOrigin}: user-data and ${read.origin("user-data-file")} both give user data; keep one`);
  }
  return {
    roleName: read.get("role-name") ?? role?.roleName ?? DEFAULT_ROLE_NAME,
    sts:
      role === undefined
        ? undefined
        : {
            roleArn: role.arn,
            roleSessionName: read.get("role-session-name"),
            externalId: read.get("external-id"),
            webIdentityTokenFile: read.get("web-identity-token-file"),
            region: read.get("sts-region") ?? region,
            endpoint: read.get("sts-endpoint"),
          },
    durationSeconds,
    rotateBeforeSeconds,
    instance: {
      region,
      availabilityZone,
      accountId: read.get("account-id") ?? role?.accountId,
      instanceId: read.get("instance-id"),
      instanceType: read.must("instance-type"),
      amiId: read.get("ami-id"),
      localIpv4: read.get("local-ipv4"),
      publicIpv4: read.get("public-ipv4"),
      mac: read.get("mac"),
      instanceLifeCycle: read.must("instance-life-cycle"),
      secondaryInterfaces: sections.secondaryInterfaces,
      ...sections.settings,
    },
    httpTokens: read.must("http-tokens"),
    httpEndpoint: read.must("http-endpoint"),
    instanceMetadataTags: read.must("instance-metadata-tags") === "enabled",
    userDataFile,
    userData: sections.userData,
    tags: sections.tags,
    metadata: sections.metadata,
    captured: sections.captured,
    events: scheduledEvents(read),
    httpPutResponseHopLimit: read.must("http-put-response-hop-limit"),
    hops: read.must("hops"),
    requestRateLimit: read.get("request-rate-limit"),
  };
}

/** The daemon-wide rules, over the top-level instance and the `instances:` entries. */
function build(read: Values, top: InstanceConfig, instances: readonly NamedInstanceConfig[], warnings: string[]): Omit<Config, "entry"> {
  const adminPort = read.get("admin-port");
  const adminHost = read.must("admin-host");
  const adminToken = read.get("admin-token");
  if (adminToken !== undefined && adminToken.length < 16) {
    throw expected(read.origin("admin-token"), "at least 16 characters", `${adminToken.length} characters`);
  }
  if (adminPort !== undefined && !isLoopback(adminHost) && adminToken === undefined) {
    throw new ConfigError(`${read.origin("admin-host")}: ${adminHost} is not loopback; set --admin-token (IMDS_EMULATOR_ADMIN_TOKEN) too`);
  }
  const containerPath = read.get("container-credentials-path");
  const containerToken = read.get("container-auth-token");
  const containerTokenFile = read.get("container-auth-token-file");
  if (containerPath !== undefined && (containerToken === undefined) === (containerTokenFile === undefined)) {
    throw new ConfigError(`${read.origin("container-credentials-path")}: give exactly one of --container-auth-token and --container-auth-token-file`);
  }
  only(read, ["container-auth-token", "container-auth-token-file"], containerPath !== undefined, "--container-credentials-path");
  if (containerPath !== undefined && top.httpEndpoint === "disabled") {
    warnings.push(`${read.origin("container-credentials-path")}: with --http-endpoint disabled the whole metadata port answers 403, this path too`);
  }
  const unknownCallers = read.get("unknown-callers");
  if (unknownCallers !== undefined && instances.length === 0) {
    warnings.push(`${read.origin("unknown-callers")}: only meaningful with an instances: list in the config file; every caller gets the one instance`);
  }
  const allowCidrs = read.list("allow-cidr");
  const nodeName = read.get("kubernetes-node-name");
  only(read, ["pod-interface", "remove-node-taint"], nodeName !== undefined, "--kubernetes-node-name");
  if (nodeName !== undefined && instances.length > 0) {
    throw new ConfigError(`${read.origin("kubernetes-node-name")}: the node's pods are the instances; the config file's instances: list cannot be used with it`);
  }
  return {
    ...top,
    hosts: read.must("host"),
    port: read.must("port"),
    admin: adminPort === undefined ? undefined : { host: adminHost, port: adminPort, token: adminToken },
    allowHosts: read.list("allow-host"),
    allowCidrs: allowCidrs.length === 0 ? undefined : allowCidrs,
    maxConnections: read.get("max-connections"),
    containerCredentials:
      containerPath === undefined ? undefined : { path: containerPath, token: containerToken, tokenFile: containerTokenFile },
    logLevel: read.must("log-level"),
    instances,
    kubernetes: nodeName === undefined ? undefined : { nodeName, podInterfaces: read.list("pod-interface"), removeTaint: read.get("remove-node-taint") },
    unknownCallers: unknownCallers ?? "deny",
    faults: read.list("fault"),
    scenario: read.get("scenario"),
    logFormat: read.must("log-format"),
    waitForCredentials: read.must("wait-for-credentials"),
    warnings,
  };
}

const NO_SECTIONS: DescriptionSections = { metadata: {}, tags: {} };

/**
 * Layers the sources (defaults < config file < IMDS_EMULATOR_* < command line) and validates the
 * result. Pure: files are read by the caller.
 */
export function resolveConfig(cli: Record<string, unknown>, env: NodeJS.ProcessEnv, file?: ConfigFile): Config {
  const raw = defaults();
  const sections = file === undefined ? NO_SECTIONS : readFile(file, raw);
  const warnings = readEnv(env, raw);
  readCli(cli, raw);
  const instances = file === undefined ? [] : readInstances(file, raw, sections, warnings);
  // With instances (or pods), the top level's STS settings are their defaults, meaningful without a role of its own.
  const defaultsOnly = instances.length > 0 || raw.has("kubernetes-node-name");
  // Parsed once: every option's value, defaults included, goes through its parser.
  const values = new Values(raw);
  const top = buildInstance(values, sections, file?.path ?? "config", warnings, () => !defaultsOnly);
  return { ...build(values, top, instances, warnings), entry: entryReader(raw, sections) };
}

/** Reads entries made at run time (a Kubernetes pod's annotations) as the file's entries are read. */
function entryReader(raw: Raw, sections: DescriptionSections): Config["entry"] {
  return (data, where) => readEntry(data, where, () => where, raw, sections, []);
}

/**
 * The library's typed options over the defaults; its description sections come as values too, and
 * its `instances` as the config file's entries are written.
 */
export function resolveLibraryOptions(options: TypedOptions, sections: DescriptionSections, instances?: readonly unknown[]): Config {
  const raw = defaults();
  raw.set("host", { value: ["127.0.0.1"], origin: "startEmulator: host" });
  raw.set("port", { value: 0, origin: "startEmulator: port" });
  readLibrary(options, raw);
  const warnings: string[] = [];
  const entries = instances === undefined ? [] : readInstances({ path: "startEmulator()", data: { instances } }, raw, sections, warnings);
  const values = new Values(raw);
  const top = buildInstance(values, sections, "startEmulator()", warnings, () => entries.length === 0);
  return { ...build(values, top, entries, warnings), entry: entryReader(raw, sections) };
}
