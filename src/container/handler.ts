import type { IncomingMessage, ServerResponse } from "node:http";
import { awsTimestamp } from "../clock";
import type { Reply } from "../imds/replies";
import type { ServedCredentials } from "../instance/tree";
import { secretMatcher } from "../secrets";

/**
 * The ECS-style container credentials endpoint, for clients that read
 * AWS_CONTAINER_CREDENTIALS_FULL_URI where binding 169.254.169.254 is not possible.
 */
function json(status: number, value: unknown): Reply {
  return { status, contentType: "application/json", body: Buffer.from(JSON.stringify(value)) };
}

export function containerCredentialsReply(served: ServedCredentials | undefined, accountId: string, reason: string): Reply {
  if (served === undefined) return json(503, { code: "CredentialsUnavailable", message: reason });
  const { credentials } = served;
  return json(200, {
    AccessKeyId: credentials.accessKeyId,
    SecretAccessKey: credentials.secretAccessKey,
    Token: credentials.sessionToken,
    Expiration: awsTimestamp(credentials.expiration),
    AccountId: credentials.accountId ?? accountId,
  });
}

const UNAUTHORIZED = json(401, { code: "InvalidAuthorization", message: "the Authorization header must carry the container authorization token" });
const METHOD = json(405, { code: "MethodNotAllowed", message: "container credentials are read with GET" });

export interface ContainerHandlerOptions {
  readonly token: string;
  readonly guard: (req: IncomingMessage) => Reply | undefined;
  /** Read at every request, so a rotation is served at once. */
  readonly reply: () => Reply;
}

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
