import assert from "node:assert/strict";
import { test } from "node:test";
import { Refresher, backoffDelayMs, rotationLeadMs, type AttemptReport } from "../../src/credentials/refresher";
import { SourceError, type CredentialSource, type Credentials } from "../../src/credentials/source";
import { FakeClock, settle } from "../support/fake-clock";
import { logInto } from "../support/log";

const HOUR = 3600_000;
const MINUTE = 60_000;

/** A source whose every answer the test decides; it counts calls. */
function scriptedSource(clock: FakeClock, lifetimeMs = HOUR) {
  let calls = 0;
  let failWith: SourceError | undefined;
  let gate: Promise<void> | undefined;
  const source: CredentialSource = {
    kind: "scripted",
    async fetch(): Promise<Credentials> {
      calls += 1;
      await gate;
      if (failWith !== undefined) throw failWith;
      return {
        accessKeyId: `ASIAKEY${String(calls).padStart(13, "0")}`,
        secretAccessKey: "s".repeat(40),
        sessionToken: "token",
        expiration: clock.now() + lifetimeMs,
      };
    },
  };
  return {
    source,
    calls: () => calls,
    fail: (error: SourceError | undefined) => (failWith = error),
    hold: (promise: Promise<void> | undefined) => (gate = promise),
  };
}

function collectingLog() {
  const lines: Record<string, unknown>[] = [];
  return { lines, log: logInto(lines) };
}

test("the rotation lead is 30 minutes, half the lifetime for short sessions, and an explicit value wins", () => {
  assert.equal(rotationLeadMs(HOUR), 30 * MINUTE);
  assert.equal(rotationLeadMs(12 * HOUR), 30 * MINUTE);
  assert.equal(rotationLeadMs(45 * MINUTE), 30 * MINUTE);
  assert.equal(rotationLeadMs(15 * MINUTE), 7.5 * MINUTE);
  assert.equal(rotationLeadMs(15 * MINUTE, 890), 890_000);
  assert.equal(rotationLeadMs(HOUR, 600), 10 * MINUTE);
  assert.equal(rotationLeadMs(15 * MINUTE, 899), 15 * MINUTE - 5000, "never rotates sooner than 5 s after a fetch");
});

test("backoff doubles up to its cap, jittered within the upper half", () => {
  const backoff = { initialMs: 1000, maxMs: 60_000 };
  assert.equal(backoffDelayMs(1, backoff, () => 0), 500);
  assert.equal(backoffDelayMs(1, backoff, () => 1), 1000);
  assert.equal(backoffDelayMs(3, backoff, () => 1), 4000);
  assert.equal(backoffDelayMs(20, backoff, () => 1), 60_000);
  assert.equal(backoffDelayMs(20, backoff, () => 0), 30_000);
});

test("fetches before serving, then rotates when 30 minutes remain, logging no secret", async () => {
  const clock = new FakeClock();
  const scripted = scriptedSource(clock);
  const { lines, log } = collectingLog();
  const refresher = new Refresher({ source: scripted.source, clock, log });
  assert.equal(refresher.health().status, "starting");
  await refresher.start();
  const first = refresher.current()!;
  assert.equal(first.lastUpdated, clock.now());
  assert.equal(refresher.health().status, "healthy");
  await clock.advance(30 * MINUTE - 1);
  assert.equal(refresher.current(), first);
  await clock.advance(1);
  assert.notEqual(refresher.current(), first);
  assert.equal(scripted.calls(), 2);
  assert.equal(refresher.current()!.credentials.expiration - clock.now(), HOUR);
  const rotated = lines.filter((line) => line.event === "credentials-rotated");
  assert.equal(rotated.length, 2);
  assert.equal(rotated[1]!.keyIdSuffix, "0002");
  assert.doesNotMatch(JSON.stringify(lines), /ssssssss|"token"|ASIAKEY/);
});

test("a short session warns once and rotates at half its lifetime", async () => {
  const clock = new FakeClock();
  const scripted = scriptedSource(clock, 20 * MINUTE);
  const { lines, log } = collectingLog();
  const refresher = new Refresher({ source: scripted.source, clock, log });
  await refresher.start();
  await clock.advance(10 * MINUTE);
  assert.equal(scripted.calls(), 2);
  await clock.advance(10 * MINUTE);
  assert.equal(scripted.calls(), 3);
  assert.equal(lines.filter((line) => line.event === "short-session").length, 1);
});

test("concurrent refreshes share one fetch", async () => {
  const clock = new FakeClock();
  const scripted = scriptedSource(clock);
  const refresher = new Refresher({ source: scripted.source, clock, log: collectingLog().log });
  let release!: () => void;
  scripted.hold(new Promise<void>((resolve) => (release = resolve)));
  const all = Promise.all(Array.from({ length: 32 }, () => refresher.refresh()));
  await settle();
  release();
  await all;
  assert.equal(scripted.calls(), 1);
  assert.ok(refresher.current());
});

test("on failure it keeps the last good set, backs off, logs the class, and recovers within one backoff", async () => {
  const clock = new FakeClock();
  const scripted = scriptedSource(clock);
  const { lines, log } = collectingLog();
  const reports: AttemptReport[] = [];
  const refresher = new Refresher({
    source: scripted.source,
    clock,
    log,
    random: () => 1,
  });
  refresher.onAttempt((report) => reports.push(report));
  await refresher.start();
  const good = refresher.current()!;
  scripted.fail(new SourceError("throttling", "Rate exceeded"));
  await clock.advance(30 * MINUTE);
  assert.equal(refresher.current(), good);
  const health = refresher.health();
  assert.equal(health.status, "degraded");
  assert.match(health.reason!, /throttling: Rate exceeded; serving the last good credentials/);
  assert.equal(health.since, clock.now());
  const failures = lines.filter((line) => line.event === "credentials-refresh-failed");
  assert.equal(failures.length, 1);
  assert.equal(failures[0]!.failureClass, "throttling");
  assert.equal(failures[0]!.nextAttempt, new Date(clock.now() + 1000).toISOString());
  await clock.advance(1000);
  await clock.advance(2000);
  await clock.advance(4000);
  assert.equal(scripted.calls(), 5, "retries at 1 s, 2 s, 4 s");
  scripted.fail(undefined);
  await clock.advance(8000);
  assert.notEqual(refresher.current(), good);
  assert.equal(refresher.health().status, "healthy");
  assert.deepEqual(
    reports.map((report) => report.failureClass ?? "ok"),
    ["ok", "throttling", "throttling", "throttling", "throttling", "ok"],
  );
});

test("when the source has never answered, nothing is served and health says so plainly", async () => {
  const clock = new FakeClock();
  const scripted = scriptedSource(clock);
  scripted.fail(new SourceError("connection", "connect ECONNREFUSED 127.0.0.1:1"));
  const { lines, log } = collectingLog();
  const refresher = new Refresher({ source: scripted.source, clock, log });
  await refresher.start();
  assert.equal(refresher.current(), undefined);
  const health = refresher.health();
  assert.equal(health.status, "degraded");
  assert.match(health.reason!, /has not answered since start \(connection: connect ECONNREFUSED/);
  assert.equal(lines.filter((line) => line.event === "credentials-unavailable").length, 1);
});

test("a partial or expired set from the source is refused as malformed", async () => {
  const clock = new FakeClock();
  const bad: CredentialSource = {
    kind: "bad",
    fetch: async () => ({ accessKeyId: "ASIA", secretAccessKey: "", sessionToken: "t", expiration: clock.now() + HOUR }),
  };
  const refresher = new Refresher({ source: bad, clock, log: collectingLog().log });
  await refresher.start();
  assert.equal(refresher.current(), undefined);
  assert.match(refresher.health().reason!, /malformed-response/);
});

test("health fails when the served set has less validity left than the rule promises", async () => {
  const clock = new FakeClock();
  const scripted = scriptedSource(clock);
  const refresher = new Refresher({ source: scripted.source, clock, log: collectingLog().log });
  await refresher.start();
  scripted.hold(new Promise(() => undefined));
  await clock.advance(30 * MINUTE + 31_000);
  const health = refresher.health();
  assert.equal(health.status, "degraded");
  assert.match(health.reason!, /less than the 1800 s the rotation rule promises/);
});

test("while a fetch is under way health shows no next attempt in the past; a timeout is a failure with a backoff like any other", async () => {
  const clock = new FakeClock();
  const scripted = scriptedSource(clock);
  const refresher = new Refresher({ source: scripted.source, clock, log: collectingLog().log, random: () => 1 });
  await refresher.start();
  let release!: () => void;
  scripted.hold(new Promise<void>((resolve) => (release = resolve)));
  await clock.advance(30 * MINUTE + 20_000);
  const during = refresher.health();
  assert.equal(scripted.calls(), 2, "the rotation is under way");
  assert.ok(during.nextAttemptAt === undefined || during.nextAttemptAt > clock.now(), `nextAttemptAt ${during.nextAttemptAt} is in the past`);

  scripted.fail(new SourceError("timeout", "AssumeRole arn:aws:iam::123456789012:role/r: no complete answer within 10000 ms"));
  release();
  await refresher.whenIdle();
  const after = refresher.health();
  assert.equal(after.status, "degraded");
  assert.match(after.reason!, /^timeout: AssumeRole .*no complete answer within 10000 ms; serving the last good credentials/);
  assert.equal(after.nextAttemptAt, clock.now() + 1000);
});

test("a first fetch that fails for a configuration reason stops the start: one rejection, no log line, no retry", async () => {
  for (const failureClass of ["invalid-config", "access-denied", "expired-token"] as const) {
    const clock = new FakeClock();
    const scripted = scriptedSource(clock);
    const { lines, log } = collectingLog();
    scripted.fail(new SourceError(failureClass, "AssumeRole arn:aws:iam::123456789012:role/r: refused"));
    const refresher = new Refresher({ source: scripted.source, clock, log, stopOnConfigFailure: true });
    await assert.rejects(refresher.start(), (error: unknown) => error instanceof SourceError && error.failureClass === failureClass);
    assert.deepEqual(lines, [], failureClass);
    await clock.advance(10 * MINUTE);
    await settle();
    assert.equal(scripted.calls(), 1, `${failureClass}: never retried`);
  }
});

test("a transient first failure is retried even with stopOnConfigFailure; a configuration failure after the start is too", async () => {
  const clock = new FakeClock();
  const scripted = scriptedSource(clock);
  const { lines, log } = collectingLog();
  scripted.fail(new SourceError("throttling", "Rate exceeded"));
  const refresher = new Refresher({ source: scripted.source, clock, log, stopOnConfigFailure: true, random: () => 1 });
  await refresher.start();
  assert.equal(lines.filter((line) => line.event === "credentials-unavailable").length, 1);
  scripted.fail(new SourceError("access-denied", "not authorized"));
  await clock.advance(1000);
  await refresher.whenIdle();
  assert.equal(scripted.calls(), 2);
  assert.equal(lines.at(-1)?.failureClass, "access-denied");
  scripted.fail(undefined);
  await clock.advance(2000);
  await refresher.whenIdle();
  assert.equal(refresher.health().status, "healthy");
  refresher.stop();
});

test("without stopOnConfigFailure (--wait-for-credentials) a configuration failure is logged and retried", async () => {
  const clock = new FakeClock();
  const scripted = scriptedSource(clock);
  const { lines, log } = collectingLog();
  scripted.fail(new SourceError("invalid-config", "no source credentials found"));
  const refresher = new Refresher({ source: scripted.source, clock, log, random: () => 1 });
  await refresher.start();
  assert.equal(lines[0]?.event, "credentials-unavailable");
  assert.equal(lines[0]?.failureClass, "invalid-config");
  await clock.advance(1000);
  await refresher.whenIdle();
  assert.equal(scripted.calls(), 2);
  refresher.stop();
});
