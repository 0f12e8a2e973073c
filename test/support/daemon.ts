import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { tempDir } from "./tmp";

export const CLI = join(__dirname, "..", "..", "..", "dist", "bin", "cli.js");

export interface DaemonProcess {
  readonly child: ChildProcess;
  readonly url: string;
  readonly port: number;
  /** Every log line so far, parsed. */
  readonly logs: Array<Record<string, unknown>>;
  stop(): Promise<number | null>;
}

export interface DaemonOptions {
  /** A command the CLI runs under, such as `ip netns exec <name>`. */
  prefix?: readonly string[];
  /** Replaces the default `--host 127.0.0.1 --port 0` (a free loopback port). */
  listen?: readonly string[];
  /** The command that is the CLI, such as an installed package's bin; by default node runs the built dist/bin/cli.js, the bin the package and the image ship. */
  cli?: readonly string[];
}

/** Runs the built CLI (by default on a free loopback port) and resolves once it logs that it started. */
export function startDaemon(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  timeoutMs = 15_000,
  { prefix = [], listen = ["--host", "127.0.0.1", "--port", "0"], cli = [process.execPath, CLI] }: DaemonOptions = {},
): Promise<DaemonProcess> {
  const [command, ...commandArgs] = [...prefix, ...cli, ...listen, ...args];
  const child = spawn(command!, commandArgs, {
    env: { PATH: process.env.PATH, ...env },
    stdio: ["ignore", "ignore", "pipe"],
  });
  const logs: Array<Record<string, unknown>> = [];
  let buffered = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`the daemon did not listen within ${timeoutMs} ms: ${JSON.stringify(logs)}`));
    }, timeoutMs);
    const exited = new Promise<number | null>((done) => child.once("exit", (code) => done(code)));
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`the daemon exited with ${code}: ${buffered}${JSON.stringify(logs)}`));
    });
    child.stderr!.setEncoding("utf8");
    child.stderr!.on("data", (chunk: string) => {
      buffered += chunk;
      for (let newline = buffered.indexOf("\n"); newline !== -1; newline = buffered.indexOf("\n")) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        try {
          logs.push(JSON.parse(line));
        } catch {
          logs.push({ event: "unparsed", line });
        }
        const last = logs.at(-1)!;
        if (last.event === "started") {
          clearTimeout(timer);
          const listening = logs.find((entry) => entry.event === "listening")!;
          resolve({
            child,
            logs,
            url: String(listening.url),
            port: Number(listening.port),
            stop: () => {
              child.kill("SIGTERM");
              return exited;
            },
          });
        }
      }
    });
  });
}

/** Runs a command to completion, collecting its output. */
export function run(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  timeoutMs = 30_000,
  cwd?: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, cwd, stdio: ["ignore", "pipe", "pipe"], timeout: timeoutMs });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** A client environment with no AWS configuration of its own: credentials can come only from the emulator. */
export async function cleanClientEnv(endpoint: string, extra: NodeJS.ProcessEnv = {}): Promise<NodeJS.ProcessEnv> {
  const home = tempDir("imds-home-");
  return {
    PATH: process.env.PATH,
    HOME: home,
    AWS_CONFIG_FILE: join(home, "none"),
    AWS_SHARED_CREDENTIALS_FILE: join(home, "none"),
    AWS_EC2_METADATA_SERVICE_ENDPOINT: endpoint,
    ...extra,
  };
}

/** What an SDK reads at its start: a token, the role's name, its credential document (each must answer 200). */
export async function imdsCredentials(url: string): Promise<Record<string, string>> {
  const tokenResponse = await fetch(`${url}/latest/api/token`, {
    method: "PUT",
    headers: { "X-aws-ec2-metadata-token-ttl-seconds": "60" },
  });
  assert.equal(tokenResponse.status, 200);
  const headers = { "X-aws-ec2-metadata-token": await tokenResponse.text() };
  const listing = await fetch(`${url}/latest/meta-data/iam/security-credentials/`, { headers });
  assert.equal(listing.status, 200);
  const role = (await listing.text()).trim();
  const credentials = await fetch(`${url}/latest/meta-data/iam/security-credentials/${role}`, { headers });
  assert.equal(credentials.status, 200);
  return (await credentials.json()) as Record<string, string>;
}
