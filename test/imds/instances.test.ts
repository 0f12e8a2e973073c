import assert from "node:assert/strict";
import { request } from "node:http";
import { after, before, describe, test } from "node:test";
import supertest from "supertest";
import { createAdminApp } from "../../src/admin/app";
import { resolveConfig } from "../../src/config/config";
import { createEmulator, type Emulator } from "../../src/emulator";
import { FakeClock } from "../support/fake-clock";

const ROLE = "/latest/meta-data/iam/security-credentials/";

/** An HTTP exchange from a loopback address of our choice: on Linux all of 127.0.0.0/8 is this host. */
function call(port: number, from: string, method: string, path: string, headers: Record<string, string> = {}): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, method, path, headers, localAddress: from }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk) => (text += chunk));
      res.on("end", () => resolve({ status: res.statusCode!, text }));
    });
    req.on("error", reject);
    req.end();
  });
}

async function token(port: number, from: string): Promise<string> {
  const put = await call(port, from, "PUT", "/latest/api/token", { "X-aws-ec2-metadata-token-ttl-seconds": "300" });
  assert.equal(put.status, 200, `${from}: ${put.text}`);
  return put.text;
}

async function read(port: number, from: string, path: string, with_?: string) {
  return call(port, from, "GET", path, { "X-aws-ec2-metadata-token": with_ ?? (await token(port, from)) });
}

describe("several instances behind one emulator", () => {
  let emulator: Emulator;
  let port: number;
  const clock = new FakeClock(Date.now());
  const names: Record<string, string[]> = { web: ["127.0.0.4"] };
  before(async () => {
    const config = resolveConfig({ host: ["127.0.0.1"], port: "0" }, {}, {
      path: "instances.yaml",
      data: {
        "http-tokens": "required",
        instances: [
          { name: "app", callers: ["127.0.0.2"], "role-name": "app-role" },
          { name: "app-twin", callers: ["127.0.0.5"], "role-name": "app-role" },
          { name: "batch", callers: ["127.0.0.3"], "role-name": "batch-role", "instance-type": "c5.xlarge", "instance-metadata-tags": "enabled" },
          { name: "web", callers: ["web"], "role-name": "web-role" },
          { name: "worker", callers: ["worker"], "role-name": "worker-role" },
          { name: "jobs", callers: ["127.0.1.0/24"], "one-per-caller": true, "role-name": "job-role" },
        ],
      },
    });
    emulator = await createEmulator(config, { seed: "instances-test", clock, resolve: async (name) => names[name] ?? [] });
    port = (await emulator.listen()).metadata[0]!.port;
  });
  after(() => emulator.stop());

  test("each caller gets its own instance: id, address, role and credentials", async () => {
    const app = await read(port, "127.0.0.2", "/latest/meta-data/instance-id");
    const batch = await read(port, "127.0.0.3", "/latest/meta-data/instance-id");
    assert.match(app.text, /^i-0[0-9a-f]{16}$/);
    assert.notEqual(app.text, batch.text);
    assert.equal((await read(port, "127.0.0.2", "/latest/meta-data/local-ipv4")).text, "127.0.0.2", "a container sees its own address");
    assert.equal((await read(port, "127.0.0.3", "/latest/meta-data/instance-type")).text, "c5.xlarge");
    assert.equal((await read(port, "127.0.0.2", ROLE)).text, "app-role");
    assert.equal((await read(port, "127.0.0.3", ROLE)).text, "batch-role");
    const document = JSON.parse((await read(port, "127.0.0.3", "/latest/dynamic/instance-identity/document")).text);
    assert.equal(document.instanceId, batch.text, "the identity document agrees");
    const appKey = JSON.parse((await read(port, "127.0.0.2", `${ROLE}app-role`)).text).AccessKeyId;
    const twinKey = JSON.parse((await read(port, "127.0.0.5", `${ROLE}app-role`)).text).AccessKeyId;
    const batchKey = JSON.parse((await read(port, "127.0.0.3", `${ROLE}batch-role`)).text).AccessKeyId;
    assert.equal(appKey, twinKey, "one role, one refresher: the same set for both instances");
    assert.notEqual(appKey, batchKey);
    assert.equal((await read(port, "127.0.0.2", `${ROLE}batch-role`)).status, 404, "never another instance's role");
  });

  test("a stranger gets 403 on every path, the token PUT included", async () => {
    assert.equal((await call(port, "127.0.0.9", "PUT", "/latest/api/token", { "X-aws-ec2-metadata-token-ttl-seconds": "60" })).status, 403);
    assert.equal((await call(port, "127.0.0.9", "GET", "/latest/meta-data/instance-id")).status, 403);
    assert.equal((await call(port, "127.0.0.9", "GET", `${ROLE}app-role`)).status, 403);
  });

  test("a token belongs to its instance: another instance refuses it with 401", async () => {
    const appToken = await token(port, "127.0.0.2");
    assert.equal((await read(port, "127.0.0.2", "/latest/meta-data/instance-id", appToken)).status, 200);
    assert.equal((await read(port, "127.0.0.3", "/latest/meta-data/instance-id", appToken)).status, 401);
  });

  test("an address that moves to another service gets that service's instance; the old tokens stop working", async () => {
    const webToken = await token(port, "127.0.0.4");
    assert.equal((await read(port, "127.0.0.4", ROLE, webToken)).text, "web-role");
    names.web = [];
    names.worker = ["127.0.0.4"];
    await clock.advance(30_000);
    assert.equal((await read(port, "127.0.0.4", ROLE)).text, "worker-role");
    assert.equal((await read(port, "127.0.0.4", ROLE, webToken)).status, 401);
  });

  test("a one-per-caller template gives each caller an instance of its own, with the caller's address", async () => {
    const first = await read(port, "127.0.1.7", "/latest/meta-data/instance-id");
    const second = await read(port, "127.0.1.8", "/latest/meta-data/instance-id");
    assert.notEqual(first.text, second.text);
    assert.equal((await read(port, "127.0.1.7", "/latest/meta-data/instance-id")).text, first.text, "stable for the same caller");
    assert.equal((await read(port, "127.0.1.8", "/latest/meta-data/local-ipv4")).text, "127.0.1.8");
    assert.equal((await read(port, "127.0.1.8", ROLE)).text, "job-role");
    assert.equal(emulator.named("jobs@127.0.1.8").instance.instanceId, second.text);
  });

  test("the admin listener and the library act on one instance by name; the old paths on the top level", async () => {
    const admin = supertest(createAdminApp(emulator));
    const listed = (await admin.get("/admin/instances")).body as Array<{ name: string; role: string; addresses: string[]; instanceId: string }>;
    assert.deepEqual(
      listed.filter((instance) => ["app", "batch"].includes(instance.name)).map(({ name, role, addresses }) => ({ name, role, addresses })),
      [
        { name: "app", role: "app-role", addresses: ["127.0.0.2"] },
        { name: "batch", role: "batch-role", addresses: ["127.0.0.3"] },
      ],
    );
    assert.equal((await admin.post("/admin/instances/app/events/spot-interruption").send({ action: "stop" })).status, 200);
    assert.equal(JSON.parse((await read(port, "127.0.0.2", "/latest/meta-data/spot/instance-action")).text).action, "stop");
    assert.equal((await read(port, "127.0.0.3", "/latest/meta-data/spot/instance-action")).status, 404, "the other instances see nothing");
    emulator.named("batch").setTag("Role", "batch");
    assert.equal(emulator.named("batch").instance.instanceType, "c5.xlarge");
    const unknown = await admin.post("/admin/instances/nope/events/spot-interruption").send({});
    assert.equal(unknown.status, 400);
    assert.match(unknown.body.error, /no instance is named "nope"; there are default, app, app-twin, batch/);
    assert.equal((await admin.get("/admin/events")).status, 200, "the old paths still answer, for the top level");
    const health = await admin.get("/healthz");
    assert.equal(health.status, 200);
    assert.ok(health.body.instances.some((instance: { name: string; health: string }) => instance.name === "batch" && instance.health === "healthy"));
    const metrics = (await admin.get("/metrics")).text;
    assert.match(metrics, /^imds_emulator_role_healthy\{role="app-role"\} 1$/m);
    assert.match(metrics, /^imds_emulator_role_credentials_expiry_seconds\{role="batch-role"\} \d+/m);
  });
});

test("unknown-callers: default serves the top-level instance to a stranger", async () => {
  const config = resolveConfig({ host: ["127.0.0.1"], port: "0", "unknown-callers": "default" }, {}, {
    path: "i.yaml",
    data: { instances: [{ name: "app", callers: ["127.0.0.2"], "role-name": "app-role" }] },
  });
  const emulator = await createEmulator(config, { seed: "fallback" });
  try {
    const { port } = (await emulator.listen()).metadata[0]!;
    assert.equal((await read(port, "127.0.0.9", ROLE)).text, "imds-emulator");
    assert.equal((await read(port, "127.0.0.2", ROLE)).text, "app-role");
  } finally {
    await emulator.stop();
  }
});
