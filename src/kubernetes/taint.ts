/**
 * Removes the startup taint from this node once the emulator serves it, so that pods are scheduled
 * only when their metadata service is there (kube2iam#170: pods that start before the redirect get the
 * node's own role). The taint's key is the deployment's choice; the node object needs `patch` rights,
 * which only the startup-taint overlay grants.
 */
export async function removeNodeTaint(nodeName: string, key: string): Promise<boolean> {
  const k8s = await import("@kubernetes/client-node");
  const config = new k8s.KubeConfig();
  config.loadFromDefault();
  const api = config.makeApiClient(k8s.CoreV1Api);
  const node = await api.readNode({ name: nodeName });
  const taints = node.spec?.taints ?? [];
  const kept = taints.filter((taint) => taint.key !== key);
  if (kept.length === taints.length) return false;
  // A JSON patch that tests the list first: a taint someone else changed meanwhile fails it rather than being lost.
  const patch = [
    { op: "test", path: "/spec/taints", value: taints },
    { op: "replace", path: "/spec/taints", value: kept },
  ];
  await api.patchNode({ name: nodeName, body: patch }, k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.JsonPatch));
  return true;
}
