import { STATUS_CODES } from "node:http";
import { Deferred, ListedAs, Unavailable, Unlisted, type MetadataDir, type MetadataLeaf, type MetadataNode } from "../instance/tree";
import { API_VERSIONS, eraOf, eras, treesByEra, type EraTrees } from "../instance/versions";

/** A response ready to write: made at the first request for its path and kept until the tree changes, so a later request only looks it up. */
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

/**
 * A table that adds an era's keys the first time a request asks for one of them, then keeps them:
 * most clients read only `latest`, and compiling every era up front would hold a copy of the tree's
 * keys for each. `addEra` puts the era's keys into `table`.
 */
export class LazyEras implements ReplyTable {
  private readonly pending = new Set(eras());

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

/**
 * The replies of a built tree, each made at the first request for its path and then kept: a start
 * compiles none of the tree, and a client that reads ten paths pays for ten. `latest` answers from
 * the whole tree, each dated version from its era's (see instance/versions.ts). A path that is in no
 * tree is looked up again each time and never kept, so requests for made-up paths hold no memory.
 */
class TreeReplies implements ReplyTable {
  private readonly table = new Map<string, Reply>();
  /** Each leaf's reply, made once: the eras' trees share their leaves, and a rotation swaps a reply by identity in every version. */
  private readonly leaves = new Map<MetadataLeaf, Reply>();
  private readonly eraTrees: EraTrees;

  constructor(private readonly latest: MetadataDir) {
    this.eraTrees = treesByEra(latest);
    this.table.set("/", textReply(200, [...API_VERSIONS, "latest"].join("\n")));
  }

  get(key: string): Reply | undefined {
    const known = this.table.get(key);
    if (known !== undefined) return known;
    const second = key.indexOf("/", 1);
    const version = second === -1 ? key.slice(1) : key.slice(1, second);
    const tree = version === "latest" ? this.latest : this.eraTrees.get(version);
    if (tree === undefined) return undefined;
    // A listing answers with and without its `/`, and so does a leaf: botocore asks for `placement/availability-zone/`.
    const bare = key.endsWith("/") ? key.slice(0, -1) : key;
    const path = second === -1 || second >= bare.length ? "" : bare.slice(second + 1);
    const reply = path === "" ? listing(tree, false) : this.nodeReply(tree, path);
    if (reply === undefined) return undefined;
    this.table.set(bare, reply);
    this.table.set(`${bare}/`, reply);
    return reply;
  }

  /**
   * The node at `path` (names joined by `/`) below a version's root. The walk takes one name at a
   * time and stops at the first that is not there, so a long made-up path costs no more than the
   * tree is deep.
   */
  private nodeReply(tree: MetadataDir, path: string): Reply | undefined {
    let node: MetadataNode | undefined = tree;
    for (let start = 0; ; ) {
      const end = path.indexOf("/", start);
      node = node instanceof Map ? node.get(end === -1 ? path.slice(start) : path.slice(start, end)) : undefined;
      while (node instanceof Unlisted || node instanceof ListedAs) node = node.node;
      if (node === undefined) return undefined;
      if (end === -1) break;
      start = end + 1;
    }
    if (node instanceof Map) return listing(node, true);
    let reply = this.leaves.get(node);
    if (reply === undefined) {
      reply = leafReply(node);
      this.leaves.set(node, reply);
    }
    return reply;
  }
}

export function compileReplies(latest: MetadataDir): ReplyTable {
  return new TreeReplies(latest);
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
