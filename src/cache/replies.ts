import { API_VERSIONS, Unavailable, Unlisted, type MetadataDir, type MetadataNode } from "../instance/tree";

/** A response ready to write: resolved once when the tree changes, so a request is one map lookup. */
export interface Reply {
  readonly status: number;
  readonly contentType: string;
  readonly body: Buffer;
}

/** Keys are normalised paths (see `resolvePath`): `/latest/meta-data/`, `/latest/meta-data/instance-id`. */
export type ReplyTable = ReadonlyMap<string, Reply>;

export function textReply(status: number, text: string): Reply {
  return { status, contentType: "text/plain", body: Buffer.from(text) };
}

export function json(status: number, value: unknown): Reply {
  return { status, contentType: "application/json", body: Buffer.from(JSON.stringify(value)) };
}

function leafReply(node: string | Buffer | Unavailable): Reply {
  if (node instanceof Unavailable) return textReply(503, `503 - Service Unavailable: ${node.reason}`);
  if (Buffer.isBuffer(node)) return { status: 200, contentType: "application/octet-stream", body: node };
  return textReply(200, node);
}

/** A listing entry's path name: EC2 lists keys as `0=<name>` while the path is `0`. */
function pathName(label: string): string {
  const equals = label.indexOf("=");
  return equals === -1 ? label : label.slice(0, equals);
}

function listing(dir: MetadataDir, markSubtrees: boolean): Reply {
  const lines = [...dir.entries()]
    .filter(([, node]) => !(node instanceof Unlisted) && (!(node instanceof Map) || node.size > 0))
    .map(([label, node]) => (markSubtrees && node instanceof Map ? `${label}/` : label))
    .sort();
  return textReply(200, lines.join("\n"));
}

function addNode(table: Map<string, Reply>, path: string, node: MetadataNode): void {
  if (node instanceof Unlisted) {
    addNode(table, path, node.node);
    return;
  }
  if (!(node instanceof Map)) {
    const reply = leafReply(node);
    table.set(path, reply);
    // botocore asks for `placement/availability-zone/`: a leaf answers with a trailing slash too.
    table.set(`${path}/`, reply);
    return;
  }
  const reply = listing(node, true);
  table.set(path, reply);
  table.set(`${path}/`, reply);
  for (const [label, child] of node) addNode(table, `${path}/${pathName(label)}`, child);
}

export function compileReplies(latest: MetadataDir): ReplyTable {
  const table = new Map<string, Reply>();
  table.set("/", textReply(200, [...API_VERSIONS, "latest"].join("\n")));
  for (const [label, child] of latest) addNode(table, `/latest/${label}`, child);
  // EC2 lists the top level of a version without `/` suffixes: dynamic, meta-data, user-data.
  const top = listing(latest, false);
  table.set("/latest", top);
  table.set("/latest/", top);
  return table;
}

const DATED_VERSIONS = new Set(API_VERSIONS);

export type ResolvedPath =
  | { readonly kind: "token"; readonly dated: boolean }
  | { readonly kind: "metadata"; readonly key: string };

/**
 * Maps a request target to a table key: drops the query, folds repeated slashes (Java builds
 * `//latest/...`), and answers dated API versions from the `latest` tree.
 */
export function resolvePath(target: string): ResolvedPath {
  const query = target.indexOf("?");
  const path = (query === -1 ? target : target.slice(0, query)).replace(/\/{2,}/g, "/");
  const second = path.indexOf("/", 1);
  const version = second === -1 ? path.slice(1) : path.slice(1, second);
  const rest = second === -1 ? "" : path.slice(second);
  if (rest === "/api/token" || rest === "/api/token/") {
    if (version === "latest") return { kind: "token", dated: false };
    if (DATED_VERSIONS.has(version)) return { kind: "token", dated: true };
  }
  if (DATED_VERSIONS.has(version)) return { kind: "metadata", key: `/latest${rest}` };
  return { kind: "metadata", key: path };
}
