import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { run, startDaemon, type DaemonProcess } from "../support/daemon";
import { requireMoto, startMoto, type Moto } from "../support/moto";
import { createNetns, requireNetns, type Netns } from "../support/netns";
import { tempDir } from "../support/tmp";

// Node mode without a cluster: a "node" namespace with the pods' bridge (cni0), the daemon on host
// networking with the DNAT rule it installs, a stand-in for the Kubernetes API that the real client
// library watches, and "pod" namespaces on veths whose unmodified clients ask 169.254.169.254.

const ACCOUNT = "123456789012";
const NODE = "node-a";
const GATEWAY = "10.244.0.1";
const IMDS = "http://169.254.169.254";
const TAINT = "imds-emulator/agent-not-ready";
const PODS = { a: "10.244.0.10", b: "10.244.0.11", late: "10.244.0.12" } as const;
const CLIENTS_DIR = join(__dirname, "clients");
const KUBE_API = join(__dirname, "..", "support", "kube-api.js");

const pod = (uid: string, name: string, ip: string, role: string) => ({
  metadata: { uid, name, namespace: "jobs", annotations: { "iam.amazonaws.com/role": `arn:aws:iam::${ACCOUNT}:role/${role}`, "imds-emulator/role-session-name": name } },
  spec: { nodeName: NODE },
  status: { podIP: ip, phase: "Running" },
});

function ip(...args: string[]): void {
  const result = spawnSync("ip", args, { encoding: "utf8" });
  if (result.status !== 0) throw new Error(`ip ${args.join(" ")}: ${result.stderr}`);
}

function bareEnv(): NodeJS.ProcessEnv {
  const home = tempDir("imds-pod-home-");
  return { PATH: process.env.PATH, HOME: home, AWS_CONFIG_FILE: join(home, "none"), AWS_SHARED_CREDENTIALS_FILE: join(home, "none") };
}

describe("node mode: each pod its own instance, through the DNAT rule the daemon installs", () => {
  let node: Netns | string;
  const pods = new Map<keyof typeof PODS, Netns>();
  let moto: Moto | string | undefined;
  let kubeApi: ChildProcess | undefined;
  let daemon: DaemonProcess | undefined;
  let sts = "";

  before(async () => {
    node = createNetns([], `imds-node-${process.pid}`);
    if (typeof node === "string") return;
    const nodeNs = node;
    ip("-n", nodeNs.name, "link", "add", "cni0", "type", "bridge");
    ip("-n", nodeNs.name, "addr", "add", `${GATEWAY}/24`, "dev", "cni0");
    ip("-n", nodeNs.name, "link", "set", "cni0", "up");
    for (const [name, address] of Object.entries(PODS) as Array<[keyof typeof PODS, string]>) {
      const netns = createNetns([], `imds-pod-${name}-${process.pid}`);
      if (typeof netns === "string") throw new Error(netns);
      pods.set(name, netns);
      ip("-n", nodeNs.name, "link", "add", `v${name}`, "type", "veth", "peer", "name", "eth0", "netns", netns.name);
      ip("-n", nodeNs.name, "link", "set", `v${name}`, "master", "cni0", "up");
      ip("-n", netns.name, "addr", "add", `${address}/24`, "dev", "eth0");
      ip("-n", netns.name, "link", "set", "eth0", "up");
      ip("-n", netns.name, "route", "add", "default", "via", GATEWAY);
    }
    moto = await startMoto(30_000, { prefix: nodeNs.exec, host: GATEWAY, port: 5000, reachable: nodeNs.reachable });
    if (typeof moto === "string") return;
    sts = moto.url;

    const work = tempDir("imds-node-");
    await writeFile(join(work, "pods.json"), JSON.stringify([pod("uid-a", "job-a", PODS.a, "role-a"), pod("uid-b", "job-b", PODS.b, "role-b")]));
    const kubeconfig = join(work, "kubeconfig");
    await writeFile(
      kubeconfig,
      [
        "apiVersion: v1",
        "kind: Config",
        "clusters: [{name: stand-in, cluster: {server: 'http://127.0.0.1:6443', insecure-skip-tls-verify: true}}]",
        "users: [{name: daemon, user: {token: stand-in-token}}]",
        "contexts: [{name: stand-in, context: {cluster: stand-in, user: daemon}}]",
        "current-context: stand-in",
        "",
      ].join("\n"),
    );
    kubeApi = spawn(nodeNs.exec[0]!, [...nodeNs.exec.slice(1), process.execPath, KUBE_API, "6443", NODE, join(work, "pods.json"), TAINT], { stdio: ["ignore", "pipe", "inherit"] });
    await new Promise<void>((resolve) => kubeApi!.stdout!.once("data", () => resolve()));
    daemon = await startDaemon(
      ["--kubernetes-node-name", NODE, "--pod-interface", "cni0", "--remove-node-taint", TAINT, "--sts-endpoint", sts, "--http-tokens", "required"],
      { AWS_ACCESS_KEY_ID: "testing", AWS_SECRET_ACCESS_KEY: "testing", KUBECONFIG: kubeconfig },
      30_000,
      { prefix: nodeNs.exec, listen: ["--host", GATEWAY, "--port", "8254"] },
    );
  });

  after(async () => {
    await daemon?.stop();
    kubeApi?.kill();
    if (typeof moto === "object") await moto.stop();
    for (const netns of pods.values()) netns.destroy();
    if (typeof node === "object") node.destroy();
  });

  const inPod = (name: keyof typeof PODS, command: string[]) => {
    const netns = pods.get(name)!;
    return run(netns.exec[0]!, [...netns.exec.slice(1), ...command], bareEnv());
  };
  const inNode = (command: string[]) => run((node as Netns).exec[0]!, [...(node as Netns).exec.slice(1), ...command], { PATH: process.env.PATH });
  const status = async (name: keyof typeof PODS, args: string[]) => (await inPod(name, ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", ...args])).stdout;
  const tokenIn = async (name: keyof typeof PODS) => (await inPod(name, ["curl", "-s", "-X", "PUT", "-H", "X-aws-ec2-metadata-token-ttl-seconds: 300", `${IMDS}/latest/api/token`])).stdout;
  const ready = (t: Parameters<typeof requireNetns>[1]) => requireNetns(node, t) && requireMoto(moto, t);

  test("the daemon installed the DNAT rule on the pod interface and removed the startup taint", async (t) => {
    if (!ready(t)) return;
    const rules = await inNode(["iptables", "-t", "nat", "-S", "PREROUTING"]);
    assert.match(rules.stdout, /-A PREROUTING -d 169\.254\.169\.254\/32 -i cni0 -p tcp -m tcp --dport 80 -j DNAT --to-destination 10\.244\.0\.1:8254/);
    const nodeObject = JSON.parse((await inNode(["curl", "-s", "http://127.0.0.1:6443/control/node"])).stdout);
    assert.deepEqual(nodeObject.spec.taints, []);
    assert.ok(daemon!.logs.some((line) => line.event === "node-taint-removed"));
  });

  test("the AWS CLI in pod A gets role A, JS v3 in pod B role B: from the pods' annotations", async (t) => {
    if (!ready(t)) return;
    const cli = await inPod("a", ["aws", "sts", "get-caller-identity", "--endpoint-url", sts, "--region", "us-east-1", "--output", "json"]);
    assert.equal(cli.code, 0, cli.stderr);
    assert.equal(JSON.parse(cli.stdout).Arn, `arn:aws:sts::${ACCOUNT}:assumed-role/role-a/job-a`);
    const js = await inPod("b", [process.execPath, join(CLIENTS_DIR, "js-v3.js"), sts]);
    assert.equal(js.code, 0, js.stderr);
    assert.equal(JSON.parse(js.stdout).arn, `arn:aws:sts::${ACCOUNT}:assumed-role/role-b/job-b`);
  });

  test("a pod the watch has not reported gets 403, never another pod's role; once reported, its own", async (t) => {
    if (!ready(t)) return;
    assert.equal(await status("late", ["-X", "PUT", "-H", "X-aws-ec2-metadata-token-ttl-seconds: 60", `${IMDS}/latest/api/token`]), "403");
    const all = JSON.stringify([pod("uid-a", "job-a", PODS.a, "role-a"), pod("uid-b", "job-b", PODS.b, "role-b"), pod("uid-late", "job-late", PODS.late, "role-b")]);
    await inNode(["curl", "-s", "-X", "POST", "--data-binary", all, "http://127.0.0.1:6443/control/pods"]);
    const token = await tokenIn("late");
    const role = await inPod("late", ["curl", "-s", "-H", `X-aws-ec2-metadata-token: ${token}`, `${IMDS}/latest/meta-data/iam/security-credentials/`]);
    assert.equal(role.stdout, "role-b");
  });

  test("an address a new pod reuses serves the new pod's instance; the old pod's token is 401", async (t) => {
    if (!ready(t)) return;
    const oldToken = await tokenIn("a");
    const oldId = (await inPod("a", ["curl", "-s", "-H", `X-aws-ec2-metadata-token: ${oldToken}`, `${IMDS}/latest/meta-data/instance-id`])).stdout;
    const reused = JSON.stringify([pod("uid-a2", "job-a2", PODS.a, "role-b"), pod("uid-b", "job-b", PODS.b, "role-b")]);
    await inNode(["curl", "-s", "-X", "POST", "--data-binary", reused, "http://127.0.0.1:6443/control/pods"]);
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline && !daemon!.logs.some((line) => line.event === "pod-address-reused" || (line.event === "pod-instance" && line.pod === "jobs/job-a2"))) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.equal(await status("a", ["-H", `X-aws-ec2-metadata-token: ${oldToken}`, `${IMDS}/latest/meta-data/instance-id`]), "401");
    const token = await tokenIn("a");
    assert.notEqual((await inPod("a", ["curl", "-s", "-H", `X-aws-ec2-metadata-token: ${token}`, `${IMDS}/latest/meta-data/instance-id`])).stdout, oldId);
    assert.equal((await inPod("a", ["curl", "-s", "-H", `X-aws-ec2-metadata-token: ${token}`, `${IMDS}/latest/meta-data/iam/security-credentials/`])).stdout, "role-b");
  });

  test("stopping the daemon removes the DNAT rule", async (t) => {
    if (!ready(t)) return;
    await daemon!.stop();
    daemon = undefined;
    const rules = await inNode(["iptables", "-t", "nat", "-S", "PREROUTING"]);
    assert.doesNotMatch(rules.stdout, /DNAT/);
  });
});
