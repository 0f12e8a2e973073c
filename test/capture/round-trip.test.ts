import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { test } from "node:test";
import { describe as describeWalk } from "../../src/capture/describe";
import { walk } from "../../src/capture/walk";
import { resolveConfig } from "../../src/config/config";
import { loadConfigFile, parseYamlLinear } from "../../src/config/file";
import { createEmulator, type Emulator } from "../../src/emulator";
import { FakeClock } from "../support/fake-clock";

const EXAMPLE = join(__dirname, "..", "..", "..", "examples", "web-server.yaml");

async function serve(emulator: Emulator): Promise<{ url: URL; close: () => void }> {
  const server = createServer(emulator.handler);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}`), close: () => server.close() };
}

test("an emulator started from its own capture answers the same walk byte for byte", async (t) => {
  const clock = new FakeClock();
  const first = await createEmulator(resolveConfig({}, {}, await loadConfigFile(EXAMPLE)), { clock, seed: "first" });
  const a = await serve(first);
  t.after(a.close);
  const walkedA = await walk(a.url);
  assert.deepEqual(walkedA.missing, []);
  const { yaml } = describeWalk(walkedA, { redact: [] });
  const data = parseYamlLinear(yaml) as Record<string, unknown>;
  const second = await createEmulator(resolveConfig({}, {}, { path: "captured.yaml", data }), { clock, seed: "second" });
  const b = await serve(second);
  t.after(b.close);
  const walkedB = await walk(b.url);
  assert.deepEqual(walkedB.missing, []);
  assert.ok(walkedA.bodies.size > 50, `a whole tree (${walkedA.bodies.size} paths)`);
  assert.deepEqual([...walkedB.bodies.keys()], [...walkedA.bodies.keys()]);
  for (const [path, body] of walkedA.bodies) assert.ok(walkedB.bodies.get(path)?.equals(body), path);
  assert.equal(walkedB.roleName, walkedA.roleName);
  assert.equal(second.instance.accountId, first.instance.accountId, "the account comes from the captured document");
});

test("instances: entries replay a capture each, to their own callers", async (t) => {
  const clock = new FakeClock();
  const original = await createEmulator(resolveConfig({}, {}, await loadConfigFile(EXAMPLE)), { clock, seed: "fleet" });
  const served = await serve(original);
  t.after(served.close);
  const data = parseYamlLinear(describeWalk(await walk(served.url), { redact: [] }).yaml) as { captured: Record<string, unknown> };
  const other = { ...data.captured, "meta-data/instance-id": "i-0fedcba9876543210" };
  const fleet = await createEmulator(
    resolveConfig({}, {}, { path: "fleet.yaml", data: { ...data, instances: [{ name: "loopback", callers: ["127.0.0.1"], captured: other }] } }),
    { clock, seed: "fleet" },
  );
  const replayed = await serve(fleet);
  t.after(replayed.close);
  const walked = await walk(replayed.url);
  assert.equal(walked.bodies.get("meta-data/instance-id")?.toString(), "i-0fedcba9876543210");
  assert.equal(walked.bodies.get("meta-data/placement/availability-zone")?.toString(), "eu-west-1b");
});
