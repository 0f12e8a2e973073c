import { ipVersion, parseCidr } from "../addresses";
import { LOG_FORMATS, LOG_LEVELS } from "../log";
import { parseRoleArn } from "./arn";
import { duration, expected, oneOf } from "../validation";
import { parseFaultRule, type FaultRule } from "./fault-rule";
import { LIFECYCLE_STATES, MAINTENANCE_CODES, SPOT_ACTIONS, type LifecycleState } from "./events";

/**
 * Every option of the daemon, once. Each entry carries its name, scope, parser, default, help text
 * and TypeScript type; the CLI, `IMDS_EMULATOR_<NAME>` variables, config file keys, the library's
 * typed options, `--help` and the README table all derive from this list.
 */

/** Daemon-wide, or a setting of one emulated instance (what a future per-instance entry may override). */
export type Scope = "daemon" | "instance";
export type Group = "general" | "listening" | "credentials" | "instance" | "events" | "security" | "admin" | "logging" | "kubernetes" | "faults";

/**
 * One option. `In` is what the library accepts, `Out` what the parser returns. Values from the
 * command line, the environment and config files arrive as text; the library passes typed values,
 * which the same parser checks (a cast cannot smuggle a bad value past it).
 */
export interface OptionDef<N extends string = string, In = unknown, Out = unknown> {
  readonly name: N;
  readonly scope: Scope;
  readonly group: Group;
  readonly description: string;
  /** As shown in help and docs; also the value used when nothing sets the option. */
  readonly default?: string | number;
  readonly repeatable: boolean;
  readonly choices?: readonly string[];
  /** How a repeatable option's environment variable splits into values; spaces and commas by default. */
  readonly envSeparator?: RegExp;
  /** Checks one value; `where` names its origin (`--port`, `IMDS_EMULATOR_PORT`, `c.yaml: port`). */
  readonly parse: (value: unknown, where: string) => Out;
  /** Never set: carries the library's input type. */
  readonly input?: In;
}

interface Spec<N extends string> {
  readonly name: N;
  readonly scope: Scope;
  readonly group: Group;
  readonly description: string;
  readonly default?: string | number;
}

const one = <const N extends string, In, Out>(
  spec: Spec<N>,
  parse: (value: unknown, where: string) => Out,
  choices?: readonly string[],
): OptionDef<N, In, Out> => ({ ...spec, repeatable: false, parse, ...(choices === undefined ? {} : { choices }) });

/** A repeatable option: a list on the command line (`--host a --host b`), in files, and `a,b` in the environment. */
const many = <const N extends string, In, Out>(option: OptionDef<N, In, Out>, envSeparator?: RegExp): OptionDef<N, readonly In[], Out[]> => ({
  ...option,
  repeatable: true,
  ...(envSeparator === undefined ? {} : { envSeparator }),
  input: undefined,
  parse: (value, where) => (Array.isArray(value) ? value : [value]).map((item) => option.parse(item, where)),
});

const text = <const N extends string>(spec: Spec<N>, pattern?: RegExp, what?: string) =>
  one<N, string, string>(spec, (value, where) => {
    if (typeof value !== "string" || value === "") throw expected(where, what ?? "a text value", value);
    if (pattern !== undefined && !pattern.test(value)) throw expected(where, what!, value);
    return value;
  });

const integer = <const N extends string>(spec: Spec<N>, min: number, max: number) =>
  one<N, number, number>(spec, (value, where) => {
    const ok = typeof value === "number" ? Number.isInteger(value) : typeof value === "string" && /^[0-9]+$/.test(value);
    if (!ok || Number(value) < min || Number(value) > max) throw expected(where, `an integer from ${min} to ${max}`, value);
    return Number(value);
  });

const choice = <const N extends string, const C extends readonly string[]>(spec: Spec<N>, choices: C) =>
  one<N, C[number], C[number]>(spec, (value, where) => oneOf(where, value, choices), choices);

/** `30s`, `2m`, `1h`, or seconds; parsed to milliseconds. */
const after = <const N extends string>(spec: Spec<N>) => one<N, string | number, number>(spec, (value, where) => duration(where, value));

const address = <const N extends string>(spec: Spec<N>) =>
  one<N, string, string>(spec, (value, where) => {
    if (typeof value !== "string" || (ipVersion(value) === 0 && value !== "localhost")) {
      throw expected(where, "an IPv4 or IPv6 address or localhost", value);
    }
    return value;
  });

export const REGION = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]+$/;
export const IPV4 = /^(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])){3}$/;
export const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;
const REGION_TEXT = "an AWS region such as us-east-1";
const DNS_NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/i;
/** Not part of the metadata tree: not `/latest`, a dated version or `/1.0`. */
const CONTAINER_PATH = /^\/(?!latest(\/|$)|[0-9]{4}-[0-9]{2}-[0-9]{2}(\/|$)|1\.0(\/|$))[\w\-.~/]+$/;

/** A role ARN and what it says: the account id and role name become defaults of other options. */
export interface RoleArn {
  readonly arn: string;
  readonly partition: string;
  readonly accountId: string;
  readonly roleName: string;
}

export const HTTP_TOKENS = ["optional", "required"] as const;
export const HTTP_ENDPOINT = ["enabled", "disabled"] as const;
export const ENABLED = ["enabled", "disabled"] as const;
export const LIFE_CYCLES = ["on-demand", "spot"] as const;
export const UNKNOWN_CALLERS = ["deny", "default"] as const;

/** `InService` now, or `Terminated@60s` later. */
function lifecycleTarget(value: unknown, where: string): { state: LifecycleState; afterMs: number } {
  if (typeof value !== "string") throw expected(where, `one of ${LIFECYCLE_STATES.join(", ")}, optionally @<duration>`, value);
  const [state, later] = value.split("@") as [string, string | undefined];
  return { state: oneOf(where, state, LIFECYCLE_STATES), afterMs: later === undefined ? 0 : duration(where, later) };
}

export const OPTIONS = [
  text({ name: "config", scope: "daemon", group: "general", description: "Config file (JSON or YAML): any option below, plus `metadata`, `tags`" }),
  many(address({ name: "host", scope: "daemon", group: "listening", description: "Address to listen on; repeat for more (IPv6 literals such as fd00:ec2::254 work)", default: "127.0.0.1" })),
  integer({ name: "port", scope: "daemon", group: "listening", description: "Port of the metadata service", default: 1338 }, 0, 65535),
  text({ name: "role-name", scope: "instance", group: "credentials", description: "Role name in iam/security-credentials/ (default: the role ARN's last segment, else imds-emulator)" },
    /^[\w+=,.@-]{1,64}$/, "an IAM role name (1 to 64 characters of letters, digits and +=,.@_-)"),
  one<"role-arn", string, RoleArn>(
    { name: "role-arn", scope: "instance", group: "credentials", description: "IAM role to assume with STS; without it the built-in mock source mints credentials" },
    (value, where) => {
      const parsed = typeof value === "string" ? parseRoleArn(value) : undefined;
      if (parsed === undefined) throw expected(where, "an IAM role ARN such as arn:aws:iam::123456789012:role/name", value);
      return { arn: value as string, ...parsed };
    },
  ),
  text({ name: "role-session-name", scope: "instance", group: "credentials", description: "STS role session name (default: derived from the host name)" },
    /^[\w+=,.@-]{2,64}$/, "2 to 64 characters of letters, digits and +=,.@_-"),
  text({ name: "external-id", scope: "instance", group: "credentials", description: "External id for AssumeRole" },
    /^[\w+=,.@:/-]{2,1224}$/, "2 to 1224 characters of letters, digits and +=,.@:/_-"),
  text({ name: "web-identity-token-file", scope: "instance", group: "credentials", description: "Use AssumeRoleWithWebIdentity with the token in this file, re-read at every refresh" }),
  text({ name: "sts-region", scope: "instance", group: "credentials", description: "Region of the STS endpoint (default: --region)" }, REGION, REGION_TEXT),
  text({ name: "sts-endpoint", scope: "instance", group: "credentials", description: "Full STS endpoint URL (LocalStack, moto)" },
    /^https?:\/\/[^/\s]+/, "a URL such as http://127.0.0.1:5000"),
  integer({ name: "duration-seconds", scope: "instance", group: "credentials", description: "Lifetime of each credential set, 900..43200", default: 3600 }, 900, 43200),
  one<"wait-for-credentials", boolean | string, boolean>(
    { name: "wait-for-credentials", scope: "daemon", group: "credentials", description: "When the first STS call fails for a reason only you can fix (no source credentials, access denied, a role ARN STS refuses), keep the port open and retry instead of exiting with code 2", default: "false" },
    (value, where) => {
      if (value === true || value === "true") return true;
      if (value === false || value === "false") return false;
      throw expected(where, "true or false", value);
    },
    ["true", "false"],
  ),
  integer({ name: "rotate-before", scope: "instance", group: "credentials", description: "Rotate this many seconds before expiry (default 1800; half the lifetime for sessions under 45 minutes)" }, 1, 43199),
  text({ name: "region", scope: "instance", group: "instance", description: "Region of the emulated instance", default: "us-east-1" }, REGION, REGION_TEXT),
  text({ name: "availability-zone", scope: "instance", group: "instance", description: "Availability zone (default: the region + a)" },
    /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]+[a-z]$/, "a zone such as us-east-1a"),
  text({ name: "account-id", scope: "instance", group: "instance", description: "Account id (default: from the role ARN, else generated)" }, /^[0-9]{12}$/, "12 digits"),
  text({ name: "instance-id", scope: "instance", group: "instance", description: "Instance id (default: generated from the host name)" },
    /^i-([0-9a-f]{8}|[0-9a-f]{17})$/, "i- and 8 or 17 hexadecimal digits"),
  text({ name: "instance-type", scope: "instance", group: "instance", description: "Instance type", default: "t3.micro" },
    /^[a-z0-9-]+\.[a-z0-9-]+$/, "an instance type such as t3.micro"),
  text({ name: "ami-id", scope: "instance", group: "instance", description: "AMI id (default: generated)" },
    /^ami-([0-9a-f]{8}|[0-9a-f]{17})$/, "ami- and 8 or 17 hexadecimal digits"),
  text({ name: "local-ipv4", scope: "instance", group: "instance", description: "Private IPv4 address; hostnames follow (default: generated in 172.31.0.0/16)" }, IPV4, "an IPv4 address"),
  text({ name: "public-ipv4", scope: "instance", group: "instance", description: "Public IPv4 address (default: generated in 203.0.113.0/24)" }, IPV4, "an IPv4 address"),
  text({ name: "mac", scope: "instance", group: "instance", description: "MAC address of the primary interface (default: generated)" },
    MAC, "a lower-case MAC address such as 0e:12:34:56:78:9a"),
  choice({ name: "instance-life-cycle", scope: "instance", group: "instance", description: "Instance life cycle", default: "on-demand" }, LIFE_CYCLES),
  choice({ name: "http-tokens", scope: "instance", group: "security", description: "IMDSv2 only (required) or IMDSv1 allowed too (optional)", default: "optional" }, HTTP_TOKENS),
  choice({ name: "http-endpoint", scope: "instance", group: "security", description: "Answer requests (enabled) or refuse them all with 403 (disabled)", default: "enabled" }, HTTP_ENDPOINT),
  choice({ name: "instance-metadata-tags", scope: "instance", group: "instance", description: "Serve tags/instance/ (enabled) or not (disabled)", default: "disabled" }, ENABLED),
  text({ name: "user-data-file", scope: "instance", group: "instance", description: "File served as user-data (at most 16 KiB)" }),
  after({ name: "spot-interruption-after", scope: "instance", group: "events", description: "Issue a spot interruption notice after this long (30s, 2m, 1h)" }),
  choice({ name: "spot-action", scope: "instance", group: "events", description: "Action of the spot interruption", default: "terminate" }, SPOT_ACTIONS),
  after({ name: "rebalance-after", scope: "instance", group: "events", description: "Issue a rebalance recommendation after this long" }),
  after({ name: "maintenance-after", scope: "instance", group: "events", description: "Schedule a maintenance event after this long (it starts a day later)" }),
  choice({ name: "maintenance-code", scope: "instance", group: "events", description: "Code of the maintenance event", default: "system-reboot" }, MAINTENANCE_CODES),
  many(one<"target-lifecycle-state", string, { state: LifecycleState; afterMs: number }>(
    { name: "target-lifecycle-state", scope: "instance", group: "events", description: "Auto Scaling target lifecycle state, now (InService) or later (Terminated@60s); repeatable" },
    lifecycleTarget,
  )),
  many(text({ name: "allow-host", scope: "daemon", group: "security", description: "Also answer requests whose Host is this name (DNS names are refused otherwise); repeatable" },
    DNS_NAME, "a DNS name such as imds.local")),
  many(one<"allow-cidr", string, string>(
    { name: "allow-cidr", scope: "daemon", group: "security", description: "Answer only callers in these networks; repeatable (default: loopback and the networks of the listen addresses)" },
    (value, where) => {
      if (typeof value !== "string" || parseCidr(value) === undefined) throw expected(where, "an address or network such as 10.0.0.0/8 or fd00::/8", value);
      return value;
    },
  )),
  integer({ name: "max-connections", scope: "daemon", group: "security", description: "Most connections open at once on each metadata listener; one caller may hold a quarter (default: what the open-file limit leaves, at most 1024)" }, 1, 65535),
  text({ name: "container-credentials-path", scope: "daemon", group: "credentials", description: "Also serve ECS-style container credentials at this path of the metadata port (for AWS_CONTAINER_CREDENTIALS_FULL_URI)" },
    CONTAINER_PATH, "a path such as /container-credentials that is not part of the metadata tree"),
  text({ name: "container-auth-token", scope: "daemon", group: "credentials", description: "The Authorization value container-credential clients must send (prefer the environment variable)" }),
  text({ name: "container-auth-token-file", scope: "daemon", group: "credentials", description: "File holding that Authorization value (AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE)" }),
  integer({ name: "admin-port", scope: "daemon", group: "admin", description: "Port of the loopback admin listener (health, metrics); off when unset" }, 0, 65535),
  address({ name: "admin-host", scope: "daemon", group: "admin", description: "Address of the admin listener; off loopback it needs --admin-token", default: "127.0.0.1" }),
  text({ name: "admin-token", scope: "daemon", group: "admin", description: "Bearer token the admin listener requires (prefer the environment variable: arguments show in ps)" }),
  choice({ name: "log-level", scope: "daemon", group: "logging", description: "Least level logged; debug adds one line a request", default: "info" }, LOG_LEVELS),
  choice({ name: "log-format", scope: "daemon", group: "logging", description: "JSON lines, or lines for people (pretty); auto is pretty when stderr is a terminal", default: "auto" }, LOG_FORMATS),
  text(
    { name: "kubernetes-node-name", scope: "daemon", group: "kubernetes", description: "Node mode: serve the pods of this Kubernetes node, each its own instance, from a watch of the node's pods (role from the iam.amazonaws.com/role annotation)" },
    /^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/, "a Kubernetes node name",
  ),
  many(text(
    { name: "pod-interface", scope: "daemon", group: "kubernetes", description: "Node mode: redirect packets for 169.254.169.254:80 from these pod interfaces (iptables patterns such as cni0 or veth+) to this daemon; repeatable" },
    /^[\w.-]{1,15}\+?$/, "an interface name or an iptables pattern such as veth+",
  )),
  text(
    { name: "remove-node-taint", scope: "daemon", group: "kubernetes", description: "Node mode: remove this taint from the node once the daemon serves its pods" },
    /^([a-z0-9.-]{1,253}\/)?[A-Za-z0-9]([\w.-]{0,61}[A-Za-z0-9])?$/, "a taint key such as imds-emulator/agent-not-ready",
  ),
  integer({ name: "http-put-response-hop-limit", scope: "instance", group: "faults",
    description: "EC2's HttpPutResponseHopLimit: how many routed hops the token PUT's answer survives", default: 1 }, 1, 64),
  integer({ name: "hops", scope: "instance", group: "faults",
    description: "Routed hops between this instance's callers and the service (2: a container behind a bridge); above the hop limit the token PUT is never answered", default: 1 }, 1, 64),
  integer({ name: "request-rate-limit", scope: "instance", group: "faults",
    description: "Requests a second this instance may make (a burst of as many); over it, 429 as a throttled IMDS (docs/faults.md)" }, 1, 1_000_000),
  many(one<"fault", string | Readonly<Record<string, unknown>>, FaultRule>(
    { name: "fault", scope: "daemon", group: "faults", description: "A fault rule such as status=500,path=/latest/meta-data/iam/*,count=3 (docs/faults.md); repeatable" },
    parseFaultRule,
  ), /\s*;\s*/),
  text({ name: "scenario", scope: "daemon", group: "faults", description: "YAML timeline of faults, events and credential expiries to play from the start (docs/faults.md)" }),
  choice(
    { name: "unknown-callers", scope: "daemon", group: "security", description: "With an instances: list, a caller no entry names gets 403 (deny, the default) or the top-level instance (default)" },
    UNKNOWN_CALLERS,
  ),
] as const;

type Options = (typeof OPTIONS)[number];
export type OptionName = Options["name"];
type DefOf<N extends OptionName> = Extract<Options, { name: N }>;
/** What the parser of option N returns. */
export type ValueOf<N extends OptionName> = ReturnType<DefOf<N>["parse"]>;
/** What the library accepts for option N. */
export type InputOf<N extends OptionName> = NonNullable<DefOf<N>["input"]>;

type Camel<S extends string> = S extends `${infer Head}-${infer Tail}` ? `${Head}${Capitalize<Camel<Tail>>}` : S;

/** Every option but `config`, camel-cased and typed (`httpTokens?: "optional" | "required"`, `port?: number`). */
export type TypedOptions = { readonly [N in Exclude<OptionName, "config"> as Camel<N>]?: InputOf<N> };

export const OPTION_BY_NAME: ReadonlyMap<string, OptionDef> = new Map(OPTIONS.map((option) => [option.name, option]));

export function camelName(name: string): string {
  return name.replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase());
}

export const ENV_PREFIX = "IMDS_EMULATOR_";

export function envName(option: string): string {
  return ENV_PREFIX + option.toUpperCase().replace(/-/g, "_");
}
