import { ConfigError, expected, metadataPath } from "../validation";
import {
  checkIpv6Networks,
  checkMetadataOverride,
  DESCRIPTION_KEYS,
  ipv6Addresses,
  isDescriptionKey,
  readDescriptionKey,
  type DescriptionSettings,
} from "./description-keys";
import { capturedTree, type CapturedTree } from "./captured";
import { IPV4, MAC } from "./schema";

/**
 * The parts of an instance description that are not options: metadata overrides, tags, user data,
 * more interfaces, and the keys of description-keys.ts (IPv6, block devices, monitoring).
 */

export const MAX_USER_DATA_BYTES = 16 * 1024;

export interface SecondaryInterfaceSettings {
  readonly mac?: string;
  readonly localIpv4?: string;
  readonly publicIpv4?: string;
  readonly subnetId?: string;
  readonly securityGroupIds?: readonly string[];
  readonly ipv6?: readonly string[];
}

/**
 * EC2 serves only tags whose keys fit a path segment (User Guide, "View tags for your EC2 instances using instance
 * metadata"): letters, digits and + - = . , _ : @; no space or `/`; not `.`, `..` or `_index`.
 */
const TAG_KEY = /^(?!\.{1,2}$|_index$)[\w+\-=.,:@]{1,128}$/;

export function checkTag(where: string, key: string, value: string): void {
  if (!TAG_KEY.test(key)) {
    throw expected(where, "a tag key of 1 to 128 letters, digits and + - = . , _ : @, not _index (EC2 serves no others)", key);
  }
  if (value.length > 256) throw expected(`${where}.${key}`, "a tag value of at most 256 characters", value);
}

export function checkUserData(where: string, data: Buffer): Buffer {
  if (data.length > MAX_USER_DATA_BYTES) throw expected(where, `at most ${MAX_USER_DATA_BYTES} bytes`, `${data.length} bytes`);
  return data;
}

/** A scalar of a config file as text (YAML reads `port: 80` as a number); undefined for anything else. */
export function scalar(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return undefined;
}

export function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function stringMap(where: string, value: unknown): Record<string, string> {
  if (!isMapping(value)) throw new ConfigError(`${where}: expected a mapping of names to text values`);
  const out: Record<string, string> = {};
  for (const [name, item] of Object.entries(value)) {
    const text = scalar(item);
    if (text === undefined) throw new ConfigError(`${where}.${name}: expected a text value`);
    out[name] = text;
  }
  return out;
}

/** EC2 allows 50 user tags on a resource (Tagging your EC2 resources, "Tag restrictions"). */
export const MAX_TAGS = 50;
/**
 * Metadata overrides add to a tree that a real instance keeps to a few hundred paths. The bounds keep
 * a description (YAML aliases expand) or a run of admin calls from making every rebuild slow.
 */
export const MAX_METADATA_PATHS = 2048;
export const MAX_METADATA_BYTES = 1024 * 1024;

export function checkTagCount(where: string, count: number): void {
  if (count > MAX_TAGS) throw expected(where, `at most ${MAX_TAGS} tags, as EC2 allows`, `${count} tags`);
}

/** The overrides' size as the tree holds them: every path and value. */
export function checkMetadataSize(where: string, metadata: ReadonlyMap<string, string> | Readonly<Record<string, string>>): void {
  const entries = metadata instanceof Map ? [...metadata] : Object.entries(metadata);
  if (entries.length > MAX_METADATA_PATHS) throw expected(where, `at most ${MAX_METADATA_PATHS} paths`, `${entries.length} paths`);
  const bytes = entries.reduce((sum, [path, text]) => sum + Buffer.byteLength(path) + Buffer.byteLength(text), 0);
  if (bytes > MAX_METADATA_BYTES) throw expected(where, `at most ${MAX_METADATA_BYTES} bytes of paths and values`, `${bytes} bytes`);
}

export function tagMap(where: string, value: unknown): Record<string, string> {
  const tags = stringMap(where, value);
  checkTagCount(where, Object.keys(tags).length);
  for (const [tag, text] of Object.entries(tags)) checkTag(where, tag, text);
  return tags;
}

const INTERFACE_KEYS = ["mac", "local-ipv4", "public-ipv4", "subnet-id", "security-group-ids", "ipv6"];

export function secondaryInterfaces(where: string, value: unknown): SecondaryInterfaceSettings[] {
  if (!Array.isArray(value)) throw new ConfigError(`${where}: expected a list of interfaces after the primary one`);
  return value.map((item, index) => {
    const at = `${where}[${index}]`;
    if (!isMapping(item)) throw new ConfigError(`${at}: expected a mapping with ${INTERFACE_KEYS.join(", ")}`);
    const { "security-group-ids": groups, ipv6, ...scalars } = item;
    const fields = stringMap(at, scalars);
    for (const key of Object.keys(item)) {
      if (!INTERFACE_KEYS.includes(key)) throw new ConfigError(`${at}: unknown key "${key}"; expected ${INTERFACE_KEYS.join(", ")}`);
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
      ...(ipv6 === undefined ? {} : { ipv6: ipv6Addresses(`${at}.ipv6`, ipv6) }),
    };
  });
}

/** What a description file may say beyond the options. */
export interface DescriptionSections {
  readonly metadata: Readonly<Record<string, string>>;
  readonly tags: Readonly<Record<string, string>>;
  readonly userData?: Buffer;
  readonly secondaryInterfaces?: readonly SecondaryInterfaceSettings[];
  /** What the description keys add to the instance settings. */
  readonly settings?: DescriptionSettings;
  /** A captured instance's tree, served in place of the one built from options (docs/replay.md). */
  readonly captured?: CapturedTree;
}

/** The config-file keys that are sections rather than options. */
export const SECTION_KEYS: readonly string[] = ["metadata", "tags", "user-data", "network-interfaces", "captured", ...DESCRIPTION_KEYS];

/** Metadata overrides, each path checked: no path whose value has an option of its own. */
export function metadataMap(where: string, value: unknown): Record<string, string> {
  const entries = Object.entries(stringMap(where, value)).map(([path, text]) => [metadataPath(where, path), text] as const);
  for (const [path] of entries) checkMetadataOverride(`${where}.${path}`, path);
  const metadata = Object.fromEntries(entries);
  checkMetadataSize(where, metadata);
  return metadata;
}

/** Reads the section keys of a config file's top level; option keys are left to the caller. */
export function readSections(file: string, data: Record<string, unknown>): DescriptionSections {
  const at = (key: string) => `${file}: ${key}`;
  let settings: DescriptionSettings = {};
  for (const [key, value] of Object.entries(data)) {
    if (isDescriptionKey(key)) settings = readDescriptionKey(at(key), key, value, settings);
  }
  const interfaces =
    data["network-interfaces"] === undefined ? undefined : secondaryInterfaces(at("network-interfaces"), data["network-interfaces"]);
  checkIpv6Networks(file, settings.ipv6, interfaces);
  const captured = data.captured === undefined ? undefined : capturedTree(at("captured"), data.captured);
  // A capture is the whole tree: a section that would change it would be silently ignored.
  const conflict = ["metadata", "tags", "user-data"].find((key) => data[key] !== undefined);
  if (captured !== undefined && conflict !== undefined) {
    throw new ConfigError(`${at("captured")}: a capture is served as it is; ${conflict} cannot change it (edit the captured paths instead)`);
  }
  return {
    captured,
    metadata: data.metadata === undefined ? {} : metadataMap(at("metadata"), data.metadata),
    tags: data.tags === undefined ? {} : tagMap(at("tags"), data.tags),
    userData: data["user-data"] === undefined ? undefined : inlineUserData(at("user-data"), data["user-data"]),
    secondaryInterfaces: interfaces,
    settings,
  };
}

function inlineUserData(where: string, value: unknown): Buffer {
  if (typeof value !== "string") throw expected(where, "text (use user-data-file for bytes)", value);
  return checkUserData(where, Buffer.from(value));
}
