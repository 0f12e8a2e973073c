import { WILDCARD_ADDRESSES } from "../addresses";
import type { KubernetesSettings } from "../config/config";
import type { Listening } from "../listeners";
import type { Logger } from "../log";
import { ConfigError } from "../validation";
import { createRedirect, type Redirect } from "./dnat";
import type { PodInfo } from "./pods";
import { removeNodeTaint } from "./taint";

/** The kube2iam annotation naming a pod's role (an ARN, or a name); ours carry any instance option. */
const ROLE_ANNOTATION = "iam.amazonaws.com/role";
const OPTION_ANNOTATION = "imds-emulator/";

/**
 * A pod's annotations as an instance entry: its role, and `imds-emulator/<option>` for the rest. A role
 * name (not an ARN) is a role of the top-level role's account, as kube2iam's --base-role-arn makes it;
 * with no top-level role, the mock source mints credentials for that name.
 */
export function podEntry(pod: PodInfo & { readonly ip: string }, baseRoleArn: string | undefined): Record<string, unknown> {
  const entry: Record<string, unknown> = { name: "pod", callers: [pod.ip] };
  const role = pod.annotations[ROLE_ANNOTATION];
  const base = baseRoleArn === undefined ? undefined : /^(arn:[^:]+:iam::\d{12}:role\/)/.exec(baseRoleArn)?.[1];
  if (role?.startsWith("arn:")) entry["role-arn"] = role;
  else if (role !== undefined && base !== undefined) entry["role-arn"] = `${base}${role}`;
  else if (role !== undefined) entry["role-name"] = role;
  for (const [key, value] of Object.entries(pod.annotations)) {
    if (key.startsWith(OPTION_ANNOTATION)) entry[key.slice(OPTION_ANNOTATION.length)] = value;
  }
  return entry;
}

/**
 * Once the metadata port listens: the pods' metadata packets come to it from now on (the redirect,
 * returned so that it is removed on stop), and the node may take pods (its startup taint removed).
 */
export async function openNode(kubernetes: KubernetesSettings, listening: Listening, log: Logger, iptables?: string): Promise<Redirect | undefined> {
  let redirect: Redirect | undefined;
  if (kubernetes.podInterfaces.length > 0) {
    if (WILDCARD_ADDRESSES.has(listening.address)) {
      throw new ConfigError(`--pod-interface: the redirect needs --host to be the node's own address (status.hostIP), not ${listening.address}`);
    }
    redirect = createRedirect(kubernetes.podInterfaces, listening.address, listening.port, iptables);
    try {
      await redirect.install();
    } catch (error) {
      throw new Error(`cannot redirect the pods' metadata packets with iptables: ${(error as Error).message.split("\n")[0]}`);
    }
    log.info("pods-redirected", { interfaces: kubernetes.podInterfaces.join(","), to: `${listening.address}:${listening.port}` });
  }
  const { nodeName, removeTaint } = kubernetes;
  if (removeTaint !== undefined) {
    // Serving goes on either way: a taint left in place keeps new pods off this node, which is safe.
    await removeNodeTaint(nodeName, removeTaint).then(
      (removed) => log.info(removed ? "node-taint-removed" : "node-taint-absent", { node: nodeName, taint: removeTaint }),
      (error: Error) => log.error("node-taint-not-removed", { node: nodeName, taint: removeTaint, message: error.message }),
    );
  }
  return redirect;
}
