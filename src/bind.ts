import type { Server } from "node:http";
import { ipVersion } from "./addresses";
import type { Config } from "./config/config";
import { RequestGate, type Handler } from "./gate";
import { createCallerCheck, createRequestGuard, defaultAllowedCidrs, metadataPortPolicy, type RequestGuard } from "./imds/guards";
import { withRequestLog } from "./imds/request-log";
import { adminConnectionLimits, metadataConnectionLimits, type OpenFileLimits } from "./limits";
import { close, hardenedServer, listen, type Listening } from "./listeners";
import type { Logger } from "./log";
import type { Refusals } from "./refusals";
import { ConfigError } from "./validation";

/** A bound port that holds its requests until `open` gives it a handler (see gate.ts). */
export interface BoundListener {
  readonly server: Server;
  readonly listening: Listening;
  open(handler: Handler): void;
}

export interface BoundListeners {
  readonly metadata: readonly BoundListener[];
  /** With the guard the admin app applies to each request. */
  readonly admin?: BoundListener & { readonly guard: RequestGuard };
  /** Every server, for closing. */
  readonly servers: readonly Server[];
}

const WILDCARD_V6 = "::";

/**
 * One line that says what went wrong and what to do, for the errors a listen usually meets. `::`
 * listens on IPv4 too on Linux (dual stack), so `--host 0.0.0.0 --host ::` collides with itself:
 * that is told apart from another process holding the port.
 */
export function listenFailure(error: NodeJS.ErrnoException, what: string, host: string, port: number, earlier: readonly string[]): Error {
  const where = `${what} ${port} on ${host}`;
  switch (error.code) {
    case "EADDRINUSE": {
      const overlap = earlier.find((other) => (other === WILDCARD_V6 && ipVersion(host) === 4) || (host === WILDCARD_V6 && ipVersion(other) === 4));
      if (overlap !== undefined) {
        return new ConfigError(
          `--host ${host} and --host ${overlap} overlap: :: also listens on every IPv4 address (dual stack); give --host :: alone to listen on both families`,
        );
      }
      return new ConfigError(`${where} is in use (another imds-emulator?); stop it, or choose another port`);
    }
    case "EACCES":
      return new ConfigError(
        `${where}: permission denied; ports below 1024 need root, CAP_NET_BIND_SERVICE, or sysctl net.ipv4.ip_unprivileged_port_start=${port}`,
      );
    case "EADDRNOTAVAIL":
      return new ConfigError(`${where}: ${host} is not an address of this machine (add it first, e.g. ip addr add ${host}/32 dev lo)`);
    default:
      return error;
  }
}

async function bindOne(server: Server, what: string, host: string, port: number, earlier: readonly string[]): Promise<Listening> {
  try {
    return await listen(server, host, port);
  } catch (error) {
    throw listenFailure(error as NodeJS.ErrnoException, what, host, port, earlier);
  }
}

/**
 * Binds the metadata port on every host, then the admin port, before anything else of the start
 * (the first STS call, the signing key): a port in use costs no AssumeRole and says so in one line.
 * Each listener holds what arrives until its handler is set; on any failure every port bound so far
 * is closed again. `openFiles`: the open-file limits the caller has read already (the CLI raises them
 * first), so /proc is not read twice.
 */
export async function bindListeners(config: Config, log: Logger, refusals: Refusals, openFiles?: OpenFileLimits): Promise<BoundListeners> {
  const servers: Server[] = [];
  const bound = async (server: Server, gate: RequestGate, what: string, host: string, port: number, earlier: readonly string[]) => {
    servers.push(server);
    const listening = await bindOne(server, what, host, port, earlier);
    return { server, listening, open: (handler: Handler) => gate.open(handler) };
  };
  try {
    const callerAllowed = createCallerCheck(metadataPortPolicy(config).allowCidrs);
    const limits = metadataConnectionLimits(config.maxConnections, config.hosts.length, callerAllowed, refusals, openFiles);
    const metadata: BoundListener[] = [];
    for (const [index, host] of config.hosts.entries()) {
      const gate = new RequestGate();
      const handler = log.debugEnabled ? withRequestLog(gate.handler, log) : gate.handler;
      const listener = await bound(hardenedServer(handler, log, limits), gate, "port", host, config.port, config.hosts.slice(0, index));
      log.info("listening", { ...listener.listening });
      metadata.push(listener);
    }
    const { admin } = config;
    if (admin === undefined) return { metadata, servers };
    const guard = createRequestGuard({
      listenAddresses: [admin.host],
      allowHosts: config.allowHosts,
      allowCidrs: admin.token === undefined ? defaultAllowedCidrs([admin.host]) : ["0.0.0.0/0", "::/0"],
      refusals,
    });
    const gate = new RequestGate();
    const server = hardenedServer(gate.handler, log, adminConnectionLimits(guard.callerAllowed, refusals));
    const listener = await bound(server, gate, "admin port", admin.host, admin.port, []);
    log.info("admin-listening", { ...listener.listening });
    return { metadata, admin: { ...listener, guard }, servers };
  } catch (error) {
    await Promise.all(servers.map((server) => (server.listening ? close(server) : undefined)));
    throw error;
  }
}
