import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { fromInstanceMetadata } from "@aws-sdk/credential-providers";
import { ConfigError, startEmulator, type RunningEmulator } from "../../src/index";

const TOKEN = "X-aws-ec2-metadata-token";

async function imdsGet(imds: RunningEmulator, path: string): Promise<{ status: number; text: string }> {
  const token = await (await fetch(`${imds.url}/latest/api/token`, { method: "PUT", headers: { "X-aws-ec2-metadata-token-ttl-seconds": "60" } })).text();
  const response = await fetch(`${imds.url}${path}`, { headers: { [TOKEN]: token } });
  return { status: response.status, text: await response.text() };
}

describe("startEmulator()", () => {
  let imds: RunningEmulator;
  before(async () => {
    imds = await startEmulator({
      roleName: "lib-role",
      httpTokens: "required",
      region: "eu-central-1",
      instanceMetadataTags: "enabled",
      tags: { Name: "from-a-test" },
      metadata: { "placement/group-name": "g1" },
      userData: "#!/bin/sh\n",
    });
  });
  after(() => imds.stop());

  test("starts on a free loopback port and gives the env vars an unmodified SDK needs", async () => {
    assert.match(imds.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.deepEqual(imds.env, {
      AWS_EC2_METADATA_SERVICE_ENDPOINT: imds.url,
      AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE: "IPv4",
      AWS_EC2_METADATA_DISABLED: "false",
    });
    Object.assign(process.env, imds.env);
    const credentials = await fromInstanceMetadata({ timeout: 1000 })();
    assert.equal(credentials.accessKeyId, imds.credentials()!.accessKeyId);
    assert.equal(imds.instance.region, "eu-central-1");
  });

  test("options reach the tree: tags, metadata, user data", async () => {
    assert.equal((await imdsGet(imds, "/latest/meta-data/tags/instance/Name")).text, "from-a-test");
    assert.equal((await imdsGet(imds, "/latest/meta-data/placement/group-name")).text, "g1");
    assert.equal((await imdsGet(imds, "/latest/user-data")).text, "#!/bin/sh\n");
  });

  test("rotate credentials, change metadata, trigger events", async () => {
    const before = imds.credentials()!.accessKeyId;
    assert.equal((await imds.rotateCredentials()).status, "healthy");
    assert.notEqual(imds.credentials()!.accessKeyId, before);

    imds.setMetadata("placement/partition-number", "3");
    assert.equal((await imdsGet(imds, "/latest/meta-data/placement/partition-number")).text, "3");
    assert.equal(imds.removeMetadata("placement/partition-number"), true);
    assert.equal((await imdsGet(imds, "/latest/meta-data/placement/partition-number")).status, 404);

    imds.setTag("Team", "qa");
    assert.equal((await imdsGet(imds, "/latest/meta-data/tags/instance/Team")).text, "qa");
    imds.setUserData(undefined);
    assert.equal((await imdsGet(imds, "/latest/user-data")).status, 404);

    imds.triggerEvent("spot-interruption", { action: "hibernate" });
    assert.equal(JSON.parse((await imdsGet(imds, "/latest/meta-data/spot/instance-action")).text).action, "hibernate");
    imds.clearEvent("spot-interruption");
    assert.equal((await imdsGet(imds, "/latest/meta-data/spot/instance-action")).status, 404);
    assert.throws(() => imds.triggerEvent("spot-interruption", { action: "explode" }), ConfigError);
  });

  test("a bad option is a ConfigError naming it", async () => {
    await assert.rejects(startEmulator({ httpTokens: "maybe" as "required" }), (error: unknown) =>
      error instanceof ConfigError && /http-tokens: expected one of optional, required/.test(error.message));
  });
});

test("several instances from the library: each caller its own, reached by name", async () => {
  const imds = await startEmulator({
    instances: [
      { name: "web", callers: ["127.0.0.2"], "role-name": "web-role" },
      { name: "worker", callers: ["127.0.0.3"], "role-name": "worker-role", "instance-type": "c5.large" },
    ],
  });
  try {
    assert.deepEqual(imds.instances().map((instance) => instance.name), ["default", "web", "worker"]);
    assert.equal(imds.named("worker").instance.instanceType, "c5.large");
    assert.notEqual(imds.named("web").instance.instanceId, imds.named("worker").instance.instanceId);
    imds.named("web").triggerEvent("spot-interruption", { action: "stop" });
    assert.equal(imds.named("web").events().spot?.action, "stop");
    assert.equal(imds.named("worker").events().spot, undefined);
    assert.throws(() => imds.named("nope"), (error: unknown) => error instanceof ConfigError && /no instance is named "nope"/.test(error.message));
    assert.equal((await fetch(`${imds.url}/latest/meta-data/instance-id`)).status, 403, "127.0.0.1 is no instance's caller");
  } finally {
    await imds.stop();
  }
});
