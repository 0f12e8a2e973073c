import type { IncomingMessage, ServerResponse } from "node:http";
import { errorReply, type Reply } from "../cache/replies";
import type { Clock } from "../clock";
import type { FaultAction } from "../config/fault-rule";
import type { FaultBoard } from "./board";
import type { InstanceEdge } from "./edge";

/** What a request gets instead of its answer: a rule's action, the hop limit's silence, or throttling. */
export type Misbehaviour = FaultAction | { readonly kind: "unanswered" } | { readonly kind: "throttled" };

const UNANSWERED: Misbehaviour = { kind: "unanswered" };
const THROTTLED: Misbehaviour = { kind: "throttled" };

/**
 * EC2's user guide ("Query throttling") says IMDS throttles queries per instance and that a throttled
 * client should retry with exponential backoff, but names no status. 429 Too Many Requests (RFC 6585)
 * is what such a client recognises: botocore's IMDS fetcher retries any non-200 read, and JS v3's
 * fromInstanceMetadata retries the whole fetch when given maxRetries (docs/faults.md).
 */
export const THROTTLED_STATUS = 429;

/**
 * How long a request that gets no answer (hang, the hop limit) holds its socket if its client never
 * gives up: the server's own requestTimeout (listeners.ts), so a silent request costs no more than a slow one.
 */
export const HOLD_LIMIT_MS = 10_000;

/** The request's path as a rule's glob reads it: no query, repeated slashes folded. */
function pathOf(url: string | undefined): string {
  const target = url ?? "/";
  const query = target.indexOf("?");
  return (query === -1 ? target : target.slice(0, query)).replace(/\/{2,}/g, "/");
}

/** What this request gets instead of its answer, if anything: the hop limit first (it is the network), then throttling, then the rules. */
export function misbehaviour(board: FaultBoard | undefined, edge: InstanceEdge | undefined, instance: string, req: IncomingMessage, tokenPut: boolean): Misbehaviour | undefined {
  if (edge?.tokenUnanswered === true && tokenPut) return UNANSWERED;
  if (edge?.throttle !== undefined && !edge.throttle.take()) return THROTTLED;
  return board?.active === true ? board.match(instance, pathOf(req.url)) : undefined;
}

const replies = new Map<number, Reply>();

function replyFor(status: number): Reply {
  let reply = replies.get(status);
  if (reply === undefined) {
    reply = errorReply(status);
    replies.set(status, reply);
  }
  return reply;
}

export interface Performing {
  readonly clock: Clock;
  readonly send: (req: IncomingMessage, res: ServerResponse, reply: Reply) => void;
  /** The request's normal answer, after a delay. */
  readonly answer: () => void;
  /** Reports an error status sent in place of the answer. */
  readonly report: (status: number) => void;
}

/** Keeps the request unanswered until its client closes the connection, or HOLD_LIMIT_MS. */
function hold(res: ServerResponse, clock: Clock): void {
  const timer = clock.schedule(HOLD_LIMIT_MS, () => res.destroy());
  res.once("close", () => timer.cancel());
}

export function perform(misbehaving: Misbehaviour, req: IncomingMessage, res: ServerResponse, how: Performing): void {
  switch (misbehaving.kind) {
    case "status":
    case "throttled": {
      const reply = replyFor(misbehaving.kind === "status" ? misbehaving.status : THROTTLED_STATUS);
      how.send(req, res, reply);
      how.report(reply.status);
      return;
    }
    case "delay": {
      const timer = how.clock.schedule(misbehaving.ms, how.answer);
      res.once("close", () => timer.cancel());
      return;
    }
    case "hang":
    case "unanswered":
      hold(res, how.clock);
      return;
    case "reset":
      // A TCP RST rather than a FIN: the client reads ECONNRESET, as from a crashed server.
      req.socket.resetAndDestroy();
      return;
  }
}
