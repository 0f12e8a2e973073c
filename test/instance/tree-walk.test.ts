import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, test } from "node:test";
import { resolveConfig } from "../../src/config/config";
import { loadConfigFile } from "../../src/config/file";
import type { CredentialSource } from "../../src/credentials/source";
import { createEmulator } from "../../src/emulator";
import { testEmulator, type TestEmulator } from "../support/emulator";

/** A source that always answers, for configs that name a role ARN. */
const STUB_SOURCE: CredentialSource = {
  kind: "stub",
  fetch: async () => ({ accessKeyId: "ASIAEXAMPLEEXAMPLE00", secretAccessKey: "s".repeat(40), sessionToken: "t", expiration: Date.now() + 3_600_000 }),
};

const EXAMPLES = join(__dirname, "..", "..", "..", "examples");

/** A listing entry's path: sub-trees end in `/`; `0=<key name>` is the directory `0/` (EC2's public keys). */
function entryPath(entry: string): string {
  const equals = entry.indexOf("=");
  return equals === -1 ? entry : `${entry.slice(0, equals)}/`;
}

/** Walks the tree from a listing, checking every listed entry answers 200 and unlisted probes 404. */
async function walk(get: (path: string) => Promise<{ status: number; text: string }>, root: string) {
  const visited: string[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const dir = queue.shift()!;
    const listing = await get(dir);
    assert.equal(listing.status, 200, dir);
    visited.push(dir);
    assert.equal((await get(`${dir}no-such-entry`)).status, 404, `${dir}no-such-entry`);
    for (const entry of listing.text.split("\n")) {
      const path = dir + entryPath(entry);
      if (path.endsWith("/")) {
        queue.push(path);
        continue;
      }
      const leaf = await get(path);
      assert.equal(leaf.status, 200, path);
      assert.equal((await get(`${path}/no-such-entry`)).status, 404, `${path}/no-such-entry`);
      visited.push(path);
    }
  }
  return visited;
}

async function everythingOn(httpTokens: "optional" | "required"): Promise<TestEmulator> {
  const t = await testEmulator({ "http-tokens": httpTokens, "instance-metadata-tags": "enabled" }, {}, undefined, {
    tags: { Name: "walker", Team: "qa" },
    "user-data": "#!/bin/sh\n",
    "network-interfaces": [{ "local-ipv4": "172.31.16.77" }],
  });
  t.emulator.scheduleEvent({ request: { kind: "spot-interruption", action: "terminate" }, afterMs: 0 });
  t.emulator.scheduleEvent({ request: { kind: "rebalance-recommendation" }, afterMs: 0 });
  t.emulator.scheduleEvent({ request: { kind: "maintenance", code: "system-reboot" }, afterMs: 0 });
  t.emulator.scheduleEvent({ request: { kind: "target-lifecycle-state", state: "InService" }, afterMs: 0 });
  return t;
}

describe("the whole tree, walked from /latest/meta-data/", () => {
  for (const httpTokens of ["optional", "required"] as const) {
    test(`every listed entry answers 200 and every unlisted probe 404 (HttpTokens=${httpTokens})`, async (t) => {
      const emulator = await everythingOn(httpTokens);
      const token = httpTokens === "required" ? await emulator.token() : undefined;
      const get = async (path: string) => {
        const request = emulator.http.get(path);
        return token === undefined ? request : request.set("X-aws-ec2-metadata-token", token);
      };
      const visited = await walk(get, "/latest/meta-data/");
      visited.push(...(await walk(get, "/latest/dynamic/")));
      for (const expected of [
        "/latest/meta-data/block-device-mapping/root",
        "/latest/meta-data/public-keys/0/openssh-key",
        "/latest/meta-data/services/partition",
        "/latest/meta-data/metrics/vhostmd",
        "/latest/meta-data/spot/instance-action",
        "/latest/meta-data/spot/termination-time",
        "/latest/meta-data/events/recommendations/rebalance",
        "/latest/meta-data/events/maintenance/scheduled",
        "/latest/meta-data/autoscaling/target-lifecycle-state",
        "/latest/meta-data/tags/instance/Team",
        "/latest/meta-data/iam/security-credentials/imds-emulator",
        "/latest/dynamic/instance-identity/rsa2048",
      ]) {
        assert.ok(visited.includes(expected), expected);
      }
      const macs = visited.filter((path) => /macs\/[0-9a-f:]+\/$/.test(path));
      assert.equal(macs.length, 2, "both interfaces");
      for (const field of ["device-number", "interface-id", "local-hostname", "local-ipv4s", "mac", "owner-id",
        "security-group-ids", "security-groups", "subnet-id", "subnet-ipv4-cidr-block", "vpc-id",
        "vpc-ipv4-cidr-block", "vpc-ipv4-cidr-blocks"]) {
        assert.ok(visited.includes(`${macs[0]}${field}`), field);
      }
      if (httpTokens === "required") assert.equal((await emulator.http.get("/latest/meta-data/")).status, 401);
      t.diagnostic(`${visited.length} paths walked`);
    });
  }
});

describe("dated versions, walked as cloud-init walks them", () => {
  test("every entry a dated listing shows answers 200 in that version (1.0 and cloud-init's four)", async (t) => {
    const emulator = await everythingOn("optional");
    const get = async (path: string) => emulator.http.get(path);
    for (const version of ["1.0", "2009-04-04", "2016-09-02", "2018-09-24", "2021-03-23"]) {
      const visited = await walk(get, `/${version}/meta-data/`);
      if (version !== "1.0") visited.push(...(await walk(get, `/${version}/dynamic/`)));
      assert.ok(visited.includes(`/${version}/meta-data/public-keys/0/openssh-key`), version);
      t.diagnostic(`${version}: ${visited.length} paths walked`);
    }
  });
});

describe("values stay consistent when one is overridden", () => {
  test("a region change moves the zone, zone id, host names, identity document and services/domain", async () => {
    const t = await testEmulator({ region: "eu-west-1", "local-ipv4": "10.9.8.7" });
    const get = async (path: string) => (await t.http.get(`/latest/meta-data/${path}`)).text;
    assert.equal(await get("placement/availability-zone"), "eu-west-1a");
    assert.equal(await get("placement/availability-zone-id"), "euw1-az1");
    assert.equal(await get("placement/region"), "eu-west-1");
    assert.equal(await get("hostname"), "ip-10-9-8-7.eu-west-1.compute.internal");
    assert.equal(await get("local-hostname"), "ip-10-9-8-7.eu-west-1.compute.internal");
    assert.match(await get("public-hostname"), /^ec2-203-0-113-\d+\.eu-west-1\.compute\.amazonaws\.com$/);
    assert.equal(await get("services/domain"), "amazonaws.com");
    const mac = await get("mac");
    assert.equal(await get(`network/interfaces/macs/${mac}/subnet-ipv4-cidr-block`), "10.9.0.0/20");
    assert.equal(await get(`network/interfaces/macs/${mac}/vpc-ipv4-cidr-block`), "10.9.0.0/16");
    const document = JSON.parse((await t.http.get("/latest/dynamic/instance-identity/document")).text);
    assert.equal(document.region, "eu-west-1");
    assert.equal(document.availabilityZone, "eu-west-1a");
    assert.equal(document.privateIp, "10.9.8.7");
  });

  test("China and GovCloud partitions", async () => {
    const china = await testEmulator({ region: "cn-north-1" });
    assert.equal((await china.http.get("/latest/meta-data/services/domain")).text, "amazonaws.com.cn");
    assert.equal((await china.http.get("/latest/meta-data/services/partition")).text, "aws-cn");
    const gov = await testEmulator({ region: "us-gov-west-1" });
    assert.equal((await gov.http.get("/latest/meta-data/services/partition")).text, "aws-us-gov");
  });

  test("the account id of the role ARN is the account everywhere", async () => {
    const t = await testEmulator({ "role-arn": "arn:aws:iam::210987654321:role/app" }, {
      source: STUB_SOURCE,
    });
    const mac = (await t.http.get("/latest/meta-data/mac")).text;
    assert.equal((await t.http.get(`/latest/meta-data/network/interfaces/macs/${mac}/owner-id`)).text, "210987654321");
    assert.equal(JSON.parse((await t.http.get("/latest/dynamic/instance-identity/document")).text).accountId, "210987654321");
    assert.match(JSON.parse((await t.http.get("/latest/meta-data/iam/info")).text).InstanceProfileArn, /^arn:aws:iam::210987654321:instance-profile\/app$/);
  });
});

describe("the shipped examples", () => {
  for (const name of ["web-server.yaml", "ci-runner.json"]) {
    test(`${name} loads and describes a consistent instance`, async () => {
      const config = resolveConfig({}, {}, await loadConfigFile(join(EXAMPLES, name)));
      const emulator = await createEmulator(config, { seed: "example", source: STUB_SOURCE });
      assert.equal(emulator.instance.availabilityZone.slice(0, -1), emulator.instance.region);
      await emulator.stop();
    });
  }
});
