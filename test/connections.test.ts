import assert from "node:assert/strict";
import { createServer, type ServerResponse } from "node:http";
import { connect, type AddressInfo, type Socket } from "node:net";
import { after, describe, test } from "node:test";
import { limitConnections } from "../src/connections";
import { Refusals } from "../src/refusals";
import { startEmulator, type RunningEmulator } from "../src/index";
import { silentLogger } from "../src/log";
import { eventually } from "./support/eventually";
import { FakeClock } from "./support/fake-clock";

const CREDENTIALS = "/latest/meta-data/iam/security-credentials/imds-emulator";
/** Bounds the client's own requests, so a broken limit fails the test instead of hanging it. */
const WAIT_MS = 5000;

/** A connection from `localAddress` (any 127.x address is another caller on Linux loopback), resolved once connected. */
function open(port: number, localAddress: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: "127.0.0.1", localAddress }, () => resolve(socket));
    socket.on("error", reject);
  });
}

/** Resolves once `count` of the sockets have been closed by the server. */
async function closedBy(sockets: Socket[], count: number): Promise<void> {
  // A socket emits 'close' only once what it received has been read.
  for (const socket of sockets) socket.resume().on("error", () => undefined);
  await eventually(() => sockets.filter((socket) => socket.closed).length >= count, `${count} sockets closed by the server`);
}

/** An SDK's credential fetch: a token PUT, then the credential document, within WAIT_MS. */
async function fetchCredentials(url: string): Promise<number> {
  const signal = AbortSignal.timeout(WAIT_MS);
  const token = await fetch(`${url}/latest/api/token`, { method: "PUT", headers: { "X-aws-ec2-metadata-token-ttl-seconds": "60" }, signal });
  const response = await fetch(`${url}${CREDENTIALS}`, { headers: { "X-aws-ec2-metadata-token": await token.text() }, signal });
  await response.arrayBuffer();
  return response.status;
}

function refusalCount(metrics: string, reason: string): number {
  return Number(new RegExp(`^imds_emulator_refusals_total\\{reason="${reason}"\\} (\\d+)$`, "m").exec(metrics)?.[1] ?? NaN);
}

describe("connections on the metadata port", () => {
  const running: RunningEmulator[] = [];
  const sockets: Socket[] = [];
  after(async () => {
    for (const socket of sockets) socket.destroy();
    await Promise.all(running.map((imds) => imds.stop()));
  });

  test("a caller refused by --allow-cidr is closed at once and never holds a slot", async () => {
    const imds = await startEmulator({ allowCidr: ["127.0.0.1/32"], maxConnections: 4, adminPort: 0 });
    running.push(imds);
    const port = Number(new URL(imds.url).port);
    const refused = await Promise.all(Array.from({ length: 20 }, () => open(port, "127.0.0.2")));
    sockets.push(...refused);
    await closedBy(refused, refused.length);
    assert.equal(await fetchCredentials(imds.url), 200, "the instance's own client still gets in");
    const metrics = await (await fetch(`${imds.adminUrl}/metrics`)).text();
    assert.equal(refusalCount(metrics, "caller"), 20);
  });

  test("idle sockets cost their owner its own slots: another caller, and a newcomer at the cap, still get in", async () => {
    // 64 connections a listener, so 16 a caller.
    const imds = await startEmulator({ maxConnections: 64, adminPort: 0 });
    running.push(imds);
    const port = Number(new URL(imds.url).port);

    const flood: Socket[] = [];
    for (let i = 0; i < 40; i++) flood.push(await open(port, "127.0.0.2"));
    sockets.push(...flood);
    await closedBy(flood, 24);
    assert.deepEqual(
      flood.map((socket) => socket.closed),
      flood.map((_, i) => i < 24),
      "the caller keeps its 16 newest connections; its oldest idle ones made room",
    );

    for (const address of ["127.0.0.3", "127.0.0.4", "127.0.0.5"]) {
      for (let i = 0; i < 16; i++) sockets.push(await open(port, address));
    }
    assert.equal(await fetchCredentials(imds.url), 200, "at the listener's cap, a newcomer closes an idle connection of the heaviest caller");

    const metrics = await (await fetch(`${imds.adminUrl}/metrics`)).text();
    assert.equal(refusalCount(metrics, "caller-connection-limit"), 24);
    assert.ok(refusalCount(metrics, "connection-limit") >= 1);
  });
});

describe("limitConnections", () => {
  test("a connection whose request is being answered is never closed to make room; the newcomer is refused instead", async () => {
    const held: ServerResponse[] = [];
    const server = createServer((_req, res) => void held.push(res));
    const refusals = new Refusals(silentLogger, new FakeClock());
    limitConnections(server, { callerAllowed: () => true, maxConnections: 2, maxConnectionsPerCaller: 2, refusals });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    const busy: Socket[] = [];
    try {
      for (let i = 0; i < 2; i++) {
        const socket = await open(port, "127.0.0.1");
        socket.write("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
        busy.push(socket);
      }
      await eventually(() => held.length === 2, "both requests reach the handler");
      const newcomer = await open(port, "127.0.0.1");
      await closedBy([newcomer], 1);
      assert.equal(refusals.total("caller-connection-limit"), 1);
      assert.ok(busy.every((socket) => !socket.closed), "both busy connections are still open");

      for (const res of held) res.end("done");
      const after = await open(port, "127.0.0.1");
      busy.push(after);
      await closedBy([busy[0]!], 1);
      assert.equal(after.closed, false, "once answered, the oldest idle connection makes room");
    } finally {
      for (const socket of busy) socket.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
