import assert from "node:assert/strict";
import { createServer } from "node:http";
import { test } from "node:test";
import supertest from "supertest";
import { withRequestLog } from "../../src/imds/request-log";
import { testEmulator } from "../support/emulator";
import { logInto } from "../support/log";

test("at debug, one line a request: method, path class, status, token or not, caller, latency; never the token", async () => {
  const t = await testEmulator({ "http-tokens": "required" });
  try {
    const lines: Array<Record<string, unknown>> = [];
    let tick = 0n;
    const http = supertest(createServer(withRequestLog(t.emulator.handler, logInto(lines), () => (tick += 1_500_000n))));
    const token = (await http.put("/latest/api/token").set("X-aws-ec2-metadata-token-ttl-seconds", "60")).text;
    await http.get("/latest/meta-data/iam/security-credentials/imds-emulator").set("X-aws-ec2-metadata-token", token);
    await http.get("/2021-03-23/meta-data/instance-id");
    const requests = lines.filter((line) => line.event === "request");
    assert.deepEqual(
      requests.map(({ method, pathClass, status, token: carried }) => ({ method, pathClass, status, token: carried })),
      [
        { method: "PUT", pathClass: "token", status: 200, token: false },
        { method: "GET", pathClass: "credentials", status: 200, token: true },
        { method: "GET", pathClass: "metadata", status: 401, token: false },
      ],
    );
    for (const line of requests) {
      assert.equal(line.level, "debug");
      assert.match(String(line.caller), /127\.0\.0\.1/);
      assert.equal(line.latencyMs, 1.5);
    }
    const text = JSON.stringify(lines);
    assert.ok(!text.includes(token), "the token never appears");
    assert.doesNotMatch(text, /ASIA[A-Z0-9]{16}|security-credentials/);
  } finally {
    await t.emulator.stop();
  }
});
