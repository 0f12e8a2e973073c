import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, test, type TestContext } from "node:test";
import { parse as parseYaml } from "yaml";
import { resolveConfig } from "../../src/config/config";
import { envName, OPTIONS } from "../../src/config/schema";
import {
  asContainer,
  type Container,
  container,
  containerEnv,
  find,
  goldenFile,
  imageLikeNode,
  KUSTOMIZE_ROOT,
  type KubeObject,
  OVERLAYS,
  overlayDir,
  parseObjects,
  podSpecOf,
  render,
  requireKubectl,
  requireTool,
  validateObject,
} from "../support/kubernetes";
import { tempDir } from "../support/tmp";

// Every overlay under deploy/kubernetes renders with kubectl, validates offline against Kubernetes'
// schemas, matches its golden file (`npm run golden` after an intended change), and says what the
// README promises: the sidecar's rights and addresses, node mode's RBAC and options.

/**
 * Node-mode options the manifests set that the daemon does not have yet (issue 17's node mode, on
 * issue 14's instances): the name of this node, whose pods to watch; the pod interfaces that get the
 * DNAT rule; the startup taint to remove. Remove each one here when the schema gains it.
 */

const EC2_ADDRESSES = ["169.254.169.254", "fd00:ec2::254"];
const TOKEN_DIR = "/var/run/secrets/imds-emulator";
const SAMPLE_FIELDS = { "status.hostIP": "10.0.0.17", "spec.nodeName": "node-a" };

const renders = new Map<string, KubeObject[]>();
/** Each overlay is rendered once; every test gets its own copy. */
function renderOverlay(overlay: (typeof OVERLAYS)[number]): KubeObject[] {
  if (!renders.has(overlay)) renders.set(overlay, render(overlayDir(overlay)));
  return structuredClone(renders.get(overlay)!);
}

function sidecarParts(objects: readonly KubeObject[]) {
  const job = find(objects, "Job", "imds-sidecar-example");
  const pod = podSpecOf(job);
  return { pod, address: container(pod.initContainers, "imds-emulator-address"), emulator: container(pod.initContainers, "imds-emulator") };
}

/** The addresses the init step's script puts on lo, read from the script itself. */
function scriptAddresses(step: Container): string[] {
  const script = [...(step.command ?? []), ...(step.args ?? [])].join(" ");
  const [, list] = /for address in ([^;]+); do/.exec(script) ?? assert.fail(`no address loop in ${script}`);
  return list!.trim().split(/\s+/);
}

const emulatorConfig = (env: Record<string, string>) => resolveConfig({}, env);

describe("deploy/kubernetes renders and validates", () => {
  for (const overlay of OVERLAYS) {
    test(`${overlay}: every object validates against Kubernetes' schemas, and the render matches its golden file`, (t) => {
      if (!requireKubectl(t)) return;
      const objects = renderOverlay(overlay);
      assert.ok(objects.length > 0);
      for (const object of objects) validateObject(object);
      const golden = parseObjects(readFileSync(goldenFile(overlay), "utf8"));
      assert.deepEqual(objects, golden, `the render of ${overlay} changed: if intended, run \`npm run golden\` and review the diff`);
    });
  }

  test("the offline validation refuses what the API server would: unknown fields, wrong types, missing names", () => {
    const job: KubeObject = {
      apiVersion: "batch/v1",
      kind: "Job",
      metadata: { name: "probe" },
      spec: { template: { spec: { restartPolicy: "Never", containers: [{ name: "app", image: "app" }] } } },
    };
    validateObject(job);
    const variant = (edit: (containerSpec: Record<string, unknown>) => void): KubeObject => {
      const copy = structuredClone(job);
      edit((copy.spec as { template: { spec: { containers: Array<Record<string, unknown>> } } }).template.spec.containers[0]!);
      return copy;
    };
    assert.throws(() => validateObject(variant((c) => (c.securityContext = { readOnlyRootFilesystm: true }))), /unknown fields .*readOnlyRootFilesystm/);
    assert.throws(() => validateObject(variant((c) => (c.ports = [{ containerPort: "80" }]))), /containerPort must be integer/);
    assert.throws(() => validateObject(variant((c) => delete c.name)), /must have required property '?name'?/);
    assert.throws(() => validateObject({ ...job, kind: "Jobb" }), /no schema for batch\/v1 Jobb/);
  });
});

describe("sidecar mode", () => {
  test("the address step, then the emulator as a native sidecar, go before the job's own containers, which are unchanged", (t) => {
    if (!requireKubectl(t)) return;
    const { pod } = sidecarParts(renderOverlay("sidecar-example"));
    assert.deepEqual(pod.initContainers!.map((each) => [each.name, each.restartPolicy]), [
      ["imds-emulator-address", undefined],
      ["imds-emulator", "Always"],
    ]);
    const source = parseYaml(readFileSync(join(overlayDir("sidecar-example"), "job.yaml"), "utf8"));
    assert.deepEqual(pod.containers, source.spec.template.spec.containers);
  });

  test("only the address step holds NET_ADMIN; the emulator runs non-root on a read-only root, every capability dropped but one", (t) => {
    if (!requireKubectl(t)) return;
    const { address, emulator } = sidecarParts(renderOverlay("sidecar-example"));
    assert.deepEqual(address.securityContext?.capabilities, { drop: ["ALL"], add: ["NET_ADMIN"] });
    assert.equal(address.securityContext?.allowPrivilegeEscalation, false);
    assert.equal(address.securityContext?.readOnlyRootFilesystem, true);
    assert.deepEqual(scriptAddresses(address), ["169.254.169.254/32", "fd00:ec2::254/128"]);

    const security = emulator.securityContext!;
    assert.deepEqual(security.capabilities, { drop: ["ALL"] });
    assert.equal(security.runAsNonRoot, true);
    assert.ok(security.runAsUser !== undefined && security.runAsUser !== 0);
    assert.equal(security.allowPrivilegeEscalation, false);
    assert.equal(security.readOnlyRootFilesystem, true);
  });

  test("the emulator listens on exactly the step's addresses at a port the pod's sysctl lets it bind, admin on loopback, mock source", (t) => {
    if (!requireKubectl(t)) return;
    const objects = renderOverlay("sidecar-example");
    const { pod, address, emulator } = sidecarParts(objects);
    const config = emulatorConfig(containerEnv(emulator, objects));
    assert.deepEqual(config.hosts, EC2_ADDRESSES);
    assert.deepEqual(scriptAddresses(address).map((each) => each.replace(/\/\d+$/, "")), config.hosts);
    assert.equal(config.port, 80);
    const sysctl = pod.securityContext?.sysctls?.find((each) => each.name === "net.ipv4.ip_unprivileged_port_start");
    assert.ok(sysctl !== undefined && Number(sysctl.value) <= config.port, "uid 1000 may bind the metadata port");
    assert.deepEqual([config.admin?.host, config.admin?.port], ["127.0.0.1", 9901]);
    assert.equal(config.sts, undefined, "as shipped, the mock source");
    assert.deepEqual(config.warnings, []);
  });

  test("the startup probe gates the pod's containers on /healthz, readiness asks the same, and nothing restarts a degraded emulator", (t) => {
    if (!requireKubectl(t)) return;
    const { emulator } = sidecarParts(renderOverlay("sidecar-example"));
    const probe = emulator.startupProbe?.exec?.command;
    assert.ok(probe !== undefined && probe[0] === "node", "an exec probe with node: kubelet's HTTP probes would reach the pod's address, not loopback");
    assert.match(probe.join(" "), /127\.0\.0\.1.*IMDS_EMULATOR_ADMIN_PORT.*\/healthz/);
    assert.deepEqual(emulator.readinessProbe?.exec?.command, probe);
    assert.equal(emulator.livenessProbe, undefined);
  });

  test("the component patches exactly the annotated workloads of each template kind; the documented role recipe reaches the emulator", (t) => {
    if (!requireKubectl(t)) return;
    const example = sidecarParts(renderOverlay("sidecar-example"));
    const dir = tempDir("imds-kustomize-");
    const template = (extra: Record<string, unknown> = {}) => ({
      metadata: { labels: { app: "x" } },
      spec: { containers: [{ name: "app", image: "app" }], ...extra },
    });
    const workloads = [
      { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "annotated", annotations: { "imds-emulator/sidecar": "true" } }, spec: { selector: { matchLabels: { app: "x" } }, template: template() } },
      { apiVersion: "apps/v1", kind: "StatefulSet", metadata: { name: "annotated", annotations: { "imds-emulator/sidecar": "true" } }, spec: { serviceName: "x", selector: { matchLabels: { app: "x" } }, template: template() } },
      { apiVersion: "batch/v1", kind: "Job", metadata: { name: "own-init", annotations: { "imds-emulator/sidecar": "true" } }, spec: { template: template({ restartPolicy: "Never", initContainers: [{ name: "migrate", image: "tool" }] }) } },
      { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "plain" }, spec: { selector: { matchLabels: { app: "x" } }, template: template() } },
    ];
    writeFileSync(join(dir, "workloads.yaml"), workloads.map((each) => JSON.stringify(each)).join("\n---\n"));
    // docs/kubernetes.md's recipe for a real role: the options merged into the base's ConfigMap.
    const roleArn = "arn:aws:iam::123456789012:role/ci-role";
    writeFileSync(
      join(dir, "kustomization.yaml"),
      [
        "resources:",
        `  - ${relative(dir, join(KUSTOMIZE_ROOT, "base"))}`,
        "  - workloads.yaml",
        "components:",
        `  - ${relative(dir, join(KUSTOMIZE_ROOT, "components", "sidecar"))}`,
        "configMapGenerator:",
        "  - name: imds-emulator",
        "    behavior: merge",
        "    literals:",
        `      - IMDS_EMULATOR_ROLE_ARN=${roleArn}`,
        `      - IMDS_EMULATOR_WEB_IDENTITY_TOKEN_FILE=${TOKEN_DIR}/token`,
        "",
      ].join("\n"),
    );
    const objects = render(dir);
    for (const object of objects) validateObject(object);
    for (const [kind, name] of [["Deployment", "annotated"], ["StatefulSet", "annotated"], ["Job", "own-init"]] as const) {
      const pod = podSpecOf(find(objects, kind, name));
      const names = pod.initContainers!.map((each) => each.name);
      assert.deepEqual(names, ["imds-emulator-address", "imds-emulator", ...(name === "own-init" ? ["migrate"] : [])], `${kind}/${name}`);
      assert.deepEqual(pod.initContainers![0], example.address);
      assert.deepEqual(pod.securityContext, example.pod.securityContext);
      assert.deepEqual(pod.volumes, example.pod.volumes);
      const emulator = pod.initContainers![1]!;
      assert.deepEqual({ ...emulator, envFrom: undefined }, { ...example.emulator, envFrom: undefined });
      const config = emulatorConfig(containerEnv(emulator, objects));
      assert.equal(config.sts?.roleArn, roleArn);
      const tokenFile = config.sts?.webIdentityTokenFile;
      const mount = emulator.volumeMounts!.find((each) => tokenFile?.startsWith(`${each.mountPath}/`));
      assert.ok(mount !== undefined, `${tokenFile} is inside a mount of the emulator`);
      const volume = pod.volumes!.find((each) => each.name === mount.name)!;
      const token = volume.projected!.sources[0]!.serviceAccountToken!;
      assert.equal(`${mount.mountPath}/${token.path}`, tokenFile);
      assert.equal(token.audience, "sts.amazonaws.com");
    }
    const plain = podSpecOf(find(objects, "Deployment", "plain"));
    assert.deepEqual(plain, template().spec, "a workload without the annotation is left alone");
  });
});

test("docs/kubernetes.md shows the job pod exactly as the sidecar-example overlay renders it", (t) => {
  if (!requireKubectl(t)) return;
  const page = readFileSync(join(KUSTOMIZE_ROOT, "..", "..", "docs", "kubernetes.md"), "utf8");
  const blocks = [...page.matchAll(/^```yaml\n([\s\S]*?)^```$/gm)].map(([, body]) => parseYaml(body!));
  const shown = blocks.filter((block) => block?.kind === "Job");
  assert.equal(shown.length, 1, "one Job on the page");
  const job = find(renderOverlay("sidecar-example"), "Job");
  // The page shortens the ConfigMap's generated name (imds-emulator-<hash>) to the name the component uses.
  for (const source of sidecarParts([job]).emulator.envFrom ?? []) {
    if (source.configMapRef) source.configMapRef.name = source.configMapRef.name.replace(/-[a-z0-9]{10}$/, "");
  }
  assert.deepEqual(shown[0], job);
});

describe("node mode", () => {
  test("RBAC: get, list and watch pods, nothing else, for the DaemonSet's service account", (t) => {
    if (!requireKubectl(t)) return;
    const objects = renderOverlay("node");
    const role = find(objects, "ClusterRole");
    assert.deepEqual(role.rules, [{ apiGroups: [""], resources: ["pods"], verbs: ["get", "list", "watch"] }]);
    assert.deepEqual(objects.filter((each) => /Role(Binding)?$/.test(each.kind)).map((each) => each.kind).sort(), ["ClusterRole", "ClusterRoleBinding"]);
    const binding = find(objects, "ClusterRoleBinding");
    const daemonSet = find(objects, "DaemonSet");
    assert.deepEqual(binding.roleRef, { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: role.metadata.name });
    assert.deepEqual(binding.subjects, [{ kind: "ServiceAccount", name: podSpecOf(daemonSet).serviceAccountName, namespace: daemonSet.metadata.namespace }]);
    find(objects, "ServiceAccount", podSpecOf(daemonSet).serviceAccountName);
  });

  test("a host-network DaemonSet on every node, in a privileged namespace of its own, configured by options of the schema", (t) => {
    if (!requireKubectl(t)) return;
    const objects = renderOverlay("node");
    const daemonSet = find(objects, "DaemonSet");
    const namespace = find(objects, "Namespace");
    assert.ok(objects.filter((each) => each.kind !== "Namespace" && !each.kind.startsWith("Cluster")).every((each) => each.metadata.namespace === namespace.metadata.name));
    assert.equal(namespace.metadata.labels?.["pod-security.kubernetes.io/enforce"], "privileged");
    const pod = podSpecOf(daemonSet);
    assert.equal(pod.hostNetwork, true);
    assert.deepEqual(pod.tolerations, [{ operator: "Exists" }], "also on nodes tainted until the daemon is ready");
    const emulator = container(pod.containers, "imds-emulator");
    assert.deepEqual(emulator.securityContext?.capabilities, { drop: ["ALL"], add: ["NET_ADMIN", "NET_RAW"] });
    assert.equal(emulator.securityContext?.readOnlyRootFilesystem, true);
    assert.equal(emulator.securityContext?.allowPrivilegeEscalation, false);
    const sidecar = sidecarParts(renderOverlay("sidecar-example")).emulator;
    assert.deepEqual(emulator.readinessProbe?.exec?.command, sidecar.startupProbe?.exec?.command, "one health probe, the one the sidecar simulation runs");

    const env = containerEnv(emulator, objects, SAMPLE_FIELDS);
    const known = new Set(OPTIONS.map((option) => envName(option.name)));
    for (const name of Object.keys(env)) assert.ok(known.has(name), `${name} is not an option`);
    for (const option of ["kubernetes-node-name", "pod-interface"]) assert.ok(envName(option) in env, `${envName(option)} is set`);
    const config = emulatorConfig(env);
    assert.deepEqual(config.hosts, [SAMPLE_FIELDS["status.hostIP"]], "the DNAT target: the node's address");
    assert.equal(config.port, 8254);
    assert.deepEqual([config.admin?.host, config.admin?.port], ["127.0.0.1", 8255]);
    assert.equal(env[envName("kubernetes-node-name")], SAMPLE_FIELDS["spec.nodeName"]);
  });

  test("the startup taint adds get and patch on nodes, and the taint to remove, to node mode and nothing else", (t) => {
    if (!requireKubectl(t)) return;
    const plain = renderOverlay("node");
    const tainted = renderOverlay("node-startup-taint");
    const key = (object: KubeObject) => `${object.kind}/${object.metadata.name}`;
    const added = tainted.filter((object) => !plain.some((each) => key(each) === key(object)));
    assert.deepEqual(added.map(key).sort(), ["ClusterRole/imds-emulator-startup-taint", "ClusterRoleBinding/imds-emulator-startup-taint"]);
    assert.deepEqual(find(added, "ClusterRole").rules, [{ apiGroups: [""], resources: ["nodes"], verbs: ["get", "patch"] }]);
    assert.deepEqual(find(added, "ClusterRoleBinding").subjects, find(plain, "ClusterRoleBinding").subjects);
    const envOf = (objects: KubeObject[]) => containerEnv(container(podSpecOf(find(objects, "DaemonSet")).containers, "imds-emulator"), objects, SAMPLE_FIELDS);
    assert.deepEqual(envOf(tainted), { ...envOf(plain), [envName("remove-node-taint")]: "imds-emulator/agent-not-ready" });
    for (const object of plain) {
      if (object.kind !== "DaemonSet") assert.deepEqual(find(tainted, object.kind, object.metadata.name), object);
    }
  });
});

/** Why the emulator containers can drop every capability: the image's node carries no file capability. */
describe("the image's node binary under each emulator container's capabilities", () => {
  const runnable = (t: TestContext): boolean => {
    const missing =
      process.getuid?.() !== 0 ? "root (to drop capabilities and set file capabilities)" :
      spawnSync("setcap", ["-v", "-q", "cap_chown=ep", "/nonexistent"], { stdio: "ignore" }).error !== undefined ? "setcap: apt-get install libcap2-bin" :
      spawnSync("setpriv", ["--help"], { stdio: "ignore" }).error !== undefined ? "setpriv: apt-get install util-linux" : undefined;
    return requireTool(t, missing === undefined, `this check needs ${missing}`);
  };

  /** Runs node as the container would (its user, capabilities and read-only root). */
  const execUnder = (emulator: Container, binary: string) =>
    spawnSync(asContainer(emulator)[0]!, [...asContainer(emulator).slice(1), binary, "-e", "process.exit(0)"], { encoding: "utf8" });

  test("the sidecar drops every capability and the DaemonSet keeps only iptables'; both exec the image's node, which a file capability would break", (t) => {
    if (!requireKubectl(t) || !runnable(t)) return;
    const dockerfile = readFileSync(join(KUSTOMIZE_ROOT, "..", "..", "Dockerfile"), "utf8");
    assert.doesNotMatch(dockerfile, /setcap/, "the image sets no file capability on node");
    assert.match(dockerfile, /apt-get install -y --no-install-recommends iptables/, "the DaemonSet's redirect runs the image's iptables");
    const sidecar = sidecarParts(renderOverlay("sidecar-example")).emulator;
    const daemon = container(podSpecOf(find(renderOverlay("node"), "DaemonSet")).containers, "imds-emulator");
    assert.deepEqual(sidecar.securityContext?.capabilities, { drop: ["ALL"] });
    assert.deepEqual(daemon.securityContext?.capabilities, { drop: ["ALL"], add: ["NET_ADMIN", "NET_RAW"] });
    for (const emulator of [sidecar, daemon]) {
      const ran = execUnder(emulator, imageLikeNode(tempDir("imds-node-copy-")));
      assert.equal(ran.status, 0, ran.stderr);
      const refused = execUnder(emulator, imageLikeNode(tempDir("imds-setcap-"), true));
      assert.notEqual(refused.status, 0, "a node with a file capability is refused under these capabilities");
      assert.match(refused.stderr, /Operation not permitted/);
    }
  });
});

