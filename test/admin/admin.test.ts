import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import supertest from "supertest";
import { createAdminApp } from "../../src/admin/app";
import { SourceError, type CredentialSource, type FailureClass } from "../../src/credentials/source";
import { createEmulator, type Emulator } from "../../src/emulator";
import { resolveConfig } from "../../src/config/config";
import { testEmulator } from "../support/emulator";
import { FakeClock } from "../support/fake-clock";

/** An emulator whose source always fails with this class, prepared on a fake clock. */
async function failingEmulator(failureClass: FailureClass, message: string): Promise<Emulator> {
  const source: CredentialSource = {
    kind: "sts",
    fetch: async () => {
      throw new SourceError(failureClass, message);
    },
  };
  return createEmulator(resolveConfig({}, {}), { clock: new FakeClock(), source, seed: "s" });
}

function adminOf(emulator: Emulator) {
  return supertest(createAdminApp(emulator));
}

describe("health", () => {
  test("200 with a JSON body when healthy; no secret in it", async () => {
    const t = await testEmulator();
    const response = await adminOf(t.emulator).get("/healthz");
    assert.equal(response.status, 200);
    assert.equal(response.body.status, "healthy");
    assert.equal(response.body.source, "mock");
    assert.equal(response.body.secondsToExpiry, 3600);
    assert.equal(response.body.promisedValiditySeconds, 1800);
    const served = t.emulator.refresher.current()!.credentials;
    for (const secret of [served.accessKeyId, served.secretAccessKey, served.sessionToken]) {
      assert.ok(!response.text.includes(secret));
    }
  });

  test("503 while the source has never answered, saying so", async () => {
    const emulator = await failingEmulator("connection", "connect ECONNREFUSED 127.0.0.1:9");
    const response = await adminOf(emulator).get("/healthz");
    assert.equal(response.status, 503);
    assert.equal(response.body.status, "degraded");
    assert.match(response.body.reason, /has not answered since start \(connection: connect ECONNREFUSED/);
    emulator.refresher.stop();

    const metadata = supertest(emulator.handler);
    const credentials = await metadata.get("/latest/meta-data/iam/security-credentials/imds-emulator");
    assert.equal(credentials.status, 503);
    assert.match(credentials.text, /has not answered since start/);
    assert.equal((await metadata.get("/latest/meta-data/iam/security-credentials/")).text, "imds-emulator");
  });

  test("the admin routes are not reachable through the metadata port", async () => {
    const t = await testEmulator();
    assert.equal((await t.http.get("/healthz")).status, 404);
    assert.equal((await t.http.get("/metrics")).status, 404);
  });
});

describe("metrics", () => {
  const emulators: Emulator[] = [];
  after(() => {
    for (const emulator of emulators) emulator.refresher.stop();
  });

  test("Prometheus text with credential age, expiry, rotations, source calls, requests and token-less reads", async () => {
    const t = await testEmulator();
    emulators.push(t.emulator);
    const token = await t.token();
    await t.http.get("/latest/meta-data/instance-id").set("X-aws-ec2-metadata-token", token);
    await t.http.get("/latest/meta-data/instance-id");
    await t.http.get("/latest/meta-data/iam/security-credentials/imds-emulator");
    await t.http.get("/latest/meta-data/nope");
    await t.clock.advance(60_000);
    const response = await adminOf(t.emulator).get("/metrics");
    assert.equal(response.status, 200);
    assert.match(response.headers["content-type"]!, /^text\/plain; version=0\.0\.4/);
    const text = response.text;
    assert.match(text, /^imds_emulator_credentials_age_seconds 60$/m);
    assert.match(text, /^imds_emulator_credentials_expiry_seconds 3540$/m);
    assert.match(text, /^imds_emulator_credential_rotations_total\{source="mock"\} 1$/m);
    assert.match(text, /^imds_emulator_sts_call_duration_seconds_count\{source="mock",outcome="success"\} 1$/m);
    assert.match(text, /^imds_emulator_requests_total\{path_class="token",status="200"\} 1$/m);
    assert.match(text, /^imds_emulator_requests_total\{path_class="metadata",status="200"\} 2$/m);
    assert.match(text, /^imds_emulator_requests_total\{path_class="credentials",status="200"\} 1$/m);
    assert.match(text, /^imds_emulator_requests_total\{path_class="metadata",status="404"\} 1$/m);
    assert.match(text, /^imds_emulator_metadata_no_token_total 3$/m);
    assert.match(text, /^imds_emulator_healthy 1$/m);
    const served = t.emulator.refresher.current()!.credentials;
    assert.ok(!text.includes(served.accessKeyId));
  });

  test("failures are counted by class", async () => {
    const emulator = await failingEmulator("throttling", "Rate exceeded");
    emulators.push(emulator);
    const text = (await adminOf(emulator).get("/metrics")).text;
    assert.match(text, /^imds_emulator_sts_call_failures_total\{source="sts",class="throttling"\} 1$/m);
    assert.match(text, /^imds_emulator_healthy 0$/m);
  });
});
