import type { CapturedTree } from "../config/captured";
import type { Deferred, IdentitySignatures, Unavailable } from "../instance/tree";
import { API_VERSIONS } from "../instance/versions";
import { LazyEras, leafReply, textReply, type Reply, type ReplyTable } from "./replies";

const DOCUMENT = "dynamic/instance-identity/document";

/** The replies that stay live over a capture: the role's credential leaves and the document's signatures. */
export interface LiveLeaves {
  readonly credentials: ReadonlyMap<string, Deferred | Unavailable>;
  readonly sign?: (document: string) => IdentitySignatures;
}

/**
 * A captured tree as the port serves it: every captured body byte for byte at `/latest/` and, since
 * a capture holds only the latest tree, at every dated version too. Credentials and signatures are
 * laid over it live (a capture never holds them), the signatures over the captured document.
 */
export function compileCaptured(captured: CapturedTree, live: LiveLeaves): ReplyTable {
  const replies = new Map<string, Reply>();
  for (const [path, body] of captured) {
    // User data is bytes as EC2 serves it; everything else is text.
    replies.set(path, path === "user-data" ? leafReply(body) : { status: 200, contentType: "text/plain", body });
  }
  for (const [path, leaf] of live.credentials) replies.set(path, leafReply(leaf));
  const document = captured.get(DOCUMENT);
  if (document !== undefined && live.sign !== undefined) {
    for (const [name, value] of Object.entries(live.sign(document.toString("utf8")))) {
      replies.set(`dynamic/instance-identity/${name}`, leafReply(value));
    }
  }
  const top = textReply(200, [...new Set([...captured.keys()].map((path) => path.split("/")[0]!))].sort().join("\n"));
  const table = new Map<string, Reply>([["/", textReply(200, [...API_VERSIONS, "latest"].join("\n"))]]);
  // Every version shares these reply objects, so that a rotation finds the credentials in each.
  const addVersion = (version: string) => {
    table.set(`/${version}`, top);
    table.set(`/${version}/`, top);
    for (const [path, reply] of replies) {
      // A listing answers with and without its `/`; so does a leaf, as compileReplies has it.
      const bare = path.endsWith("/") ? path.slice(0, -1) : path;
      table.set(`/${version}/${bare}`, reply);
      table.set(`/${version}/${bare}/`, reply);
    }
  };
  addVersion("latest");
  return new LazyEras(table, addVersion);
}
