import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import { test } from "node:test";
import { spawn } from "node:child_process";
import { CLI, startDaemon, type DaemonProcess } from "../support/daemon";

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

for (const [signal, pin] of [["SIGTERM", false], ["SIGINT", true], ["SIGHUP", false]] as const) {
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

test("SIGUSR1 never opens Node's inspector: it is logged and ignored, and the daemon keeps serving", async () => {
  const daemon = await startDaemon([]);
  try {
    daemon.child.kill("SIGUSR1");
    const deadline = Date.now() + 5000;
    while (!daemon.logs.some((line) => line.event === "signal-ignored") && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.ok(daemon.logs.some((line) => line.event === "signal-ignored" && line.signal === "SIGUSR1"));
    assert.ok(!daemon.logs.some((line) => /Debugger listening/.test(String(line.line))), JSON.stringify(daemon.logs));
    assert.equal((await fetch(`${daemon.url}/latest/meta-data/instance-id`)).status, 200);
  } finally {
    await daemon.stop();
  }
});

test("SIGUSR1 during start-up, before the daemon is ready, leaves no debugger port open", async () => {
  const child = spawn(process.execPath, [CLI, "--host", "127.0.0.1", "--port", "0"], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr!.on("data", (chunk) => (stderr += chunk));
  const exited = new Promise((resolve) => child.once("exit", resolve));
  try {
    await new Promise((resolve) => setTimeout(resolve, 60));
    child.kill("SIGUSR1");
    const deadline = Date.now() + 5000;
    while (!stderr.includes('"started"') && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.match(stderr, /"started"/);
    // Node may open the inspector a moment after the signal; the daemon closes it within its watch.
    await new Promise((resolve) => setTimeout(resolve, 200));
    // Node prints the port it opened; whether or not the signal came early enough to open it, nothing may answer there now.
    const port = Number(/Debugger listening on ws:\/\/127\.0\.0\.1:(\d+)/.exec(stderr)?.[1] ?? 9229);
    const connected = await new Promise<boolean>((resolve) => {
      const socket = connect(port, "127.0.0.1", () => {
        socket.destroy();
        resolve(true);
      });
      socket.on("error", () => resolve(false));
    });
    assert.equal(connected, false, stderr);
  } finally {
    child.kill("SIGTERM");
    await exited;
  }
});
