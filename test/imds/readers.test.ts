import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import supertest from "supertest";
import { createAdminApp } from "../../src/admin/app";
import { resolveConfig } from "../../src/config/config";
import type { CredentialSource } from "../../src/credentials/source";
import { ConfigError } from "../../src/validation";
import { testEmulator, type TestEmulator } from "../support/emulator";
import { exchange } from "../support/exchange";

// What readers beyond the SDKs rely on (IMDS-SPEC "What readers beyond the SDKs rely on"; issue 12):
// cloud-init, node-termination-handler, EC2 Instance Connect and the SSM agent.

const TOKEN = "X-aws-ec2-metadata-token";
const TTL = "X-aws-ec2-metadata-token-ttl-seconds";
const AWS_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

/** An emulator read with one IMDSv2 token. */
async function reader(cli: Record<string, unknown> = {}, file?: Record<string, unknown>) {
  const t = await testEmulator(cli, {}, undefined, file);
  const token = await t.token();
  const get = (path: string) => t.http.get(path).set(TOKEN, token);
  return { t, get };
}

describe("1. public-keys/ lists N=name with no slash; public-keys/N/ lists openssh-key", () => {
  test("the listing, the key's directory and the key, as cloud-init crawls them", async () => {
    const { t, get } = await reader();
    const listing = await get("/latest/meta-data/public-keys/");
    assert.equal(listing.text, "0=imds-emulator");
    assert.equal((await get("/latest/meta-data/public-keys")).text, "0=imds-emulator");
    assert.equal((await get("/latest/meta-data/public-keys/0/")).text, "openssh-key");
    assert.equal((await get("/latest/meta-data/public-keys/0")).text, "openssh-key");
    const key = (await get("/latest/meta-data/public-keys/0/openssh-key")).text;
    assert.match(key, /^ssh-ed25519 [A-Za-z0-9+/]+=* imds-emulator$/);
    // The listed line is not itself a path: cloud-init asked for it (as 0%3Dimds-emulator) only while it ended in `/`.
    assert.equal((await get("/latest/meta-data/public-keys/0=imds-emulator/")).status, 404);
    assert.equal((await get("/latest/meta-data/public-keys/0%3Dimds-emulator/")).status, 404);
    await t.emulator.stop();
  });
});

describe("2. identity-credentials/ec2: the instance identity role", () => {
  let t: TestEmulator;
  let get: (path: string) => supertest.Test;
  let roleFetches = 0;
  const counting: CredentialSource = {
    kind: "counting",
    fetch: async () => {
      roleFetches += 1;
      return { accessKeyId: `ASIAROLE${String(roleFetches).padStart(12, "0")}`, secretAccessKey: "s".repeat(40), sessionToken: "t", expiration: t.clock.now() + 3_600_000 };
    },
  };
  before(async () => {
    t = await testEmulator({ "account-id": "123456789012" }, { source: counting });
    const token = await t.token();
    get = (path) => t.http.get(path).set(TOKEN, token);
  });
  after(() => t.emulator.stop());

  test("listed in meta-data/, with info and security-credentials/ec2-instance", async () => {
    assert.ok((await get("/latest/meta-data/")).text.split("\n").includes("identity-credentials/"));
    assert.equal((await get("/latest/meta-data/identity-credentials/")).text, "ec2/");
    assert.deepEqual((await get("/latest/meta-data/identity-credentials/ec2/")).text.split("\n"), ["info", "security-credentials/"]);
    assert.equal((await get("/latest/meta-data/identity-credentials/ec2/security-credentials/")).text, "ec2-instance");
  });

  test("info has Code, LastUpdated and the instance's AccountId", async () => {
    const info = JSON.parse((await get("/latest/meta-data/identity-credentials/ec2/info")).text);
    assert.deepEqual(Object.keys(info), ["Code", "LastUpdated", "AccountId"]);
    assert.equal(info.Code, "Success");
    assert.match(info.LastUpdated, AWS_TIMESTAMP);
    assert.equal(info.AccountId, "123456789012");
  });

  test("ec2-instance is a credential document of its own, minted without the role's source", async () => {
    const document = JSON.parse((await get("/latest/meta-data/identity-credentials/ec2/security-credentials/ec2-instance")).text);
    assert.deepEqual(Object.keys(document), ["Code", "LastUpdated", "Type", "AccessKeyId", "SecretAccessKey", "Token", "Expiration"]);
    assert.equal(document.Code, "Success");
    assert.equal(document.Type, "AWS-HMAC");
    assert.match(document.AccessKeyId, /^ASIA[A-Z0-9]{16}$/);
    assert.doesNotMatch(document.AccessKeyId, /^ASIAROLE/);
    assert.match(document.Expiration, AWS_TIMESTAMP);
    assert.equal(roleFetches, 1, "the role's source was asked once, for the role only");
  });

  test("rotated by the rule of the role's credentials: always 30 minutes left", async () => {
    const path = "/latest/meta-data/identity-credentials/ec2/security-credentials/ec2-instance";
    const first = JSON.parse((await get(path)).text);
    await t.clock.advance(29 * 60_000);
    assert.deepEqual(JSON.parse((await get(path)).text), first);
    await t.clock.advance(60_000);
    const next = JSON.parse((await get(path)).text);
    assert.notEqual(next.AccessKeyId, first.AccessKeyId);
    assert.notEqual(next.LastUpdated, first.LastUpdated);
    assert.ok(Date.parse(next.Expiration) - t.clock.now() >= 30 * 60_000);
    assert.equal(JSON.parse((await get("/latest/meta-data/identity-credentials/ec2/info")).text).LastUpdated, next.LastUpdated);
  });
});

describe("3. a read made with a token carries the token's remaining seconds", () => {
  test("X-Aws-Ec2-Metadata-Token-Ttl-Seconds: whole seconds left, rounded down, on every answer to a valid token", async () => {
    const t = await testEmulator();
    const token = await t.token(100);
    const ttl = async (path: string) => (await t.http.get(path).set(TOKEN, token)).headers[TTL.toLowerCase()];
    assert.equal(await ttl("/latest/meta-data/instance-id"), "100");
    await t.clock.advance(1500);
    assert.equal(await ttl("/latest/meta-data/instance-id"), "98");
    assert.equal(await ttl("/latest/meta-data/no-such-path"), "98", "a 404 read with a valid token too");
    assert.equal(await ttl("/latest/meta-data/"), "98");
    assert.equal((await t.http.head("/latest/meta-data/instance-id").set(TOKEN, token)).headers[TTL.toLowerCase()], "98");
    await t.clock.advance(98_000);
    assert.equal(await ttl("/latest/meta-data/instance-id"), "0", "half a second left: 0, never more than the token has");
    await t.clock.advance(500);
    const expired = await t.http.get("/latest/meta-data/instance-id").set(TOKEN, token);
    assert.equal(expired.status, 401);
    assert.equal(expired.headers[TTL.toLowerCase()], undefined);
    assert.equal((await t.http.get("/latest/meta-data/instance-id")).headers[TTL.toLowerCase()], undefined, "no token, no TTL");
  });
});

describe("4. tokens are issued only at exactly /latest/api/token", () => {
  test("PUT /latest/api/token/ is 403, like a dated version's token path", async () => {
    const t = await testEmulator();
    for (const path of ["/latest/api/token/", "/2021-03-23/api/token", "/2021-03-23/api/token/"]) {
      const response = await t.http.put(path).set(TTL, "60");
      assert.equal(response.status, 403, path);
      assert.equal(response.headers[TTL.toLowerCase()], undefined, path);
    }
    assert.equal((await t.http.put("/latest/api/token").set(TTL, "60")).status, 200);
    assert.equal((await t.http.put("//latest/api/token?x=1").set(TTL, "60")).status, 200);
  });
});

describe("5. the method is checked before the body", () => {
  test("any method but GET and HEAD on a metadata path is 405, with or without a body; a body closes the connection", async () => {
    const t = await testEmulator();
    await new Promise<void>((resolve) => t.server.listen(0, "127.0.0.1", resolve));
    const { port } = t.server.address() as { port: number };
    try {
      for (const method of ["POST", "PUT", "DELETE", "PATCH"]) {
        for (const body of ["", "hello"]) {
          const length = body === "" ? "" : `Content-Length: ${body.length}\r\n`;
          const response = await exchange(port, `${method} /latest/meta-data/instance-id HTTP/1.1\r\nHost: 127.0.0.1\r\n${length}\r\n${body}`);
          assert.match(response, /^HTTP\/1\.1 405 /, `${method} with body "${body}"`);
          assert.match(response, /\r\nAllow: GET, HEAD\r\n/);
          if (body !== "") assert.match(response, /\r\nConnection: close\r\n/i);
        }
      }
      const chunked = await exchange(port, "POST /latest/meta-data/ HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
      assert.match(chunked, /^HTTP\/1\.1 405 /);
      const get = await exchange(port, "GET /latest/meta-data/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5\r\n\r\nhello");
      assert.match(get, /^HTTP\/1\.1 413 /, "a GET with a body is still refused as one");
    } finally {
      await new Promise((resolve) => t.server.close(resolve));
    }
  });
});

describe("6. 404 answers as EC2 does", () => {
  test("text/html with EC2's XHTML page, on every kind of miss", async () => {
    const { get } = await reader();
    for (const path of ["/latest/meta-data/nope", "/nope", "/2099-01-01/meta-data/", "/latest/meta-data/spot/instance-action"]) {
      const response = await get(path);
      assert.equal(response.status, 404, path);
      assert.equal(response.headers["content-type"], "text/html", path);
      assert.equal(response.headers.server, "EC2ws", path);
      assert.match(response.text, /^<\?xml version="1\.0" encoding="iso-8859-1"\?>\n<!DOCTYPE html PUBLIC "-\/\/W3C\/\/DTD XHTML 1\.0 Transitional\/\/EN"\n/);
      assert.match(response.text, /\n <head>\n {2}<title>404 - Not Found<\/title>\n <\/head>\n <body>\n {2}<h1>404 - Not Found<\/h1>\n <\/body>\n<\/html>\n$/);
    }
  });
});

describe("7. dynamic/fws/instance-monitoring", () => {
  test("dynamic/ lists fws/ and instance-identity/; monitoring is disabled unless the description says enabled", async () => {
    const plain = await reader();
    assert.deepEqual((await plain.get("/latest/dynamic/")).text.split("\n"), ["fws/", "instance-identity/"]);
    assert.equal((await plain.get("/latest/dynamic/fws/")).text, "instance-monitoring");
    assert.equal((await plain.get("/latest/dynamic/fws/instance-monitoring")).text, "disabled");
    const monitored = await reader({}, { "instance-monitoring": "enabled" });
    assert.equal((await monitored.get("/latest/dynamic/fws/instance-monitoring")).text, "enabled");
    assert.throws(() => resolveFile({ "instance-monitoring": "detailed" }), /^ConfigError: test\.yaml: instance-monitoring: expected one of enabled, disabled, got "detailed"$/);
  });
});

describe("8. per interface: network-card-index, and IPv6 when the description gives it", () => {
  test("every interface has network-card-index 0; without IPv6 there is no IPv6 entry", async () => {
    const { t, get } = await reader({}, { "network-interfaces": [{ "local-ipv4": "172.31.16.77" }] });
    for (const nic of t.emulator.instance.interfaces) {
      const base = `/latest/meta-data/network/interfaces/macs/${nic.mac}/`;
      assert.equal((await get(`${base}network-card-index`)).text, "0");
      const entries = (await get(base)).text.split("\n");
      for (const entry of ["ipv6s", "subnet-ipv6-cidr-blocks", "vpc-ipv6-cidr-blocks"]) assert.ok(!entries.includes(entry), entry);
    }
    assert.equal((await get("/latest/meta-data/ipv6")).status, 404);
  });

  test("ipv6 on the primary and a secondary interface: ipv6s, the subnet's /64 and the VPC's /56, the same everywhere", async () => {
    const { t, get } = await reader({}, {
      ipv6: ["2600:1F16:292:100:0:0:0:10", "2600:1f16:292:100::11"],
      "network-interfaces": [{ "local-ipv4": "172.31.16.77", ipv6: "2600:1f16:292:100::20" }, { "local-ipv4": "172.31.16.78" }],
    });
    const [primary, secondary, third] = t.emulator.instance.interfaces.map((nic) => `/latest/meta-data/network/interfaces/macs/${nic.mac}/`);
    assert.equal((await get(`${primary}ipv6s`)).text, "2600:1f16:292:100::10\n2600:1f16:292:100::11");
    assert.equal((await get(`${primary}subnet-ipv6-cidr-blocks`)).text, "2600:1f16:292:100::/64");
    assert.equal((await get(`${primary}vpc-ipv6-cidr-blocks`)).text, "2600:1f16:292:100::/56");
    assert.equal((await get("/latest/meta-data/ipv6")).text, "2600:1f16:292:100::10");
    assert.equal((await get(`${secondary}ipv6s`)).text, "2600:1f16:292:100::20");
    assert.equal((await get(`${secondary}vpc-ipv6-cidr-blocks`)).text, "2600:1f16:292:100::/56");
    assert.equal((await get(`${third}ipv6s`)).status, 404);
  });

  test("addresses outside the VPC's /56, or outside a shared subnet's /64, are refused with one line", () => {
    assert.throws(() => resolveFile({ ipv6: ["2600:1f16:292:100::10"], "network-interfaces": [{ ipv6: ["2600:1f16:aaaa:100::20"] }] }),
      /^ConfigError: test\.yaml: network-interfaces\[0\]\.ipv6: 2600:1f16:aaaa:100::20 is outside the VPC's IPv6 block 2600:1f16:292:100::\/56 \(from test\.yaml: ipv6\)$/);
    assert.throws(() => resolveFile({ ipv6: ["2600:1f16:292:100::10"], "network-interfaces": [{ ipv6: ["2600:1f16:292:101::20"] }] }),
      /outside its subnet's IPv6 block 2600:1f16:292:100::\/64/);
    // In a subnet of its own, a secondary interface may have another /64 of the VPC.
    resolveFile({ ipv6: ["2600:1f16:292:100::10"], "network-interfaces": [{ ipv6: ["2600:1f16:292:101::20"], "subnet-id": "subnet-0123456789abcdef0" }] });
    assert.throws(() => resolveFile({ ipv6: ["10.0.0.1"] }), /^ConfigError: test\.yaml: ipv6: expected IPv6 addresses such as 2600:1f16:292:100::10, got "10\.0\.0\.1"$/);
  });
});

describe("9. dated versions serve what existed in that version", () => {
  let t: TestEmulator;
  let get: (path: string) => supertest.Test;
  before(async () => {
    ({ t, get } = await reader({ "instance-metadata-tags": "enabled" }, { tags: { Name: "crawl" }, "user-data": "#cloud-config\n" }));
    t.emulator.scheduleEvent({ request: { kind: "target-lifecycle-state", state: "InService" }, afterMs: 0 });
  });
  const entries = async (path: string) => (await get(path)).text.split("\n");

  test("/2009-04-04 answers with or without a slash; 1.0 had no dynamic/", async () => {
    assert.deepEqual(await entries("/2009-04-04"), ["dynamic", "meta-data", "user-data"]);
    assert.deepEqual(await entries("/2009-04-04/"), ["dynamic", "meta-data", "user-data"]);
    assert.deepEqual(await entries("/1.0/"), ["meta-data", "user-data"]);
    assert.equal((await get("/1.0/dynamic/instance-identity/document")).status, 404);
  });

  test("cloud-init's versions: tags from 2021-03-23, identity-credentials and events from 2018-09-24, ipv6s from 2016-09-02", async () => {
    const latest = await entries("/latest/meta-data/");
    const v2021 = await entries("/2021-03-23/meta-data/");
    const v2018 = await entries("/2018-09-24/meta-data/");
    const v2016 = await entries("/2016-09-02/meta-data/");
    const v2009 = await entries("/2009-04-04/meta-data/");
    assert.ok(latest.includes("autoscaling/") && !v2021.includes("autoscaling/"), "autoscaling/ came with 2021-07-15");
    assert.ok(v2021.includes("tags/") && !v2018.includes("tags/"), "tags/ came with 2021-03-23");
    assert.ok(v2021.includes("instance-life-cycle") && !v2018.includes("instance-life-cycle"), "2019-10-01");
    assert.ok(v2018.includes("identity-credentials/") && !v2016.includes("identity-credentials/"), "2018-05-23, first listed as 2018-08-17");
    assert.ok(v2018.includes("events/") && !v2016.includes("events/"), "2018-08-17");
    assert.ok(v2016.includes("services/") && v2016.includes("iam/") && !v2009.includes("iam/"), "services/ 2014-02-25, iam/ 2012-01-12");
    assert.ok(!v2009.includes("mac") && !v2009.includes("network/") && v2009.includes("public-keys/"), "mac and network/ came with 2011-01-01");
    assert.deepEqual(await entries("/2016-09-02/meta-data/placement/"), ["availability-zone"]);
    assert.deepEqual(await entries("/2021-03-23/meta-data/placement/"), ["availability-zone", "availability-zone-id", "region"]);
    assert.equal((await get("/2016-09-02/meta-data/placement/region")).status, 404);
    const mac = t.emulator.instance.interfaces[0].mac;
    assert.ok((await entries(`/2021-03-23/meta-data/network/interfaces/macs/${mac}/`)).includes("network-card-index"));
    assert.ok(!(await entries(`/2018-09-24/meta-data/network/interfaces/macs/${mac}/`)).includes("network-card-index"));
    assert.ok((await entries(`/2016-09-02/meta-data/network/interfaces/macs/${mac}/`)).includes("vpc-ipv4-cidr-blocks"));
    assert.ok(!(await entries(`/2016-04-19/meta-data/network/interfaces/macs/${mac}/`)).includes("vpc-ipv4-cidr-blocks"));
  });

  test("a version between two eras answers from the older one, values unchanged", async () => {
    assert.deepEqual(await entries("/2016-09-02/meta-data/"), await entries("/2016-06-30/meta-data/"));
    assert.equal((await get("/2016-09-02/meta-data/instance-id")).text, t.emulator.instance.instanceId);
    const userData = await get("/2009-04-04/user-data").buffer(true).parse((res, done) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => done(null, Buffer.concat(chunks)));
    });
    assert.deepEqual(userData.body, Buffer.from("#cloud-config\n"));
    assert.equal((await get("/2009-04-04/dynamic/instance-identity/document")).text, (await get("/latest/dynamic/instance-identity/document")).text);
  });
});

describe("10. one value, one answer", () => {
  test("a metadata override of a value with a dedicated option is refused, naming the option", () => {
    assert.throws(() => resolveFile({ metadata: { "instance-id": "i-0123456789abcdef0" } }),
      /^ConfigError: test\.yaml: metadata\.instance-id: instance-id is not set through metadata; use --instance-id, which changes it everywhere it appears$/);
    for (const [path, option] of [
      ["local-ipv4", "--local-ipv4"], ["hostname", "--local-ipv4"], ["placement/availability-zone", "--availability-zone"],
      ["placement/region", "--region"], ["mac", "--mac"], ["network/interfaces/macs/0e:00:00:00:00:01/owner-id", "--account-id"],
      ["ami-id", "--ami-id"], ["instance-type", "--instance-type"], ["/public-ipv4/", "--public-ipv4"],
    ] as const) {
      assert.throws(() => resolveFile({ metadata: { [path]: "x" } }), (error: unknown) =>
        error instanceof ConfigError && error.message.includes(option) && !error.message.includes("\n"), path);
    }
  });

  test("the same refusal at run time, through the library and the admin API", async () => {
    const t = await testEmulator();
    assert.throws(() => t.emulator.setMetadata("instance-id", "i-0123456789abcdef0"), /use --instance-id/);
    const admin = supertest(createAdminApp(t.emulator));
    const refused = await admin.put("/admin/metadata/placement/availability-zone").send("us-east-1b");
    assert.equal(refused.status, 400);
    assert.match(refused.body.error, /use --availability-zone/);
    t.emulator.setMetadata("placement/group-name", "web-tier");
    assert.equal((await t.http.get("/latest/meta-data/placement/group-name")).text, "web-tier");
  });

  test("the dedicated options change every place the value appears", async () => {
    const { t, get } = await reader({ "instance-id": "i-0123456789abcdef0", "local-ipv4": "10.1.2.3", mac: "0e:11:22:33:44:55", "availability-zone": "us-east-1c", "account-id": "123456789012" });
    const document = JSON.parse((await get("/latest/dynamic/instance-identity/document")).text);
    assert.equal((await get("/latest/meta-data/instance-id")).text, "i-0123456789abcdef0");
    assert.equal(document.instanceId, "i-0123456789abcdef0");
    assert.equal(document.privateIp, "10.1.2.3");
    assert.equal((await get("/latest/meta-data/network/interfaces/macs/0e:11:22:33:44:55/local-ipv4s")).text, "10.1.2.3");
    assert.equal((await get("/latest/meta-data/hostname")).text, "ip-10-1-2-3.ec2.internal");
    assert.equal(document.availabilityZone, "us-east-1c");
    assert.equal((await get("/latest/meta-data/placement/availability-zone-id")).text, "use1-az3");
    assert.equal(document.accountId, "123456789012");
    assert.equal((await get("/latest/meta-data/network/interfaces/macs/0e:11:22:33:44:55/owner-id")).text, "123456789012");
    assert.equal(JSON.parse((await get("/latest/meta-data/identity-credentials/ec2/info")).text).AccountId, "123456789012");
    assert.equal(t.emulator.instance.instanceId, "i-0123456789abcdef0", "what the started log line reports");
  });
});

describe("11. block-device-mapping/ beyond ami and root", () => {
  test("ebsN, ephemeralN and swap from the description, beside the root device", async () => {
    const { get } = await reader({}, { "block-device-mapping": { ebs1: "sdf", ebs2: "/dev/sdg", ephemeral0: "sdb", swap: "sdc" } });
    assert.deepEqual((await get("/latest/meta-data/block-device-mapping/")).text.split("\n"), ["ami", "ebs1", "ebs2", "ephemeral0", "root", "swap"]);
    assert.equal((await get("/latest/meta-data/block-device-mapping/ebs1")).text, "sdf");
    assert.equal((await get("/latest/meta-data/block-device-mapping/ebs2")).text, "/dev/sdg");
    assert.equal((await get("/latest/meta-data/block-device-mapping/ephemeral0")).text, "sdb");
    assert.equal((await get("/latest/meta-data/block-device-mapping/root")).text, "/dev/xvda");
    assert.equal((await get("/2007-12-15/meta-data/block-device-mapping/ebs1")).text, "sdf");
    assert.equal((await get("/2007-10-10/meta-data/block-device-mapping/ebs1")).status, 404, "block-device-mapping/ came with 2007-12-15");
  });

  test("bad entries and a device that backs two entries are refused with one line", () => {
    assert.throws(() => resolveFile({ "block-device-mapping": { disk1: "sdf" } }),
      /^ConfigError: test\.yaml: block-device-mapping\.disk1: expected an entry named ami, root, swap, ebsN or ephemeralN, got "disk1"$/);
    assert.throws(() => resolveFile({ "block-device-mapping": { ebs1: "sd f" } }), /block-device-mapping\.ebs1: expected a device name such as sdf/);
    assert.throws(() => resolveFile({ "block-device-mapping": { ebs1: "sdf", ephemeral0: "/dev/sdf" } }),
      /^ConfigError: test\.yaml: block-device-mapping\.ephemeral0: \/dev\/sdf is already the device of ebs1; one device backs one entry$/);
    assert.throws(() => resolveFile({ "block-device-mapping": ["sdf"] }), /expected a mapping such as \{ebs1: sdf, ephemeral0: sdb\}/);
    resolveFile({ "block-device-mapping": { ami: "/dev/sda1", root: "/dev/sda1" } });
  });
});

/** Resolves a description file as testEmulator does, to see what it refuses. */
function resolveFile(file: Record<string, unknown>): void {
  resolveConfig({}, {}, { path: "test.yaml", data: file });
}

describe("1 and 10 together: an override below public-keys/0/ keeps the listing", () => {
  test("metadata public-keys/0/openssh-key changes the key; public-keys/ still lists 0=imds-emulator", async () => {
    const { get } = await reader({}, { metadata: { "public-keys/0/openssh-key": "ssh-ed25519 AAAA other" } });
    assert.equal((await get("/latest/meta-data/public-keys/")).text, "0=imds-emulator");
    assert.equal((await get("/latest/meta-data/public-keys/0/openssh-key")).text, "ssh-ed25519 AAAA other");
  });
});
