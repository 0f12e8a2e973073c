import { BlockList, isIP } from "node:net";
import { networkInterfaces, type NetworkInterfaceInfo } from "node:os";
import NodeCache from "node-cache";
import type { IncomingHttpHeaders, IncomingMessage } from "node:http";
import type { Socket } from "node:net";
import { parseCidr } from "../addresses";
import type { Logger } from "../log";
import { textReply, type Reply } from "../cache/replies";

/**
 * The checks that stand in for what makes EC2's IMDS safe (it is reachable only from the instance),
 * each named for the attack it stops. They run before anything else on both listeners.
 */

/**
 * Headers that browsers send and no SDK does: a page in the developer's browser gets nothing.
 * `Sec-Fetch-Mode: cors` alone is let through: Node's own fetch() sends it (and nothing else of these),
 * while every browser that sends Sec-Fetch-Mode also sends Sec-Fetch-Site.
 */
function browserHeaderOf(headers: IncomingHttpHeaders): string | undefined {
  if (headers.origin !== undefined) return "origin";
  if (headers["sec-fetch-site"] !== undefined) return "sec-fetch-site";
  const mode = headers["sec-fetch-mode"];
  return mode !== undefined && mode !== "cors" ? "sec-fetch-mode" : undefined;
}

export const WILDCARD_ADDRESSES = new Set(["0.0.0.0", "::"]);

/** A Host header's host part, without port or IPv6 brackets, lower-cased. */
export function hostOf(header: string): string {
  if (header.startsWith("[")) {
    const end = header.indexOf("]");
    return (end === -1 ? header.slice(1) : header.slice(1, end)).toLowerCase();
  }
  const colon = header.indexOf(":");
  // More than one colon without brackets can only be a bare IPv6 literal.
  if (colon !== -1 && header.indexOf(":", colon + 1) === -1) return header.slice(0, colon).toLowerCase();
  return header.toLowerCase();
}

function canonicalIp(address: string): string {
  const v4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return v4 ? v4[1]! : address.toLowerCase();
}

export interface HostPolicy {
  readonly listenAddresses: readonly string[];
  readonly allowHosts: readonly string[];
}

/**
 * DNS rebinding: a browser that resolved an attacker's name to this daemon still sends that name as
 * Host. Only IP literals the daemon listens on (any, for a wildcard listener), `localhost` and names
 * given with --allow-host are answered.
 */
export function createHostCheck(policy: HostPolicy): (host: string | undefined) => boolean {
  const anyIp = policy.listenAddresses.some((address) => WILDCARD_ADDRESSES.has(address));
  const ips = new Set(policy.listenAddresses.map(canonicalIp));
  if (ips.has("localhost")) for (const ip of ["127.0.0.1", "::1"]) ips.add(ip);
  const names = new Set(["localhost", ...policy.allowHosts.map((name) => name.toLowerCase())]);
  return (header) => {
    // A request without Host is no browser's; HTTP/1.0 clients may leave it out.
    if (header === undefined || header === "") return true;
    const host = hostOf(header);
    if (names.has(host)) return true;
    if (isIP(host) === 0) return false;
    return anyIp || ips.has(canonicalIp(host));
  };
}

/**
 * Callers allowed by default: loopback, and the networks of the addresses the daemon listens on
 * (all interfaces' networks for a wildcard listener), as EC2 answers only its own instance.
 */
export function defaultAllowedCidrs(
  listenAddresses: readonly string[],
  interfaces: NodeJS.Dict<NetworkInterfaceInfo[]> = networkInterfaces(),
): string[] {
  const anyIp = listenAddresses.some((address) => WILDCARD_ADDRESSES.has(address));
  const wanted = new Set(listenAddresses.map(canonicalIp));
  const cidrs = ["127.0.0.0/8", "::1/128"];
  for (const info of Object.values(interfaces).flat()) {
    if (info !== undefined && info.cidr !== null && (anyIp || wanted.has(canonicalIp(info.address)))) cidrs.push(info.cidr);
  }
  for (const address of wanted) {
    if (!WILDCARD_ADDRESSES.has(address) && isIP(address) !== 0) cidrs.push(address);
  }
  return cidrs;
}

/** Source addresses outside the allowed networks get 403: another container or host on the network gets nothing. */
export function createCallerCheck(cidrs: readonly string[]): (address: string | undefined) => boolean {
  const allowed = new BlockList();
  for (const cidr of cidrs) {
    const parsed = parseCidr(cidr);
    if (parsed !== undefined) allowed.addSubnet(parsed.address, parsed.prefix, parsed.family);
  }
  return (address) => {
    if (address === undefined) return false;
    const ip = canonicalIp(address);
    return allowed.check(ip, isIP(ip) === 6 ? "ipv6" : "ipv4");
  };
}

/** Logs a refusal once per value and hour; a flood of distinct values cannot grow memory past the cap. */
function createRefusalLog(log: Logger): (event: string, value: string) => void {
  const seen = new NodeCache({ stdTTL: 3600, checkperiod: 600, maxKeys: 1000, useClones: false });
  return (event, value) => {
    const key = `${event}\0${value}`;
    if (seen.has(key)) return;
    try {
      seen.set(key, true);
    } catch {
      return;
    }
    log.warn(event, { value: value.slice(0, 200) });
  };
}

/** More headers than any SDK sends; the rest of a request is refused with 431. */
export const MAX_HEADER_COUNT = 64;

const REFUSED = {
  caller: textReply(403, "403 - Forbidden: this address may not use the metadata service (see --allow-cidr)"),
  host: textReply(403, "403 - Forbidden: unknown Host (see --allow-host)"),
  browser: textReply(403, "403 - Forbidden: browser requests are refused"),
  headers: textReply(431, "431 - Request Header Fields Too Large: too many headers"),
};

export interface GuardOptions extends HostPolicy {
  readonly allowCidrs: readonly string[];
  readonly log: Logger;
}

/** Every refusal shared by both listeners; undefined lets the request through. */
export function createRequestGuard(options: GuardOptions): (req: IncomingMessage) => Reply | undefined {
  const hostAllowed = createHostCheck(options);
  const callerAllowed = createCallerCheck(options.allowCidrs);
  const refused = createRefusalLog(options.log);
  const callers = new WeakMap<Socket, boolean>();
  return (req) => {
    let caller = callers.get(req.socket);
    if (caller === undefined) {
      caller = callerAllowed(req.socket.remoteAddress);
      callers.set(req.socket, caller);
    }
    if (!caller) {
      refused("caller-refused", req.socket.remoteAddress ?? "unknown");
      return REFUSED.caller;
    }
    const headers = req.headers;
    if (!hostAllowed(headers.host)) {
      refused("host-refused", headers.host ?? "");
      return REFUSED.host;
    }
    if (browserHeaderOf(headers) !== undefined) return REFUSED.browser;
    if (req.rawHeaders.length > MAX_HEADER_COUNT * 2) return REFUSED.headers;
    return undefined;
  };
}
