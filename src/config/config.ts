import { isIP } from "node:net";
import { parseRoleArn } from "../credentials/arn";
import { parseCidr } from "../imds/guards";
import type { HttpEndpoint, HttpTokens } from "../imds/handler";
import {
  LIFECYCLE_STATES,
  MAINTENANCE_CODES,
  SPOT_ACTIONS,
  type ScheduledEvent,
} from "../instance/events";
import type { InstanceLifeCycle, InstanceSettings, SecondaryInterfaceSettings } from "../instance/instance";
import type { LogLevel } from "../log";
import { ConfigError, duration, expected, metadataPath, oneOf } from "../validation";
import { OPTIONS, envName } from "./options";

export { ConfigError } from "../validation";

export const MAX_USER_DATA_BYTES = 16 * 1024;
export const DEFAULT_ROLE_NAME = "imds-emulator";

export interface StsSettings {
  readonly roleArn: string;
  readonly roleSessionName?: string;
  readonly externalId?: string;
  readonly webIdentityTokenFile?: string;
  readonly region: string;
  readonly endpoint?: string;
}

export interface Config {
  readonly hosts: readonly string[];
  readonly port: number;
  readonly roleName: string;
  readonly sts?: StsSettings;
  readonly durationSeconds: number;
  readonly rotateBeforeSeconds?: number;
  readonly instance: InstanceSettings;
  readonly httpTokens: HttpTokens;
  readonly httpEndpoint: HttpEndpoint;
  readonly instanceMetadataTags: boolean;
  readonly userDataFile?: string;
  /** User data given inline in the config file. */
  readonly userData?: Buffer;
  readonly tags: Readonly<Record<string, string>>;
  readonly metadata: Readonly<Record<string, string>>;
  readonly events: readonly ScheduledEvent[];
  readonly admin?: { readonly host: string; readonly port: number; readonly token?: string };
  readonly allowHosts: readonly string[];
  /** Undefined: loopback and the listen addresses' own networks, found when listening. */
  readonly allowCidrs?: readonly string[];
  /** Undefined: derived from the open-file limit when listening (src/limits.ts). */
  readonly maxConnections?: number;
  readonly containerCredentials?: ContainerCredentialsSettings;
  readonly logLevel: LogLevel;
}

/** The ECS-style endpoint: its path on the metadata port, and the token (or the file holding it). */
export interface ContainerCredentialsSettings {
  readonly path: string;
  readonly token?: string;
  readonly tokenFile?: string;
}

/** A config file's content, already parsed; `path` names it in error messages. */
export interface ConfigFile {
  readonly path: string;
  readonly data: unknown;
}

/** A value and where it came from (`--port`, `IMDS_EMULATOR_PORT`, `instance.yaml: port`), for messages. */
interface RawValue {
  readonly value: string | string[];
  readonly origin: string;
}
type Raw = Map<string, RawValue>;

const OPTION_NAMES = new Set(OPTIONS.map((option) => option.name));
const REGION = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]+$/;
const IPV4 = /^(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])){3}$/;
const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;
/** EC2 serves only tags whose keys fit a path segment: no `/`, and not `.` or `..`. */
const TAG_KEY = /^(?!\.{1,2}$)[\w +\-=.,:@]{1,128}$/;

export function checkTag(where: string, key: string, value: string): void {
  if (!TAG_KEY.test(key)) {
    throw expected(where, "a tag key of 1 to 128 letters, digits, spaces and + - = . , _ : @ (EC2 serves no others)", key);
  }
  if (value.length > 256) throw expected(`${where}.${key}`, "a tag value of at most 256 characters", value);
}

function scalar(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return undefined;
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function stringMap(where: string, value: unknown): Record<string, string> {
  if (!isMapping(value)) throw new ConfigError(`${where}: expected a mapping of names to text values`);
  const out: Record<string, string> = {};
  for (const [name, item] of Object.entries(value)) {
    const text = scalar(item);
    if (text === undefined) throw new ConfigError(`${where}.${name}: expected a text value`);
    out[name] = text;
  }
  return out;
}

function secondaryInterfaces(where: string, value: unknown): SecondaryInterfaceSettings[] {
  if (!Array.isArray(value)) throw new ConfigError(`${where}: expected a list of interfaces after the primary one`);
  return value.map((item, index) => {
    const at = `${where}[${index}]`;
    if (!isMapping(item)) throw new ConfigError(`${at}: expected a mapping with mac, local-ipv4, public-ipv4, subnet-id, security-group-ids`);
    const { "security-group-ids": groups, ...scalars } = item;
    const fields = stringMap(at, scalars);
    for (const key of Object.keys(item)) {
      if (!["mac", "local-ipv4", "public-ipv4", "subnet-id", "security-group-ids"].includes(key)) {
        throw new ConfigError(`${at}: unknown key "${key}"; expected mac, local-ipv4, public-ipv4, subnet-id, security-group-ids`);
      }
    }
    const check = (key: string, pattern: RegExp, what: string) => {
      const text = fields[key];
      if (text !== undefined && !pattern.test(text)) throw expected(`${at}.${key}`, what, text);
      return text;
    };
    if (groups !== undefined && !(Array.isArray(groups) && groups.every((g) => typeof g === "string" && /^sg-[0-9a-f]{8,17}$/.test(g)))) {
      throw expected(`${at}.security-group-ids`, "a list of security group ids such as sg-0123456789abcdef0", groups);
    }
    return {
      mac: check("mac", MAC, "a lower-case MAC address such as 0e:12:34:56:78:9a"),
      localIpv4: check("local-ipv4", IPV4, "an IPv4 address"),
      publicIpv4: check("public-ipv4", IPV4, "an IPv4 address"),
      subnetId: check("subnet-id", /^subnet-[0-9a-f]{8,17}$/, "a subnet id such as subnet-0123456789abcdef0"),
      securityGroupIds: groups as string[] | undefined,
    };
  });
}

interface FileSections {
  metadata: Record<string, string>;
  tags: Record<string, string>;
  userData?: Buffer;
  secondaryInterfaces?: SecondaryInterfaceSettings[];
}

function readFile(file: ConfigFile, raw: Raw): FileSections {
  const sections: FileSections = { metadata: {}, tags: {} };
  if (!isMapping(file.data)) {
    throw new ConfigError(`${file.path}: expected a mapping of option names to values at the top level`);
  }
  for (const [key, value] of Object.entries(file.data)) {
    const where = `${file.path}: ${key}`;
    if (key === "metadata") {
      const entries = Object.entries(stringMap(where, value));
      sections.metadata = Object.fromEntries(entries.map(([path, text]) => [metadataPath(where, path), text]));
    } else if (key === "tags") {
      sections.tags = stringMap(where, value);
      for (const [tag, text] of Object.entries(sections.tags)) checkTag(where, tag, text);
    } else if (key === "user-data") {
      if (typeof value !== "string") throw expected(where, "text (use user-data-file for bytes)", value);
      sections.userData = Buffer.from(value);
    } else if (key === "network-interfaces") {
      sections.secondaryInterfaces = secondaryInterfaces(where, value);
    } else if (OPTION_NAMES.has(key) && key !== "config") {
      const values = Array.isArray(value) ? value.map(scalar) : [scalar(value)];
      if (values.some((item) => item === undefined)) throw expected(where, "a text or number value", value);
      raw.set(key, { value: Array.isArray(value) ? (values as string[]) : values[0]!, origin: where });
    } else {
      throw new ConfigError(
        `${file.path}: unknown key "${key}"; expected an option name (see --help), metadata, tags, user-data or network-interfaces`,
      );
    }
  }
  return sections;
}

function readEnv(env: NodeJS.ProcessEnv, raw: Raw): void {
  for (const option of OPTIONS) {
    const name = envName(option.name);
    const value = env[name];
    if (value === undefined || value === "") continue;
    raw.set(option.name, { value: option.repeatable ? value.split(/[\s,]+/).filter(Boolean) : value, origin: name });
  }
}

function readCli(cli: Record<string, unknown>, raw: Raw): void {
  for (const option of OPTIONS) {
    const value = cli[option.name];
    if (value === undefined) continue;
    // As on most command lines, a repeated single-value option takes its last value.
    const values = (Array.isArray(value) ? value : [value]).map(String);
    raw.set(option.name, { value: option.repeatable ? values : values.at(-1)!, origin: `--${option.name}` });
  }
}

class Reader {
  constructor(private readonly raw: Raw) {}

  origin(name: string): string {
    return this.raw.get(name)?.origin ?? `--${name}`;
  }

  text(name: string): string | undefined {
    const entry = this.raw.get(name);
    if (entry === undefined) return undefined;
    if (!Array.isArray(entry.value)) return entry.value;
    if (entry.value.length > 1) throw new ConfigError(`${entry.origin}: given more than once; it takes one value`);
    return entry.value[0];
  }

  list(name: string): string[] {
    const value = this.raw.get(name)?.value;
    return value === undefined ? [] : Array.isArray(value) ? value : [value];
  }

  matching(name: string, pattern: RegExp, what: string): string | undefined {
    const value = this.text(name);
    if (value !== undefined && !pattern.test(value)) throw expected(this.origin(name), what, value);
    return value;
  }

  integer(name: string, min: number, max: number): number | undefined {
    const value = this.text(name);
    if (value === undefined) return undefined;
    if (!/^[0-9]+$/.test(value) || Number(value) < min || Number(value) > max) {
      throw expected(this.origin(name), `an integer from ${min} to ${max}`, value);
    }
    return Number(value);
  }

  choice<T extends string>(name: string, choices: readonly T[]): T | undefined {
    const value = this.text(name);
    return value === undefined ? undefined : oneOf(this.origin(name), value, choices);
  }

  duration(name: string): number | undefined {
    const value = this.text(name);
    return value === undefined ? undefined : duration(this.origin(name), value);
  }

  address(name: string, value: string): string {
    if (isIP(value) === 0 && value !== "localhost") throw expected(this.origin(name), "an IPv4 or IPv6 address or localhost", value);
    return value;
  }
}

function isLoopback(address: string): boolean {
  return address === "localhost" || address === "::1" || /^127\./.test(address);
}

function defaultsOf(): Raw {
  const raw: Raw = new Map();
  for (const option of OPTIONS) {
    if (option.default !== undefined) raw.set(option.name, { value: String(option.default), origin: `--${option.name}` });
  }
  return raw;
}

function choicesOf(name: string): readonly string[] {
  return OPTIONS.find((option) => option.name === name)?.choices ?? [];
}

function scheduledEvents(read: Reader): ScheduledEvent[] {
  const events: ScheduledEvent[] = [];
  const spotAfter = read.duration("spot-interruption-after");
  const action = read.choice("spot-action", SPOT_ACTIONS)!;
  if (spotAfter !== undefined) events.push({ request: { kind: "spot-interruption", action }, afterMs: spotAfter });
  const rebalanceAfter = read.duration("rebalance-after");
  if (rebalanceAfter !== undefined) events.push({ request: { kind: "rebalance-recommendation" }, afterMs: rebalanceAfter });
  const maintenanceAfter = read.duration("maintenance-after");
  const code = read.choice("maintenance-code", MAINTENANCE_CODES)!;
  if (maintenanceAfter !== undefined) events.push({ request: { kind: "maintenance", code }, afterMs: maintenanceAfter });
  for (const item of read.list("target-lifecycle-state")) {
    const [state, after] = item.split("@") as [string, string | undefined];
    const where = read.origin("target-lifecycle-state");
    events.push({
      request: { kind: "target-lifecycle-state", state: oneOf(where, state, LIFECYCLE_STATES) },
      afterMs: after === undefined ? 0 : duration(where, after),
    });
  }
  return events;
}

/**
 * Layers the sources (defaults < config file < IMDS_EMULATOR_* < command line) and validates the
 * result. Pure: files are read by the caller.
 */
export function resolveConfig(cli: Record<string, unknown>, env: NodeJS.ProcessEnv, file?: ConfigFile): Config {
  const raw = defaultsOf();
  const sections: FileSections = file === undefined ? { metadata: {}, tags: {} } : readFile(file, raw);
  readEnv(env, raw);
  readCli(cli, raw);
  const read = new Reader(raw);

  const hosts = read.list("host").map((host) => read.address("host", host));
  const port = read.integer("port", 0, 65535)!;
  const durationSeconds = read.integer("duration-seconds", 900, 43200)!;
  const rotateBeforeSeconds = read.integer("rotate-before", 1, durationSeconds - 1);
  const region = read.matching("region", REGION, "an AWS region such as us-east-1")!;

  const roleArn = read.text("role-arn");
  const parsedArn = roleArn === undefined ? undefined : parseRoleArn(roleArn);
  if (roleArn !== undefined && parsedArn === undefined) {
    throw expected(read.origin("role-arn"), "an IAM role ARN such as arn:aws:iam::123456789012:role/name", roleArn);
  }
  for (const name of ["role-session-name", "external-id", "web-identity-token-file", "sts-region", "sts-endpoint"]) {
    if (roleArn === undefined && read.text(name) !== undefined) {
      throw new ConfigError(`${read.origin(name)}: only meaningful with --role-arn`);
    }
  }
  const sts: StsSettings | undefined =
    roleArn === undefined
      ? undefined
      : {
          roleArn,
          roleSessionName: read.matching("role-session-name", /^[\w+=,.@-]{2,64}$/, "2 to 64 characters of letters, digits and +=,.@_-"),
          externalId: read.matching("external-id", /^[\w+=,.@:/-]{2,1224}$/, "2 to 1224 characters of letters, digits and +=,.@:/_-"),
          webIdentityTokenFile: read.text("web-identity-token-file"),
          region: read.matching("sts-region", REGION, "an AWS region such as us-east-1") ?? region,
          endpoint: read.matching("sts-endpoint", /^https?:\/\/[^/\s]+/, "a URL such as http://127.0.0.1:5000"),
        };

  const adminPort = read.integer("admin-port", 0, 65535);
  const adminHost = read.address("admin-host", read.text("admin-host")!);
  const adminToken = read.text("admin-token");
  if (adminToken !== undefined && adminToken.length < 16) {
    throw expected(read.origin("admin-token"), "at least 16 characters", `${adminToken.length} characters`);
  }
  if (adminPort !== undefined && !isLoopback(adminHost) && adminToken === undefined) {
    throw new ConfigError(`${read.origin("admin-host")}: ${adminHost} is not loopback; set --admin-token (IMDS_EMULATOR_ADMIN_TOKEN) too`);
  }
  const allowHosts = read.list("allow-host").map((name) => {
    if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/i.test(name)) {
      throw expected(read.origin("allow-host"), "a DNS name such as imds.local", name);
    }
    return name;
  });
  const allowCidrs = read.list("allow-cidr").map((cidr) => {
    if (parseCidr(cidr) === undefined) throw expected(read.origin("allow-cidr"), "an address or network such as 10.0.0.0/8 or fd00::/8", cidr);
    return cidr;
  });

  const availabilityZone = read.matching("availability-zone", /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]+[a-z]$/, "a zone such as us-east-1a");
  if (availabilityZone !== undefined && availabilityZone.slice(0, -1) !== region) {
    throw expected(read.origin("availability-zone"), `a zone of ${region}`, availabilityZone);
  }
  const instance: InstanceSettings = {
    region,
    availabilityZone,
    accountId: read.matching("account-id", /^[0-9]{12}$/, "12 digits") ?? parsedArn?.accountId,
    instanceId: read.matching("instance-id", /^i-([0-9a-f]{8}|[0-9a-f]{17})$/, "i- and 8 or 17 hexadecimal digits"),
    instanceType: read.matching("instance-type", /^[a-z0-9-]+\.[a-z0-9-]+$/, "an instance type such as t3.micro"),
    amiId: read.matching("ami-id", /^ami-([0-9a-f]{8}|[0-9a-f]{17})$/, "ami- and 8 or 17 hexadecimal digits"),
    localIpv4: read.matching("local-ipv4", IPV4, "an IPv4 address"),
    publicIpv4: read.matching("public-ipv4", IPV4, "an IPv4 address"),
    mac: read.matching("mac", MAC, "a lower-case MAC address such as 0e:12:34:56:78:9a"),
    instanceLifeCycle: read.choice<InstanceLifeCycle>("instance-life-cycle", ["on-demand", "spot"]),
    secondaryInterfaces: sections.secondaryInterfaces,
  };

  const containerPath = read.matching(
    "container-credentials-path",
    /^\/(?!latest(\/|$)|[0-9]{4}-[0-9]{2}-[0-9]{2}(\/|$)|1\.0(\/|$))[\w\-.~/]+$/,
    "a path such as /container-credentials that is not part of the metadata tree",
  );
  const containerToken = read.text("container-auth-token");
  const containerTokenFile = read.text("container-auth-token-file");
  if (containerPath !== undefined && (containerToken === undefined) === (containerTokenFile === undefined)) {
    throw new ConfigError(`${read.origin("container-credentials-path")}: give exactly one of --container-auth-token and --container-auth-token-file`);
  }
  if (containerPath === undefined && (containerToken ?? containerTokenFile) !== undefined) {
    throw new ConfigError(`${read.origin(containerToken === undefined ? "container-auth-token-file" : "container-auth-token")}: only meaningful with --container-credentials-path`);
  }

  const userDataFile = read.text("user-data-file");
  if (userDataFile !== undefined && sections.userData !== undefined) {
    throw new ConfigError(`${file!.path}: user-data and ${read.origin("user-data-file")} both give user data; keep one`);
  }
  if (sections.userData !== undefined && sections.userData.length > MAX_USER_DATA_BYTES) {
    throw expected(`${file!.path}: user-data`, `at most ${MAX_USER_DATA_BYTES} bytes`, `${sections.userData.length} bytes`);
  }

  return {
    hosts,
    port,
    roleName:
      read.matching("role-name", /^[\w+=,.@-]{1,64}$/, "an IAM role name (1 to 64 characters of letters, digits and +=,.@_-)") ??
      parsedArn?.roleName ??
      DEFAULT_ROLE_NAME,
    sts,
    durationSeconds,
    rotateBeforeSeconds,
    instance,
    httpTokens: read.choice("http-tokens", choicesOf("http-tokens") as HttpTokens[])!,
    httpEndpoint: read.choice("http-endpoint", choicesOf("http-endpoint") as HttpEndpoint[])!,
    instanceMetadataTags: read.choice("instance-metadata-tags", ["enabled", "disabled"]) === "enabled",
    userDataFile,
    userData: sections.userData,
    tags: sections.tags,
    metadata: sections.metadata,
    events: scheduledEvents(read),
    admin: adminPort === undefined ? undefined : { host: adminHost, port: adminPort, token: adminToken },
    allowHosts,
    allowCidrs: allowCidrs.length === 0 ? undefined : allowCidrs,
    maxConnections: read.integer("max-connections", 1, 65535),
    containerCredentials:
      containerPath === undefined ? undefined : { path: containerPath, token: containerToken, tokenFile: containerTokenFile },
    logLevel: read.choice("log-level", choicesOf("log-level") as LogLevel[])!,
  };
}
