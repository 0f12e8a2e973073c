import { createHash, hash } from "node:crypto";
import type { InstanceLifeCycle, InstanceSettings, SecondaryInterfaceSettings } from "../config/config";
import type { InstanceMonitoring } from "../config/description-keys";
import { ipv6Network } from "../ipv6";

/** An interface's IPv6 side: its addresses, its subnet's /64 and its VPC's /56. */
export interface Ipv6Addressing {
  readonly addresses: readonly string[];
  readonly subnetCidrBlock: string;
  readonly vpcCidrBlock: string;
}

export interface NetworkInterface {
  readonly mac: string;
  readonly deviceNumber: number;
  /** Instances with one network card have every interface on card 0. */
  readonly networkCardIndex: number;
  readonly interfaceId: string;
  readonly localIpv4: string;
  readonly localHostname: string;
  /** Undefined for an interface without a public address. */
  readonly publicIpv4?: string;
  readonly publicHostname?: string;
  readonly subnetId: string;
  readonly subnetIpv4CidrBlock: string;
  readonly vpcId: string;
  readonly vpcIpv4CidrBlock: string;
  readonly securityGroupIds: readonly string[];
  readonly securityGroups: readonly string[];
  readonly ownerId: string;
  /** Undefined for an interface without IPv6. */
  readonly ipv6?: Ipv6Addressing;
}

/** The emulated instance: every value the metadata tree shows, consistent with each other. */
export interface Instance {
  readonly accountId: string;
  readonly region: string;
  readonly availabilityZone: string;
  readonly availabilityZoneId: string;
  readonly partition: string;
  readonly domain: string;
  readonly instanceId: string;
  readonly instanceType: string;
  readonly amiId: string;
  readonly reservationId: string;
  readonly architecture: string;
  readonly keyName: string;
  readonly launchTime: number;
  readonly instanceLifeCycle: InstanceLifeCycle;
  /** The primary interface (device 0) first. */
  readonly interfaces: readonly [NetworkInterface, ...NetworkInterface[]];
  readonly blockDeviceMapping: Readonly<Record<string, string>>;
  readonly instanceMonitoring: InstanceMonitoring;
}

/**
 * SHA-256 in one call where Node has crypto.hash (20.12 and later): no Hash stream to build for each
 * of the start's many seeded values.
 */
const sha256Hex: (text: string) => string =
  typeof hash === "function" ? (text) => hash("sha256", text, "hex") : (text) => createHash("sha256").update(text).digest("hex");

/**
 * Generated values come from a hash of a seed (the host name by default), so an emulator restarted
 * in the same container keeps its identity, as a stopped and started EC2 instance does.
 */
export function seededHex(seed: string, label: string, length: number): string {
  let out = "";
  for (let i = 0; out.length < length; i++) {
    out += sha256Hex(`${seed}\0${label}\0${i}`);
  }
  return out.slice(0, length);
}

function seededInt(seed: string, label: string, max: number): number {
  return parseInt(seededHex(seed, label, 8), 16) % max;
}

const DIRECTIONS: Record<string, string> = {
  north: "n", south: "s", east: "e", west: "w", central: "c",
  northeast: "ne", northwest: "nw", southeast: "se", southwest: "sw",
};

/** `us-east-1` -> `use1`, `ap-southeast-2` -> `apse2`: the prefix of EC2's zone ids. */
export function regionShortName(region: string): string {
  const parts = region.split("-");
  return parts.map((part) => DIRECTIONS[part] ?? part).join("");
}

export function partitionOf(region: string): { partition: string; domain: string } {
  if (region.startsWith("cn-")) return { partition: "aws-cn", domain: "amazonaws.com.cn" };
  if (region.startsWith("us-gov-")) return { partition: "aws-us-gov", domain: "amazonaws.com" };
  return { partition: "aws", domain: "amazonaws.com" };
}

/** EC2's private DNS names: `ip-10-0-0-1.ec2.internal` in us-east-1, `ip-10-0-0-1.<region>.compute.internal` elsewhere. */
export function privateHostname(ip: string, region: string): string {
  const zone = region === "us-east-1" ? "ec2.internal" : `${region}.compute.internal`;
  return `ip-${ip.replace(/\./g, "-")}.${zone}`;
}

export function publicHostname(ip: string, region: string, domain: string): string {
  const zone = region === "us-east-1" ? "compute-1" : `${region}.compute`;
  return `ec2-${ip.replace(/\./g, "-")}.${zone}.${domain}`;
}

const DEFAULT_ROOT_DEVICE = "/dev/xvda";

function ipv4Octets(ip: string): [number, number, number, number] {
  return ip.split(".").map(Number) as [number, number, number, number];
}

/** Fills every value the settings leave out, deriving those that must agree (zone, hostnames, domain). */
export function describeInstance(settings: InstanceSettings, seed: string, now: number): Instance {
  const hex = (label: string, length: number) => seededHex(seed, label, length);
  const region = settings.region;
  const availabilityZone = settings.availabilityZone ?? `${region}a`;
  const zoneLetterIndex = availabilityZone.charCodeAt(availabilityZone.length - 1) - 96;
  const { partition, domain } = partitionOf(region);
  const accountId = settings.accountId ?? String(100000000000 + seededInt(seed, "account", 899999999999));
  const primaryIpv4 =
    settings.localIpv4 ?? `172.31.${seededInt(seed, "ip3", 16) + 16}.${seededInt(seed, "ip4", 253) + 1}`;
  const [a, b, c] = ipv4Octets(primaryIpv4);
  const subnetCidr = `${a}.${b}.${c & 0xf0}.0/20`;
  const vpcId = `vpc-0${hex("vpc", 16)}`;
  const securityGroupIds = [`sg-0${hex("sg", 16)}`];
  const subnetId = `subnet-0${hex("subnet", 16)}`;

  // One VPC: its IPv6 block is the /56 of the first address given (description.ts checks the rest fit).
  const firstIpv6 = [settings.ipv6, ...(settings.secondaryInterfaces ?? []).map((nic) => nic.ipv6)].find((list) => list?.length)?.[0];
  const vpcIpv6CidrBlock = firstIpv6 === undefined ? undefined : ipv6Network(firstIpv6, 56);

  const describeInterface = (index: number, given: SecondaryInterfaceSettings): NetworkInterface => {
    const localIpv4 = given.localIpv4 ?? `${a}.${b}.${c}.${(seededInt(seed, `ip4-${index}`, 240) + 10) % 254 + 1}`;
    const publicIpv4 = given.publicIpv4;
    const ipv6 = given.ipv6?.[0];
    return {
      mac: given.mac ?? `0e:${hex(`mac-${index}`, 10).match(/../g)!.join(":")}`,
      deviceNumber: index,
      networkCardIndex: 0,
      interfaceId: `eni-0${hex(`eni-${index}`, 16)}`,
      localIpv4,
      localHostname: privateHostname(localIpv4, region),
      publicIpv4,
      publicHostname: publicIpv4 === undefined ? undefined : publicHostname(publicIpv4, region, domain),
      subnetId: given.subnetId ?? subnetId,
      subnetIpv4CidrBlock: subnetCidr,
      vpcId,
      vpcIpv4CidrBlock: `${a}.${b}.0.0/16`,
      securityGroupIds: given.securityGroupIds ?? securityGroupIds,
      securityGroups: ["default"],
      ownerId: accountId,
      ipv6:
        ipv6 === undefined
          ? undefined
          : { addresses: given.ipv6!, subnetCidrBlock: ipv6Network(ipv6, 64), vpcCidrBlock: vpcIpv6CidrBlock! },
    };
  };
  const primary = describeInterface(0, {
    mac: settings.mac ?? `0e:${hex("mac", 10).match(/../g)!.join(":")}`,
    localIpv4: primaryIpv4,
    publicIpv4: settings.publicIpv4 ?? `203.0.113.${seededInt(seed, "public-ip", 253) + 1}`,
    ipv6: settings.ipv6,
  });
  return {
    accountId,
    region,
    availabilityZone,
    availabilityZoneId: `${regionShortName(region)}-az${zoneLetterIndex > 0 ? zoneLetterIndex : 1}`,
    partition,
    domain,
    instanceId: settings.instanceId ?? `i-0${hex("instance", 16)}`,
    instanceType: settings.instanceType,
    amiId: settings.amiId ?? `ami-0${hex("ami", 16)}`,
    reservationId: `r-0${hex("reservation", 16)}`,
    architecture: settings.architecture ?? "x86_64",
    keyName: settings.keyName ?? "imds-emulator",
    launchTime: settings.launchTime ?? Math.floor(now / 1000) * 1000,
    instanceLifeCycle: settings.instanceLifeCycle,
    interfaces: [
      primary,
      ...(settings.secondaryInterfaces ?? []).map((given, i) => describeInterface(i + 1, given)),
    ],
    blockDeviceMapping: { ami: DEFAULT_ROOT_DEVICE, root: DEFAULT_ROOT_DEVICE, ...settings.blockDeviceMapping },
    instanceMonitoring: settings.instanceMonitoring ?? "disabled",
  };
}
