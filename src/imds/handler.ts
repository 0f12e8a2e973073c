import type { IncomingMessage, ServerResponse } from "node:http";
import { MAX_TOKEN_TTL_SECONDS, MIN_TOKEN_TTL_SECONDS, parseTokenTtl, type TokenAuthority } from "./tokens";
import { resolvePath, textReply, type Reply, type ReplyTable } from "./replies";

export type HttpTokens = "optional" | "required";
export type HttpEndpoint = "enabled" | "disabled";

export const TOKEN_HEADER = "x-aws-ec2-metadata-token";
export const TOKEN_TTL_HEADER = "x-aws-ec2-metadata-token-ttl-seconds";

/** Coarse path groups for metrics: a path's own text would make unbounded label sets. */
export type PathClass = "token" | "credentials" | "metadata" | "dynamic" | "user-data" | "other";

export interface RequestOutcome {
  readonly pathClass: PathClass;
  readonly status: number;
  /** A metadata read without a session token: what EC2 counts as `MetadataNoToken`. */
  readonly tokenless: boolean;
}

export interface ImdsHandlerOptions {
  readonly httpTokens: HttpTokens;
  readonly httpEndpoint: HttpEndpoint;
  readonly tokens: TokenAuthority;
  /** Read at every request, so a rotation swaps the whole table at once. */
  readonly replies: () => ReplyTable;
  readonly onOutcome?: (outcome: RequestOutcome) => void;
  /** Refusals that come before anything else (see guards.ts). */
  readonly guard?: (req: IncomingMessage) => Reply | undefined;
}

const ERRORS = {
  badTtl: textReply(
    400,
    `400 - Bad Request: ${TOKEN_TTL_HEADER} must be an integer from ${MIN_TOKEN_TTL_SECONDS} to ${MAX_TOKEN_TTL_SECONDS}`,
  ),
  badToken: textReply(401, "401 - Unauthorized: the session token is invalid or expired"),
  tokenRequired: textReply(401, "401 - Unauthorized: a session token is required (HttpTokens=required)"),
  disabled: textReply(403, "403 - Forbidden: the metadata endpoint is disabled (HttpEndpoint=disabled)"),
  forwarded: textReply(403, "403 - Forbidden: token requests must not carry X-Forwarded-For"),
  datedToken: textReply(403, "403 - Forbidden: session tokens are issued only at /latest/api/token"),
  tokenMethod: textReply(405, "405 - Method Not Allowed: use PUT for /latest/api/token"),
  readMethod: textReply(405, "405 - Method Not Allowed: metadata is read with GET or HEAD"),
  notFound: textReply(404, "404 - Not Found"),
  body: textReply(413, "413 - Payload Too Large: the metadata service accepts no request body"),
};

/** No metadata request has a body; refusing one also keeps a client from streaming into the port. */
function hasBody(req: IncomingMessage): boolean {
  const length = req.headers["content-length"];
  return req.headers["transfer-encoding"] !== undefined || (length !== undefined && length !== "0");
}

function pathClassOf(key: string): PathClass {
  if (key.startsWith("/latest/meta-data/iam/security-credentials")) return "credentials";
  if (key.startsWith("/latest/meta-data")) return "metadata";
  if (key.startsWith("/latest/dynamic")) return "dynamic";
  if (key.startsWith("/latest/user-data")) return "user-data";
  return "other";
}

function send(req: IncomingMessage, res: ServerResponse, reply: Reply, extra?: Record<string, string>): void {
  // An unread body would be parsed as the next request: close the connection instead.
  if (reply === ERRORS.body) res.shouldKeepAlive = false;
  res.writeHead(reply.status, {
    Server: "EC2ws",
    "Content-Type": reply.contentType,
    "Content-Length": reply.body.length,
    ...extra,
  });
  res.end(req.method === "HEAD" ? undefined : reply.body);
}

/** The metadata port: guards in EC2's order, then one lookup in the ready replies. Never awaits anything. */
export function createImdsHandler(options: ImdsHandlerOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const { tokens, onOutcome, guard } = options;
  const tokenRequired = options.httpTokens === "required";
  const report = (pathClass: PathClass, status: number, tokenless: boolean) =>
    onOutcome?.({ pathClass, status, tokenless });

  return (req, res) => {
    const resolved = resolvePath(req.url ?? "/");
    const refusal = guard?.(req) ?? (hasBody(req) ? ERRORS.body : undefined);
    if (refusal !== undefined) {
      send(req, res, refusal);
      return report(resolved.kind === "token" ? "token" : pathClassOf(resolved.key), refusal.status, false);
    }
    if (options.httpEndpoint === "disabled") {
      send(req, res, ERRORS.disabled);
      return report(resolved.kind === "token" ? "token" : pathClassOf(resolved.key), 403, false);
    }

    if (resolved.kind === "token") {
      const reply = issueToken(req, resolved.dated);
      send(req, res, reply.reply, reply.headers);
      return report("token", reply.reply.status, false);
    }

    const pathClass = pathClassOf(resolved.key);
    if (req.method !== "GET" && req.method !== "HEAD") {
      send(req, res, ERRORS.readMethod, { Allow: "GET, HEAD" });
      return report(pathClass, 405, false);
    }
    const token = req.headers[TOKEN_HEADER];
    const tokenless = token === undefined;
    const denied = tokenless
      ? tokenRequired
        ? ERRORS.tokenRequired
        : undefined
      : typeof token === "string" && tokens.verify(token)
        ? undefined
        : ERRORS.badToken;
    const reply = denied ?? options.replies().get(resolved.key) ?? ERRORS.notFound;
    send(req, res, reply);
    report(pathClass, reply.status, tokenless);
  };

  function issueToken(req: IncomingMessage, dated: boolean): { reply: Reply; headers?: Record<string, string> } {
    if (req.method !== "PUT") return { reply: ERRORS.tokenMethod, headers: { Allow: "PUT" } };
    if (dated) return { reply: ERRORS.datedToken };
    if (req.headers["x-forwarded-for"] !== undefined) return { reply: ERRORS.forwarded };
    const ttl = parseTokenTtl(req.headers[TOKEN_TTL_HEADER]);
    if (ttl === undefined) return { reply: ERRORS.badTtl };
    return { reply: textReply(200, tokens.issue(ttl)), headers: { [TOKEN_TTL_HEADER]: String(ttl) } };
  }
}
