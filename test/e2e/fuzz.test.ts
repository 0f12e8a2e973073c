import assert from "node:assert/strict";
import { connect } from "node:net";
import { test } from "node:test";
import { startDaemon } from "../support/daemon";

const REQUESTS = 20_000;
const CONCURRENCY = 64;
const PER_REQUEST_MS = 5000;

/** A small seeded generator, so a failing run can be replayed from the seed it prints. */
function prng(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;
  const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => int(256)));
  return { next, int, pick, bytes };
}

const METHODS = ["GET", "GET", "GET", "HEAD", "PUT", "PUT", "POST", "DELETE", "PATCH", "OPTIONS", "TRACE", "get", "G\u00c9T", "BREW", ""];
const PATHS = [
  "/", "/latest", "/latest/", "/latest/api/token", "/2021-07-15/api/token", "/latest/meta-data/",
  "/latest/meta-data/iam/security-credentials/", "/latest/meta-data/iam/security-credentials/imds-emulator",
  "/latest/meta-data/iam/security-credentials-extended/imds-emulator", "/latest/dynamic/instance-identity/document",
  "/latest/user-data", "/latest/meta-data/../../etc/passwd", "/latest/meta-data/%2e%2e/%2e%2e/", "/latest/%00",
  "//latest//meta-data//", "/latest/meta-data/placement/availability-zone/", "*", "http://169.254.169.254/latest/meta-data/",
  "/latest/meta-data/%ZZ", "/latest/meta-data/\u00fc\u00f1\u00ee", "/healthz", "/metrics", "/admin/credentials/rotate",
];

function fuzzPath(r: ReturnType<typeof prng>): string {
  const base = r.pick(PATHS);
  switch (r.int(6)) {
    case 0: return base + "/".repeat(r.int(5)) + "%" + r.bytes(2).toString("hex");
    case 1: return base + "?" + "x=".repeat(r.int(50));
    case 2: return base + "a".repeat(r.pick([100, 2000, 9000, 20000]));
    case 3: return base + "\0" + r.bytes(3).toString("latin1");
    default: return base;
  }
}

function fuzzHeaders(r: ReturnType<typeof prng>): string[] {
  const headers: string[] = [];
  const hosts = ["127.0.0.1", "127.0.0.1:1338", "localhost", "attacker.example", "", "[::1]", "169.254.169.254"];
  if (r.next() < 0.9) headers.push(`Host: ${r.pick(hosts)}`);
  if (r.next() < 0.1) headers.push(`Host: ${r.pick(hosts)}`);
  if (r.next() < 0.5) headers.push(`X-aws-ec2-metadata-token-ttl-seconds: ${r.pick(["60", "0", "21600", "21601", "-1", "abc", "", "1e3", "99999999999999999999"])}`);
  if (r.next() < 0.4) headers.push(`X-aws-ec2-metadata-token: ${r.pick(["", "AAAA", r.bytes(48).toString("base64"), "x".repeat(5000)])}`);
  if (r.next() < 0.1) headers.push("X-Forwarded-For: 10.0.0.1");
  if (r.next() < 0.1) headers.push(`${r.pick(["Origin", "Sec-Fetch-Site", "Sec-Fetch-Mode"])}: ${r.pick(["null", "cors", "navigate"])}`);
  if (r.next() < 0.15) headers.push(`Content-Length: ${r.pick(["0", "5", "-1", "abc", "100000000"])}`);
  if (r.next() < 0.1) headers.push(`Transfer-Encoding: ${r.pick(["chunked", "gzip", "identity, chunked", "x"])}`);
  if (r.next() < 0.1) for (let i = r.int(100); i > 0; i--) headers.push(`X-Junk-${i}: ${r.bytes(4).toString("hex")}`);
  if (r.next() < 0.05) headers.push(`Bad Header\u0001: ${r.bytes(8).toString("latin1")}`);
  if (r.next() < 0.05) headers.push(`X-Huge: ${"h".repeat(r.pick([1000, 9000]))}`);
  headers.push("Connection: close");
  return headers;
}

function fuzzRequest(r: ReturnType<typeof prng>): Buffer {
  if (r.next() < 0.05) return r.bytes(r.int(300) + 1);
  const version = r.pick(["HTTP/1.1", "HTTP/1.1", "HTTP/1.0", "HTTP/2.0", "HTTP/9", "FOO"]);
  const head = `${r.pick(METHODS)} ${fuzzPath(r)} ${version}\r\n${fuzzHeaders(r).join("\r\n")}\r\n\r\n`;
  const body = r.next() < 0.2 ? r.bytes(r.int(2000)) : Buffer.alloc(0);
  return Buffer.concat([Buffer.from(head, "latin1"), body]);
}

/** Sends one request on its own connection; resolves to the status, or undefined when none came. */
function send(port: number, request: Buffer): Promise<number | undefined> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    let head = "";
    const done = (status: number | undefined) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(status);
    };
    const timer = setTimeout(() => done(undefined), PER_REQUEST_MS);
    socket.setEncoding("latin1");
    socket.on("data", (chunk: string) => {
      head += chunk;
      const match = /^HTTP\/1\.[01] (\d{3}) /.exec(head);
      if (match) done(Number(match[1]));
    });
    socket.on("error", () => done(undefined));
    socket.on("close", () => done(undefined));
    socket.end(request);
  });
}

test(`fuzz: ${REQUESTS} random requests get no 5xx and leave the daemon serving credentials`, async (t) => {
  const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
  const r = prng(seed);
  const daemon = await startDaemon([]);
  const statuses = new Map<string, number>();
  const failures: string[] = [];
  const started = performance.now();
  let sent = 0;
  try {
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (sent < REQUESTS && performance.now() - started < 55_000) {
          sent += 1;
          const request = fuzzRequest(r);
          const status = await send(daemon.port, request);
          const key = status === undefined ? "none" : String(status);
          statuses.set(key, (statuses.get(key) ?? 0) + 1);
          if (status !== undefined && status >= 500 && failures.length < 5) {
            failures.push(`${status} for ${JSON.stringify(request.subarray(0, 200).toString("latin1"))}`);
          }
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    t.diagnostic(`seed ${seed}: ${sent} requests in ${seconds.toFixed(1)} s; statuses ${JSON.stringify(Object.fromEntries([...statuses].sort()))}`);
    assert.deepEqual(failures, [], `seed ${seed}`);
    assert.equal(sent, REQUESTS, "all requests sent within the time bound");
    assert.equal(daemon.child.exitCode, null, "the daemon is still running");
    assert.deepEqual(daemon.logs.filter((line) => line.event === "unparsed" || line.level === "error"), []);

    const token = await (await fetch(`${daemon.url}/latest/api/token`, { method: "PUT", headers: { "X-aws-ec2-metadata-token-ttl-seconds": "60" } })).text();
    const credentials = await fetch(`${daemon.url}/latest/meta-data/iam/security-credentials/imds-emulator`, { headers: { "X-aws-ec2-metadata-token": token } });
    assert.equal(credentials.status, 200);
    const document = (await credentials.json()) as Record<string, string>;
    assert.equal(document.Code, "Success");
    assert.match(document.AccessKeyId!, /^ASIA[A-Z0-9]{16}$/);
  } finally {
    assert.equal(await daemon.stop(), 0);
  }
});
