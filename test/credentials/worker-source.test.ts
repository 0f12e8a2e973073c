import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { SourceError } from "../../src/credentials/source";
import { createWorkerStsSource } from "../../src/credentials/worker-source";
import { createLogger } from "../../src/log";
import { startFakeSts, stsError, success, type FakeSts } from "../support/fake-sts";

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
    createLogger("debug", (line) => lines.push(JSON.parse(line))),
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
