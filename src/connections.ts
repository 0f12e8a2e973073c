import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { canonicalIp } from "./addresses";
import type { Refusals } from "./refusals";

export interface ConnectionLimits {
  /** The listener's caller check (--allow-cidr): other callers are closed before anything is read. */
  readonly callerAllowed: (address: string | undefined) => boolean;
  readonly maxConnections: number;
  /** Connections one source address may hold at once. */
  readonly maxConnectionsPerCaller: number;
  readonly refusals: Refusals;
}

/**
 * Decides on every connection as it is accepted, before any byte of it is read:
 *
 * - a caller outside the allowed networks is closed at once, so it never holds a slot: a host that
 *   gets nothing cannot fill the cap with idle sockets and lock the instance's own clients out;
 * - a caller at its own cap, or any caller when the listener is at its cap, makes room by closing
 *   an idle connection (none of its requests is being answered; oldest first) of that caller, or of
 *   the caller holding the most. Only when all of those are busy is the new connection refused.
 *   Idle sockets therefore cost their owner its own slots and nobody else's, and a client that
 *   shares an address with a flood (every local process on 127.0.0.1) still gets in.
 *
 * Runs ahead of the HTTP server's own 'connection' listener, which then sees a closed socket; Node's
 * own `maxConnections` is not used, as it refuses the newcomer instead of an idle connection.
 */
export function limitConnections(server: Server, limits: ConnectionLimits): void {
  const byCaller = new Map<string, Set<Socket>>();
  /** The latest response on each socket: a socket is idle when it has none or that one has finished. */
  const responses = new WeakMap<Socket, ServerResponse>();
  let open = 0;

  const idle = (socket: Socket) => responses.get(socket)?.writableFinished ?? true;
  const release = (caller: string, socket: Socket) => {
    const sockets = byCaller.get(caller);
    if (sockets === undefined || !sockets.delete(socket)) return;
    open -= 1;
    if (sockets.size === 0) byCaller.delete(caller);
  };
  type Limit = "caller-connection-limit" | "connection-limit";
  /** Closes the caller's oldest idle connection, counted as a refusal of it; false when all are busy. */
  const evictIdle = (caller: string | undefined, reason: Limit): boolean => {
    const sockets = caller === undefined ? undefined : byCaller.get(caller);
    for (const socket of sockets ?? []) {
      if (!idle(socket)) continue;
      release(caller!, socket);
      refuse(socket, reason, caller!);
      return true;
    }
    return false;
  };
  const heaviestCaller = (): string | undefined => {
    let heaviest: string | undefined;
    let most = 0;
    for (const [caller, sockets] of byCaller) {
      if (sockets.size > most) [heaviest, most] = [caller, sockets.size];
    }
    return heaviest;
  };
  const refuse = (socket: Socket, reason: "caller" | Limit, caller: string) => {
    limits.refusals.record(reason, caller);
    socket.destroy();
  };

  server.prependListener("connection", (socket: Socket) => {
    // A socket reset before it was accepted has no address left: nothing to serve.
    const caller = canonicalIp(socket.remoteAddress ?? "unknown");
    if (!limits.callerAllowed(socket.remoteAddress)) return refuse(socket, "caller", caller);
    if ((byCaller.get(caller)?.size ?? 0) >= limits.maxConnectionsPerCaller && !evictIdle(caller, "caller-connection-limit")) {
      return refuse(socket, "caller-connection-limit", caller);
    }
    if (open >= limits.maxConnections && !evictIdle(heaviestCaller(), "connection-limit")) {
      return refuse(socket, "connection-limit", caller);
    }
    let sockets = byCaller.get(caller);
    if (sockets === undefined) {
      sockets = new Set();
      byCaller.set(caller, sockets);
    }
    sockets.add(socket);
    open += 1;
    socket.once("close", () => release(caller, socket));
  });
  server.on("request", (req: IncomingMessage, res: ServerResponse) => responses.set(req.socket, res));
}
