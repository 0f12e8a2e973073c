import assert from "node:assert/strict";
import { test } from "node:test";
import { createMockSource, mintCredentials } from "../../src/credentials/mock";
import { FakeClock } from "../support/fake-clock";

test("minted credentials have AWS's formats", () => {
  for (let i = 0; i < 50; i++) {
    const credentials = mintCredentials(1, "123456789012");
    assert.match(credentials.accessKeyId, /^ASIA[A-Z0-9]{16}$/);
    assert.match(credentials.secretAccessKey, /^[A-Za-z0-9+/]{40}$/);
    assert.match(credentials.sessionToken, /^IQoJb3JpZ2luX2Vj[A-Za-z0-9+/]+=*$/);
    assert.ok(credentials.sessionToken.length > 900 && credentials.sessionToken.length < 1200);
  }
});

test("the mock source mints a new set valid for --duration-seconds at each fetch", async () => {
  const clock = new FakeClock();
  const source = createMockSource({ durationSeconds: 900, accountId: "123456789012", clock });
  const a = await source.fetch();
  const b = await source.fetch();
  assert.notEqual(a.accessKeyId, b.accessKeyId);
  assert.equal(a.expiration, clock.now() + 900_000);
  assert.equal(a.accountId, "123456789012");
});
