import type { IncomingMessage, ServerResponse } from "node:http";

export type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** More than the connection caps let in at once: past it a request is dropped rather than held. */
export const MAX_HELD_REQUESTS = 4096;

/**
 * A handler that holds requests until the real one is set. The daemon binds its ports before the
 * first credentials exist (a port in use then fails before any STS call), yet answers nothing
 * before it has them: a request that arrives meanwhile waits, and is answered by the real handler
 * as soon as it opens, never with an answer made without credentials.
 */
export class RequestGate {
  private target: Handler | undefined;
  private readonly held: Array<[IncomingMessage, ServerResponse]> = [];

  readonly handler: Handler = (req, res) => {
    if (this.target !== undefined) return this.target(req, res);
    if (this.held.length >= MAX_HELD_REQUESTS) return void req.socket.destroy();
    this.held.push([req, res]);
  };

  get heldCount(): number {
    return this.held.length;
  }

  /** Answers every held request (those whose client has not gone), then every new one, with `target`. */
  open(target: Handler): void {
    this.target = target;
    for (const [req, res] of this.held.splice(0)) {
      if (!req.socket.destroyed) target(req, res);
    }
  }
}
