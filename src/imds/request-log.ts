import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "../log";
import { resolvePath } from "../cache/replies";
import { pathClassOf, TOKEN_HEADER, type PathClass } from "./handler";

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

function pathClassOfTarget(target: string): PathClass {
  const resolved = resolvePath(target);
  return resolved.kind === "token" ? "token" : pathClassOf(resolved.key);
}

/**
 * At `--log-level debug`, one line a metadata request once it is answered: method, path class,
 * status, whether it carried a session token, the caller and the latency from arrival (held
 * requests included). Never the token, the path's text or a header value: only what cannot be a secret.
 * Wrapped around the handler only at debug, so the hot path pays nothing otherwise.
 */
export function withRequestLog(handler: Handler, log: Logger, now: () => bigint = process.hrtime.bigint): Handler {
  return (req, res) => {
    const arrived = now();
    res.once("finish", () => {
      log.debug("request", {
        method: req.method,
        pathClass: pathClassOfTarget(req.url ?? "/"),
        status: res.statusCode,
        token: req.headers[TOKEN_HEADER] !== undefined,
        caller: req.socket.remoteAddress,
        latencyMs: Math.round(Number(now() - arrived) / 1e3) / 1e3,
      });
    });
    handler(req, res);
  };
}
