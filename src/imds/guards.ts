import { networkInterfaces, type NetworkInterfaceInfo } from "node:os";
import type { IncomingHttpHeaders, IncomingMessage } from "node:http";
import type { Socket } from "node:net";
import { canonicalIp, inNetwork, ipBytes, ipVersion, isLoopback, parseCidr, WILDCARD_ADDRESSES } from "../addresses";
import { textReply, type Reply } from "../cache/replies";
import type { Refusals } from "../refusals";

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
    if (ipVersion(host) === 0) return false;
    return anyIp || ips.has(canonicalIp(host));
  };
}

/**
 * Callers allowed by default: loopback, and the networks of the addresses the daemon listens on
 * (all interfaces' networks for a wildcard listener), as EC2 answers only its own instance. A
 * loopback listener's network is loopback already: the interfaces are not read for it (a
 * millisecond or more of every start on a laptop).
 */
export function defaultAllowedCidrs(
  listenAddresses: readonly string[],
  interfaces: () => NodeJS.Dict<NetworkInterfaceInfo[]> = networkInterfaces,
): string[] {
  const anyIp = listenAddresses.some((address) => WILDCARD_ADDRESSES.has(address));
  const wanted = new Set(listenAddresses.map(canonicalIp));
  const cidrs = ["127.0.0.0/8", "::1/128"];
  const listed = anyIp || [...wanted].some((address) => !isLoopback(address)) ? interfaces() : {};
  for (const info of Object.values(listed).flat()) {
    if (info !== undefined && info.cidr !== null && (anyIp || wanted.has(canonicalIp(info.address)))) cidrs.push(info.cidr);
  }
  for (const address of wanted) {
    if (!WILDCARD_ADDRESSES.has(address) && ipVersion(address) !== 0) cidrs.push(address);
  }
  return cidrs;
}

/**
 * Source addresses outside the allowed networks get 403: another container or host on the network
 * gets nothing. Networks and addresses compare as node:net's BlockList compares them (an IPv4 network
 * holds the IPv4-mapped IPv6 form of its addresses too), without the modules it loads at every start.
 */
export function createCallerCheck(cidrs: readonly string[]): (address: string | undefined) => boolean {
  const networks = cidrs.flatMap((cidr) => {
    const parsed = parseCidr(cidr);
    return parsed === undefined ? [] : [{ bytes: ipBytes(parsed.address)!, bits: parsed.family === "ipv4" ? 96 + parsed.prefix : parsed.prefix }];
  });
  return (address) => {
    const bytes = address === undefined ? undefined : ipBytes(address);
    return bytes !== undefined && networks.some((network) => inNetwork(bytes, network.bytes, network.bits));
  };
}

/** More headers than any SDK sends; the rest of a request is refused with 431. */
export const MAX_HEADER_COUNT = 64;

/**
 * Two Host headers leave it open which one a proxy in front routed on and which one this check
 * read: RFC 9112, section 3.2, says a server must answer 400 to a request with more than one.
 * (Node keeps the first and drops the rest from `headers`; `rawHeaders` has them all.)
 */
function duplicateHosts(rawHeaders: readonly string[]): string | undefined {
  let first = -1;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    if (name.length !== 4 || name.toLowerCase() !== "host") continue;
    if (first !== -1) return `${rawHeaders[first + 1]} ${rawHeaders[i + 1]}`;
    first = i;
  }
  return undefined;
}

/**
 * Headers by which a proxy says it relays someone else's request. EC2 refuses a token PUT that
 * carries X-Forwarded-For, because such a PUT came through a proxy or an SSRF-able service and not
 * from the instance itself; the other spellings of the same fact get the same answer.
 */
const PROXY_HEADERS = new Set([
  "forwarded",
  "via",
  "x-real-ip",
  "x-client-ip",
  "client-ip",
  "true-client-ip",
  "cf-connecting-ip",
  "fastly-client-ip",
  "x-cluster-client-ip",
  "x-original-forwarded-for",
]);

/** The first proxy-forwarding header of a request (`X-Forwarded-*` and those above), lower-cased. */
export function proxyHeaderOf(rawHeaders: readonly string[]): string | undefined {
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!.toLowerCase();
    if (PROXY_HEADERS.has(name) || name.startsWith("x-forwarded-")) return name;
  }
  return undefined;
}

const REFUSED = {
  caller: textReply(403, "403 - Forbidden: this address may not use the metadata service (see --allow-cidr)"),
  host: textReply(403, "403 - Forbidden: unknown Host (see --allow-host)"),
  duplicateHost: textReply(400, "400 - Bad Request: more than one Host header"),
  browser: textReply(403, "403 - Forbidden: browser requests are refused"),
  headers: textReply(431, "431 - Request Header Fields Too Large: too many headers"),
};

export interface GuardOptions extends HostPolicy {
  readonly allowCidrs: readonly string[];
  readonly refusals: Refusals;
}

/** EC2's metadata addresses, which pods redirected to a node's emulator still send as Host. */
export const EC2_ADDRESSES: readonly string[] = ["169.254.169.254", "fd00:ec2::254"];

/**
 * Who may use the metadata port, and which Host it answers to: the listen addresses and their
 * networks, or what --allow-cidr says; in Kubernetes node mode every caller (the pod watch decides)
 * and EC2's addresses as Host too.
 */
export function metadataPortPolicy(config: {
  readonly hosts: readonly string[];
  readonly allowCidrs?: readonly string[];
  readonly kubernetes?: unknown;
}): { readonly listenAddresses: readonly string[]; readonly allowCidrs: readonly string[] } {
  const nodeMode = config.kubernetes !== undefined;
  return {
    listenAddresses: nodeMode ? [...config.hosts, ...EC2_ADDRESSES] : config.hosts,
    allowCidrs: config.allowCidrs ?? (nodeMode ? ["0.0.0.0/0", "::/0"] : defaultAllowedCidrs(config.hosts)),
  };
}

/** Every refusal shared by both listeners; undefined lets the request through. */
export interface RequestGuard {
  (req: IncomingMessage): Reply | undefined;
  /** The same caller check, for refusing a connection before any request on it is read. */
  readonly callerAllowed: (address: string | undefined) => boolean;
}

export function createRequestGuard(options: GuardOptions): RequestGuard {
  const hostAllowed = createHostCheck(options);
  const callerAllowed = createCallerCheck(options.allowCidrs);
  const { refusals } = options;
  const callers = new WeakMap<Socket, boolean>();
  const guard = (req: IncomingMessage): Reply | undefined => {
    let caller = callers.get(req.socket);
    if (caller === undefined) {
      caller = callerAllowed(req.socket.remoteAddress);
      callers.set(req.socket, caller);
    }
    if (!caller) {
      refusals.record("caller", req.socket.remoteAddress ?? "unknown");
      return REFUSED.caller;
    }
    const { headers, rawHeaders } = req;
    if (rawHeaders.length > MAX_HEADER_COUNT * 2) {
      refusals.record("headers", String(rawHeaders.length / 2));
      return REFUSED.headers;
    }
    const hosts = duplicateHosts(rawHeaders);
    if (hosts !== undefined) {
      refusals.record("duplicate-host", hosts);
      return REFUSED.duplicateHost;
    }
    if (!hostAllowed(headers.host)) {
      refusals.record("host", headers.host ?? "");
      return REFUSED.host;
    }
    const browser = browserHeaderOf(headers);
    if (browser !== undefined) {
      refusals.record("browser", `${browser}: ${headers[browser]}`);
      return REFUSED.browser;
    }
    return undefined;
  };
  return Object.assign(guard, { callerAllowed });
}
