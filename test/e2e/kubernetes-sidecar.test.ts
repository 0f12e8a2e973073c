import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, symlinkSync } from "node:fs";
import { dirname, join } from "node:path";
import { after, before, describe, test } from "node:test";
import { CLI, run, startDaemon, type DaemonProcess } from "../support/daemon";
import {
  asContainer,
  type Container,
  container,
  containerEnv,
  find,
  imageLikeNode,
  type KubeObject,
  kubectlAvailable,
  overlayDir,
  type PodSpec,
  podSpecOf,
  render,
  requireKubectl,
  requireTool,
} from "../support/kubernetes";
import { createNetns, netnsNames, netnsUnavailable, requireNetns, type Netns } from "../support/netns";
import { tempDir } from "../support/tmp";

// Sidecar mode without a cluster: a network namespace of this test's own plays the pod. Everything the
// pod does comes from the rendered sidecar-example overlay, not retyped here: the pod's sysctls, the
// address step's command run with busybox (the step's image) under its security context, the emulator
// started from the built dist/bin/cli.js with its container's environment, user, capabilities and a
// read-only root, its startup probe, and the job's own container command. Then unmodified clients in
// the same namespace find an instance role at 169.254.169.254, as the pod's containers would.

function busyboxPath(): string | undefined {
  const found = spawnSync("sh", ["-c", "command -v busybox"], { encoding: "utf8" }).stdout.trim();
  return found === "" ? undefined : found;
}

const succeeds = (command: string, ...args: string[]) => spawnSync(command, args, { stdio: "ignore" }).status === 0;

const skip = process.env.CI === "true" ? false : (netnsUnavailable() ?? false);

describe("sidecar mode: a network namespace plays the pod of the rendered sidecar-example", { skip }, () => {
  let netns: Netns | string;
  let objects: KubeObject[] = [];
  let pod: PodSpec;
  let address: Container;
  let emulator: Container;
  let daemon: DaemonProcess | undefined;
  /** The emulator container's environment and PATH, where `node` is the image-like one. */
  let emulatorEnv: Record<string, string> = {};
  const work = tempDir("imds-k8s-sidecar-");

  before(() => {
    netns = createNetns([], `imds-k8s-${process.pid}`);
    if (!kubectlAvailable()) return;
    objects = render(overlayDir("sidecar-example"));
    pod = podSpecOf(find(objects, "Job"));
    [address, emulator] = [container(pod.initContainers, "imds-emulator-address"), container(pod.initContainers, "imds-emulator")];
  });
  // Also after a failure: nothing may outlive the suite.
  after(async () => {
    await daemon?.stop();
    if (typeof netns === "object") netns.destroy();
  });

  const inPod = (argv: readonly string[], env: NodeJS.ProcessEnv) => {
    const pod = netns as Netns;
    return run(pod.exec[0]!, [...pod.exec.slice(1), ...argv], env);
  };
  const loopback = () => spawnSync("ip", ["-n", (netns as Netns).name, "-o", "addr", "show", "dev", "lo"], { encoding: "utf8" }).stdout;

  test("the pod's sysctls, then the address step as its container runs it (busybox, NET_ADMIN only) put EC2's addresses on lo", async (t) => {
    if (!requireNetns(netns, t) || !requireKubectl(t)) return;
    const busybox = busyboxPath();
    if (!requireTool(t, busybox !== undefined, "busybox is not installed (the address step's image): apt-get install busybox")) return;
    for (const { name, value } of pod.securityContext?.sysctls ?? []) {
      const set = await inPod(["sysctl", "-w", `${name}=${value}`], { PATH: process.env.PATH });
      assert.equal(set.code, 0, set.stderr);
    }
    // The busybox image's PATH: its shell and its `ip` applet, nothing of this machine's.
    const bin = join(work, "busybox-bin");
    mkdirSync(bin);
    for (const applet of ["sh", "ip"]) symlinkSync(busybox!, join(bin, applet));
    const step = [...asContainer(address), "env", "-i", `PATH=${bin}`, ...(address.command ?? []), ...(address.args ?? [])];
    // Twice: a retried step (the pod's restartPolicy) finds its own addresses and must still succeed.
    for (const attempt of [1, 2]) {
      const ran = await inPod(step, { PATH: process.env.PATH });
      assert.equal(ran.code, 0, `attempt ${attempt}: ${ran.stderr}`);
    }
    const addresses = loopback();
    for (const expected of ["inet 169.254.169.254/32", "inet6 fd00:ec2::254/128"]) {
      assert.equal(addresses.split(expected).length - 1, 1, `${expected} once on lo: ${addresses}`);
    }
  });

  test("the emulator starts from its container: its env, uid 1000, its capabilities, a read-only root; its startup probe passes", async (t) => {
    if (!requireNetns(netns, t) || !requireKubectl(t)) return;
    assert.match(loopback(), /169\.254\.169\.254/, "the address step ran first");
    const node = imageLikeNode(work);
    emulatorEnv = { ...containerEnv(emulator, objects), PATH: `${dirname(node)}:/usr/bin:/bin`, HOME: tempDir("imds-k8s-home-") };
    const prefix = asContainer(emulator);

    // /tmp is writable by every user: only the read-only root can refuse this.
    const readOnly = await inPod([...prefix, "sh", "-c", `touch /tmp/imds-k8s-written-${process.pid}`], emulatorEnv);
    assert.notEqual(readOnly.code, 0, "the container's root is read-only");
    assert.match(readOnly.stderr, /Read-only file system/);

    const probe = emulator.startupProbe!.exec!.command;
    assert.equal((await inPod([...prefix, ...probe], emulatorEnv)).code, 1, "the probe fails while nothing serves");

    // The image's entrypoint is `node /app/dist/bin/cli.js` with no arguments: everything comes from the environment.
    daemon = await startDaemon([], emulatorEnv, 15_000, { prefix: [...(netns as Netns).exec, ...prefix], listen: [], cli: [node, CLI] });
    const listening = daemon.logs.filter((line) => line.event === "listening").map((line) => `${line.address}:${line.port}`);
    assert.deepEqual(listening.sort(), ["169.254.169.254:80", "fd00:ec2::254:80"]);
    assert.equal(daemon.logs.find((line) => line.event === "started")?.source, "mock");
    assert.deepEqual(daemon.logs.filter((line) => line.level === "warn" || line.level === "error"), []);

    // As kubelet runs it: every periodSeconds, until it passes or failureThreshold runs out.
    const { periodSeconds = 10, failureThreshold = 3 } = emulator.startupProbe!;
    let passed = false;
    for (let attempt = 0; attempt < failureThreshold && !passed; attempt++) {
      passed = (await inPod([...prefix, ...probe], emulatorEnv)).code === 0;
      if (!passed) await new Promise((resolve) => setTimeout(resolve, periodSeconds * 1000));
    }
    assert.ok(passed, "the startup probe passes");
  });

  /** What the emulator serves: the key every client below must have found. */
  async function servedKey(): Promise<string> {
    const read =
      "const u='http://169.254.169.254/latest/';(async()=>{const t=await (await fetch(u+'api/token',{method:'PUT',headers:{'x-aws-ec2-metadata-token-ttl-seconds':'60'}})).text();" +
      "const h={'x-aws-ec2-metadata-token':t};const r=(await (await fetch(u+'meta-data/iam/security-credentials/',{headers:h})).text()).trim();" +
      "process.stdout.write((await (await fetch(u+'meta-data/iam/security-credentials/'+r,{headers:h})).json()).AccessKeyId)})()";
    const result = await inPod([process.execPath, "-e", read], { PATH: process.env.PATH });
    assert.equal(result.code, 0, result.stderr);
    return result.stdout;
  }

  /** A client of the pod: PATH and an empty HOME, no AWS_* variable but the scenario's own. */
  const client = (argv: readonly string[], extra: Record<string, string> = {}) =>
    inPod(argv, { PATH: process.env.PATH, HOME: tempDir("imds-k8s-client-"), ...extra });

  test("the job's own container command: the AWS CLI's credential chain finds an instance role (iam-role)", async (t) => {
    if (!requireNetns(netns, t) || !requireKubectl(t)) return;
    assert.ok(daemon !== undefined, "the emulator runs (the test above starts it)");
    if (!requireTool(t, succeeds("aws", "--version"), "aws is not installed: pip install awscli")) return;
    const job = container(pod.containers, "aws-cli");
    const result = await client([...(job.command ?? []), ...(job.args ?? [])]);
    assert.equal(result.code, 0, `${result.stderr}\n${result.stdout}`);
    assert.match(result.stdout, new RegExp(`access_key +\\*+${(await servedKey()).slice(-4)} +iam-role`));
  });

  for (const [name, env] of [["JS v3, default chain", {}], ["JS v3, ENDPOINT_MODE=IPv6", { AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE: "IPv6" }]] as const) {
    test(`${name}: the key the emulator serves`, async (t) => {
      if (!requireNetns(netns, t) || !requireKubectl(t)) return;
    assert.ok(daemon !== undefined, "the emulator runs (the test above starts it)");
      const ipv6Before = (netns as Netns).ipv6Received();
      const result = await client([process.execPath, join(__dirname, "clients", "js-v3-credentials.js")], env);
      assert.equal(result.code, 0, result.stderr);
      const found = JSON.parse(result.stdout);
      assert.equal(found.accessKeyId, await servedKey());
      assert.ok(Date.parse(found.expiration) - Date.now() > 30 * 60_000, "at least 30 minutes left");
      if ("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE" in env) assert.ok((netns as Netns).ipv6Received() > ipv6Before, "it reached fd00:ec2::254");
    });
  }

  test("boto3, default chain: the key the emulator serves, as an instance role", async (t) => {
    if (!requireNetns(netns, t) || !requireKubectl(t)) return;
    assert.ok(daemon !== undefined, "the emulator runs (the test above starts it)");
    if (!requireTool(t, succeeds("python3", "-c", "import boto3"), "boto3 is not installed: pip install boto3")) return;
    const script = "import boto3, json\nc = boto3.session.Session().get_credentials()\nprint(json.dumps({'key': c.access_key, 'method': c.method}))";
    const result = await client(["python3", "-c", script]);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(JSON.parse(result.stdout), { key: await servedKey(), method: "iam-role" });
  });

  test("the readiness probe passes; SIGTERM stops the emulator with 0; no namespace or process is left", async (t) => {
    if (!requireNetns(netns, t) || !requireKubectl(t)) return;
    assert.ok(daemon !== undefined, "the emulator runs (the test above starts it)");
    const readiness = await inPod([...asContainer(emulator), ...emulator.readinessProbe!.exec!.command], emulatorEnv);
    assert.equal(readiness.code, 0, readiness.stderr);
    assert.equal(await daemon!.stop(), 0);
    daemon = undefined;
    const pod = netns as Netns;
    assert.deepEqual(pod.pids(), [], "nothing runs in the pod");
    pod.destroy();
    assert.ok(!netnsNames().includes(pod.name), `${pod.name} is deleted`);
  });
});
