import assert from "node:assert/strict";
import { X509Certificate, verify } from "node:crypto";
import { describe, test } from "node:test";
import supertest from "supertest";
import { createAdminApp } from "../../src/admin/app";
import { testEmulator } from "../support/emulator";
import { FakeClock } from "../support/fake-clock";
import { logInto } from "../support/log";

const TOKEN = "X-aws-ec2-metadata-token";

async function setup(cli: Record<string, unknown> = {}, lines: Array<Record<string, unknown>> = []) {
  const clock = new FakeClock();
  const t = await testEmulator({ "http-tokens": "required", ...cli }, { log: logInto(lines, clock) }, clock);
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

  test("a JSON body is read whatever its Content-Type: a delay is never dropped for a default", async () => {
    const { t, admin } = await setup();
    for (const type of [undefined, "text/plain", "application/x-www-form-urlencoded", "application/json"]) {
      const request = admin.post("/admin/events/spot-interruption");
      const response = await (type === undefined ? request : request.set("Content-Type", type)).send('{"action":"stop","after":"30s"}');
      assert.equal(response.status, 202, String(type));
      assert.equal(response.body.at, new Date(t.clock.now() + 30_000).toISOString(), String(type));
      assert.equal(t.emulator.events().spot, undefined, `${type}: not in effect before its delay`);
      await admin.delete("/admin/events/spot-interruption");
    }
  });

  test("GET /admin/events lists pending events, every time in ISO 8601; a delayed event logs when it fires", async () => {
    const lines: Array<Record<string, unknown>> = [];
    const { t, admin } = await setup({}, lines);
    const start = t.clock.now();
    await admin.post("/admin/events/spot-interruption").send({ action: "stop", after: "30s" });
    await admin.post("/admin/events/maintenance").send({ code: "instance-stop", notBefore: "2030-01-21T09:00:43Z", after: "1m" });
    await admin.post("/admin/events/rebalance-recommendation");
    const before = (await admin.get("/admin/events")).body;
    assert.equal(before.rebalanceNoticeTime, new Date(start).toISOString());
    assert.deepEqual(before.pending, [
      { kind: "spot-interruption", action: "stop", at: new Date(start + 30_000).toISOString() },
      { kind: "maintenance", code: "instance-stop", notBefore: "2030-01-21T09:00:43.000Z", at: new Date(start + 60_000).toISOString() },
    ]);
    assert.equal(lines.filter((line) => line.event === "event-fired").length, 0);

    await t.clock.advance(30_000);
    const after = (await admin.get("/admin/events")).body;
    assert.deepEqual(after.spot, { action: "stop", time: new Date(start + 30_000 + 120_000).toISOString() });
    assert.deepEqual(after.pending.map((event: { kind: string }) => event.kind), ["maintenance"]);
    assert.deepEqual(lines.filter((line) => line.event === "event-fired").map((line) => line.kind), ["spot-interruption"]);

    await t.clock.advance(30_000);
    const [maintenance] = (await admin.get("/admin/events")).body.scheduledMaintenance;
    assert.equal(maintenance.notBefore, "2030-01-21T09:00:43.000Z");
    assert.equal(maintenance.notAfter, "2030-01-21T11:00:43.000Z");
    assert.deepEqual((await admin.get("/admin/events")).body.pending, []);
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

  test("setting a tag while tags are not served is a 409 naming the option, not a silent 204", async () => {
    const { t, admin, get } = await setup();
    const refused = await admin.put("/admin/tags/Env").type("text/plain").send("staging");
    assert.equal(refused.status, 409);
    assert.match(refused.body.error, /^tags are not served: start with --instance-metadata-tags enabled/);
    assert.equal((await get("/latest/meta-data/tags/instance/Env")).status, 404);
    assert.throws(() => t.emulator.setTag("Env", "staging"), /--instance-metadata-tags enabled/);
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
