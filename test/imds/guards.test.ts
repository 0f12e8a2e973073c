import assert from "node:assert/strict";
import { BlockList, connect, type Socket } from "node:net";
import { after, before, describe, test } from "node:test";
import { canonicalIp, ipVersion, parseCidr } from "../../src/addresses";
import { createCallerCheck, createHostCheck, defaultAllowedCidrs, hostOf } from "../../src/imds/guards";
import { createTokenAuthority } from "../../src/imds/tokens";
import { resolveConfig, ConfigError } from "../../src/config/config";
import { startEmulator, type RunningEmulator } from "../../src/index";
import { testEmulator } from "../support/emulator";
import { logInto } from "../support/log";
import { exchange } from "../support/exchange";

const TOKEN = "X-aws-ec2-metadata-token";
const CREDENTIALS = "/latest/meta-data/iam/security-credentials/imds-emulator";

describe("DNS rebinding: the Host header", () => {
  test("host parts of Host headers", () => {
    assert.equal(hostOf("169.254.169.254"), "169.254.169.254");
    assert.equal(hostOf("169.254.169.254:80"), "169.254.169.254");
    assert.equal(hostOf("[fd00:ec2::254]:80"), "fd00:ec2::254");
    assert.equal(hostOf("[fd00:ec2::254]"), "fd00:ec2::254");
    assert.equal(hostOf("fd00:ec2::254"), "fd00:ec2::254");
    assert.equal(hostOf("LocalHost:1338"), "localhost");
  });

  test("only listen addresses, localhost and --allow-host names pass", () => {
    const check = createHostCheck({ listenAddresses: ["169.254.169.254", "fd00:ec2::254"], allowHosts: ["imds.internal"] });
    for (const ok of [undefined, "169.254.169.254", "169.254.169.254:80", "[fd00:ec2::254]:80", "localhost", "IMDS.internal:80"]) {
      assert.equal(check(ok), true, String(ok));
    }
    for (const bad of ["attacker.example", "attacker.example:1338", "10.0.0.1", "169.254.169.254.nip.io", "[::1]"]) {
      assert.equal(check(bad), false, bad);
    }
    const wildcard = createHostCheck({ listenAddresses: ["0.0.0.0"], allowHosts: [] });
    assert.equal(wildcard("172.17.0.2:80"), true);
    assert.equal(wildcard("metadata.google.internal"), false);
  });

  test("a rebinding-style Host on an IMDSv1 GET is 403, logged once per host name", async () => {
    const lines: Array<Record<string, unknown>> = [];
    const t = await testEmulator({}, { log: logInto(lines) });
    for (let i = 0; i < 3; i++) {
      const response = await t.http.get(CREDENTIALS).set("Host", "attacker.example");
      assert.equal(response.status, 403);
      assert.match(response.text, /unknown Host/);
      assert.ok(!response.text.includes("ASIA"));
    }
    await t.http.get(CREDENTIALS).set("Host", "other.example");
    assert.deepEqual(lines.filter((line) => line.event === "host-refused").map((line) => line.value), ["attacker.example", "other.example"]);
    assert.equal((await t.http.put("/latest/api/token").set("Host", "attacker.example").set("X-aws-ec2-metadata-token-ttl-seconds", "60")).status, 403);
    assert.equal((await t.http.get(CREDENTIALS).set("Host", "localhost:1338")).status, 200);
  });

  test("--allow-host names are answered", async () => {
    const t = await testEmulator({ "allow-host": ["imds.local"] });
    assert.equal((await t.http.get(CREDENTIALS).set("Host", "imds.local:1338")).status, 200);
  });

  test("headers only browsers send get 403; Node's fetch (Sec-Fetch-Mode: cors alone) does not", async () => {
    const t = await testEmulator();
    for (const [name, value] of [["Origin", "http://attacker.example"], ["Sec-Fetch-Site", "cross-site"], ["Sec-Fetch-Mode", "no-cors"], ["Sec-Fetch-Mode", "navigate"]]) {
      const response = await t.http.get(CREDENTIALS).set(name!, value!);
      assert.equal(response.status, 403, `${name}: ${value}`);
    }
    assert.equal((await t.http.get(CREDENTIALS).set("Sec-Fetch-Mode", "cors")).status, 200);
  });
});

describe("callers", () => {
  test("CIDRs parse; bare addresses are single hosts", () => {
    assert.deepEqual(parseCidr("10.0.0.0/8"), { address: "10.0.0.0", prefix: 8, family: "ipv4" });
    assert.deepEqual(parseCidr("fd00:ec2::254"), { address: "fd00:ec2::254", prefix: 128, family: "ipv6" });
    for (const bad of ["10.0.0.0/33", "10.0.0/8", "fd00::/129", "x/1", "10.0.0.0/8/1", "10.0.0.0/"]) assert.equal(parseCidr(bad), undefined, bad);
  });

  test("the default: loopback and the listen addresses' own networks", () => {
    const interfaces = {
      lo: [{ address: "127.0.0.1", netmask: "255.0.0.0", family: "IPv4", mac: "00:00:00:00:00:00", internal: true, cidr: "127.0.0.1/8" }],
      eth0: [{ address: "169.254.169.254", netmask: "255.255.255.0", family: "IPv4", mac: "02:42:a9:fe:a9:fe", internal: false, cidr: "169.254.169.254/24" }],
      eth1: [{ address: "10.1.2.3", netmask: "255.255.0.0", family: "IPv4", mac: "02:42:0a:01:02:03", internal: false, cidr: "10.1.2.3/16" }],
    } as const;
    const specific = createCallerCheck(defaultAllowedCidrs(["169.254.169.254"], () => interfaces as never));
    assert.equal(specific("169.254.169.7"), true, "a container on the emulator's network");
    assert.equal(specific("::ffff:127.0.0.1"), true);
    assert.equal(specific("::1"), true);
    assert.equal(specific("10.1.9.9"), false, "another network of the host");
    const wildcard = createCallerCheck(defaultAllowedCidrs(["0.0.0.0"], () => interfaces as never));
    assert.equal(wildcard("10.1.9.9"), true);
    assert.equal(wildcard("192.0.2.1"), false);
    const unread = () => assert.fail("a loopback listener's callers are loopback: the interfaces are not read");
    assert.deepEqual(defaultAllowedCidrs(["127.0.0.1", "::1", "localhost"], unread), ["127.0.0.0/8", "::1/128", "127.0.0.1", "::1"]);
  });

  test("networks hold the addresses node:net's BlockList puts in them, in every way of writing them", () => {
    let seed = 11;
    const next = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return (seed >> 8) % n;
    };
    const quad = () => [0, 1, 2, 3].map(() => [0, 1, 10, 127, 169, 192, 254, 255, next(256)][next(9)]).join(".");
    const hextet = () => [0, 1, 0xffff, 0xfd00, 0xec2, 0xfe80, next(0x10000)][next(7)]!.toString(16);
    const ipv6 = () => {
      const groups = Array.from({ length: 8 }, hextet);
      const form = next(6);
      if (form === 0) return `::ffff:${quad()}`;
      if (form === 1) return `::${quad()}`;
      if (form === 2) return `${groups.slice(0, 6).join(":")}:${quad()}`;
      if (form === 3) return `${groups.slice(0, 2).join(":")}::${groups.slice(5).join(":")}`;
      if (form === 4) return `${groups.join(":").toUpperCase()}%eth${next(3)}`;
      return groups.join(":").replace(/(^|:)0(:0)+(:|$)/, "::");
    };
    const address = () => (next(2) === 0 ? quad() : ipv6());
    let checked = 0;
    for (let i = 0; i < 4000; i++) {
      const base = address();
      const family = ipVersion(base) === 4 ? "ipv4" : "ipv6";
      const prefix = next(family === "ipv4" ? 33 : 129);
      const cidr = `${base.split("%")[0]}/${prefix}`;
      const parsed = parseCidr(cidr);
      if (parsed === undefined) continue;
      const list = new BlockList();
      list.addSubnet(parsed.address, parsed.prefix, parsed.family);
      const check = createCallerCheck([cidr]);
      // Near the network's own address too, so that both answers come up.
      for (const caller of [address(), address(), base]) {
        const ip = canonicalIp(caller);
        assert.equal(check(caller), list.check(ip, ipVersion(ip) === 6 ? "ipv6" : "ipv4"), `${caller} in ${cidr}`);
        checked += 1;
      }
    }
    assert.ok(checked > 10_000);
    assert.equal(createCallerCheck(["0.0.0.0/0"])("not an address"), false);
  });

  test("--allow-cidr replaces the default: a caller outside gets 403", async () => {
    const t = await testEmulator({ "allow-cidr": ["10.0.0.0/8"] });
    const response = await t.http.get(CREDENTIALS);
    assert.equal(response.status, 403);
    assert.match(response.text, /--allow-cidr/);
    assert.equal((await testEmulator({ "allow-cidr": ["127.0.0.0/8"] })).emulator.config.allowCidrs?.length, 1);
  });
});

describe("tokens that cannot be forged", () => {
  test("a token from another daemon instance, a modified token and an expired one get 401", async () => {
    const t = await testEmulator({ "http-tokens": "required" });
    const other = createTokenAuthority(t.clock).issue(600);
    assert.equal((await t.http.get(CREDENTIALS).set(TOKEN, other)).status, 401);
    const token = await t.token(5);
    const modified = token.slice(0, 10) + (token[10] === "A" ? "B" : "A") + token.slice(11);
    assert.equal((await t.http.get(CREDENTIALS).set(TOKEN, modified)).status, 401);
    assert.equal((await t.http.get(CREDENTIALS).set(TOKEN, token)).status, 200);
    await t.clock.advance(5000);
    assert.equal((await t.http.get(CREDENTIALS).set(TOKEN, token)).status, 401);
  });
});

describe("resource limits on the real listener", () => {
  let imds: RunningEmulator;
  let port: number;
  before(async () => {
    imds = await startEmulator({ maxConnections: 1200 });
    port = Number(new URL(imds.url).port);
  });
  after(() => imds.stop());

  test("too many headers: 431; headers too large: 431", async () => {
    const many = Array.from({ length: 80 }, (_, i) => `X-H${i}: v`).join("\r\n");
    assert.match(await exchange(port, `GET /latest/meta-data/ HTTP/1.1\r\nHost: 127.0.0.1\r\n${many}\r\nConnection: close\r\n\r\n`), /^HTTP\/1\.1 431 /);
    const huge = "x".repeat(9000);
    assert.match(await exchange(port, `GET /latest/meta-data/ HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${huge}\r\n\r\n`), /^HTTP\/1\.1 431 /);
  });

  test("no request body on metadata paths: 413, and the connection closes", async () => {
    for (const request of [
      "GET /latest/meta-data/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5\r\n\r\nhello",
      "PUT /latest/api/token HTTP/1.1\r\nHost: 127.0.0.1\r\nX-aws-ec2-metadata-token-ttl-seconds: 60\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    ]) {
      const response = await exchange(port, request);
      assert.match(response, /^HTTP\/1\.1 413 /);
      assert.match(response, /Connection: close/i);
    }
    assert.match(await exchange(port, "PUT /latest/api/token HTTP/1.1\r\nHost: 127.0.0.1\r\nX-aws-ec2-metadata-token-ttl-seconds: 60\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"), /^HTTP\/1\.1 200 /);
  });

  test("two Host headers: 400 whatever their values (RFC 9112, section 3.2)", async () => {
    for (const hosts of [["127.0.0.1", "127.0.0.1"], ["127.0.0.1", "attacker.example"], ["attacker.example", "localhost"]]) {
      const headers = hosts.map((host) => `Host: ${host}\r\n`).join("");
      const response = await exchange(port, `GET ${CREDENTIALS} HTTP/1.1\r\n${headers}Connection: close\r\n\r\n`);
      assert.match(response, /^HTTP\/1\.1 400 /, hosts.join(", "));
      assert.doesNotMatch(response, /ASIA/);
    }
  });

  test("malformed requests get 400, never a crash", async () => {
    assert.match(await exchange(port, "NOT HTTP AT ALL\r\n\r\n"), /^HTTP\/1\.1 400 /);
    assert.match(await exchange(port, Buffer.from([0, 1, 2, 255, 13, 10, 13, 10])), /^HTTP\/1\.1 400 /);
    const response = await fetch(`http://127.0.0.1:${port}${CREDENTIALS}`);
    assert.equal(response.status, 200);
  });

  test("1,000 idle sockets do not stop a normal client from getting credentials within 1 s", async (t) => {
    const idle: Socket[] = [];
    try {
      await Promise.all(
        Array.from({ length: 1000 }, () => new Promise<void>((resolve, reject) => {
          const socket = connect(port, "127.0.0.1", () => resolve());
          socket.on("error", reject);
          idle.push(socket);
        })),
      );
      const started = performance.now();
      const token = await (await fetch(`http://127.0.0.1:${port}/latest/api/token`, { method: "PUT", headers: { "X-aws-ec2-metadata-token-ttl-seconds": "60" }, signal: AbortSignal.timeout(1000) })).text();
      const response = await fetch(`http://127.0.0.1:${port}${CREDENTIALS}`, { headers: { [TOKEN]: token }, signal: AbortSignal.timeout(1000) });
      assert.equal(response.status, 200);
      t.diagnostic(`credentials in ${(performance.now() - started).toFixed(1)} ms beside 1,000 idle sockets`);
    } finally {
      for (const socket of idle) socket.destroy();
    }
  });
});

describe("the admin listener's own guard", () => {
  test("off loopback it needs --admin-token", () => {
    assert.throws(() => resolveConfig({ "admin-port": "9901", "admin-host": "0.0.0.0" }, {}), (error: unknown) =>
      error instanceof ConfigError && /^--admin-host: 0\.0\.0\.0 is not loopback; set --admin-token/.test(error.message));
    assert.throws(() => resolveConfig({ "admin-token": "short" }, {}), /at least 16 characters/);
  });

  test("with a token: none or a wrong one is 401, the right one passes; Host and browsers are checked too", async () => {
    const token = "s3cret-admin-token-0123456789";
    const imds = await startEmulator({ adminPort: 0, adminToken: token });
    const adminPort = Number(new URL(imds.adminUrl!).port);
    try {
      const url = `${imds.adminUrl}/healthz`;
      assert.equal((await fetch(url)).status, 401);
      assert.equal((await fetch(url, { headers: { Authorization: "Bearer wrong-token-but-long-enough" } })).status, 401);
      assert.equal((await fetch(url, { headers: { Authorization: `Bearer ${token}` } })).status, 200);
      assert.equal((await fetch(url, { headers: { Authorization: `Bearer ${token}`, Origin: "http://attacker.example" } })).status, 403);
      const rebound = await exchange(adminPort, `POST /admin/credentials/rotate HTTP/1.1\r\nHost: attacker.example\r\nAuthorization: Bearer ${token}\r\nConnection: close\r\n\r\n`);
      assert.match(rebound, /^HTTP\/1\.1 403 /);
    } finally {
      await imds.stop();
    }
  });
});
