import assert from "node:assert/strict";
import type { IncomingMessage } from "node:http";
import { test } from "node:test";
import { createRequestGuard } from "../src/imds/guards";
import { LOGGED_VALUES_PER_HOUR, Refusals, SUMMARY_INTERVAL_MS } from "../src/refusals";
import { testEmulator } from "./support/emulator";
import { FakeClock } from "./support/fake-clock";
import { logInto } from "./support/log";

const MINUTE = 60_000;
const HOUR = 3_600_000;

function collectingLog(clock: FakeClock) {
  const lines: Array<Record<string, unknown>> = [];
  return { lines, log: logInto(lines, clock) };
}

/** A request as the guard sees it, from loopback with this Host. */
function requestWithHost(host: string): IncomingMessage {
  return { socket: { remoteAddress: "127.0.0.1" }, headers: { host }, rawHeaders: ["Host", host] } as unknown as IncomingMessage;
}

test("past the hour's budget of logged names a rebinding attempt is still refused, counted and named in a summary a minute", async () => {
  const clock = new FakeClock();
  const { lines, log } = collectingLog(clock);
  const refusals = new Refusals(log, clock);
  const guard = createRequestGuard({ listenAddresses: ["127.0.0.1"], allowHosts: [], allowCidrs: ["127.0.0.0/8"], refusals });

  for (let i = 0; i < LOGGED_VALUES_PER_HOUR; i++) assert.equal(guard(requestWithHost(`flood-${i}.example`))?.status, 403);
  assert.equal(lines.filter((line) => line.event === "host-refused").length, LOGGED_VALUES_PER_HOUR);

  assert.equal(guard(requestWithHost("rebind.attacker.example"))?.status, 403, "refused as ever");
  assert.equal(lines.filter((line) => line.event === "host-refused").length, LOGGED_VALUES_PER_HOUR, "no line of its own: the budget is spent");
  for (let i = 0; i < 5000; i++) guard(requestWithHost(`more-${i}.example`));
  await clock.advance(SUMMARY_INTERVAL_MS - 1);
  assert.equal(lines.filter((line) => line.event === "refusals-summary").length, 0);
  await clock.advance(1);
  const summaries = lines.filter((line) => line.event === "refusals-summary");
  assert.equal(summaries.length, 1, "one line for the minute, however many refusals");
  assert.equal(summaries[0]!.unlogged, 5001);
  assert.match(String(summaries[0]!.latest), /host: more-4999\.example/);
  assert.equal(String(summaries[0]!.latest).split("; ").length, 10);
  assert.equal(refusals.total("host"), LOGGED_VALUES_PER_HOUR + 5001);

  guard(requestWithHost("rebind.attacker.example"));
  await clock.advance(MINUTE);
  const second = lines.filter((line) => line.event === "refusals-summary").at(-1)!;
  assert.equal(second.unlogged, 1);
  assert.equal(second.latest, "host: rebind.attacker.example");

  await clock.advance(HOUR);
  guard(requestWithHost("rebind.attacker.example"));
  assert.equal(lines.at(-1)!.event, "host-refused", "a new hour, a new budget");
  assert.equal(lines.at(-1)!.value, "rebind.attacker.example");
});

test("each refusal reason has its count in /metrics", async () => {
  const t = await testEmulator();
  try {
    await t.http.get("/latest/meta-data/").set("Host", "attacker.example");
    await t.http.get("/latest/meta-data/").set("Host", "other.example");
    await t.http.get("/latest/meta-data/").set("Origin", "http://attacker.example");
    await t.http.put("/latest/api/token").set("X-aws-ec2-metadata-token-ttl-seconds", "60").set("Via", "1.1 proxy");
    const text = await t.emulator.metricsRegistry.registry.metrics();
    assert.match(text, /^imds_emulator_refusals_total\{reason="host"\} 2$/m);
    assert.match(text, /^imds_emulator_refusals_total\{reason="browser"\} 1$/m);
    assert.match(text, /^imds_emulator_refusals_total\{reason="proxy-header"\} 1$/m);
    assert.match(text, /^imds_emulator_refusals_total\{reason="caller"\} 0$/m);
    await t.http.get("/latest/meta-data/").set("Host", "third.example");
    assert.match(await t.emulator.metricsRegistry.registry.metrics(), /^imds_emulator_refusals_total\{reason="host"\} 3$/m, "counted once each across scrapes");
  } finally {
    t.emulator.refresher.stop();
  }
});
