import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { promisify } from "node:util";
import type { ConnectionLimits } from "./connections";
import type { Refusals } from "./refusals";
import type { Logger } from "./log";

/**
 * Connection caps derived from the open-file limit. Every socket is a file descriptor: a metadata
 * listener allowed as many sockets as the limit would, under a flood, leave none for the admin
 * listener (/healthz), the STS call or a token file read at rotation.
 */

/** The admin listener's own cap: health checks, scrapes and a few admin calls at once. */
const ADMIN_MAX_CONNECTIONS = 64;
/**
 * Descriptors the daemon holds besides client sockets. Measured: 27 at rest with the STS worker
 * (stdio, two event loops' epoll, eventfd and pipes, the listening sockets); an STS call adds one
 * or two sockets, a worker restarted after a stuck call briefly adds another event loop.
 */
const RESERVED_DESCRIPTORS = 64;
/** The derived default never exceeds the fixed default it replaces. */
const MAX_DEFAULT_CONNECTIONS = 1024;
/** Where the limit cannot be read (no /proc): the usual soft limit. */
const FALLBACK_SOFT_LIMIT = 1024;
/** A caller's share never drops below this, so a small cap still lets one client open a few connections. */
const MIN_CONNECTIONS_PER_CALLER = 16;

/**
 * The default --max-connections of each of `listeners` metadata listeners: what the soft limit
 * leaves after the admin listener and the daemon's own descriptors, split between them.
 */
export function defaultMaxConnections(softLimit: number, listeners = 1): number {
  const available = softLimit - ADMIN_MAX_CONNECTIONS - RESERVED_DESCRIPTORS;
  return Math.max(1, Math.min(MAX_DEFAULT_CONNECTIONS, Math.floor(available / Math.max(1, listeners))));
}

/**
 * Connections one caller (one source address) may hold open on a listener: a quarter of its cap,
 * so a single client, hostile or just leaky, cannot take the connections every other one needs.
 */
export function defaultMaxConnectionsPerCaller(maxConnections: number): number {
  return Math.min(maxConnections, Math.max(MIN_CONNECTIONS_PER_CALLER, Math.floor(maxConnections / 4)));
}

/**
 * Each metadata listener's limits: --max-connections when given, else what the open-file limit leaves
 * it (`openFiles`: the limits already read, as the CLI's start has them; read here otherwise).
 */
export function metadataConnectionLimits(
  configured: number | undefined,
  listeners: number,
  callerAllowed: (address: string | undefined) => boolean,
  refusals: Refusals,
  openFiles: OpenFileLimits | undefined = readOpenFileLimits(),
): ConnectionLimits {
  const maxConnections = configured ?? defaultMaxConnections(openFiles?.soft ?? FALLBACK_SOFT_LIMIT, listeners);
  return { callerAllowed, maxConnections, maxConnectionsPerCaller: defaultMaxConnectionsPerCaller(maxConnections), refusals };
}

export function adminConnectionLimits(callerAllowed: (address: string | undefined) => boolean, refusals: Refusals): ConnectionLimits {
  const maxConnections = ADMIN_MAX_CONNECTIONS;
  return { callerAllowed, maxConnections, maxConnectionsPerCaller: defaultMaxConnectionsPerCaller(maxConnections), refusals };
}

export interface OpenFileLimits {
  readonly soft: number;
  readonly hard: number;
}

/** The "Max open files" row of `/proc/<pid>/limits`; `unlimited` reads as Infinity. */
export function parseOpenFileLimits(text: string): OpenFileLimits | undefined {
  const match = /^Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/m.exec(text);
  if (match === null) return undefined;
  const value = (field: string) => (field === "unlimited" ? Infinity : Number(field));
  return { soft: value(match[1]!), hard: value(match[2]!) };
}

/** A process's open-file limits; undefined where there is no /proc (macOS). */
export function readOpenFileLimits(pid: number = process.pid): OpenFileLimits | undefined {
  try {
    return parseOpenFileLimits(readFileSync(`/proc/${pid}/limits`, "utf8"));
  } catch {
    return undefined;
  }
}

const execFileAsync = promisify(execFile);

const shown = (limit: number) => (limit === Infinity ? "unlimited" : limit);

export type CommandRunner = (command: string, args: readonly string[]) => Promise<unknown>;

const runCommand: CommandRunner = (command, args) => execFileAsync(command, [...args], { timeout: 5000 });

/**
 * Brings the soft open-file limit up to the hard one and logs the outcome once. Node already does
 * this for its own process at start (src/node.cc, PlatformInit, "Raise the open file descriptor
 * limit"), unless an embedder turns it off; where it did not, prlimit(1) from util-linux can, as
 * raising a soft limit up to the hard one needs no privilege. Node has no setrlimit of its own.
 */
export async function raiseOpenFileLimit(
  log: Logger,
  pid: number = process.pid,
  run: CommandRunner = runCommand,
): Promise<OpenFileLimits | undefined> {
  const before = readOpenFileLimits(pid);
  if (before === undefined) {
    log.info("open-file-limit", { detail: `/proc/${pid}/limits is not readable; connection caps assume ${FALLBACK_SOFT_LIMIT}` });
    return undefined;
  }
  if (before.soft >= before.hard) {
    log.info("open-file-limit", { soft: shown(before.soft), hard: shown(before.hard) });
    return before;
  }
  const hard = String(shown(before.hard));
  try {
    await run("prlimit", ["--pid", String(pid), `--nofile=${hard}:${hard}`]);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === "ENOENT" ? "prlimit is not installed" : String((error as Error).message).split("\n")[0];
    log.warn("open-file-limit", { soft: shown(before.soft), hard: shown(before.hard), raised: false, detail: `could not raise the soft limit: ${reason}` });
    return before;
  }
  const after = readOpenFileLimits(pid) ?? before;
  log.info("open-file-limit", { soft: shown(after.soft), hard: shown(after.hard), raisedFrom: shown(before.soft) });
  return after;
}
