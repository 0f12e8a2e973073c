import { STATUS_CODES } from "node:http";
import { Deferred, ListedAs, Unavailable, Unlisted, type MetadataDir, type MetadataLeaf, type MetadataNode } from "../instance/tree";
import { API_VERSIONS, ERAS, eraOf, treesByEra } from "../instance/versions";

/** A response ready to write: resolved once when the tree changes (an era's at its first request), so a request only looks one up. */
export interface Reply {
  readonly status: number;
  readonly contentType: string;
  readonly body: Buffer;
}

/** Keys are normalised paths (see `resolvePath`): `/latest/meta-data/`, `/latest/meta-data/instance-id`. */
export interface ReplyTable {
  get(key: string): Reply | undefined;
}

export function textReply(status: number, text: string): Reply {
  return { status, contentType: "text/plain", body: Buffer.from(text) };
}

export function json(status: number, value: unknown): Reply {
  return { status, contentType: "application/json", body: Buffer.from(JSON.stringify(value)) };
}

/**
 * EC2's error page for a status: a small XHTML page, as two captures of its 404 from EC2 show it
 * (Netflix/ndbench#47, coreos/bugs#1184), with the status and reason in the title and heading, as
 * EC2's 401 and 403 pages have them. Readers that log a failed read's body (ignition, ec2-metadata
 * scripts) show this page.
 */
export function errorReply(status: number): Reply {
  const title = `${status} - ${STATUS_CODES[status] ?? "Error"}`;
  return {
    status,
    contentType: "text/html",
    body: Buffer.from(
      [
        '<?xml version="1.0" encoding="iso-8859-1"?>',
        '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN"',
        '         "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">',
        '<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="en" lang="en">',
        " <head>",
        `  <title>${title}</title>`,
        " </head>",
        " <body>",
        `  <h1>${title}</h1>`,
        " </body>",
        "</html>",
        "",
      ].join("\n"),
    ),
  };
}

export const NOT_FOUND: Reply = errorReply(404);

export function leafReply(node: MetadataLeaf): Reply {
  if (node instanceof Unavailable) return textReply(503, `503 - Service Unavailable: ${node.reason}`);
  if (node instanceof Deferred) {
    let body: Buffer | undefined;
    return {
      status: 200,
      contentType: "text/plain",
      get body() {
        body ??= Buffer.from(node.text());
        return body;
      },
    };
  }
  if (Buffer.isBuffer(node)) return { status: 200, contentType: "application/octet-stream", body: node };
  return textReply(200, node);
}

function listing(dir: MetadataDir, markSubtrees: boolean): Reply {
  const lines = [...dir.entries()]
    .filter(([, node]) => !(node instanceof Unlisted) && (!(node instanceof Map) || node.size > 0))
    .map(([name, node]) => {
      if (node instanceof ListedAs) return node.label;
      return markSubtrees && node instanceof Map ? `${name}/` : name;
    })
    .sort();
  return textReply(200, lines.join("\n"));
}

/** The table being built, and each leaf's reply made once: the eras' trees share their leaves. */
interface Compiling {
  readonly table: Map<string, Reply>;
  readonly leaves: Map<MetadataLeaf, Reply>;
}

function addNode(compiling: Compiling, path: string, node: MetadataNode): void {
  const { table, leaves } = compiling;
  if (node instanceof Unlisted || node instanceof ListedAs) {
    addNode(compiling, path, node.node);
    return;
  }
  if (!(node instanceof Map)) {
    let reply = leaves.get(node);
    if (reply === undefined) {
      reply = leafReply(node);
      leaves.set(node, reply);
    }
    table.set(path, reply);
    // botocore asks for `placement/availability-zone/`: a leaf answers with a trailing slash too.
    table.set(`${path}/`, reply);
    return;
  }
  const reply = listing(node, true);
  table.set(path, reply);
  table.set(`${path}/`, reply);
  for (const [name, child] of node) addNode(compiling, `${path}/${name}`, child);
}

/** One version's tree under `/<name>`; its top level is listed without `/` suffixes, as EC2 does. */
function addVersion(compiling: Compiling, name: string, tree: MetadataDir): void {
  for (const [label, child] of tree) addNode(compiling, `/${name}/${label}`, child);
  const top = listing(tree, false);
  // EC2 answers `/2009-04-04` as `/2009-04-04/` (coreos/ignition#989 shows the capture).
  compiling.table.set(`/${name}`, top);
  compiling.table.set(`/${name}/`, top);
}

/**
 * A table that adds an era's keys the first time a request asks for one of them, then keeps them:
 * most clients read only `latest`, and compiling every era up front would hold a copy of the tree's
 * keys for each. `addEra` puts the era's keys into `table`.
 */
export class LazyEras implements ReplyTable {
  private readonly pending = new Set(ERAS);

  constructor(
    private readonly table: Map<string, Reply>,
    private readonly addEra: (era: string) => void,
  ) {}

  get(key: string): Reply | undefined {
    const reply = this.table.get(key);
    if (reply !== undefined || this.pending.size === 0) return reply;
    const second = key.indexOf("/", 1);
    const version = second === -1 ? key.slice(1) : key.slice(1, second);
    if (!this.pending.delete(version)) return undefined;
    this.addEra(version);
    return this.table.get(key);
  }
}

/** `latest` answers from the whole tree, each dated version from its era's (see instance/versions.ts). */
export function compileReplies(latest: MetadataDir): ReplyTable {
  const compiling: Compiling = { table: new Map(), leaves: new Map() };
  compiling.table.set("/", textReply(200, [...API_VERSIONS, "latest"].join("\n")));
  addVersion(compiling, "latest", latest);
  const eras = treesByEra(latest);
  // The leaves map is kept with the tree: an era compiled later shares latest's reply objects, which a rotation swaps by identity.
  return new LazyEras(compiling.table, (era) => addVersion(compiling, era, eras.get(era)!));
}

export type ResolvedPath =
  | { readonly kind: "token"; readonly exact: boolean }
  | { readonly kind: "metadata"; readonly key: string };

/**
 * Maps a request target to a table key: drops the query, folds repeated slashes (Java builds
 * `//latest/...`), and answers each dated API version from its era's tree. The token path is
 * recognised in its near misses too (a dated version, a trailing slash), which EC2 refuses with 403.
 */
export function resolvePath(target: string): ResolvedPath {
  const query = target.indexOf("?");
  const path = (query === -1 ? target : target.slice(0, query)).replace(/\/{2,}/g, "/");
  const second = path.indexOf("/", 1);
  const version = second === -1 ? path.slice(1) : path.slice(1, second);
  const rest = second === -1 ? "" : path.slice(second);
  const era = eraOf(version);
  if (rest === "/api/token" || rest === "/api/token/") {
    if (version === "latest") return { kind: "token", exact: rest === "/api/token" };
    if (era !== undefined) return { kind: "token", exact: false };
  }
  if (era !== undefined) return { kind: "metadata", key: `/${era}${rest}` };
  return { kind: "metadata", key: path };
}
