import assert from "node:assert/strict";
import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { test } from "node:test";
import { bindListeners, listenFailure } from "../../src/bind";
import { resolveConfig } from "../../src/config/config";
import { MAX_HELD_REQUESTS, RequestGate } from "../../src/gate";
import { close } from "../../src/listeners";
import { Refusals } from "../../src/refusals";
import { ConfigError } from "../../src/validation";
import { FakeClock } from "../support/fake-clock";
import { logInto } from "../support/log";

function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    request(url, { agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8").on("data", (chunk: string) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode!, body }));
    })
      .on("error", reject)
      .end();
  });
}

async function occupied(host: string): Promise<{ server: Server; port: number }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

function bind(cli: Record<string, unknown>, lines: Array<Record<string, unknown>> = []) {
  const clock = new FakeClock();
  const log = logInto(lines, clock);
  return bindListeners(resolveConfig(cli, {}), log, new Refusals(log, clock));
}

test("a bound port holds its requests until it opens, then answers them with the real handler", async () => {
  const lines: Array<Record<string, unknown>> = [];
  const bound = await bind({ host: ["127.0.0.1"], port: "0" }, lines);
  try {
    const [listener] = bound.metadata;
    assert.equal(lines[0]?.event, "listening");
    let answered = false;
    const pending = get(`${listener!.listening.url}/latest/meta-data/instance-id`).then((answer) => {
      answered = true;
      return answer;
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(answered, false, "nothing is answered before the emulator is ready");
    listener!.open((req, res) => res.end(`ready: ${req.url}`));
    assert.deepEqual(await pending, { status: 200, body: "ready: /latest/meta-data/instance-id" });
    assert.equal((await get(`${listener!.listening.url}/x`)).body, "ready: /x");
  } finally {
    await Promise.all(bound.servers.map(close));
  }
});

test("a port in use stops the start with one line that says so, before anything else", async () => {
  const { server, port } = await occupied("127.0.0.1");
  try {
    await assert.rejects(bind({ host: ["127.0.0.1"], port: String(port) }), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.equal(error.message, `port ${port} on 127.0.0.1 is in use (another imds-emulator?); stop it, or choose another port`);
      return true;
    });
    await assert.rejects(bind({ host: ["127.0.0.1"], port: "0", "admin-port": String(port) }), {
      message: `admin port ${port} on 127.0.0.1 is in use (another imds-emulator?); stop it, or choose another port`,
    });
  } finally {
    server.close();
  }
});

test("the metadata port bound before a failing admin port is closed again", async () => {
  const { server, port } = await occupied("127.0.0.1");
  const free = await occupied("127.0.0.1");
  await close(free.server);
  try {
    await assert.rejects(bind({ host: ["127.0.0.1"], port: String(free.port), "admin-port": String(port) }));
    const again = await bind({ host: ["127.0.0.1"], port: String(free.port) });
    await Promise.all(again.servers.map(close));
  } finally {
    server.close();
  }
});

test(":: and an IPv4 address on one port collide with each other: said so, not blamed on another process", async (t) => {
  let port: number;
  try {
    const probe = await occupied("::");
    port = probe.port;
    await close(probe.server);
  } catch {
    return t.skip("IPv6 is not available here");
  }
  await assert.rejects(bind({ host: ["::", "127.0.0.1"], port: String(port) }), {
    message: "--host 127.0.0.1 and --host :: overlap: :: also listens on every IPv4 address (dual stack); give --host :: alone to listen on both families",
  });
  const inUse = Object.assign(new Error("listen EADDRINUSE"), { code: "EADDRINUSE" });
  assert.match(listenFailure(inUse, "port", "::", 1338, ["0.0.0.0"]).message, /^--host :: and --host 0\.0\.0\.0 overlap/);
  assert.match(listenFailure(inUse, "port", "::1", 1338, ["127.0.0.1"]).message, /^port 1338 on ::1 is in use/);
});

test("other listen errors say what to do", () => {
  const denied = Object.assign(new Error("listen EACCES"), { code: "EACCES" });
  assert.equal(
    listenFailure(denied, "port", "0.0.0.0", 80, []).message,
    "port 80 on 0.0.0.0: permission denied; ports below 1024 need root, CAP_NET_BIND_SERVICE, or sysctl net.ipv4.ip_unprivileged_port_start=80",
  );
  const missing = Object.assign(new Error("listen EADDRNOTAVAIL"), { code: "EADDRNOTAVAIL" });
  assert.match(listenFailure(missing, "port", "169.254.169.254", 80, []).message, /169\.254\.169\.254 is not an address of this machine/);
  const other = Object.assign(new Error("listen EMFILE"), { code: "EMFILE" });
  assert.equal(listenFailure(other, "port", "127.0.0.1", 80, []), other);
});

test("the gate answers held requests in order once open, and skips clients that went away", () => {
  const gate = new RequestGate();
  const answered: string[] = [];
  const socket = (destroyed: boolean) => ({ destroyed, destroy: () => undefined });
  const hold = (url: string, destroyed = false) =>
    gate.handler({ url, socket: socket(destroyed) } as never, {} as never);
  hold("/a");
  hold("/gone", true);
  hold("/b");
  assert.equal(gate.heldCount, 3);
  gate.open((req) => answered.push(req.url!));
  assert.deepEqual(answered, ["/a", "/b"]);
  hold("/c");
  assert.deepEqual(answered, ["/a", "/b", "/c"]);
  assert.equal(gate.heldCount, 0);
});

test("past MAX_HELD_REQUESTS the gate drops a request's connection rather than hold it", () => {
  const gate = new RequestGate();
  let destroyed = 0;
  const socket = { destroyed: false, destroy: () => (destroyed += 1) };
  for (let i = 0; i <= MAX_HELD_REQUESTS; i++) gate.handler({ url: "/", socket } as never, {} as never);
  assert.equal(gate.heldCount, MAX_HELD_REQUESTS);
  assert.equal(destroyed, 1);
});
