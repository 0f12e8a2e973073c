import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import supertest from "supertest";
import { createAdminApp } from "../../src/admin/app";
import { systemClock } from "../../src/clock";
import { resolveConfig } from "../../src/config/config";
import { createStsSource } from "../../src/credentials/sts";
import { createWorkerStsSource } from "../../src/credentials/worker-source";
import { createEmulator, type Emulator } from "../../src/emulator";
import { FakeClock } from "../support/fake-clock";
import { hang, raw, reset, startFakeSts, stsError, success, trickle, type FakeResponse, type FakeSts } from "../support/fake-sts";
import { logInto } from "../support/log";

const ROLE = "fault-role";
const ROLE_ARN = `arn:aws:iam::123456789012:role/${ROLE}`;
const MINUTE = 60_000;

/** Every STS fault of the refresher issue, as the fake STS produces it. */
const FAULTS: Array<[string, FakeResponse, string]> = [
  ["throttling", stsError("Throttling", 400, "Rate exceeded"), "throttling"],
  ["503", stsError("ServiceUnavailable", 503), "server-error"],
  ["500", stsError("InternalFailure", 500), "server-error"],
  ["timeout", hang(), "timeout"],
  ["connection reset", reset(), "connection"],
  ["malformed XML", raw(200, "<AssumeRoleResponse><AssumeRoleResult><Credentials>"), "malformed-response"],
  ["partial credentials", success({ omit: ["SessionToken"] }), "malformed-response"],
  ["AccessDenied", stsError("AccessDenied", 403, "not authorized to perform sts:AssumeRole"), "access-denied"],
  ["ExpiredToken", stsError("ExpiredToken", 400, "The security token included in the request is expired"), "expired-token"],
];

async function emulatorOn(sts: FakeSts, clock: FakeClock, lines: Array<Record<string, unknown>>) {
  const config = resolveConfig({ "role-arn": ROLE_ARN, "sts-endpoint": sts.url }, {});
  const source = createStsSource(
    { roleArn: ROLE_ARN, roleSessionName: "faults", durationSeconds: 3600, region: "us-east-1", endpoint: sts.url, requestTimeoutMs: 300 },
    { sourceCredentials: async () => ({ accessKeyId: "AKIDSOURCE", secretAccessKey: "source-secret" }) },
  );
  const log = logInto(lines, clock);
  return createEmulator(config, { clock, source, log, seed: "faults", backoffRandom: () => 1 });
}

async function served(emulator: Emulator) {
  const response = await supertest(emulator.handler).get(`/latest/meta-data/iam/security-credentials/${ROLE}`);
  assert.equal(response.status, 200, "a complete credential document is always served");
  const document = JSON.parse(response.text);
  for (const field of ["AccessKeyId", "SecretAccessKey", "Token", "Expiration"]) assert.ok(document[field], field);
  return document as { AccessKeyId: string; Expiration: string };
}

describe("STS faults: keep serving the last good set, back off, recover within one backoff", () => {
  let sts: FakeSts;
  before(async () => (sts = await startFakeSts()));
  after(() => sts.close());

  for (const [name, fault, failureClass] of FAULTS) {
    test(name, async () => {
      const clock = new FakeClock(Math.floor(Date.now() / 1000) * 1000);
      const lines: Array<Record<string, unknown>> = [];
      sts.enqueue(success({ expiration: clock.now() + 3600_000 }));
      const emulator = await emulatorOn(sts, clock, lines);
      try {
        const good = await served(emulator);
        const callsBefore = sts.calls.length;
        sts.respondWith(fault);

        await clock.advance(30 * MINUTE);
        await emulator.refresher.whenIdle();
        assert.deepEqual(await served(emulator), good, "the last good set is still served");
        const health = emulator.refresher.health();
        assert.equal(health.status, "degraded");
        assert.match(health.reason!, new RegExp(`^${failureClass}: `));
        const failure = lines.findLast((line) => line.event === "credentials-refresh-failed")!;
        assert.equal(failure.failureClass, failureClass);
        assert.equal(failure.nextAttempt, new Date(clock.now() + 1000).toISOString());
        assert.doesNotMatch(JSON.stringify(lines), /fake-secret|fake-session-token|source-secret/);

        await clock.advance(1000);
        await emulator.refresher.whenIdle();
        assert.equal(sts.calls.length, callsBefore + 2, "retried after the first backoff");
        assert.equal(emulator.refresher.health().nextAttemptAt, clock.now() + 2000, "the next backoff doubles");

        sts.respondWith(success({ expiration: clock.now() + 3600_000 }));
        await clock.advance(2000);
        await emulator.refresher.whenIdle();
        const fresh = await served(emulator);
        assert.notEqual(fresh.AccessKeyId, good.AccessKeyId, "fresh credentials within one backoff period");
        assert.equal(emulator.refresher.health().status, "healthy");
      } finally {
        await emulator.stop();
        sts.respondWith(success());
        sts.enqueue();
      }
    });
  }

  test("32 concurrent credential requests during a rotation: exactly one STS call, none waits on it", async () => {
    const clock = new FakeClock(Math.floor(Date.now() / 1000) * 1000);
    sts.enqueue(success({ expiration: clock.now() + 3600_000 }));
    const emulator = await emulatorOn(sts, clock, []);
    try {
      const good = await served(emulator);
      const callsBefore = sts.calls.length;
      sts.respondWith(hang());
      await clock.advance(30 * MINUTE);
      const forced = Array.from({ length: 8 }, () => emulator.refresher.refresh());
      const during = await Promise.all(Array.from({ length: 32 }, () => served(emulator)));
      assert.ok(during.every((document) => document.AccessKeyId === good.AccessKeyId));
      await Promise.all(forced);
      assert.equal(sts.calls.length, callsBefore + 1, "one STS call however many asked");
    } finally {
      await emulator.stop();
      sts.respondWith(success());
    }
  });
});

describe("an STS that trickles its answer", () => {
  let sts: FakeSts;
  before(async () => {
    sts = await startFakeSts();
    // The worker thread takes its source credentials from the environment, as the daemon does.
    Object.assign(process.env, { AWS_ACCESS_KEY_ID: "AKIDSOURCE", AWS_SECRET_ACCESS_KEY: "source-secret", AWS_EC2_METADATA_DISABLED: "true" });
  });
  after(() => sts.close());

  test("POST /admin/credentials/rotate answers 503 at the call's deadline; health names the timeout and a next attempt ahead", async () => {
    const clock = new FakeClock(Math.floor(Date.now() / 1000) * 1000);
    const lines: Array<Record<string, unknown>> = [];
    const log = logInto(lines, clock);
    const source = createWorkerStsSource(
      { roleArn: ROLE_ARN, roleSessionName: "faults", durationSeconds: 3600, region: "us-east-1", endpoint: sts.url, requestTimeoutMs: 300, callTimeoutMs: 800 },
      log,
      systemClock,
    );
    sts.enqueue(success({ expiration: clock.now() + 3600_000 }));
    const emulator = await createEmulator(resolveConfig({ "role-arn": ROLE_ARN, "sts-endpoint": sts.url }, {}), { clock, source, log, seed: "trickle", backoffRandom: () => 1 });
    try {
      const good = await served(emulator);
      sts.enqueue(trickle(50, 5000));
      const response = await supertest(createAdminApp(emulator)).post("/admin/credentials/rotate");
      assert.equal(response.status, 503);
      assert.equal(response.body.status, "degraded");
      assert.match(response.body.reason, /^timeout: AssumeRole \S+: no complete answer within 800 ms; serving the last good credentials/);
      assert.equal(response.body.nextAttemptAt, new Date(clock.now() + 1000).toISOString(), "a retry after the first backoff, ahead of now");
      assert.equal(lines.findLast((line) => line.event === "credentials-refresh-failed")?.failureClass, "timeout");
      assert.deepEqual(await served(emulator), good);
    } finally {
      await emulator.stop();
    }
  });
});
