import assert from "node:assert/strict";
import { request } from "node:http";
import { test } from "node:test";
import { resolveConfig } from "../../src/config/config";
import { createEmulator } from "../../src/emulator";
import { PodCallers } from "../../src/kubernetes/pod-callers";
import type { PodEvent, PodInfo, PodSource } from "../../src/kubernetes/pods";
import { podInfo } from "../../src/kubernetes/pods";
import { FakeClock } from "../support/fake-clock";
import { logInto } from "../support/log";

/** A node's pods as a test scripts them: what the informer would report. */
function scriptedPods(initial: PodInfo[]) {
  let report: ((event: PodEvent, pod: PodInfo) => void) | undefined;
  const source: PodSource = {
    async start(onPod) {
      report = onPod;
      for (const pod of initial) onPod("add", pod);
    },
    stop: () => undefined,
  };
  return { source, emit: (event: PodEvent, pod: PodInfo) => report!(event, pod) };
}

const pod = (uid: string, name: string, ip: string | undefined, annotations: Record<string, string> = {}): PodInfo => ({ uid, namespace: "jobs", name, ip, annotations });

test("pod callers: each pod its own instance; unknown addresses wait, then none; a reused address is the new pod's", async () => {
  const clock = new FakeClock();
  const lines: Array<Record<string, unknown>> = [];
  const pods = scriptedPods([pod("u1", "a", "10.244.0.10"), pod("u2", "b", "10.244.0.11"), pod("u9", "bad", "10.244.0.19", { broken: "yes" })]);
  const dropped: string[] = [];
  const callers = new PodCallers<string>({
    source: pods.source,
    make: (p) => {
      if (p.annotations.broken !== undefined) throw new Error("imds-emulator/region: expected an AWS region");
      return `${p.name}:${p.uid}`;
    },
    drop: (value) => dropped.push(value),
    clock,
    log: logInto(lines, clock),
  });
  await callers.start();
  assert.equal(callers.select("10.244.0.10"), "a:u1");
  assert.equal(callers.select("::ffff:10.244.0.11"), "b:u2");
  assert.equal(callers.select("10.244.0.19"), undefined, "a pod whose annotations are refused gets nothing, never a default");
  assert.ok(lines.some((line) => line.event === "pod-refused" && line.pod === "jobs/bad"));

  const early = callers.select("10.244.0.12");
  assert.ok(early instanceof Promise, "an address the watch has not reported yet waits");
  pods.emit("add", pod("u3", "c", "10.244.0.12"));
  assert.equal(await early, "c:u3");
  const stranger = callers.select("10.244.0.77");
  await clock.advance(500);
  assert.equal(await stranger, undefined, "then 403");

  const generation = callers.generation;
  pods.emit("delete", pod("u1", "a", "10.244.0.10"));
  assert.deepEqual(dropped, ["a:u1"]);
  pods.emit("add", pod("u4", "a2", "10.244.0.10"));
  assert.equal(callers.select("10.244.0.10"), "a2:u4", "the address reused by a new pod is the new pod's");
  assert.ok(callers.generation > generation, "cached answers are dropped");
  pods.emit("update", { ...pod("u2", "b", undefined), ip: undefined });
  assert.ok(callers.select("10.244.0.11") instanceof Promise, "an ended pod's address is no longer its");
  assert.deepEqual(callers.listed().map((listed) => listed.name).sort(), ["jobs/a2", "jobs/c"]);
  callers.stop();
});

test("podInfo: an ended pod has no address; a pod without identity is skipped", () => {
  assert.equal(podInfo({ metadata: { uid: "u", namespace: "n", name: "p" }, status: { podIP: "10.0.0.1", phase: "Succeeded" } })?.ip, undefined);
  assert.equal(podInfo({ metadata: { uid: "u", namespace: "n", name: "p" }, status: { podIP: "10.0.0.1", phase: "Running" } })?.ip, "10.0.0.1");
  assert.equal(podInfo({ metadata: { name: "p" } }), undefined);
});

function call(port: number, from: string, method: string, path: string, headers: Record<string, string> = {}): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, method, path, headers, localAddress: from }, (res) => {
      let text = "";
      res.setEncoding("utf8").on("data", (chunk) => (text += chunk));
      res.on("end", () => resolve({ status: res.statusCode!, text }));
    });
    req.on("error", reject);
    req.end();
  });
}

test("node mode: the role from kube2iam's annotation, instance options from ours, a new pod on an old address is a new instance", async () => {
  const clock = new FakeClock(Date.now());
  const pods = scriptedPods([
    pod("u1", "web", "127.0.0.2", { "iam.amazonaws.com/role": "web-role", "imds-emulator/instance-type": "m5.large" }),
    pod("u2", "batch", "127.0.0.3", { "iam.amazonaws.com/role": "batch-role" }),
  ]);
  const config = resolveConfig({ host: ["127.0.0.1"], port: "0", "kubernetes-node-name": "node-a" }, {});
  const emulator = await createEmulator(config, { clock, seed: "node-mode", pods: pods.source });
  try {
    const { port } = (await emulator.listen()).metadata[0]!;
    const token = async (from: string) => (await call(port, from, "PUT", "/latest/api/token", { "X-aws-ec2-metadata-token-ttl-seconds": "60" })).text;
    const read = async (from: string, path: string, with_?: string) => call(port, from, "GET", path, { "X-aws-ec2-metadata-token": with_ ?? (await token(from)) });
    assert.equal((await read("127.0.0.2", "/latest/meta-data/iam/security-credentials/")).text, "web-role");
    assert.equal((await read("127.0.0.3", "/latest/meta-data/iam/security-credentials/")).text, "batch-role");
    assert.equal((await read("127.0.0.2", "/latest/meta-data/instance-type")).text, "m5.large");
    assert.equal((await read("127.0.0.2", "/latest/meta-data/local-ipv4")).text, "127.0.0.2");
    const webToken = await token("127.0.0.2");
    const webId = (await read("127.0.0.2", "/latest/meta-data/instance-id", webToken)).text;

    pods.emit("delete", pod("u1", "web", "127.0.0.2"));
    pods.emit("add", pod("u5", "web-2", "127.0.0.2", { "iam.amazonaws.com/role": "other-role" }));
    assert.equal((await read("127.0.0.2", "/latest/meta-data/instance-id", webToken)).status, 401, "the old pod's token stops working");
    assert.equal((await read("127.0.0.2", "/latest/meta-data/iam/security-credentials/")).text, "other-role");
    assert.notEqual((await read("127.0.0.2", "/latest/meta-data/instance-id")).text, webId);

    const unknown = call(port, "127.0.0.9", "PUT", "/latest/api/token", { "X-aws-ec2-metadata-token-ttl-seconds": "60" });
    await new Promise((resolve) => setTimeout(resolve, 50));
    await clock.advance(500);
    assert.equal((await unknown).status, 403, "a pod not known yet waits briefly, then gets 403");
    assert.deepEqual(emulator.instances().map((instance) => instance.name).sort(), ["default", "jobs/batch", "jobs/web-2"]);
  } finally {
    await emulator.stop();
  }
});

test("node mode: a role name in the annotation is a role of the top-level role's account", async () => {
  const pods = scriptedPods([pod("u1", "web", "127.0.0.2", { "iam.amazonaws.com/role": "web-role" })]);
  const config = resolveConfig({ host: ["127.0.0.1"], port: "0", "kubernetes-node-name": "node-a", "role-arn": "arn:aws:iam::210987654321:role/base" }, {});
  const emulator = await createEmulator(config, { seed: "node-base", pods: pods.source, source: { kind: "stub", fetch: async () => ({ accessKeyId: "ASIASTUB", secretAccessKey: "s", sessionToken: "t", expiration: Date.now() + 3600_000 }) } });
  try {
    const web = emulator.named("jobs/web") as unknown as { config: { sts?: { roleArn: string }; roleName: string } };
    assert.equal(web.config.sts?.roleArn, "arn:aws:iam::210987654321:role/web-role");
    assert.equal(web.config.roleName, "web-role");
  } finally {
    await emulator.stop();
  }
});

test("node mode's options are checked", () => {
  assert.throws(() => resolveConfig({ "pod-interface": ["cni0"] }, {}), /--pod-interface: only meaningful with --kubernetes-node-name/);
  assert.throws(() => resolveConfig({ "kubernetes-node-name": "n", "pod-interface": ["bad name!"] }, {}), /--pod-interface: expected an interface name/);
  assert.throws(
    () => resolveConfig({ "kubernetes-node-name": "n" }, {}, { path: "i.yaml", data: { instances: [{ name: "a", callers: ["10.0.0.1"] }] } }),
    /the node's pods are the instances; the config file's instances: list cannot be used with it/,
  );
});
