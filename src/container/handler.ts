import type { IncomingMessage, ServerResponse } from "node:http";
import { json, type Reply } from "../cache/replies";
import { secretMatcher } from "../secrets";

const UNAUTHORIZED = json(401, { code: "InvalidAuthorization", message: "the Authorization header must carry the container authorization token" });
const METHOD = json(405, { code: "MethodNotAllowed", message: "container credentials are read with GET" });

export interface ContainerHandlerOptions {
  readonly token: string;
  readonly guard: (req: IncomingMessage) => Reply | undefined;
  /** Read at every request, so a rotation is served at once. */
  readonly reply: () => Reply;
}

/**
 * The ECS-style container credentials endpoint, for clients that read
 * AWS_CONTAINER_CREDENTIALS_FULL_URI where binding 169.254.169.254 is not possible.
 */
export function createContainerHandler(options: ContainerHandlerOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const tokenMatches = secretMatcher(options.token);
  return (req, res) => {
    const reply =
      options.guard(req) ??
      (req.method !== "GET" && req.method !== "HEAD"
        ? METHOD
        : !tokenMatches(req.headers.authorization)
          ? UNAUTHORIZED
          : options.reply());
    res.writeHead(reply.status, { "Content-Type": reply.contentType, "Content-Length": reply.body.length });
    res.end(req.method === "HEAD" ? undefined : reply.body);
  };
}
