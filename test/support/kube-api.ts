/**
 * A small stand-in for the Kubernetes API server, enough for node mode's real client library: the pod
 * list and watch (`/api/v1/pods`, with `fieldSelector=spec.nodeName=...`), and one node to read and
 * patch. Tests change the pods through `/control/pods` and read the node through `/control/node`.
 * Run: node kube-api.js <port> <node-name> <pods.json> [<taint-key>]
 */
import { readFileSync } from "node:fs";
import { createServer, type ServerResponse } from "node:http";
import { isDeepStrictEqual } from "node:util";

interface Pod {
  metadata: { uid: string; name: string; namespace: string; annotations?: Record<string, string>; resourceVersion?: string };
  spec: { nodeName: string };
  status: { podIP?: string; phase: string };
}

const [port, nodeName, podsFile, taintKey] = process.argv.slice(2);
let version = 1;
let pods = new Map<string, Pod>();
const watchers = new Set<ServerResponse>();
const node = {
  apiVersion: "v1",
  kind: "Node",
  metadata: { name: nodeName, resourceVersion: "1" },
  spec: { taints: taintKey === undefined ? [] : [{ key: taintKey, effect: "NoSchedule" }] },
};

function stamped(pod: Pod): Pod {
  return { ...pod, metadata: { ...pod.metadata, resourceVersion: String(version) } };
}

function emit(type: "ADDED" | "MODIFIED" | "DELETED", pod: Pod): void {
  version += 1;
  const line = `${JSON.stringify({ type, object: stamped(pod) })}\n`;
  for (const watcher of watchers) watcher.write(line);
}

function replacePods(next: Pod[]): void {
  const byUid = new Map(next.map((pod) => [pod.metadata.uid, pod]));
  for (const [uid, pod] of pods) if (!byUid.has(uid)) emit("DELETED", pod);
  for (const [uid, pod] of byUid) emit(pods.has(uid) ? "MODIFIED" : "ADDED", pod);
  pods = byUid;
}

pods = new Map((JSON.parse(readFileSync(podsFile!, "utf8")) as Pod[]).map((pod) => [pod.metadata.uid, pod]));

const server = createServer((req, res) => {
  const url = new URL(req.url ?? "/", "http://localhost");
  let body = "";
  req.setEncoding("utf8").on("data", (chunk) => (body += chunk));
  req.on("end", () => {
    const json = (status: number, value: unknown) => {
      res.writeHead(status, { "Content-Type": "application/json" });
      res.end(JSON.stringify(value));
    };
    if (url.pathname === "/api/v1/pods") {
      if (url.searchParams.get("fieldSelector") !== `spec.nodeName=${nodeName}`) return json(400, { kind: "Status", message: "this stand-in serves one node's pods" });
      if (url.searchParams.get("watch") === "true") {
        res.writeHead(200, { "Content-Type": "application/json", "Transfer-Encoding": "chunked" });
        // A watch is established when its headers arrive: send them now, before any event.
        res.flushHeaders();
        watchers.add(res);
        req.socket.on("close", () => watchers.delete(res));
        return;
      }
      return json(200, { kind: "PodList", apiVersion: "v1", metadata: { resourceVersion: String(version) }, items: [...pods.values()].map(stamped) });
    }
    if (url.pathname === `/api/v1/nodes/${nodeName}` && req.method === "GET") return json(200, node);
    if (url.pathname === `/api/v1/nodes/${nodeName}` && req.method === "PATCH") {
      const patch = JSON.parse(body) as Array<{ op: string; path: string; value: unknown }>;
      for (const step of patch) {
        if (step.path !== "/spec/taints") return json(422, { kind: "Status", message: `unexpected path ${step.path}` });
        // As RFC 6902 says: equal values, whatever the order of an object's members.
        if (step.op === "test" && !isDeepStrictEqual(step.value, node.spec.taints)) return json(422, { kind: "Status", message: "test failed" });
        if (step.op === "replace") node.spec.taints = step.value as typeof node.spec.taints;
      }
      return json(200, node);
    }
    if (url.pathname === "/control/pods" && req.method === "POST") {
      replacePods(JSON.parse(body) as Pod[]);
      return json(200, { pods: pods.size });
    }
    if (url.pathname === "/control/node") return json(200, node);
    json(404, { kind: "Status", message: `not served by the stand-in: ${req.method} ${url.pathname}` });
  });
});

server.listen(Number(port), "127.0.0.1", () => process.stdout.write("ready\n"));
process.on("SIGTERM", () => process.exit(0));
