import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import { test } from "node:test";
import { startDaemon, type DaemonProcess } from "../support/daemon";

function exitOf(daemon: DaemonProcess): Promise<{ code: number | null; ms: number }> {
  const started = performance.now();
  return new Promise((resolve) => daemon.child.once("exit", (code) => resolve({ code, ms: performance.now() - started })));
}

/** A connection that has sent half a request: it keeps a plain close() waiting. */
function halfRequest(port: number): Promise<Socket> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1", () => {
      socket.write("GET /latest/meta-data/ HTTP/1.1\r\nHost: 127.0.0.1\r\n");
      resolve(socket);
    });
    socket.on("error", () => undefined);
  });
}

for (const [signal, pin] of [["SIGTERM", false], ["SIGINT", true]] as const) {
  const pinning = pin ? " (a half-sent request pinned)" : "";
  test(`${signal}: stops accepting, finishes what is in flight, exits 0 within 5 s${pinning}`, async (t) => {
    const daemon = await startDaemon([]);
    const pinned = pin ? await halfRequest(daemon.port) : undefined;
    const keepAlive = await fetch(`${daemon.url}/latest/meta-data/instance-id`);
    assert.equal(keepAlive.status, 200);
    const exited = exitOf(daemon);
    daemon.child.kill(signal);
    const { code, ms } = await exited;
    pinned?.destroy();
    assert.equal(code, 0);
    assert.ok(ms < (pin ? 5000 : 1000), `exited after ${ms} ms`);
    assert.ok(daemon.logs.some((line) => line.event === "shutdown" && line.signal === signal));
    await assert.rejects(fetch(`${daemon.url}/latest/meta-data/instance-id`), "no longer accepting");
    t.diagnostic(`${signal}: exit 0 after ${ms.toFixed(0)} ms${pinning}`);
  });
}

test("a second signal exits at once", async (t) => {
  const daemon = await startDaemon([]);
  const pinned = await halfRequest(daemon.port);
  const exited = exitOf(daemon);
  daemon.child.kill("SIGTERM");
  await new Promise((resolve) => setTimeout(resolve, 100));
  daemon.child.kill("SIGTERM");
  const { code, ms } = await exited;
  pinned.destroy();
  assert.equal(code, 143);
  assert.ok(ms < 1000, `exited after ${ms} ms`);
  t.diagnostic(`second SIGTERM: exit ${code} after ${ms.toFixed(0)} ms`);
});
