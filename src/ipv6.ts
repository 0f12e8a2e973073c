import { ipVersion } from "./addresses";

/** The address as EC2 prints it: lower case, zeros compressed (the URL parser's canonical form). */
export function canonicalIpv6(address: string): string | undefined {
  if (ipVersion(address) !== 6 || address.includes("%")) return undefined;
  return new URL(`http://[${address}]`).hostname.slice(1, -1);
}

function hextets(address: string): number[] {
  const [head, tail] = canonicalIpv6(address)!.split("::") as [string, string | undefined];
  const part = (text: string | undefined) => (text === undefined || text === "" ? [] : text.split(":").map((h) => parseInt(h, 16)));
  const left = part(head);
  const right = part(tail);
  return [...left, ...Array<number>(8 - left.length - right.length).fill(0), ...right];
}

/**
 * The network of `bits` (a multiple of 4) that holds the address, as EC2 writes CIDR blocks:
 * `2600:1f16:292:100::/64`. EC2 gives a VPC a /56 and each subnet a /64 of it.
 */
export function ipv6Network(address: string, bits: number): string {
  const masked = hextets(address).map((value, i) => {
    const keep = Math.max(0, Math.min(16, bits - i * 16));
    return keep === 0 ? 0 : value & (0xffff << (16 - keep)) & 0xffff;
  });
  return `${canonicalIpv6(masked.map((value) => value.toString(16)).join(":"))}/${bits}`;
}
