import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, copyFileSync } from "node:fs";
import { join } from "node:path";
import type { TestContext } from "node:test";
import * as core from "kubernetes-models/v1";
import * as apps from "kubernetes-models/apps/v1";
import * as batch from "kubernetes-models/batch/v1";
import * as rbac from "kubernetes-models/rbac.authorization.k8s.io/v1";
import { parseAllDocuments } from "yaml";

// The manifests under deploy/kubernetes/, as `kubectl kustomize` renders them, and the checks both the
// render test and the sidecar simulation make of them.

export const ROOT = join(__dirname, "..", "..", "..");
export const KUSTOMIZE_ROOT = join(ROOT, "deploy", "kubernetes");
export const GOLDEN_DIR = join(ROOT, "test", "kubernetes", "golden");
/** Every overlay: each renders, validates and has a golden file. */
export const OVERLAYS = ["sidecar-example", "node", "node-startup-taint"] as const;
export type Overlay = (typeof OVERLAYS)[number];

export const overlayDir = (overlay: Overlay) => join(KUSTOMIZE_ROOT, "overlays", overlay);
export const goldenFile = (overlay: Overlay) => join(GOLDEN_DIR, `${overlay}.yaml`);

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { fieldRef?: { fieldPath: string }; configMapKeyRef?: { name: string; key: string }; secretKeyRef?: { name: string; key: string } };
}

export interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  restartPolicy?: string;
  env?: EnvVar[];
  envFrom?: Array<{ configMapRef?: { name: string; optional?: boolean }; secretRef?: { name: string; optional?: boolean } }>;
  securityContext?: {
    runAsUser?: number;
    runAsGroup?: number;
    runAsNonRoot?: boolean;
    allowPrivilegeEscalation?: boolean;
    readOnlyRootFilesystem?: boolean;
    capabilities?: { add?: string[]; drop?: string[] };
  };
  startupProbe?: { exec?: { command: string[] }; periodSeconds?: number; failureThreshold?: number };
  readinessProbe?: { exec?: { command: string[] } };
  livenessProbe?: unknown;
  volumeMounts?: Array<{ name: string; mountPath: string; readOnly?: boolean }>;
}

export interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  securityContext?: { sysctls?: Array<{ name: string; value: string }> };
  volumes?: Array<{ name: string; projected?: { sources: Array<{ serviceAccountToken?: { audience?: string; path: string } }> } }>;
  hostNetwork?: boolean;
  serviceAccountName?: string;
  tolerations?: Array<{ key?: string; operator?: string; effect?: string }>;
}

export function kubectlAvailable(): boolean {
  return spawnSync("kubectl", ["version", "--client"], { stdio: "ignore" }).status === 0;
}

/** A missing tool skips outside CI, with a message saying what to install; under CI=true it fails. */
export function requireTool(t: TestContext, present: boolean, message: string): boolean {
  if (present) return true;
  if (process.env.CI === "true") assert.fail(`${message} (CI must install it: .ci/run)`);
  t.skip(message);
  return false;
}

/** kubectl is on the project's machines (it renders the kustomizations). */
export const requireKubectl = (t: TestContext): boolean =>
  requireTool(t, kubectlAvailable(), "kubectl is not installed (kubectl 1.32 renders the kustomizations: apt-get install kubectl)");

/** `kubectl kustomize <dir>`: the rendered text, exactly as kubectl prints it. */
export function renderText(dir: string): string {
  const result = spawnSync("kubectl", ["kustomize", dir], { encoding: "utf8", timeout: 30_000 });
  assert.equal(result.status, 0, `kubectl kustomize ${dir}: ${result.stderr}${result.error ?? ""}`);
  return result.stdout;
}

export function parseObjects(text: string): KubeObject[] {
  return parseAllDocuments(text).map((document) => {
    assert.deepEqual(document.errors, [], "rendered YAML parses");
    return document.toJS() as KubeObject;
  });
}

export const render = (dir: string): KubeObject[] => parseObjects(renderText(dir));

export function find(objects: readonly KubeObject[], kind: string, name?: string): KubeObject {
  const found = objects.filter((object) => object.kind === kind && (name === undefined || object.metadata.name === name));
  assert.equal(found.length, 1, `exactly one ${kind}${name === undefined ? "" : ` ${name}`} among ${objects.map((o) => `${o.kind}/${o.metadata.name}`).join(", ")}`);
  return found[0]!;
}

/** The pod spec of a workload: `spec.template.spec` (Job, Deployment, DaemonSet, ...). */
export function podSpecOf(object: KubeObject): PodSpec {
  const spec = (object.spec as { template?: { spec?: PodSpec } } | undefined)?.template?.spec;
  assert.ok(spec !== undefined, `${object.kind}/${object.metadata.name} has a pod template`);
  return spec;
}

export function container(list: readonly Container[] | undefined, name: string): Container {
  const found = (list ?? []).find((each) => each.name === name);
  assert.ok(found !== undefined, `a container named ${name}`);
  return found;
}

/**
 * A container's environment as kubelet builds it: `envFrom` sources in order, then `env`, which wins.
 * ConfigMaps and Secrets come from the rendered objects; an optional source that is absent adds
 * nothing, a required one fails. `fields` answers fieldRef paths (status.hostIP, spec.nodeName).
 */
export function containerEnv(
  subject: Container,
  objects: readonly KubeObject[],
  fields: Readonly<Record<string, string>> = {},
): Record<string, string> {
  const dataOf = (kind: "ConfigMap" | "Secret", name: string, optional: boolean): Record<string, string> | undefined => {
    const object = objects.find((each) => each.kind === kind && each.metadata.name === name);
    if (object === undefined) {
      assert.ok(optional, `${subject.name} needs ${kind} ${name}, which the render lacks`);
      return undefined;
    }
    if (kind === "ConfigMap") return (object.data ?? {}) as Record<string, string>;
    const encoded = (object.data ?? {}) as Record<string, string>;
    const plain = (object.stringData ?? {}) as Record<string, string>;
    return { ...Object.fromEntries(Object.entries(encoded).map(([key, value]) => [key, Buffer.from(value, "base64").toString()])), ...plain };
  };
  const env: Record<string, string> = {};
  for (const source of subject.envFrom ?? []) {
    const data = source.configMapRef
      ? dataOf("ConfigMap", source.configMapRef.name, source.configMapRef.optional === true)
      : dataOf("Secret", source.secretRef!.name, source.secretRef!.optional === true);
    Object.assign(env, data ?? {});
  }
  for (const variable of subject.env ?? []) {
    if (variable.value !== undefined) {
      env[variable.name] = variable.value;
      continue;
    }
    const fieldPath = variable.valueFrom?.fieldRef?.fieldPath;
    assert.ok(fieldPath !== undefined, `${subject.name}: ${variable.name} has a value or a fieldRef`);
    const value = fields[fieldPath];
    assert.ok(value !== undefined, `${subject.name}: ${variable.name} comes from ${fieldPath}; give the test a value for it`);
    env[variable.name] = value;
  }
  return env;
}

/**
 * A command prefix that runs what follows as `subject` runs in its pod: its user and group, its
 * capabilities (`add`, after `drop: [ALL]`) as the whole bounding set, no new privileges when
 * `allowPrivilegeEscalation: false`, and a read-only root filesystem when it asks for one (the root
 * mount made read-only in a private mount namespace of its own). Needs root.
 */
export function asContainer(subject: Container): string[] {
  const security = subject.securityContext ?? {};
  assert.deepEqual(security.capabilities?.drop, ["ALL"], `${subject.name} drops every capability it does not add`);
  const user = String(security.runAsUser ?? 0);
  const bounding = ["-all", ...(security.capabilities?.add ?? []).map((cap) => `+${cap.toLowerCase()}`)].join(",");
  const readOnly = security.readOnlyRootFilesystem === true
    ? ["unshare", "--mount", "--propagation", "private", "sh", "-c", 'mount -o remount,bind,ro / && exec "$@"', "read-only-root"]
    : [];
  return [
    ...readOnly,
    "setpriv", "--reuid", user, "--regid", String(security.runAsGroup ?? user), "--clear-groups", "--inh-caps", "-all", "--bounding-set", bounding,
    ...(security.allowPrivilegeEscalation === false ? ["--no-new-privs"] : []),
  ];
}

/**
 * A copy of node as the image has it; `withFileCapability` gives it the capability an older image
 * set on it (setcap cap_net_bind_service=+ep), which the kernel refuses to exec under `drop: [ALL]`.
 */
export function imageLikeNode(dir: string, withFileCapability = false): string {
  const binary = join(dir, "node");
  copyFileSync(process.execPath, binary);
  chmodSync(binary, 0o755);
  if (withFileCapability) {
    const setcap = spawnSync("setcap", ["cap_net_bind_service=+ep", binary], { encoding: "utf8" });
    assert.equal(setcap.status, 0, `setcap (libcap2-bin): ${setcap.stderr}${setcap.error ?? ""}`);
  }
  return binary;
}

type ModelClass = { new (data: unknown): unknown; prototype: { validate(): void } };
const MODELS: Record<string, Record<string, unknown>> = {
  v1: core,
  "apps/v1": apps,
  "batch/v1": batch,
  "rbac.authorization.k8s.io/v1": rbac,
};

/**
 * A copy of `value` whose objects record each field the schema's validator reads. The Kubernetes
 * OpenAPI schemas allow unknown fields, but the API server refuses them (kubectl's strict field
 * validation, the default since 1.27): any field the validator never read is one it does not know.
 * Maps (labels, data, resources) are read whole by the validator, so their keys all count as read.
 */
function tracked(value: unknown, path: string, present: Set<string>, read: Set<string>): unknown {
  if (Array.isArray(value)) return value.map((item, index) => tracked(item, `${path}/${index}`, present, read));
  if (value === null || typeof value !== "object") return value;
  const copy: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) {
    present.add(`${path}/${key}`);
    copy[key] = tracked(field, `${path}/${key}`, present, read);
  }
  return new Proxy(copy, {
    get(target, key, receiver) {
      if (typeof key === "string" && Object.hasOwn(target, key)) read.add(`${path}/${key}`);
      return Reflect.get(target, key, receiver);
    },
  });
}

/**
 * Validates one object offline against the Kubernetes OpenAPI schema of its kind (kubernetes-models,
 * the schemas of Kubernetes 1.33), then refuses fields the schema does not have. Throws with every problem.
 */
export function validateObject(object: KubeObject): void {
  const model = MODELS[object.apiVersion]?.[object.kind] as ModelClass | undefined;
  assert.ok(model !== undefined, `no schema for ${object.apiVersion} ${object.kind}: add its kubernetes-models module to MODELS`);
  const present = new Set<string>();
  const read = new Set<string>();
  model.prototype.validate.call(tracked(object, "", present, read));
  const unknown = [...present].filter((path) => !read.has(path));
  if (unknown.length > 0) throw new Error(`${object.kind}/${object.metadata.name}: unknown fields ${unknown.join(", ")}`);
}
