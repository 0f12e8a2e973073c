import assert from "node:assert/strict";
import { test } from "node:test";
import supertest from "supertest";
import { createAdminApp } from "../../src/admin/app";
import { EXPIRED_SERVING_WINDOW_MS } from "../../src/credentials/refresher";
import { SourceError, type CredentialSource } from "../../src/credentials/source";
import { testEmulator } from "../support/emulator";
import { FakeClock } from "../support/fake-clock";
import { logInto } from "../support/log";

const HOUR = 3_600_000;
const CREDENTIALS = "/latest/meta-data/iam/security-credentials/imds-emulator";

test("the rule: served for 15 minutes past expiry while the source fails, then 503, and health says which", async () => {
  assert.equal(EXPIRED_SERVING_WINDOW_MS, 15 * 60_000);
  const clock = new FakeClock();
  let outage = false;
  let issued = 0;
  const source: CredentialSource = {
    kind: "sts",
    async fetch() {
      if (outage) throw new SourceError("server-error", "ServiceUnavailable: fake outage");
      issued += 1;
      return { accessKeyId: `ASIAEXPIRY${String(issued).padStart(10, "0")}`, secretAccessKey: "s".repeat(40), sessionToken: "token", expiration: clock.now() + HOUR };
    },
  };
  const lines: Array<Record<string, unknown>> = [];
  const log = logInto(lines, clock);
  const container = { "container-credentials-path": "/container-credentials", "container-auth-token": "container-token" };
  const t = await testEmulator(container, { source, log, backoffRandom: () => 1 }, clock);
  const containerCredentials = () => t.http.get("/container-credentials").set("Authorization", "container-token");
  const admin = supertest(createAdminApp(t.emulator));
  const expiration = clock.now() + HOUR;
  try {
    outage = true;
    await clock.advance(HOUR + EXPIRED_SERVING_WINDOW_MS - 1000);
    const last = await t.http.get(CREDENTIALS);
    assert.equal(last.status, 200, "one second before the window ends, the expired set is still served");
    assert.equal(JSON.parse(last.text).AccessKeyId, "ASIAEXPIRY0000000001");
    assert.equal(JSON.parse(last.text).Expiration, new Date(expiration).toISOString().replace(".000Z", "Z"));
    assert.equal((await containerCredentials()).status, 200);
    const expired = await admin.get("/healthz");
    assert.equal(expired.status, 503);
    assert.match(expired.body.reason, /the credentials served expired at 2026-11-24T13:00:00\.000Z; they are served until 2026-11-24T13:15:00\.000Z, then the credential paths answer 503/);

    await clock.advance(2000);
    const gone = await t.http.get(CREDENTIALS);
    assert.equal(gone.status, 503, "one second after, an honest failure");
    assert.match(gone.text, /server-error: ServiceUnavailable: fake outage; the last good credentials are no longer served/);
    assert.doesNotMatch(gone.text, /ASIAEXPIRY/);
    assert.equal((await containerCredentials()).status, 503, "the container endpoint follows the same rule");
    assert.match((await admin.get("/healthz")).body.reason, /were withdrawn at 2026-11-24T13:15:00\.000Z/);
    assert.equal(lines.filter((line) => line.event === "credentials-withdrawn").length, 1);
    assert.equal((await t.http.get("/latest/meta-data/iam/security-credentials/")).text, "imds-emulator", "the role is still listed");

    outage = false;
    await clock.advance(60_000);
    const fresh = await t.http.get(CREDENTIALS);
    assert.equal(fresh.status, 200, "served again within one backoff of the source's return");
    assert.equal(JSON.parse(fresh.text).AccessKeyId, "ASIAEXPIRY0000000002");
    assert.equal((await admin.get("/healthz")).status, 200);
  } finally {
    t.emulator.refresher.stop();
  }
});
