import { request } from "node:http";

/** What a walk may spend: the SDKs' one-second timeout a request, a bounded count, an overall deadline. */
export interface WalkLimits {
  readonly timeoutMs: number;
  readonly maxRequests: number;
  readonly deadlineMs: number;
}

export const DEFAULT_LIMITS: WalkLimits = { timeoutMs: 1000, maxRequests: 1000, deadlineMs: 60_000 };

/** A path that could not be read, and why (a status, a timeout, the bound). */
export interface Missing {
  readonly path: string;
  readonly reason: string;
}

export interface Walked {
  /** Path below `/latest/` (a listing under `dir/`) to the exact body. */
  readonly bodies: Map<string, Buffer>;
  readonly missing: Missing[];
  /** The role named by `iam/security-credentials/`, whose credentials are never read. */
  readonly roleName?: string;
}

export class NoToken extends Error {}

/**
 * Never read: credentials, the identity role's, and the identity document's signatures (replay
 * serves these live), and the role documents' `info`, which carries the time of the last rotation.
 */
const NEVER_READ = [
  /^meta-data\/iam\/info$/,
  /^meta-data\/iam\/security-credentials\/[^/]+$/,
  /^meta-data\/iam\/security-credentials-extended\//,
  /^meta-data\/identity-credentials\/ec2\/info$/,
  /^meta-data\/identity-credentials\/ec2\/security-credentials\/[^/]+$/,
  /^dynamic\/instance-identity\/(signature|pkcs7|rsa2048)$/,
];

const TOKEN_TTL_SECONDS = "21600";

interface Answer {
  readonly status: number;
  readonly body: Buffer;
}

type Reason = string;

/** A path as a request target: only what HTTP cannot carry is escaped (a tag key's space), not a MAC's `:`. */
function target(path: string): string {
  return `/latest/${encodeURI(path).replace(/[?#]/g, (char) => encodeURIComponent(char))}`;
}

/** One request: its answer, or why there is none. */
function exchange(base: URL, method: "GET" | "PUT", path: string, headers: Record<string, string>, timeoutMs: number): Promise<Answer | Reason> {
  return new Promise((resolve) => {
    const req = request(
      { hostname: base.hostname.replace(/^\[|\]$/g, ""), port: base.port || 80, path: target(path), method, headers, timeout: timeoutMs },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
        res.on("error", (error) => resolve(error.message));
      },
    );
    // The timeout bounds the whole exchange, a slow body included, as the SDKs' does.
    const timer = setTimeout(() => req.destroy(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    req.on("close", () => clearTimeout(timer));
    req.on("error", (error) => resolve(error.message));
    req.end();
  });
}

/** A listing's lines as child paths: `name/` a directory, `0=key-name` (public-keys) the directory `0/`. */
function children(dir: string, listing: string): string[] {
  return listing
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => (dir.endsWith("public-keys/") && /^\d+=/.test(line) ? `${dir}${line.split("=")[0]}/` : `${dir}${line}`));
}

/**
 * Walks an IMDS's latest tree with IMDSv2, listings first, breadth first: one token, then one GET a
 * path, never more than `maxRequests` requests or past the deadline. What could not be read is
 * listed, not retried: a capture reports a flaky endpoint rather than hiding it.
 */
export async function walk(base: URL, limits: WalkLimits = DEFAULT_LIMITS, now: () => number = Date.now): Promise<Walked> {
  const deadline = now() + limits.deadlineMs;
  let requests = 0;
  const tokenHeaders = { "X-aws-ec2-metadata-token-ttl-seconds": TOKEN_TTL_SECONDS };
  let token: Answer | Reason = "";
  // One retry, as the SDKs give the token request.
  for (let attempt = 0; attempt < 2 && !(typeof token !== "string" && token.status === 200); attempt += 1) {
    requests += 1;
    token = await exchange(base, "PUT", "api/token", tokenHeaders, limits.timeoutMs);
  }
  if (typeof token === "string" || token.status !== 200) {
    throw new NoToken(`no IMDSv2 token from ${base.origin}: ${typeof token === "string" ? token : `status ${token.status}`}`);
  }
  const headers = { "X-aws-ec2-metadata-token": token.body.toString("utf8") };
  const bodies = new Map<string, Buffer>();
  const missing: Missing[] = [];
  let roleName: string | undefined;
  const queue = ["meta-data/", "dynamic/", "user-data"];
  for (let path = queue.shift(); path !== undefined; path = queue.shift()) {
    if (NEVER_READ.some((pattern) => pattern.test(path!))) continue;
    if (requests >= limits.maxRequests || now() >= deadline) {
      missing.push({ path, reason: requests >= limits.maxRequests ? `not read: the bound of ${limits.maxRequests} requests` : "not read: the deadline passed" });
      continue;
    }
    requests += 1;
    const answer = await exchange(base, "GET", path, headers, Math.min(limits.timeoutMs, Math.max(1, deadline - now())));
    if (typeof answer === "string") {
      missing.push({ path, reason: answer });
      continue;
    }
    // No user data is a 404 on EC2: nothing to capture, nothing missing.
    if (answer.status === 404 && path === "user-data") continue;
    if (answer.status !== 200) {
      missing.push({ path, reason: `status ${answer.status}` });
      continue;
    }
    bodies.set(path, answer.body);
    if (!path.endsWith("/")) continue;
    if (path === "meta-data/iam/security-credentials/") roleName = answer.body.toString("utf8").split("\n")[0] || undefined;
    queue.push(...children(path, answer.body.toString("utf8")));
  }
  return { bodies, missing, roleName };
}
