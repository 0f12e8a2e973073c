import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import { after, before, test } from "node:test";
import { startDaemon, type DaemonProcess } from "../support/daemon";
import { startFakeSts, type FakeSts } from "../support/fake-sts";

const ROLE_ARN = "arn:aws:iam::123456789012:role/flood-role";
const SOCKETS = 1100;
/** Callers of the flood: 127.0.0.2 to 127.0.0.12 on Linux loopback, 100 sockets each. */
const CALLERS = 11;
/** Bounds each request the test makes, so a starved daemon fails the test instead of hanging it. */
const REQUEST_MS = 5000;

let sts: FakeSts;
let daemon: DaemonProcess;
let adminUrl: string;
before(async () => {
  sts = await startFakeSts();
  // `ulimit -n` sets the soft and the hard limit: Node cannot raise what the shell capped.
  daemon = await startDaemon(
    ["--admin-port", "0", "--role-arn", ROLE_ARN, "--sts-endpoint", sts.url],
    { AWS_ACCESS_KEY_ID: "AKIDFLOOD", AWS_SECRET_ACCESS_KEY: "flood-secret" },
    15_000,
    { prefix: ["bash", "-c", 'ulimit -n 1024 && exec "$0" "$@"'] },
  );
  adminUrl = String(daemon.logs.find((line) => line.event === "admin-listening")!.url);
});
after(async () => {
  await daemon?.stop();
  await sts?.close();
});

function open(port: number, localAddress: string): Promise<Socket> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: "127.0.0.1", localAddress }, () => resolve(socket));
    // Refused or evicted sockets end one way or another; the flood only needs them attempted.
    socket.on("error", () => resolve(socket));
  });
}

test("with an open-file limit of 1,024, a flood of 1,100 sockets leaves /healthz, STS rotation and the instance's own client working", async (t) => {
  const flood: Socket[] = [];
  try {
    for (let caller = 0; caller < CALLERS; caller++) {
      const localAddress = `127.0.0.${caller + 2}`;
      flood.push(...(await Promise.all(Array.from({ length: SOCKETS / CALLERS }, () => open(daemon.port, localAddress)))));
    }
    const health = await fetch(`${adminUrl}/healthz`, { signal: AbortSignal.timeout(REQUEST_MS) });
    assert.equal(health.status, 200);
    const callsBefore = sts.calls.length;
    const rotated = await fetch(`${adminUrl}/admin/credentials/rotate`, { method: "POST", signal: AbortSignal.timeout(REQUEST_MS) });
    assert.equal(rotated.status, 200, JSON.stringify(await rotated.clone().json()));
    assert.equal(sts.calls.length, callsBefore + 1, "the rotation reached STS");

    const token = await fetch(`${daemon.url}/latest/api/token`, {
      method: "PUT",
      headers: { "X-aws-ec2-metadata-token-ttl-seconds": "60" },
      signal: AbortSignal.timeout(REQUEST_MS),
    });
    const credentials = await fetch(`${daemon.url}/latest/meta-data/iam/security-credentials/flood-role`, {
      headers: { "X-aws-ec2-metadata-token": await token.text() },
      signal: AbortSignal.timeout(REQUEST_MS),
    });
    assert.equal(credentials.status, 200);
    const metrics = await (await fetch(`${adminUrl}/metrics`, { signal: AbortSignal.timeout(REQUEST_MS) })).text();
    const evicted = Number(/^imds_emulator_refusals_total\{reason="connection-limit"\} (\d+)$/m.exec(metrics)?.[1]);
    assert.ok(evicted >= SOCKETS - 896, `at least the sockets past the derived cap of 896 were closed, got ${evicted}`);
    t.diagnostic(`${SOCKETS} sockets from ${CALLERS} callers: ${evicted} closed at the cap; /healthz, rotation and a credential fetch all answered`);
  } finally {
    for (const socket of flood) socket.destroy();
  }
});
