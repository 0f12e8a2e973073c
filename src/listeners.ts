import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { limitConnections, type ConnectionLimits } from "./connections";
import type { Logger } from "./log";

export interface Listening {
  readonly address: string;
  readonly port: number;
  readonly url: string;
}

/** Slow or idle clients cannot pin connections, and malformed requests get a status, never a crash. */
export function hardenedServer(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
  log: Logger,
  limits?: ConnectionLimits,
): Server {
  const server = createServer(
    { maxHeaderSize: 8192, headersTimeout: 5000, requestTimeout: 10_000, keepAliveTimeout: 5000, connectionsCheckingInterval: 1000 },
    handler,
  );
  server.on("clientError", (error: NodeJS.ErrnoException, socket) => {
    if (socket.writable && error.code !== "ECONNRESET") {
      const status = error.code === "HPE_HEADER_OVERFLOW" ? "431 Request Header Fields Too Large" : "400 Bad Request";
      socket.end(`HTTP/1.1 ${status}\r\nServer: EC2ws\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
    }
    socket.destroy();
    log.debug("client-error", { code: error.code });
  });
  if (limits !== undefined) limitConnections(server, limits);
  return server;
}

export function urlOf(address: string, port: number): string {
  return `http://${address.includes(":") ? `[${address}]` : address}:${port}`;
}

export async function listen(server: Server, host: string, port: number): Promise<Listening> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  return { address: address.address, port: address.port, url: urlOf(address.address, address.port) };
}

/** Stops accepting and resolves once in-flight requests have finished; idle keep-alive connections close now. */
export function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
  });
}
