import type { IncomingMessage, ServerResponse } from "node:http";
import { hasBody } from "../imds/handler";
import { ConfigError } from "../validation";

/**
 * Admin request bodies, read by hand: Express's body parsers, past their limit, read the rest of
 * the body before they answer 413 (body-parser's read.js drains the request first), so a 100 MB
 * body was read to the end to be refused.
 */

/**
 * Node-level middleware, as Express's own body parsers are (typed as Express's RequestHandler, it
 * would widen every route's parameter types); `body` is the Buffer readBody leaves there.
 */
type Middleware = (req: IncomingMessage & { body: Buffer }, res: ServerResponse, next: (error?: unknown) => void) => void;

function tooLarge(res: ServerResponse, limit: number): void {
  const body = JSON.stringify({ error: `request body: at most ${limit} bytes` });
  res.writeHead(413, { "Content-Type": "application/json; charset=utf-8", "Content-Length": Buffer.byteLength(body) });
  res.end(body);
}

/**
 * First on the admin listener. A request with a body closes its connection after the answer: a
 * route that reads no body (and any refusal) leaves it unread, and Node would otherwise read it to
 * the end to find the next request. A declared length over `limit` (the largest body any route
 * takes) is refused before a byte of it is read.
 */
export function bodyLimit(limit: number): Middleware {
  return (req, res, next) => {
    if (!hasBody(req)) return next();
    res.setHeader("Connection", "close");
    if (Number(req.headers["content-length"] ?? 0) > limit) return tooLarge(res, limit);
    next();
  };
}

/** Reads the body into `req.body` as a Buffer; past `limit` bytes it stops reading and answers 413. */
export function readBody(limit: number): Middleware {
  return (req, res, next) => {
    if (Number(req.headers["content-length"] ?? 0) > limit) return tooLarge(res, limit);
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) return void chunks.push(chunk);
      req.off("data", onData).off("end", onEnd).pause();
      tooLarge(res, limit);
    };
    const onEnd = () => {
      req.body = Buffer.concat(chunks, size);
      next();
    };
    // A client that goes away mid-body after the 413 has nothing left to be told.
    const onError = (error: Error) => (res.headersSent ? undefined : next(error));
    req.on("data", onData).once("end", onEnd).on("error", onError);
  };
}

/** An event's fields: an empty body means none; anything else must be one JSON object. */
export function jsonObject(body: Buffer): Record<string, unknown> {
  if (body.length === 0) return {};
  let value: unknown;
  try {
    value = JSON.parse(body.toString("utf8"));
  } catch {
    throw new ConfigError("body: expected a JSON object, got text that is not valid JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ConfigError(`body: expected a JSON object such as {"after":"30s"}, got ${Array.isArray(value) ? "an array" : value === null ? "null" : `a ${typeof value}`}`);
  }
  return value as Record<string, unknown>;
}
