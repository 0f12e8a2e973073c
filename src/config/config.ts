import { isIP } from "node:net";
import type { InstanceSettings } from "../instance/instance";
import type { LogLevel } from "../log";
import type { HttpEndpoint, HttpTokens } from "../imds/handler";
import { parseRoleArn } from "../credentials/sts";
import { OPTIONS, envName } from "./options";

export const MAX_USER_DATA_BYTES = 16 * 1024;
export const DEFAULT_ROLE_NAME = "imds-emulator";

/** A bad value, named for the person who typed it: the CLI prints the message alone and exits 2. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

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
  readonly tags: Readonly<Record<string, string>>;
  readonly metadata: Readonly<Record<string, string>>;
  readonly admin?: { readonly host: string; readonly port: number };
  readonly logLevel: LogLevel;
}

/** A config file's content, already parsed; `path` names it in error messages. */
export interface ConfigFile {
  readonly path: string;
  readonly data: unknown;
}

type Raw = Map<string, string | string[]>;

const FILE_SECTIONS = ["metadata", "tags"] as const;
const OPTION_NAMES = new Set(OPTIONS.map((option) => option.name));

function scalar(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return undefined;
}

function stringMap(file: ConfigFile, key: string, value: unknown): Record<string, string> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ConfigError(`${file.path}: "${key}" must be a mapping of names to text values`);
  }
  const out: Record<string, string> = {};
  for (const [name, item] of Object.entries(value)) {
    const text = scalar(item);
    if (text === undefined) throw new ConfigError(`${file.path}: "${key}.${name}" must be a text value`);
    out[name] = text;
  }
  return out;
}

function readFile(file: ConfigFile, raw: Raw): { metadata: Record<string, string>; tags: Record<string, string> } {
  const sections = { metadata: {}, tags: {} };
  if (typeof file.data !== "object" || file.data === null || Array.isArray(file.data)) {
    throw new ConfigError(`${file.path}: expected a mapping of option names to values at the top level`);
  }
  for (const [key, value] of Object.entries(file.data)) {
    if ((FILE_SECTIONS as readonly string[]).includes(key)) {
      sections[key as (typeof FILE_SECTIONS)[number]] = stringMap(file, key, value);
      continue;
    }
    if (!OPTION_NAMES.has(key) || key === "config") {
      throw new ConfigError(`${file.path}: unknown key "${key}"; expected an option name (see --help), metadata or tags`);
    }
    const values = Array.isArray(value) ? value.map(scalar) : [scalar(value)];
    if (values.some((item) => item === undefined)) {
      throw new ConfigError(`${file.path}: "${key}" must be a text or number value`);
    }
    raw.set(key, Array.isArray(value) ? (values as string[]) : values[0]!);
  }
  return sections;
}

function readEnv(env: NodeJS.ProcessEnv, raw: Raw): void {
  for (const option of OPTIONS) {
    const value = env[envName(option.name)];
    if (value === undefined || value === "") continue;
    raw.set(option.name, option.repeatable ? value.split(/[\s,]+/).filter(Boolean) : value);
  }
}

function readCli(cli: Record<string, unknown>, raw: Raw): void {
  for (const option of OPTIONS) {
    const value = cli[option.name];
    if (value === undefined) continue;
    raw.set(option.name, Array.isArray(value) ? value.map(String) : String(value));
  }
}

class Reader {
  constructor(private readonly raw: Raw) {}

  text(name: string): string | undefined {
    const value = this.raw.get(name);
    if (Array.isArray(value)) {
      if (value.length > 1) throw new ConfigError(`--${name}: given more than once; it takes one value`);
      return value[0];
    }
    return value;
  }

  list(name: string): string[] {
    const value = this.raw.get(name);
    return value === undefined ? [] : Array.isArray(value) ? value : [value];
  }

  matching(name: string, pattern: RegExp, expected: string): string | undefined {
    const value = this.text(name);
    if (value !== undefined && !pattern.test(value)) {
      throw new ConfigError(`--${name}: expected ${expected}, got "${value}"`);
    }
    return value;
  }

  integer(name: string, min: number, max: number): number | undefined {
    const value = this.text(name);
    if (value === undefined) return undefined;
    const number = Number(value);
    if (!/^[0-9]+$/.test(value) || number < min || number > max) {
      throw new ConfigError(`--${name}: expected an integer from ${min} to ${max}, got "${value}"`);
    }
    return number;
  }

  choice<T extends string>(name: string): T | undefined {
    const value = this.text(name);
    const choices = OPTIONS.find((option) => option.name === name)?.choices ?? [];
    if (value !== undefined && !choices.includes(value)) {
      throw new ConfigError(`--${name}: expected one of ${choices.join(", ")}, got "${value}"`);
    }
    return value as T | undefined;
  }
}

const REGION = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]+$/;
const IPV4 = /^(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])){3}$/;

function defaultsOf(): Raw {
  const raw: Raw = new Map();
  for (const option of OPTIONS) {
    if (option.default !== undefined) raw.set(option.name, String(option.default));
  }
  return raw;
}

/**
 * Layers the sources (defaults < config file < IMDS_EMULATOR_* < command line) and validates the
 * result. Pure: files are read by the caller.
 */
export function resolveConfig(cli: Record<string, unknown>, env: NodeJS.ProcessEnv, file?: ConfigFile): Config {
  const raw = defaultsOf();
  const sections = file === undefined ? { metadata: {}, tags: {} } : readFile(file, raw);
  readEnv(env, raw);
  readCli(cli, raw);
  const read = new Reader(raw);

  const hosts = read.list("host");
  for (const host of hosts) {
    if (isIP(host) === 0 && host !== "localhost") {
      throw new ConfigError(`--host: expected an IPv4 or IPv6 address or localhost, got "${host}"`);
    }
  }
  const port = read.integer("port", 0, 65535)!;
  const durationSeconds = read.integer("duration-seconds", 900, 43200)!;
  const rotateBeforeSeconds = read.integer("rotate-before", 1, durationSeconds - 1);
  const region = read.matching("region", REGION, "an AWS region such as us-east-1")!;

  const roleArn = read.text("role-arn");
  const parsedArn = roleArn === undefined ? undefined : parseRoleArn(roleArn);
  if (roleArn !== undefined && parsedArn === undefined) {
    throw new ConfigError(`--role-arn: expected an IAM role ARN such as arn:aws:iam::123456789012:role/name, got "${roleArn}"`);
  }
  const webIdentityTokenFile = read.text("web-identity-token-file");
  const stsEndpoint = read.text("sts-endpoint");
  if (stsEndpoint !== undefined && !/^https?:\/\/[^/\s]+/.test(stsEndpoint)) {
    throw new ConfigError(`--sts-endpoint: expected a URL such as http://127.0.0.1:5000, got "${stsEndpoint}"`);
  }
  for (const name of ["role-session-name", "external-id", "web-identity-token-file", "sts-region", "sts-endpoint"]) {
    if (roleArn === undefined && read.text(name) !== undefined) {
      throw new ConfigError(`--${name}: only meaningful with --role-arn`);
    }
  }
  const roleSessionName = read.matching("role-session-name", /^[\w+=,.@-]{2,64}$/, "2 to 64 characters of letters, digits and +=,.@_-");
  const sts: StsSettings | undefined =
    roleArn === undefined
      ? undefined
      : {
          roleArn,
          roleSessionName,
          externalId: read.matching("external-id", /^[\w+=,.@:/-]{2,1224}$/, "2 to 1224 characters of letters, digits and +=,.@:/_-"),
          webIdentityTokenFile,
          region: read.matching("sts-region", REGION, "an AWS region such as us-east-1") ?? region,
          endpoint: stsEndpoint,
        };

  const adminPort = read.integer("admin-port", 0, 65535);
  const adminHost = read.text("admin-host")!;
  if (isIP(adminHost) === 0 && adminHost !== "localhost") {
    throw new ConfigError(`--admin-host: expected an IPv4 or IPv6 address or localhost, got "${adminHost}"`);
  }

  const instance: InstanceSettings = {
    region,
    availabilityZone: read.matching("availability-zone", /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]+[a-z]$/, "a zone of the region such as us-east-1a"),
    accountId: read.matching("account-id", /^[0-9]{12}$/, "12 digits") ?? parsedArn?.accountId,
    instanceId: read.matching("instance-id", /^i-([0-9a-f]{8}|[0-9a-f]{17})$/, "i- and 8 or 17 hexadecimal digits"),
    instanceType: read.matching("instance-type", /^[a-z0-9-]+\.[a-z0-9-]+$/, "an instance type such as t3.micro"),
    amiId: read.matching("ami-id", /^ami-([0-9a-f]{8}|[0-9a-f]{17})$/, "ami- and 8 or 17 hexadecimal digits"),
    localIpv4: read.matching("local-ipv4", IPV4, "an IPv4 address"),
    publicIpv4: read.matching("public-ipv4", IPV4, "an IPv4 address"),
    mac: read.matching("mac", /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/, "a lower-case MAC address such as 0e:12:34:56:78:9a"),
  };
  if (instance.availabilityZone !== undefined && !instance.availabilityZone.startsWith(region)) {
    throw new ConfigError(`--availability-zone: expected a zone of ${region}, got "${instance.availabilityZone}"`);
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
    httpTokens: read.choice<HttpTokens>("http-tokens")!,
    httpEndpoint: read.choice<HttpEndpoint>("http-endpoint")!,
    instanceMetadataTags: read.choice("instance-metadata-tags") === "enabled",
    userDataFile: read.text("user-data-file"),
    tags: sections.tags,
    metadata: sections.metadata,
    admin: adminPort === undefined ? undefined : { host: adminHost, port: adminPort },
    logLevel: read.choice<LogLevel>("log-level")!,
  };
}
