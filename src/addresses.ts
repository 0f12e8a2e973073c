/** Address helpers shared by the option checks and the metadata port's caller checks. */

const DOT = 0x2e;
const COLON = 0x3a;

function isDigit(code: number): boolean {
  return code >= 0x30 && code <= 0x39;
}

function isHexDigit(code: number): boolean {
  return isDigit(code) || (code >= 0x41 && code <= 0x46) || (code >= 0x61 && code <= 0x66);
}

/** What a zone id (`fe80::1%eth0`) may be made of where node:net accepts one. */
function isZoneChar(code: number): boolean {
  const letter = (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a);
  return letter || isDigit(code) || code === 0x2d || code === DOT || code === COLON;
}

/** A dotted quad filling text[start, end): four decimal octets up to 255, none with a leading zero. */
function isDottedQuad(text: string, start: number, end: number): boolean {
  let i = start;
  for (let octet = 0; ; octet++) {
    const from = i;
    let value = 0;
    while (i < end && i - from < 3 && isDigit(text.charCodeAt(i))) value = value * 10 + text.charCodeAt(i++) - 0x30;
    if (i === from || value > 255 || (i - from > 1 && text.charCodeAt(from) === 0x30)) return false;
    if (octet === 3) return i === end;
    if (i === end || text.charCodeAt(i) !== DOT) return false;
    i++;
  }
}

/**
 * Hex groups of one to four digits separated by `:`, at most one `::` standing for the zero groups
 * left out, a dotted quad only as the last 32 bits, then an optional zone id.
 */
function isIpv6(text: string): boolean {
  let end = text.indexOf("%");
  if (end === -1) end = text.length;
  else {
    if (end === text.length - 1) return false;
    for (let i = end + 1; i < text.length; i++) if (!isZoneChar(text.charCodeAt(i))) return false;
  }
  let groups = 0;
  let compressed = false;
  let i = 0;
  if (text.startsWith("::")) {
    compressed = true;
    i = 2;
    if (i === end) return true;
  }
  for (;;) {
    const from = i;
    while (i < end && i - from < 4 && isHexDigit(text.charCodeAt(i))) i++;
    if (i === from) return false;
    if (i < end && text.charCodeAt(i) === DOT) {
      if (!isDottedQuad(text, from, end)) return false;
      groups += 2;
      break;
    }
    groups++;
    if (i === end) break;
    if (text.charCodeAt(i) !== COLON) return false;
    i++;
    if (i < end && text.charCodeAt(i) === COLON) {
      if (compressed) return false;
      compressed = true;
      i++;
      if (i === end) break;
    }
  }
  return compressed ? groups <= 7 : groups === 8;
}

/**
 * node:net's isIP, to the same answers (test/addresses.test.ts compares them): node:net compiles a
 * very large regular expression the first time it checks an IPv6 address, a cost paid at every start.
 */
export function ipVersion(text: string): 0 | 4 | 6 {
  if (isDottedQuad(text, 0, text.length)) return 4;
  return isIpv6(text) ? 6 : 0;
}

/** A dotted quad's four octets, written into `bytes` from `at`. */
function writeQuad(text: string, bytes: Uint8Array, at: number): void {
  const octets = text.split(".");
  for (let i = 0; i < 4; i++) bytes[at + i] = Number(octets[i]);
}

/**
 * An IP literal as 16 bytes, an IPv4 address as its IPv4-mapped IPv6 form (`::ffff:a.b.c.d`) and a
 * zone id left out, so that either family compares in one space as node:net's BlockList compares
 * them; undefined for anything else.
 */
export function ipBytes(text: string): Uint8Array | undefined {
  const version = ipVersion(text);
  if (version === 0) return undefined;
  const bytes = new Uint8Array(16);
  if (version === 4) {
    bytes[10] = 0xff;
    bytes[11] = 0xff;
    writeQuad(text, bytes, 12);
    return bytes;
  }
  const zone = text.indexOf("%");
  const address = zone === -1 ? text : text.slice(0, zone);
  const gap = address.indexOf("::");
  const groupsOf = (part: string) => (part === "" ? [] : part.split(":"));
  const head = groupsOf(gap === -1 ? address : address.slice(0, gap));
  const tail = gap === -1 ? [] : groupsOf(address.slice(gap + 2));
  const put = (groups: string[], from: number) => {
    let at = from;
    for (const group of groups) {
      if (group.includes(".")) {
        writeQuad(group, bytes, at);
        at += 4;
      } else {
        const value = parseInt(group, 16);
        bytes[at++] = value >> 8;
        bytes[at++] = value & 0xff;
      }
    }
  };
  put(head, 0);
  const tailBytes = tail.reduce((sum, group) => sum + (group.includes(".") ? 4 : 2), 0);
  put(tail, 16 - tailBytes);
  return bytes;
}

/** Whether the first `bits` bits of `address` and `network` (both from ipBytes) are the same. */
export function inNetwork(address: Uint8Array, network: Uint8Array, bits: number): boolean {
  const whole = bits >> 3;
  for (let i = 0; i < whole; i++) if (address[i] !== network[i]) return false;
  const rest = bits & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (address[whole]! & mask) === (network[whole]! & mask);
}

/** `10.0.0.0/8`, `fd00::/8`, or a bare address (a /32 or /128). */
export function parseCidr(text: string): { address: string; prefix: number; family: "ipv4" | "ipv6" } | undefined {
  const [address, prefixText, extra] = text.split("/");
  const version = ipVersion(address ?? "");
  if (extra !== undefined || version === 0) return undefined;
  const max = version === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? max : /^[0-9]{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
  if (!(prefix >= 0 && prefix <= max)) return undefined;
  return { address: address!, prefix, family: version === 4 ? "ipv4" : "ipv6" };
}

export function isLoopback(address: string): boolean {
  return address === "localhost" || address === "::1" || /^127\./.test(address);
}

/** An address as callers are counted and checked: IPv4-mapped IPv6 as plain IPv4, lower case. */
export function canonicalIp(address: string): string {
  const v4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return v4 ? v4[1]! : address.toLowerCase();
}

/** Listen addresses that mean every address of the machine. */
export const WILDCARD_ADDRESSES: ReadonlySet<string> = new Set(["0.0.0.0", "::"]);
