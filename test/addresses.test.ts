import assert from "node:assert/strict";
import { isIP } from "node:net";
import { test } from "node:test";
import { ipVersion, parseCidr } from "../src/addresses";

/** Valid and invalid addresses, most of them the near misses where a hand-written parser goes wrong. */
const TABLE: readonly string[] = [
  // IPv4
  "0.0.0.0", "127.0.0.1", "255.255.255.255", "1.2.3.4", "10.0.0.1", "100.64.0.1", "199.249.209.9",
  "256.1.1.1", "1.256.1.1", "1.1.1.256", "300.1.1.1", "999.1.1.1", "01.2.3.4", "1.02.3.4", "1.2.3.04",
  "00.0.0.0", "0.0.0.00", "001.2.3.4", "1.2.3", "1.2.3.4.5", "1.2.3.", ".1.2.3.4", "1..2.3", "1.2.3.4.",
  "1234.1.1.1", "1.2.3.1234", "1.2.3.-1", "+1.2.3.4", "1.2.3.4 ", " 1.2.3.4", "1.2.3.4\n", "0x7f.0.0.1",
  "127.1", "2130706433", "1.2.3.4%eth0", "1.2.3.4/32", "localhost", "", " ", ".", "...", "1.2.3.a",
  "١.٢.٣.٤", "１.2.3.4",
  // IPv6: compression
  "::", "::1", "1::", "1::8", "1::7:8", "::2:3:4:5:6:7:8", "1:2:3:4:5:6:7::", "1::3:4:5:6:7:8",
  "1:2::4:5:6:7:8", "1:2:3:4::6:7:8", "1:2:3:4:5::7:8", "1:2:3:4:5:6::8", "1:2::8", "1:2:3::8",
  ":::", "::::", ":", ":1", "1:", ":1::", "::1:", "1:::2", "1::2::3", "::1::", "1:2:3:4:5:6:7::8",
  "::1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8::", "1::2:3:4:5:6:7:8", ":1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8:",
  // IPv6: group counts and widths
  "1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7:8:9:10", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
  "0000:0000:0000:0000:0000:0000:0000:0001", "00000::1", "12345::1", "::12345", "1:2:3:4:5:6:7:12345", "1::fffff",
  "2001:db8::1", "2001:DB8::1", "2001:Db8:0:0:0:0:0:1", "FE80::1", "fd00:ec2::254", "2001:0000:1234:0000:0000:C1C0:ABCD:0876",
  "2001:db8::g", "2001:db8:::1", "2001:db8::1 ", " ::1", "[::1]", "::1/128", "2001:db8::-1", "0x1::1",
  // IPv6: embedded IPv4
  "::1.2.3.4", "::ffff:1.2.3.4", "::FFFF:127.0.0.1", "1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:7:1.2.3.4",
  "1:2:3:4:5::1.2.3.4", "1:2:3:4:5:6::1.2.3.4", "1::1.2.3.4", "1:2::3:4:5:1.2.3.4", "::2:3:4:5:6:1.2.3.4",
  "::2:3:4:5:6:7:1.2.3.4", "1.2.3.4::", "1.2.3.4::1", "::1.2.3.4:1", "::1.2.3.4::", "1.2.3.4:1::", "::ffff:1.2.3",
  "::ffff:256.1.1.1", "::ffff:01.2.3.4", "::ffff:1.2.3.4.5", "::ffff:1.2.3.", "::1.2.3.4%eth0", "::ffff:1234.1.2.3",
  "1:2:3:4:5:6:7:8.1.2.3", "::a.b.c.d", "::1.2.3.4.",
  // IPv6: zone ids
  "fe80::1%eth0", "fe80::1%1", "fe80::1%", "fe80::1%%", "fe80::1%eth0%1", "fe80::1%en0.1", "fe80::1%a-b",
  "fe80::1%a:b", "fe80::1%a_b", "fe80::1%a b", "fe80::1%é", "fe80::1%a/b", "::%eth0", "%eth0", "%", "::%",
  "1:2:3:4:5:6:7:8%Z", "1:2:3:4:5:6:7%lo", "fe80::1%ETH0", "fe80::1%[", "fe80::1%`", "fe80::1%@", "fe80::1%{",
];

/** Seeded, so that a failure names a string that fails again. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

const ALPHABET = "0123456789abcdefABCDEF:.%";

function randomStrings(next: () => number, count: number): string[] {
  const below = (n: number) => Math.floor(next() * n);
  const pick = <T>(items: readonly T[]): T => items[below(items.length)]!;
  const chars = (max: number, from: string) => Array.from({ length: 1 + below(max) }, () => pick([...from])).join("");
  // Octets around 255 and with leading zeros; groups of up to five digits.
  const octet = () => (below(4) === 0 ? chars(3, "0123456789") : String(below(300)));
  const quad = () => Array.from({ length: 3 + below(3) }, octet).join(".");
  const group = () => chars(5, "0123456789abcdefABCDEF");
  const zone = () => (below(4) === 0 ? `%${below(6) === 0 ? "" : chars(4, "abcdefABCDEF0123456789:.-%")}` : "");
  const ipv6 = () => {
    const parts = Array.from({ length: below(10) }, group);
    if (below(3) !== 0) parts.splice(below(parts.length + 1), 0, below(6) === 0 ? ":" : "");
    const text = parts.join(":").replace(/:{3,}/, "::");
    return (below(4) === 0 ? `${text}${text.endsWith(":") ? "" : ":"}${quad()}` : text) + zone();
  };
  // Noise over the alphabet, then strings shaped as each family, most of them near misses.
  const shapes: ReadonlyArray<() => string> = [() => chars(18, ALPHABET), quad, ipv6];
  return Array.from({ length: count }, (_, i) => shapes[i % shapes.length]!());
}

/** A valid address with one character inserted, removed or replaced: the near misses of each form. */
function mutations(next: () => number, valid: readonly string[], count: number): string[] {
  return Array.from({ length: count }, () => {
    const text = valid[Math.floor(next() * valid.length)]!;
    const at = Math.floor(next() * (text.length + 1));
    const char = ALPHABET[Math.floor(next() * ALPHABET.length)]!;
    const kind = Math.floor(next() * 3);
    if (kind === 0) return text.slice(0, at) + char + text.slice(at);
    if (kind === 1) return text.slice(0, at) + text.slice(at + 1);
    return text.slice(0, at) + char + text.slice(at + 1);
  });
}

function mismatches(inputs: readonly string[]): string[] {
  return inputs.filter((input) => ipVersion(input) !== isIP(input)).map((input) => `${JSON.stringify(input)}: ${ipVersion(input)}, node:net ${isIP(input)}`);
}

test("ipVersion answers as node:net's isIP on the table of edge cases", () => {
  assert.deepEqual(mismatches(TABLE), []);
  const versions = new Set(TABLE.map(isIP));
  assert.deepEqual([...versions].sort(), [0, 4, 6], "the table holds valid IPv4, valid IPv6 and invalid strings");
});

test("ipVersion answers as node:net's isIP on random strings and near misses of valid addresses", () => {
  const next = random(0x1d5e);
  const strings = randomStrings(next, 6000);
  const valid = TABLE.filter((input) => isIP(input) !== 0);
  const near = mutations(next, valid, 6000);
  assert.deepEqual(mismatches([...strings, ...near]), []);
  // Without valid ones among them, the comparison would prove only that both refuse noise.
  for (const [name, inputs] of [["random", strings], ["near misses", near]] as const) {
    const counts = [0, 4, 6].map((version) => inputs.filter((input) => isIP(input) === version).length);
    assert.ok(
      counts.every((count) => count >= 20),
      `${name}: ${counts.join(" / ")} invalid / IPv4 / IPv6`,
    );
  }
});

test("parseCidr takes an address's family from ipVersion", () => {
  assert.deepEqual(parseCidr("::1/128"), { address: "::1", prefix: 128, family: "ipv6" });
  assert.deepEqual(parseCidr("10.0.0.0/8"), { address: "10.0.0.0", prefix: 8, family: "ipv4" });
  assert.deepEqual(parseCidr("::ffff:10.0.0.1"), { address: "::ffff:10.0.0.1", prefix: 128, family: "ipv6" });
  assert.equal(parseCidr("10.0.0.0/33"), undefined);
  assert.equal(parseCidr("010.0.0.0/8"), undefined);
  assert.equal(parseCidr("1:::2/64"), undefined);
});
