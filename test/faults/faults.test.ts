import assert from "node:assert/strict";
import { once } from "node:events";
import { request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import { resolveConfig } from "../../src/config/config";
import { parseFaultRule } from "../../src/config/fault-rule";
import { settle } from "../support/fake-clock";
import { testEmulator, type TestEmulator } from "../support/emulator";

const CREDENTIALS = "/latest/meta-data/iam/security-credentials/imds-emulator";
const TTL = { "X-aws-ec2-metadata-token-ttl-seconds": "300" };

interface Exchange {
  status?: number;
  text?: string;
  error?: string;
}

/** One request over a real socket; `exchange` fills in as the answer (or the error) arrives. */
function call(server: Server, method: string, path: string, headers: Record<string, string> = {}): { exchange: Exchange; done: Promise<Exchange> } {
  const exchange: Exchange = {};
  const { port } = server.address() as AddressInfo;
  const done = new Promise<Exchange>((resolve) => {
    const req = request({ host: "127.0.0.1", port, method, path, headers, agent: false }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk) => (text += chunk));
      res.on("end", () => resolve(Object.assign(exchange, { status: res.statusCode, text })));
    });
    req.on("error", (error: NodeJS.ErrnoException) => resolve(Object.assign(exchange, { error: error.code ?? error.message })));
    req.end();
  });
  return { exchange, done };
}

async function listening(t: TestEmulator): Promise<Server> {
  await new Promise<void>((resolve) => t.server.listen(0, "127.0.0.1", resolve));
  return t.server;
}

describe("fault rules as written", () => {
  test("the compact form and the object form say the same", () => {
    const compact = parseFaultRule("status=500,path=/latest/meta-data/iam/*,count=3,probability=0.5", "--fault");
    const object = parseFaultRule({ status: 500, path: "/latest/meta-data/iam/*", count: 3, probability: 0.5 }, "--fault");
    assert.deepEqual(compact, object);
    assert.deepEqual(compact, { path: "/latest/meta-data/iam/*", action: { kind: "status", status: 500 }, count: 3, probability: 0.5 });
    assert.deepEqual(parseFaultRule("hang,path=/latest/api/token,instance=web", "f"), { path: "/latest/api/token", instance: "web", action: { kind: "hang" } });
    assert.deepEqual(parseFaultRule("delay=1.5s,duration=1m", "f"), { path: "*", action: { kind: "delay", ms: 1500 }, durationMs: 60_000 });
  });

  test("a bad rule is one line naming what is wrong", () => {
    const cases: Array<[unknown, RegExp]> = [
      ["path=/x", /give exactly one of status, delay, hang, reset/],
      ["status=500,reset", /not status and reset/],
      ["status=200", /status: expected an integer from 400 to 599/],
      ["status=500,cuont=3", /unknown key "cuont"; did you mean "count"\?/],
      ["status=500,probability=1.5", /probability: expected a number above 0 and at most 1/],
      ["status=500,path=latest", /path: expected a path glob/],
      ["status=500,instance=Web", /instance: expected an instance name/],
      ["reset=no", /reset: expected true/],
      [42, /expected a fault rule/],
    ];
    for (const [value, message] of cases) {
      assert.throws(() => parseFaultRule(value, "--fault"), (error: Error) => message.test(error.message) && !error.message.includes("\n"), String(value));
    }
  });

  test("CLI, environment and config file all set rules; the environment separates them with ;", () => {
    const cli = resolveConfig({ fault: ["status=500,count=1", "reset,path=/latest/api/token"] }, {});
    assert.equal(cli.faults.length, 2);
    const env = resolveConfig({}, { IMDS_EMULATOR_FAULT: "status=503,path=/latest/*,count=2; hang,path=/latest/api/token" });
    assert.deepEqual(env.faults.map((rule) => rule.action.kind), ["status", "hang"]);
    const file = resolveConfig({}, {}, { path: "c.yaml", data: { faults: [{ status: 500, path: "/latest/meta-data/iam/*", count: 3 }, "delay=2s"] } });
    assert.deepEqual(file.faults.map((rule) => rule.action.kind), ["status", "delay"]);
    assert.throws(() => resolveConfig({}, {}, { path: "c.yaml", data: { faults: [{ status: 700 }] } }), /c.yaml: faults.status: expected an integer from 400 to 599/);
  });

  test("hop limit, hops and the rate limit are instance options: top level, entries, flags", () => {
    const config = resolveConfig({ "http-put-response-hop-limit": "2" }, { IMDS_EMULATOR_HOPS: "2" }, {
      path: "c.yaml",
      data: { "request-rate-limit": 50, instances: [{ name: "box", callers: ["127.0.0.9"], hops: 3 }] },
    });
    assert.deepEqual([config.httpPutResponseHopLimit, config.hops, config.requestRateLimit], [2, 2, 50]);
    const entry = config.instances[0]!;
    assert.deepEqual([entry.httpPutResponseHopLimit, entry.hops, entry.requestRateLimit], [2, 3, 50]);
    assert.deepEqual([resolveConfig({}, {}).httpPutResponseHopLimit, resolveConfig({}, {}).hops], [1, 1]);
    assert.throws(() => resolveConfig({ "http-put-response-hop-limit": "65" }, {}), /--http-put-response-hop-limit: expected an integer from 1 to 64/);
  });
});

describe("the metadata port under fault rules", () => {
  let t: TestEmulator;
  let server: Server;
  let draws: number[] = [];
  before(async () => {
    t = await testEmulator({ host: ["127.0.0.1"], port: "0" }, { random: () => draws.shift() ?? 0 });
    server = await listening(t);
  });
  after(async () => {
    server.close();
    await t.emulator.stop();
  });

  test("status N answers EC2's error page for N, count times, then the rule is spent and listed with its firings", async () => {
    const id = t.emulator.addFault("status=500,path=/latest/meta-data/iam/*,count=2");
    for (let i = 0; i < 2; i++) {
      const failed = await call(server, "GET", CREDENTIALS).done;
      assert.equal(failed.status, 500);
      assert.match(failed.text!, /<title>500 - Internal Server Error<\/title>/);
    }
    assert.equal((await call(server, "GET", CREDENTIALS).done).status, 200);
    assert.equal((await call(server, "GET", "/latest/meta-data/instance-id").done).status, 200, "other paths are untouched");
    assert.deepEqual(
      t.emulator.faults().map(({ id, status, fired, active }) => ({ id, status, fired, active })),
      [{ id, status: 500, fired: 2, active: false }],
    );
    assert.equal(t.emulator.clearFaults(), 1);
    assert.deepEqual(t.emulator.faults(), []);
  });

  test("a rule for the token PUT matches it; a duration ends the rule on the clock", async () => {
    t.emulator.addFault({ status: 503, path: "/latest/api/token", duration: "30s" });
    assert.equal((await call(server, "PUT", "/latest/api/token", TTL).done).status, 503);
    await t.clock.advance(30_000);
    assert.equal((await call(server, "PUT", "/latest/api/token", TTL).done).status, 200);
    assert.equal(t.emulator.faults()[0]!.active, false);
    t.emulator.clearFaults();
  });

  test("probability draws for each matching request", async () => {
    t.emulator.addFault("status=500,probability=0.5");
    draws = [0.7, 0.2];
    assert.equal((await call(server, "GET", "/latest/meta-data/").done).status, 200);
    assert.equal((await call(server, "GET", "/latest/meta-data/").done).status, 500);
    assert.equal(t.emulator.faults()[0]!.fired, 1);
    t.emulator.clearFaults();
  });

  test("a rule for another instance leaves this one alone; an unknown instance is refused", async () => {
    assert.throws(() => t.emulator.addFault("status=500,instance=nosuch"), /no instance is named "nosuch"; there are default/);
    t.emulator.addFault("status=500,instance=default,count=1");
    assert.equal((await call(server, "GET", "/latest/meta-data/").done).status, 500);
  });

  test("delay answers normally once the delay is over", async () => {
    t.emulator.addFault("delay=2s,count=1");
    const received = once(server, "request");
    const { exchange, done } = call(server, "GET", "/latest/meta-data/instance-id");
    await received;
    await settle();
    assert.equal(exchange.status, undefined, "no answer before the delay");
    await t.clock.advance(2000);
    assert.equal((await done).status, 200);
  });

  test("hang keeps the request unanswered until the client gives up, at most the server's request timeout", async () => {
    t.emulator.addFault("hang,count=1");
    const received = once(server, "request");
    const { exchange, done } = call(server, "GET", "/latest/meta-data/instance-id");
    await received;
    await settle();
    assert.deepEqual(exchange, {});
    await t.clock.advance(10_000);
    assert.equal((await done).error, "ECONNRESET");
  });

  test("reset drops the connection", async () => {
    t.emulator.addFault("reset,count=1");
    assert.equal((await call(server, "GET", "/latest/meta-data/").done).error, "ECONNRESET");
    assert.equal((await call(server, "GET", "/latest/meta-data/").done).status, 200);
  });
});

describe("hop limit and throttling", () => {
  test("with more hops than the hop limit the token PUT is never answered; GETs are", async () => {
    const t = await testEmulator({ hops: "2" });
    const server = await listening(t);
    try {
      const received = once(server, "request");
      const put = call(server, "PUT", "/latest/api/token", TTL);
      await received;
      assert.equal((await call(server, "GET", "/latest/meta-data/instance-id").done).status, 200, "IMDSv1 still answers");
      assert.deepEqual(put.exchange, {}, "the PUT's answer never arrives");
      await t.clock.advance(10_000);
      assert.equal((await put.done).error, "ECONNRESET");
    } finally {
      server.close();
      await t.emulator.stop();
    }
  });

  test("hops within the hop limit get their token", async () => {
    const t = await testEmulator({ hops: "2", "http-put-response-hop-limit": "2" });
    assert.equal((await t.http.put("/latest/api/token").set(TTL)).status, 200);
    await t.emulator.stop();
  });

  test("over its rate an instance gets 429 until the bucket refills", async () => {
    const t = await testEmulator({ "request-rate-limit": "2" });
    try {
      assert.equal((await t.http.get("/latest/meta-data/")).status, 200);
      assert.equal((await t.http.get("/latest/meta-data/")).status, 200);
      const throttled = await t.http.get("/latest/meta-data/");
      assert.equal(throttled.status, 429);
      assert.match(throttled.text, /429 - Too Many Requests/);
      await t.clock.advance(500);
      assert.equal((await t.http.get("/latest/meta-data/")).status, 200);
    } finally {
      await t.emulator.stop();
    }
  });
});

describe("credentials on the edge", () => {
  let t: TestEmulator;
  before(async () => {
    t = await testEmulator();
  });
  after(() => t.emulator.stop());

  const document = async () => JSON.parse((await t.http.get(CREDENTIALS)).text) as Record<string, string>;

  test("already expired, expiring in N seconds, a Code other than Success, a stale LastUpdated; a rotation ends it", async () => {
    const normal = await document();
    t.emulator.overrideCredentials({ expiresIn: "expired" });
    assert.ok(Date.parse((await document()).Expiration!) < t.clock.now());
    t.emulator.overrideCredentials({ expiresIn: "30s" });
    assert.equal(Date.parse((await document()).Expiration!), Math.floor((t.clock.now() + 30_000) / 1000) * 1000);
    t.emulator.overrideCredentials({ code: "Failure", staleBy: "2h" });
    const edge = await document();
    assert.equal(edge.Code, "Failure");
    assert.equal(edge.AccessKeyId, normal.AccessKeyId);
    assert.equal(Date.parse(edge.LastUpdated!), Math.floor((t.clock.now() - 7_200_000) / 1000) * 1000);
    assert.equal(JSON.parse((await t.http.get("/latest/meta-data/iam/info")).text).Code, "Failure");
    await t.emulator.rotateCredentials();
    const rotated = await document();
    assert.equal(rotated.Code, "Success");
    assert.ok(Date.parse(rotated.Expiration!) > t.clock.now() + 600_000);
    assert.equal(t.emulator.clearCredentialOverride(), false);
  });

  test("bad fields are one line", () => {
    assert.throws(() => t.emulator.overrideCredentials({ expiresin: "30s" }), /unknown field "expiresin"; did you mean "expiresIn"\?/);
    assert.throws(() => t.emulator.overrideCredentials({}), /give at least one of expiresIn, code, staleBy/);
    assert.throws(() => t.emulator.overrideCredentials({ code: "not ok" }), /credentials.code: expected a word/);
  });
});
