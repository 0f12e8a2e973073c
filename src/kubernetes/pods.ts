/** A pod as node mode needs it: who it is, its address, and what its annotations say. */
export interface PodInfo {
  readonly uid: string;
  readonly namespace: string;
  readonly name: string;
  /** Undefined until the pod has an address, and once it has ended. */
  readonly ip: string | undefined;
  readonly annotations: Readonly<Record<string, string>>;
}

/** A pod's name as its instance, the logs and the admin listener call it: `<namespace>/<name>`. */
export function podName(pod: Pick<PodInfo, "namespace" | "name">): string {
  return `${pod.namespace}/${pod.name}`;
}

export type PodEvent = "add" | "update" | "delete";

/** The pods of one node as they come and go; the Kubernetes informer in production, a script in tests. */
export interface PodSource {
  /** Resolves once the first list is in (every pod already on the node has been reported). */
  start(onPod: (event: PodEvent, pod: PodInfo) => void): Promise<void>;
  stop(): void;
}

interface KubePod {
  readonly metadata?: { readonly uid?: string; readonly namespace?: string; readonly name?: string; readonly annotations?: Record<string, string> };
  readonly status?: { readonly podIP?: string; readonly phase?: string };
}

/** A pod that has ended keeps its address in its status, but the address may already be another pod's. */
export function podInfo(pod: KubePod): PodInfo | undefined {
  const { uid, namespace, name, annotations } = pod.metadata ?? {};
  if (uid === undefined || namespace === undefined || name === undefined) return undefined;
  const phase = pod.status?.phase;
  const ended = phase === "Succeeded" || phase === "Failed";
  return { uid, namespace, name, ip: ended ? undefined : pod.status?.podIP, annotations: annotations ?? {} };
}

/**
 * The pods scheduled on `nodeName`, through @kubernetes/client-node's informer (list, then watch, with
 * the field selector `spec.nodeName`), from the in-cluster service account or KUBECONFIG. The client
 * is an ES module, loaded only in node mode.
 */
export function informerPods(nodeName: string, onError: (message: string) => void): PodSource {
  let stop: () => void = () => undefined;
  return {
    async start(onPod) {
      const k8s = await import("@kubernetes/client-node");
      const config = new k8s.KubeConfig();
      config.loadFromDefault();
      const api = config.makeApiClient(k8s.CoreV1Api);
      const fieldSelector = `spec.nodeName=${nodeName}`;
      const informer = k8s.makeInformer(
        config,
        `/api/v1/pods?fieldSelector=${encodeURIComponent(fieldSelector)}`,
        () => api.listPodForAllNamespaces({ fieldSelector }),
      );
      const report = (event: PodEvent) => (pod: KubePod) => {
        const info = podInfo(pod);
        if (info !== undefined) onPod(event, info);
      };
      informer.on(k8s.ADD, report("add"));
      informer.on(k8s.UPDATE, report("update"));
      informer.on(k8s.DELETE, report("delete"));
      informer.on(k8s.ERROR, (error: unknown) => {
        onError(error instanceof Error ? error.message : String(error));
        // The informer stops on an error; it is started again after a pause, as the client's docs show.
        setTimeout(() => void informer.start().catch(() => undefined), 2000).unref();
      });
      stop = () => void informer.stop();
      await informer.start();
    },
    stop: () => stop(),
  };
}
