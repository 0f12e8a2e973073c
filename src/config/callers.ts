import { BlockList } from "node:net";
import { canonicalIp, parseCidr } from "../addresses";
import { canonicalIpv6 } from "../ipv6";
import { ConfigError, expected } from "../validation";

/**
 * Who an `instances:` entry serves: addresses and networks are matched as they are; DNS names (a
 * compose service such as `web`) are resolved off the request path, at start and in the background.
 */
export type CallerSpec =
  | { readonly kind: "network"; readonly text: string; readonly address: string; readonly prefix: number; readonly family: "ipv4" | "ipv6" }
  | { readonly kind: "name"; readonly text: string; readonly name: string };

const DNS_NAME = /^(?=.{1,253}$)[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*$/i;

export function parseCallers(where: string, value: unknown): CallerSpec[] {
  const items = Array.isArray(value) ? value : [value];
  if (items.length === 0 || items.some((item) => typeof item !== "string")) {
    throw expected(where, "a list of addresses, networks (10.0.0.0/24) or DNS names (web)", value);
  }
  return (items as string[]).map((text) => {
    const network = parseCidr(text);
    if (network !== undefined) {
      // Sockets give addresses in canonical form; a configured `fd00:0::5` must match `fd00::5`.
      const address = network.family === "ipv6" ? canonicalIpv6(network.address)! : canonicalIp(network.address);
      return { kind: "network", text, address, prefix: network.prefix, family: network.family };
    }
    if (DNS_NAME.test(text) && !/^[0-9.]+$/.test(text)) return { kind: "name", text, name: text.toLowerCase() };
    throw expected(where, "an address, a network such as 10.0.0.0/24, or a DNS name such as web", text);
  });
}

/** The single address a spec names (a /32 or /128), which becomes the instance's own local-ipv4 where it is IPv4. */
export function singleAddress(spec: CallerSpec): string | undefined {
  return spec.kind === "network" && spec.prefix === (spec.family === "ipv4" ? 32 : 128) ? spec.address : undefined;
}

/** Two entries may not both claim a caller: the first network of one that lies in the other's is named. */
export function checkOverlaps(entries: ReadonlyArray<{ readonly where: string; readonly callers: readonly CallerSpec[] }>): void {
  for (const [i, first] of entries.entries()) {
    for (const second of entries.slice(i + 1)) {
      for (const a of first.callers) {
        for (const b of second.callers) {
          if (a.kind === "network" && b.kind === "network" && overlaps(a, b)) {
            throw new ConfigError(`${second.where}: ${b.text} overlaps ${a.text} of ${first.where}; a caller belongs to one instance`);
          }
          if (a.kind === "name" && b.kind === "name" && a.name === b.name) {
            throw new ConfigError(`${second.where}: ${b.text} is a caller of ${first.where} too; a caller belongs to one instance`);
          }
        }
      }
    }
  }
}

function overlaps(a: CallerSpec & { kind: "network" }, b: CallerSpec & { kind: "network" }): boolean {
  if (a.family !== b.family) return false;
  const contains = (outer: typeof a, inner: typeof a) => {
    const list = new BlockList();
    list.addSubnet(outer.address, outer.prefix, outer.family);
    return outer.prefix <= inner.prefix && list.check(inner.address, inner.family);
  };
  return contains(a, b) || contains(b, a);
}
