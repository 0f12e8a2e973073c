import assert from "node:assert/strict";
import { test } from "node:test";
import { SourceError } from "../../src/credentials/source";
import { startFailure } from "../../src/startup-errors";
import { ConfigError } from "../../src/validation";

test("configuration failures exit 2 with one line; a configuration failure of STS names --wait-for-credentials", () => {
  assert.deepEqual(startFailure(new ConfigError("port 1338 on 127.0.0.1 is in use")), { exitCode: 2, message: "port 1338 on 127.0.0.1 is in use" });
  for (const failureClass of ["invalid-config", "access-denied", "expired-token"] as const) {
    const failure = startFailure(new SourceError(failureClass, "AssumeRole arn:aws:iam::123456789012:role/r: no source credentials found"));
    assert.equal(failure.exitCode, 2);
    assert.equal(
      failure.message,
      `the first STS call failed (${failureClass}): AssumeRole arn:aws:iam::123456789012:role/r: no source credentials found; ` +
        "fix it and start again, or pass --wait-for-credentials to keep the port open and retry",
    );
    assert.doesNotMatch(failure.message, /\n/);
  }
});

test("anything else exits 1", () => {
  assert.equal(startFailure(new SourceError("throttling", "Rate exceeded")).exitCode, 1);
  assert.deepEqual(startFailure(new Error("boom")), { exitCode: 1, message: "boom" });
});
