import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, test } from "node:test";
import supertest from "supertest";
import { createAdminApp } from "../../src/admin/app";
import { parseScenario, readScenario } from "../../src/faults/scenario";
import { testEmulator } from "../support/emulator";
import { FakeClock } from "../support/fake-clock";
import { logInto } from "../support/log";
import { tempDir } from "../support/tmp";

const CREDENTIALS = "/latest/meta-data/iam/security-credentials/imds-emulator";

describe("scenarios", () => {
  test("a bad step stops the start with one line naming it", () => {
    const cases: Array<[unknown, RegExp]> = [
      [[{ do: "clear" }], /s\[0\]: at is required/],
      [[{ at: "10s", do: "explode" }], /s\[0\].do: expected one of fault, event, expire-credentials, clear/],
      [[{ at: "10s", do: "fault", status: 99 }], /s\[0\].status: expected an integer from 400 to 599/],
      [[{ at: "10s", do: "event", kind: "spot-interruption", action: "melt" }], /action/],
      [[{ at: "1s", do: "clear", status: 500 }], /clear takes no fields/],
      [{ at: "1s" }, /s: expected a list of steps/],
    ];
    for (const [data, message] of cases) assert.throws(() => parseScenario("s", data), message);
  });

  test("the steps play on the clock, each logged: fault, event, credentials, clear", async () => {
    const dir = tempDir("imds-scenario-");
    const file = join(dir, "ci.yaml");
    await writeFile(
      file,
      [
        "- { at: 10s, do: fault, status: 500, path: /latest/meta-data/iam/* }",
        "- { at: 40s, do: event, kind: spot-interruption, action: stop }",
        "- { at: 50s, do: expire-credentials }",
        "- { at: 60s, do: clear }",
      ].join("\n"),
    );
    const lines: Array<Record<string, unknown>> = [];
    const clock = new FakeClock();
    const t = await testEmulator({ scenario: file, host: ["127.0.0.1"], port: "0" }, { log: logInto(lines, clock) }, clock);
    await t.emulator.listen();
    try {
      assert.equal((await t.http.get(CREDENTIALS)).status, 200);
      await clock.advance(10_000);
      assert.equal((await t.http.get(CREDENTIALS)).status, 500);
      await clock.advance(30_000);
      assert.equal((await t.http.get("/latest/meta-data/spot/instance-action")).status, 200);
      await clock.advance(10_000);
      assert.equal((await t.http.get(CREDENTIALS)).status, 500, "the rule is still in force");
      await clock.advance(10_000);
      const document = JSON.parse((await t.http.get(CREDENTIALS)).text);
      assert.ok(Date.parse(document.Expiration) > clock.now(), "clear ends the expiry too");
      assert.deepEqual(
        lines.filter((line) => line.event === "scenario-step").map((line) => [line.at, line.do]),
        [["10s", "fault"], ["40s", "event"], ["50s", "expire-credentials"], ["60s", "clear"]],
      );
      assert.ok(lines.some((line) => line.event === "scenario-finished"));
    } finally {
      await t.emulator.stop();
    }
  });

  test("a missing file is one line", async () => {
    await assert.rejects(readScenario("/nonexistent/s.yaml"), /^ConfigError: --scenario: cannot read \/nonexistent\/s.yaml: ENOENT$/);
  });
});

describe("the admin listener's faults and credential routes", () => {
  test("POST, GET and DELETE /admin/faults; bad input is a 400 with one line", async () => {
    const t = await testEmulator();
    const admin = supertest(createAdminApp(t.emulator));
    try {
      const created = await admin.post("/admin/faults").send({ status: 500, path: "/latest/meta-data/iam/*", count: 1 });
      assert.equal(created.status, 201);
      assert.equal(created.body.status, 500);
      assert.equal((await t.http.get(CREDENTIALS)).status, 500);
      const listed = await admin.get("/admin/faults");
      assert.deepEqual(listed.body.map((rule: { fired: number; active: boolean }) => [rule.fired, rule.active]), [[1, false]]);
      const bad = await admin.post("/admin/faults").send({ status: 500, hang: true });
      assert.equal(bad.status, 400);
      assert.match(bad.body.error, /^fault: give exactly one of status, delay, hang, reset, not status and hang$/);
      assert.equal((await admin.post("/admin/faults").set("Content-Type", "application/json").send("[1]")).status, 400);
      assert.deepEqual((await admin.delete("/admin/faults")).body, { removed: 1 });
    } finally {
      await t.emulator.stop();
    }
  });

  test("POST /admin/credentials/expire, per instance too; DELETE the override", async () => {
    const t = await testEmulator();
    const admin = supertest(createAdminApp(t.emulator));
    try {
      const expired = await admin.post("/admin/credentials/expire").send({});
      assert.equal(expired.status, 200);
      assert.ok(Date.parse(expired.body.expiration) < t.clock.now());
      const soon = await admin.post("/admin/instances/default/credentials/expire").send({ in: "30s" });
      assert.equal(Date.parse(soon.body.expiration), t.clock.now() + 30_000);
      assert.equal(JSON.parse((await t.http.get(CREDENTIALS)).text).Expiration, soon.body.expiration.replace(".000Z", "Z"));
      assert.equal((await admin.post("/admin/credentials/expire").send({ at: "30s" })).status, 400);
      assert.equal((await admin.post("/admin/credentials/override").send({ code: "Failure" })).body.code, "Failure");
      assert.equal((await admin.delete("/admin/credentials/override")).status, 204);
      assert.equal((await admin.delete("/admin/credentials/override")).status, 404);
      assert.equal(JSON.parse((await t.http.get(CREDENTIALS)).text).Code, "Success");
    } finally {
      await t.emulator.stop();
    }
  });
});
