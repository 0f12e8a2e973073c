import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import type { TestContext } from "node:test";

export interface Moto {
  readonly url: string;
  stop(): Promise<void>;
}

/** A port that was free a moment ago, for servers (moto) that cannot be told to pick one. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface MotoOptions {
  /** A command moto runs under, such as `ip netns exec <name>`. */
  prefix?: readonly string[];
  /** Default: a port free in this namespace. */
  port?: number;
  /** The address moto listens on; default loopback. */
  host?: string;
  /** Whether moto answers yet; default: a fetch from this process. */
  reachable?: (url: string) => Promise<boolean>;
}

/**
 * Starts `moto_server` on loopback as a real STS peer. Resolves to a reason string when it cannot
 * run here; `requireMoto` turns that into a skip, or a failure under CI.
 */
export async function startMoto(
  timeoutMs = 30_000,
  { prefix = [], port, host = "127.0.0.1", reachable = (url) => fetch(url).then(() => true, () => false) }: MotoOptions = {},
): Promise<Moto | string> {
  port ??= await freePort();
  const [command, ...args] = [...prefix, "moto_server", "-H", host, "-p", String(port)];
  const child: ChildProcess = spawn(command!, args, { stdio: "ignore" });
  const exited = new Promise<string>((resolve) => {
    child.once("error", (error) => resolve(String(error)));
    child.once("exit", (code) => resolve(`moto_server exited with code ${code}`));
  });
  const url = `http://${host}:${port}`;
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
    const gone = new Promise((resolve) => child.once("exit", resolve));
    child.kill();
    await gone;
  };
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const outcome = await Promise.race([
      exited,
      reachable(`${url}/moto-api/`).then((up) =>
        up ? "up" : new Promise<string>((resolve) => setTimeout(() => resolve("retry"), 100)),
      ),
    ]);
    if (outcome === "up") return { url, stop };
    if (outcome !== "retry") return outcome;
  }
  await stop();
  return `moto_server did not answer within ${timeoutMs / 1000} s`;
}

/** Skips the test with a visible reason, except under CI where a missing peer is a failure. */
export function requireMoto(moto: Moto | string | undefined, t: TestContext): moto is Moto {
  if (typeof moto === "object") return true;
  const reason = `moto_server not available: pip install 'moto[server]' (${moto ?? "not started"})`;
  if (process.env.CI === "true") throw new Error(reason);
  t.skip(reason);
  return false;
}
