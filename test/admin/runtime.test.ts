import assert from "node:assert/strict";
import { X509Certificate, verify } from "node:crypto";
import { describe, test } from "node:test";
import supertest from "supertest";
import { createAdminApp } from "../../src/admin/app";
import { testEmulator } from "../support/emulator";

const TOKEN = "X-aws-ec2-metadata-token";

async function setup(cli: Record<string, unknown> = {}) {
  const t = await testEmulator({ "http-tokens": "required", ...cli });
  const admin = supertest(createAdminApp(t.emulator));
  const token = await t.token();
  const get = (path: string) => t.http.get(path).set(TOKEN, token);
  return { t, admin, get };
}

describe("events through the admin listener, read back through the metadata port with an IMDSv2 token", () => {
  test("a spot interruption is served with its action and a time two minutes ahead, then cleared", async () => {
    const { t, admin, get } = await setup();
    assert.equal((await get("/latest/meta-data/spot/instance-action")).status, 404);
    const created = await admin.post("/admin/events/spot-interruption").send({ action: "stop" });
    assert.equal(created.status, 200);
    const notice = JSON.parse((await get("/latest/meta-data/spot/instance-action")).text);
    assert.deepEqual(notice, { action: "stop", time: new Date(t.clock.now() + 120_000).toISOString().replace(".000Z", "Z") });
    assert.equal((await get("/latest/meta-data/instance-action")).text, "stop");
    assert.equal((await get("/latest/meta-data/spot/termination-time")).status, 404, "termination-time is for terminate only");
    assert.equal((await admin.delete("/admin/events/spot-interruption")).status, 204);
    assert.equal((await get("/latest/meta-data/spot/instance-action")).status, 404);
    assert.equal((await get("/latest/meta-data/instance-action")).text, "none");
  });

  test("after a delay: nothing until it fires; clearing a pending event cancels it", async () => {
    const { t, admin, get } = await setup();
    const created = await admin.post("/admin/events/spot-interruption").send({ action: "terminate", after: "30s" });
    assert.equal(created.status, 202);
    assert.equal(created.body.at, new Date(t.clock.now() + 30_000).toISOString());
    await t.clock.advance(29_000);
    assert.equal((await get("/latest/meta-data/spot/instance-action")).status, 404);
    await t.clock.advance(1000);
    assert.equal(JSON.parse((await get("/latest/meta-data/spot/instance-action")).text).action, "terminate");
    assert.match((await get("/latest/meta-data/spot/termination-time")).text, /Z$/);

    await admin.post("/admin/events/rebalance-recommendation").send({ after: "10s" });
    await admin.delete("/admin/events/rebalance-recommendation");
    await t.clock.advance(20_000);
    assert.equal((await get("/latest/meta-data/events/recommendations/rebalance")).status, 404);
  });

  test("rebalance, maintenance and the Auto Scaling target lifecycle state", async () => {
    const { admin, get } = await setup();
    await admin.post("/admin/events/rebalance-recommendation");
    assert.match(JSON.parse((await get("/latest/meta-data/events/recommendations/rebalance")).text).noticeTime, /Z$/);
    await admin.post("/admin/events/maintenance").send({ code: "instance-retirement", notBefore: "2030-01-21T09:00:43Z" });
    const [event] = JSON.parse((await get("/latest/meta-data/events/maintenance/scheduled")).text);
    assert.equal(event.Code, "instance-retirement");
    assert.equal(event.NotBefore, "21 Jan 2030 09:00:43 GMT");
    assert.equal(event.NotAfter, "21 Jan 2030 11:00:43 GMT");
    assert.match(event.EventId, /^instance-event-0[0-9a-f]{16}$/);
    await admin.post("/admin/events/target-lifecycle-state").send({ state: "Warmed:Running" });
    assert.equal((await get("/latest/meta-data/autoscaling/target-lifecycle-state")).text, "Warmed:Running");
    const events = (await admin.get("/admin/events")).body;
    assert.equal(events.targetLifecycleState, "Warmed:Running");
  });

  test("the same validation and clear errors as the CLI", async () => {
    const { admin } = await setup();
    const cases: Array<[string, unknown, RegExp]> = [
      ["/admin/events/spot-interruption", { action: "explode" }, /^action: expected one of stop, terminate, hibernate, got "explode"$/],
      ["/admin/events/spot-interruption", { after: "soon" }, /^after: expected a duration such as 30s/],
      ["/admin/events/meteor-strike", {}, /^event: expected one of spot-interruption, rebalance-recommendation, maintenance, target-lifecycle-state/],
      ["/admin/events/maintenance", { code: "nap" }, /^code: expected one of instance-reboot/],
      ["/admin/events/maintenance", { notBefore: "tomorrow" }, /^notBefore: expected a time/],
      ["/admin/events/target-lifecycle-state", {}, /^state: required/],
    ];
    for (const [path, body, pattern] of cases) {
      const response = await admin.post(path).send(body as object);
      assert.equal(response.status, 400, path);
      assert.match(response.body.error, pattern);
    }
    const malformed = await admin.post("/admin/events/spot-interruption").set("Content-Type", "application/json").send("{not json");
    assert.equal(malformed.status, 400);
    assert.doesNotMatch(malformed.text, /at .*\.js/);
  });
});

describe("runtime changes", () => {
  test("set and remove a tag", async () => {
    const { admin, get } = await setup({ "instance-metadata-tags": "enabled" });
    assert.equal((await admin.put("/admin/tags/Env").type("text/plain").send("staging")).status, 204);
    assert.equal((await get("/latest/meta-data/tags/instance/Env")).text, "staging");
    assert.equal((await admin.delete("/admin/tags/Env")).status, 204);
    assert.equal((await get("/latest/meta-data/tags/instance/Env")).status, 404);
    assert.equal((await admin.delete("/admin/tags/Env")).status, 404);
    assert.equal((await admin.put("/admin/tags/..").send("x")).status, 400);
  });

  test("replace and remove user data", async () => {
    const { admin, get } = await setup();
    assert.equal((await admin.put("/admin/user-data").type("application/octet-stream").send(Buffer.from("#cloud-config\n"))).status, 204);
    const userData = async () => String((await get("/latest/user-data").responseType("blob")).body);
    assert.equal(await userData(), "#cloud-config\n");
    assert.equal((await admin.put("/admin/user-data").type("application/octet-stream").send(Buffer.alloc(16385))).status, 400);
    assert.equal(await userData(), "#cloud-config\n", "a refused change loses nothing");
    assert.equal((await admin.delete("/admin/user-data")).status, 204);
    assert.equal((await get("/latest/user-data")).status, 404);
  });

  test("POST /admin/credentials/rotate serves a new set at once", async () => {
    const { admin, get } = await setup();
    const before = JSON.parse((await get("/latest/meta-data/iam/security-credentials/imds-emulator")).text);
    const rotated = await admin.post("/admin/credentials/rotate");
    assert.equal(rotated.status, 200);
    assert.equal(rotated.body.status, "healthy");
    const after = JSON.parse((await get("/latest/meta-data/iam/security-credentials/imds-emulator")).text);
    assert.notEqual(after.AccessKeyId, before.AccessKeyId);
  });

  test("the identity certificate verifies the document's signature", async () => {
    const { admin, get } = await setup();
    const pem = (await admin.get("/admin/identity-certificate")).text;
    const certificate = new X509Certificate(pem);
    const document = (await get("/latest/dynamic/instance-identity/document")).text;
    const signature = Buffer.from((await get("/latest/dynamic/instance-identity/signature")).text, "base64");
    assert.ok(verify("sha256", Buffer.from(document), certificate.publicKey, signature));
  });
});
