import assert from "node:assert/strict";
import { test } from "node:test";
import { testEmulator } from "../support/emulator";

test("request counts reach /metrics once each, across several scrapes", async () => {
  const t = await testEmulator();
  try {
    const scrape = () => t.emulator.metricsRegistry.registry.metrics();
    await t.http.get("/latest/meta-data/instance-id");
    assert.match(await scrape(), /^imds_emulator_requests_total\{path_class="metadata",status="200"\} 1$/m);
    assert.match(await scrape(), /^imds_emulator_requests_total\{path_class="metadata",status="200"\} 1$/m);
    const token = await t.token();
    await t.http.get("/latest/meta-data/instance-id");
    await t.http.get("/latest/meta-data/instance-id").set("X-aws-ec2-metadata-token", token);
    await t.http.get("/latest/meta-data/iam/security-credentials/nope").set("X-aws-ec2-metadata-token", token);
    const text = await scrape();
    assert.match(text, /^imds_emulator_requests_total\{path_class="metadata",status="200"\} 3$/m);
    assert.match(text, /^imds_emulator_requests_total\{path_class="token",status="200"\} 1$/m);
    assert.match(text, /^imds_emulator_requests_total\{path_class="credentials",status="404"\} 1$/m);
    assert.match(text, /^imds_emulator_metadata_no_token_total 2$/m);
    // Outcomes built elsewhere (not the handler's shared objects) count in the same series.
    t.emulator.metricsRegistry.onOutcome({ pathClass: "metadata", status: 200, tokenless: true });
    const after = await scrape();
    assert.match(after, /^imds_emulator_requests_total\{path_class="metadata",status="200"\} 4$/m);
    assert.match(after, /^imds_emulator_metadata_no_token_total 3$/m);
  } finally {
    t.emulator.refresher.stop();
  }
});

test("a dated version's reads count in the same path classes as latest's", async () => {
  const t = await testEmulator();
  try {
    await t.http.get("/2021-03-23/meta-data/instance-id");
    await t.http.get("/2016-09-02/meta-data/iam/security-credentials/imds-emulator");
    await t.http.get("/2009-04-04/dynamic/instance-identity/document");
    await t.http.get("/2099-01-01/meta-data/instance-id");
    const text = await t.emulator.metricsRegistry.registry.metrics();
    assert.match(text, /^imds_emulator_requests_total\{path_class="metadata",status="200"\} 1$/m);
    assert.match(text, /^imds_emulator_requests_total\{path_class="credentials",status="200"\} 1$/m);
    assert.match(text, /^imds_emulator_requests_total\{path_class="dynamic",status="200"\} 1$/m);
    assert.match(text, /^imds_emulator_requests_total\{path_class="other",status="404"\} 1$/m);
  } finally {
    t.emulator.refresher.stop();
    t.emulator.identityCredentials.stop();
  }
});
