import { connect } from "node:net";

/** A raw HTTP exchange on loopback, for what supertest cannot send (any method with a body, bytes as they are). */
export function exchange(port: number, request: string | Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    let response = "";
    socket.setEncoding("latin1");
    socket.on("data", (chunk: string) => (response += chunk));
    socket.on("error", reject);
    socket.on("close", () => resolve(response));
    socket.end(request);
  });
}
