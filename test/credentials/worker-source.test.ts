import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { SourceError } from "../../src/credentials/source";
import { createWorkerStsSource } from "../../src/credentials/worker-source";
import { eventually } from "../support/eventually";
import { FakeClock } from "../support/fake-clock";
import { hang, startFakeSts, stsError, success, type FakeSts } from "../support/fake-sts";
import { logInto } from "../support/log";

let sts: FakeSts;
before(async () => {
  sts = await startFakeSts();
  // The worker takes its source credentials from the environment it inherits, as the daemon does.
  Object.assign(process.env, { AWS_ACCESS_KEY_ID: "AKIDWORKER", AWS_SECRET_ACCESS_KEY: "worker-secret", AWS_EC2_METADATA_DISABLED: "true" });
});
after(() => sts.close());

test("the STS source in a worker thread: same credentials, same failure classes, warnings logged as JSON", async () => {
  const lines: Array<Record<string, unknown>> = [];
  const source = createWorkerStsSource(
    { roleArn: "arn:aws:iam::123456789012:role/worker-role", roleSessionName: "w", durationSeconds: 900, region: "us-east-1", endpoint: sts.url },
    logInto(lines),
  );
  try {
    const expiration = Math.floor(Date.now() / 1000) * 1000 + 900_000;
    sts.enqueue(success({ accessKeyId: "ASIAWORKERKEY0000001", expiration }));
    const credentials = await source.fetch();
    assert.equal(source.kind, "sts");
    assert.equal(credentials.accessKeyId, "ASIAWORKERKEY0000001");
    assert.equal(credentials.expiration, expiration);
    assert.equal(credentials.accountId, "123456789012");
    assert.equal(sts.calls.at(-1)?.signed, true);

    sts.enqueue(stsError("AccessDenied", 403, "not authorized"));
    await assert.rejects(source.fetch(), (error: unknown) => error instanceof SourceError && error.failureClass === "access-denied");

    const [a, b] = await Promise.all([source.fetch(), source.fetch()]);
    assert.notEqual(a.accessKeyId, b.accessKeyId, "each fetch gets its own answer");
    assert.ok(lines.every((line) => line.event === "runtime-warning"));
  } finally {
    await source.close?.();
  }
  await assert.rejects(source.fetch(), /the STS worker stopped/);
});

test("a call still unanswered past its deadline: the watchdog fails it as a timeout and the next call gets a fresh worker thread", async () => {
  const clock = new FakeClock();
  const lines: Array<Record<string, unknown>> = [];
  // The worker's own deadline (a real minute) never comes during the test: only the watchdog can end the call.
  const source = createWorkerStsSource(
    { roleArn: "arn:aws:iam::123456789012:role/worker-role", roleSessionName: "w", durationSeconds: 900, region: "us-east-1", endpoint: sts.url, callTimeoutMs: 60_000 },
    logInto(lines),
    clock,
  );
  try {
    sts.enqueue(hang());
    const calls = sts.calls.length;
    const stuck = source.fetch().then(
      () => assert.fail("the stuck call resolved"),
      (error: unknown) => error,
    );
    await eventually(() => sts.calls.length === calls + 1, "the worker calls STS");
    await clock.advance(61_999);
    assert.equal(lines.filter((line) => line.event === "sts-worker-replaced").length, 0, "not before the deadline and its grace");
    await clock.advance(1);
    const error = await stuck;
    assert.ok(error instanceof SourceError);
    assert.equal(error.failureClass, "timeout");
    assert.match(error.message, /no answer after 62 s; its worker thread was replaced/);
    assert.equal(lines.filter((line) => line.event === "sts-worker-replaced").length, 1);

    sts.enqueue(success({ accessKeyId: "ASIAFRESHWORKER00001" }));
    assert.equal((await source.fetch()).accessKeyId, "ASIAFRESHWORKER00001");
  } finally {
    await source.close?.();
  }
});
