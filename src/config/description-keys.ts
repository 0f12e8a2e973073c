/**
 * The parts of an instance description that only the description file (`--config`) gives: IPv6
 * addresses, block devices, detailed monitoring. Pure: each reader takes where the value came from
 * (for messages) and the parsed value, and returns typed settings or throws a one-line ConfigError.
 */
import { ConfigError, expected, oneOf } from "../validation";
import { canonicalIpv6, ipv6Network } from "../ipv6";

export type InstanceMonitoring = "enabled" | "disabled";
const INSTANCE_MONITORING: readonly InstanceMonitoring[] = ["enabled", "disabled"];

/** What these keys add to the instance settings. */
export interface DescriptionSettings {
  /** The primary interface's IPv6 addresses. */
  readonly ipv6?: readonly string[];
  /** Entries of `block-device-mapping/` beside (or replacing) the defaults `ami` and `root`. */
  readonly blockDeviceMapping?: Readonly<Record<string, string>>;
  readonly instanceMonitoring?: InstanceMonitoring;
}

export const DESCRIPTION_KEYS = ["ipv6", "block-device-mapping", "instance-monitoring"] as const;
export type DescriptionKey = (typeof DESCRIPTION_KEYS)[number];

export function isDescriptionKey(key: string): key is DescriptionKey {
  return (DESCRIPTION_KEYS as readonly string[]).includes(key);
}

/** Reads one description key into the settings gathered so far. */
export function readDescriptionKey(
  where: string,
  key: DescriptionKey,
  value: unknown,
  settings: DescriptionSettings,
): DescriptionSettings {
  switch (key) {
    case "ipv6":
      return { ...settings, ipv6: ipv6Addresses(where, value) };
    case "block-device-mapping":
      return { ...settings, blockDeviceMapping: blockDeviceMapping(where, value) };
    case "instance-monitoring":
      return { ...settings, instanceMonitoring: oneOf(where, value, INSTANCE_MONITORING) };
  }
}

/** A list of IPv6 addresses (or one address), each in EC2's canonical form. */
export function ipv6Addresses(where: string, value: unknown): string[] {
  const items = Array.isArray(value) ? value : [value];
  if (items.length === 0) throw expected(where, "at least one IPv6 address", value);
  const addresses = items.map((item) => {
    const address = typeof item === "string" ? canonicalIpv6(item) : undefined;
    if (address === undefined) throw expected(where, "IPv6 addresses such as 2600:1f16:292:100::10", item);
    return address;
  });
  const repeated = addresses.find((address, i) => addresses.indexOf(address) !== i);
  if (repeated !== undefined) throw new ConfigError(`${where}: ${repeated} is listed twice`);
  return addresses;
}

const DEVICE_ENTRY = /^(ami|root|swap|ebs[0-9]{1,2}|ephemeral[0-9]{1,2})$/;
const DEVICE_NAME = /^(\/dev\/)?[a-z][a-z0-9]{1,15}$/;

/**
 * EC2's entries (User Guide, "Instance metadata categories"): `ami` and `root` (the root device),
 * `ebsN` (EBS volumes), `ephemeralN` (instance store volumes), `swap`. One device backs one entry,
 * except that `ami` and `root` name the same root device.
 */
export function blockDeviceMapping(where: string, value: unknown): Record<string, string> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw expected(where, "a mapping such as {ebs1: sdf, ephemeral0: sdb}", value);
  }
  const out: Record<string, string> = {};
  const owner = new Map<string, string>();
  for (const [entry, device] of Object.entries(value)) {
    if (!DEVICE_ENTRY.test(entry)) throw expected(`${where}.${entry}`, "an entry named ami, root, swap, ebsN or ephemeralN", entry);
    if (typeof device !== "string" || !DEVICE_NAME.test(device)) {
      throw expected(`${where}.${entry}`, "a device name such as sdf or /dev/xvdb", device);
    }
    const name = device.replace(/^\/dev\//, "");
    const other = owner.get(name);
    if (other !== undefined && !(isRoot(entry) && isRoot(other))) {
      throw new ConfigError(`${where}.${entry}: ${device} is already the device of ${other}; one device backs one entry`);
    }
    owner.set(name, entry);
    out[entry] = device;
  }
  return out;
}

function isRoot(entry: string): boolean {
  return entry === "ami" || entry === "root";
}

/** A secondary interface as the IPv6 check sees it: its addresses, and its subnet (undefined: the primary's). */
export interface Ipv6Interface {
  readonly ipv6?: readonly string[];
  readonly subnetId?: string;
}

/**
 * One value, one answer: all interfaces are in one VPC, so one /56 holds every address; interfaces in
 * one subnet share its /64. The first address met decides each block, and the tree serves the same.
 * `file` names the description file in messages.
 */
export function checkIpv6Networks(file: string, primary: readonly string[] | undefined, secondaries: readonly Ipv6Interface[] = []): void {
  const interfaces = [
    { where: `${file}: ipv6`, ipv6: primary, subnetId: undefined },
    ...secondaries.map((nic, i) => ({ ...nic, where: `${file}: network-interfaces[${i}].ipv6` })),
  ];
  let vpc: { block: string; from: string } | undefined;
  const subnets = new Map<string, { block: string; from: string }>();
  for (const nic of interfaces) {
    for (const address of nic.ipv6 ?? []) {
      vpc ??= { block: ipv6Network(address, 56), from: nic.where };
      if (ipv6Network(address, 56) !== vpc.block) {
        throw new ConfigError(`${nic.where}: ${address} is outside the VPC's IPv6 block ${vpc.block} (from ${vpc.from})`);
      }
      const subnet = nic.subnetId ?? "";
      const block = subnets.get(subnet) ?? { block: ipv6Network(address, 64), from: nic.where };
      subnets.set(subnet, block);
      if (ipv6Network(address, 64) !== block.block) {
        throw new ConfigError(`${nic.where}: ${address} is outside its subnet's IPv6 block ${block.block} (from ${block.from})`);
      }
    }
  }
}

/**
 * Paths below `meta-data/` whose values also appear elsewhere (the identity document, host names,
 * other leaves, the logs) or follow from other values: a `metadata` override would change one place
 * only, so each is refused with the option that changes it everywhere.
 */
const DEDICATED: ReadonlyArray<readonly [path: string, instead: string]> = [
  ["instance-id", "--instance-id"],
  ["ami-id", "--ami-id"],
  ["instance-type", "--instance-type"],
  ["local-ipv4", "--local-ipv4"],
  ["hostname", "--local-ipv4 (the host names follow it)"],
  ["local-hostname", "--local-ipv4 (the host names follow it)"],
  ["public-ipv4", "--public-ipv4"],
  ["public-hostname", "--public-ipv4 (the host names follow it)"],
  ["mac", "--mac"],
  ["ipv6", "the config file's ipv6"],
  ["network", "--mac, --local-ipv4, --public-ipv4, --account-id and the config file's network-interfaces and ipv6"],
  ["placement/availability-zone", "--availability-zone"],
  ["placement/availability-zone-id", "--availability-zone (the zone id follows it)"],
  ["placement/region", "--region"],
  ["services", "--region (the domain and partition follow it)"],
  ["instance-life-cycle", "--instance-life-cycle"],
  ["iam", "--role-name or --role-arn"],
  ["identity-credentials", "--account-id (the identity role's credentials are minted for it)"],
  ["block-device-mapping", "the config file's block-device-mapping"],
  ["tags", "the config file's tags with --instance-metadata-tags enabled"],
  ["spot", "--spot-interruption-after and --spot-action (or the admin API's events)"],
  ["instance-action", "--spot-interruption-after and --spot-action (or the admin API's events)"],
  ["events", "--rebalance-after and --maintenance-after (or the admin API's events)"],
  ["autoscaling", "--target-lifecycle-state (or the admin API's events)"],
];

/** Throws when `path` (below `meta-data/`, no leading or trailing slash) has a dedicated option. */
export function checkMetadataOverride(where: string, path: string): void {
  const dedicated = DEDICATED.find(([prefix]) => path === prefix || path.startsWith(`${prefix}/`));
  if (dedicated !== undefined) {
    throw new ConfigError(`${where}: ${path} is not set through metadata; use ${dedicated[1]}, which changes it everywhere it appears`);
  }
}
