/**
 * `npm run bench`: the metadata port's speed against its peers, measured side by side in one run.
 *
 * Starts the built daemon (mock source), the bare node:http baseline (bench/baseline.ts), and
 * moto_server's metadata mock when it is installed, all on 127.0.0.1, and drives each in turn (never
 * two at once: the machine has 2 cores) with the same load generator: `wrk -t1 -c32`, a warm-up, then
 * a measured run. Rounds alternate the order of baseline and daemon, and ratios are the medians of
 * each round's ratios, so drift and other load on the machine fall on both sides alike. Then it
 * measures the start-up (spawn to first credential document) and rotations under load against a
 * counting fake STS, prints one table, checks every target of issue 7 and exits 1 if one is missed.
 * Not part of `npm test`; bounded in time (about 3.5 minutes with the defaults, killed at 10).
 *
 * Run: npm run bench [-- --duration 5 --warmup 1 --rounds 3]
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { createServer, type AddressInfo } from "node:net";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { CLI, startDaemon, type DaemonProcess } from "../test/support/daemon";
import { startFakeSts } from "../test/support/fake-sts";

function flag(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  const value = at === -1 ? fallback : Number(process.argv[at + 1]);
  if (!(value > 0)) throw new Error(`--${name} needs a positive number`);
  return value;
}

const DURATION_S = flag("duration", 5);
const WARMUP_S = flag("warmup", 1);
const ROUNDS = flag("rounds", 3);
const CONNECTIONS = 32;
const TIME_LIMIT_MS = 10 * 60_000;
const STARTUPS = 11;

const TARGETS = {
  credentialThroughput: 0.85,
  credentialP99: 1.5,
  tokenThroughput: 0.8,
  leafThroughput: 0.85,
  versusMoto: 25,
  startupMs: 1000,
  /** Start-up to the first credential document, against `node -e 0` on the same machine in the same run. */
  startupVsNode: 2,
  idleRssMb: 50,
};

const TOKEN_HEADER = "X-aws-ec2-metadata-token";
const TTL_HEADER = "X-aws-ec2-metadata-token-ttl-seconds";
const ROLE_ARN = "arn:aws:iam::123456789012:role/bench-role";

const work = mkdtempSync(join(tmpdir(), "imds-bench-"));
const children: ChildProcess[] = [];
const cleanups: Array<() => unknown> = [];

// ---------------------------------------------------------------------------------------------
// Small helpers: HTTP on loopback, free ports, process CPU and memory from /proc.

interface Answer {
  status: number;
  body: string;
}

function http(url: string, method = "GET", headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers, agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8").on("data", (chunk: string) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

async function tokenOf(base: string): Promise<string> {
  const answer = await http(`${base}/latest/api/token`, "PUT", { [TTL_HEADER]: "21600" });
  if (answer.status !== 200) throw new Error(`token PUT to ${base}: ${answer.status}`);
  return answer.body;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** User + system CPU time of a process, in ms (clock ticks are 10 ms on Linux). */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

function rssMb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, "utf8").split("\n").find((l) => l.startsWith("VmRSS:"))!;
  return Number(line.split(/\s+/)[1]) / 1024;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

// ---------------------------------------------------------------------------------------------
// wrk: installed from Debian's packages when missing; a Lua done() prints exact numbers.

function ensureWrk(): string {
  const version = () => spawnSync("wrk", ["--version"], { encoding: "utf8" });
  let found = version();
  if (found.error !== undefined && process.getuid?.() === 0 && spawnSync("apt-get", ["--version"]).status === 0) {
    console.log("wrk is missing: installing it from Debian's packages (apt-get install wrk)");
    spawnSync("apt-get", ["update", "-qq"], { stdio: "inherit" });
    spawnSync("apt-get", ["install", "-y", "-qq", "wrk"], { stdio: "inherit" });
    found = version();
  }
  if (found.error !== undefined) throw new Error("wrk is not installed: apt-get install wrk (as root)");
  return `${found.stdout}${found.stderr}`.split("\n")[0]!.replace(/ Copyright.*/, "").trim();
}

const REPORT = `
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("BENCH %d %d %d %d %d %d %d %d\\n", summary.requests, summary.duration, e.status,
    e.connect + e.read + e.write + e.timeout, latency:percentile(50), latency:percentile(99),
    latency:percentile(99.9), latency.max))
end
`;
const GET_SCRIPT = join(work, "get.lua");
const PUT_SCRIPT = join(work, "put.lua");
writeFileSync(GET_SCRIPT, REPORT);
writeFileSync(PUT_SCRIPT, `wrk.method = "PUT"\nwrk.headers["${TTL_HEADER}"] = "21600"\n${REPORT}`);

interface Load {
  requests: number;
  rps: number;
  /** Responses with a status of 400 or more. */
  non2xx: number;
  /** Connect, read, write errors and timeouts. */
  errors: number;
  p50Us: number;
  p99Us: number;
  p999Us: number;
  maxUs: number;
  /** CPU time of the server per request, in µs. */
  cpuUs: number;
}

function wrk(url: string, seconds: number, options: { token?: string; put?: boolean }): Promise<Omit<Load, "cpuUs">> {
  const args = ["-t1", `-c${CONNECTIONS}`, `-d${seconds}s`, "--timeout", "2s", "-s", options.put ? PUT_SCRIPT : GET_SCRIPT];
  if (options.token !== undefined) args.push("-H", `${TOKEN_HEADER}: ${options.token}`);
  args.push(url);
  return new Promise((resolve, reject) => {
    const child = spawn("wrk", args, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (out += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (out += chunk));
    child.once("error", reject);
    child.once("close", () => {
      const line = out.split("\n").find((l) => l.startsWith("BENCH "));
      if (line === undefined) return reject(new Error(`wrk ${args.join(" ")}: ${out}`));
      const [requests, durationUs, non2xx, errors, p50Us, p99Us, p999Us, maxUs] = line.split(" ").slice(1).map(Number) as number[];
      resolve({ requests: requests!, rps: requests! / (durationUs! / 1e6), non2xx: non2xx!, errors: errors!, p50Us: p50Us!, p99Us: p99Us!, p999Us: p999Us!, maxUs: maxUs! });
    });
  });
}

// ---------------------------------------------------------------------------------------------
// The servers under test.

interface Server {
  readonly name: string;
  readonly base: string;
  readonly pid: number;
  readonly token: string;
  /** Path of the credential document on this server. */
  readonly credentialPath: string;
}

interface Route {
  readonly name: string;
  readonly put?: boolean;
  path(server: Server): string;
}

const ROUTES: Route[] = [
  { name: "credential GET", path: (server) => server.credentialPath },
  { name: "token PUT", put: true, path: () => "/latest/api/token" },
  { name: "leaf GET (instance-id)", path: () => "/latest/meta-data/instance-id" },
];

async function measure(server: Server, route: Route): Promise<Load> {
  const url = server.base + route.path(server);
  const options = { token: route.put ? undefined : server.token, put: route.put };
  await wrk(url, WARMUP_S, options);
  const cpuBefore = cpuMs(server.pid);
  const load = await wrk(url, DURATION_S, options);
  return { ...load, cpuUs: ((cpuMs(server.pid) - cpuBefore) * 1000) / Math.max(1, load.requests) };
}

async function daemonServer(name: string, args: string[], env: NodeJS.ProcessEnv = {}, preload?: string): Promise<Server & { daemon: DaemonProcess }> {
  const cli = preload === undefined ? [process.execPath, CLI] : [process.execPath, "-r", preload, CLI];
  const daemon = await startDaemon(args, env, 15_000, { cli });
  children.push(daemon.child);
  const token = await tokenOf(daemon.url);
  const role = (await http(`${daemon.url}/latest/meta-data/iam/security-credentials/`, "GET", { [TOKEN_HEADER]: token })).body;
  return { name, base: daemon.url, pid: daemon.child.pid!, token, credentialPath: `/latest/meta-data/iam/security-credentials/${role}`, daemon };
}

/** A child process stopped at the end; stderr is piped only when read (moto logs every request). */
function startChild(command: string, args: string[], options: { env?: NodeJS.ProcessEnv; stderr?: boolean } = {}): ChildProcess {
  const env = options.env ?? { PATH: process.env.PATH };
  const child = spawn(command, args, { stdio: ["ignore", "ignore", options.stderr ? "pipe" : "ignore"], env });
  children.push(child);
  return child;
}

async function baselineServer(daemon: Server): Promise<Server> {
  const credentials = await http(daemon.base + daemon.credentialPath, "GET", { [TOKEN_HEADER]: daemon.token });
  const instanceId = await http(`${daemon.base}/latest/meta-data/instance-id`, "GET", { [TOKEN_HEADER]: daemon.token });
  const file = join(work, "credentials.json");
  writeFileSync(file, credentials.body);
  const child = startChild(process.execPath, [join(__dirname, "baseline.js"), "0", daemon.credentialPath, file, instanceId.body], { stderr: true });
  const port = await new Promise<number>((resolve, reject) => {
    let err = "";
    child.stderr!.setEncoding("utf8").on("data", (chunk: string) => {
      err += chunk;
      const match = /listening (\d+)/.exec(err);
      if (match) resolve(Number(match[1]));
    });
    child.once("exit", (code) => reject(new Error(`the baseline exited with ${code}: ${err}`)));
  });
  const base = `http://127.0.0.1:${port}`;
  return { name: "node:http baseline", base, pid: child.pid!, token: await tokenOf(base), credentialPath: daemon.credentialPath };
}

async function motoServer(): Promise<{ server?: Server; version?: string; why?: string }> {
  const version = spawnSync("python3", ["-c", "import moto; print(moto.__version__)"], { encoding: "utf8" });
  if (spawnSync("sh", ["-c", "command -v moto_server"]).status !== 0) return { why: "moto_server not found (pip install 'moto[server]')" };
  const port = await freePort();
  const child = startChild("moto_server", ["-H", "127.0.0.1", "-p", String(port)], { env: process.env });
  const base = `http://127.0.0.1:${port}`;
  const credentialPath = "/latest/meta-data/iam/security-credentials/default-role";
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline && child.exitCode === null) {
    const answer = await http(base + credentialPath).catch(() => undefined);
    if (answer?.status === 200) {
      return { server: { name: "moto_server", base, pid: child.pid!, token: await tokenOf(base), credentialPath }, version: version.stdout.trim() };
    }
    await sleep(100);
  }
  return { why: "moto_server did not answer within 30 s" };
}

// ---------------------------------------------------------------------------------------------
// Start-up: spawn to the first credential document, as an SDK asks for it (PUT, list, document).

interface Startup {
  ms: number;
  /** Answers on the credential paths that were not 200 before the first document: must be none. */
  early: number;
  complete: boolean;
}

/** Spawn to exit of `node -e 0`: what Node itself costs, the unit of the start-up ratio. */
async function nodeStart(): Promise<number> {
  const started = performance.now();
  const child = startChild(process.execPath, ["-e", "0"]);
  await new Promise((resolve) => (child.exitCode === null ? child.once("exit", resolve) : resolve(undefined)));
  return performance.now() - started;
}

async function startup(): Promise<Startup> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const started = performance.now();
  const child = startChild(process.execPath, [CLI, "--host", "127.0.0.1", "--port", String(port)]);
  let early = 0;
  try {
    for (;;) {
      if (child.exitCode !== null || performance.now() - started > 10_000) throw new Error("the daemon did not serve credentials within 10 s");
      // Refused until the port opens; a 2 ms pause keeps the poll from taking the CPU the daemon starts on.
      const put = await http(`${base}/latest/api/token`, "PUT", { [TTL_HEADER]: "21600" }).catch(() => undefined);
      if (put === undefined) {
        await sleep(2);
        continue;
      }
      if (put.status !== 200) throw new Error(`token PUT at start-up: ${put.status}`);
      const headers = { [TOKEN_HEADER]: put.body };
      const list = await http(`${base}/latest/meta-data/iam/security-credentials/`, "GET", headers);
      if (list.status !== 200) {
        early += 1;
        continue;
      }
      const document = await http(`${base}/latest/meta-data/iam/security-credentials/${list.body}`, "GET", headers);
      if (document.status !== 200) {
        early += 1;
        continue;
      }
      const ms = performance.now() - started;
      const fields = JSON.parse(document.body) as Record<string, unknown>;
      const complete = ["AccessKeyId", "SecretAccessKey", "Token", "Expiration"].every((name) => typeof fields[name] === "string");
      return { ms, early, complete };
    }
  } finally {
    child.kill("SIGTERM");
    await new Promise((resolve) => (child.exitCode === null ? child.once("exit", resolve) : resolve(undefined)));
  }
}

// ---------------------------------------------------------------------------------------------
// Rotation under load: the STS source against a fake STS that counts calls. The STS client runs in a
// worker thread (src/credentials/worker-source.ts): before it did, the process's first client
// request deoptimised node:http's shared code on the main thread and a fresh daemon's first rotation
// ran slower for a few hundred ms. Two scenarios, both gated:
// - steady state: a daemon that has served load, answered a few admin requests and rotated before;
//   one rotation forced through the admin listener in the middle of a run;
// - first rotation: a fresh daemon that has served only metadata load for 10 s when its own timer
//   makes its first STS call under load.

interface Rotation {
  calm?: Load;
  rotating: Load;
  stsCalls: number;
  keyChanged: boolean;
}

const STS_ENV = { AWS_ACCESS_KEY_ID: "AKIDBENCH", AWS_SECRET_ACCESS_KEY: "bench-secret" };
const FIRST_ROTATION_WARM_S = 10;

async function stsDaemon(sts: { url: string }, extra: string[] = []) {
  return daemonServer("daemon (STS source)", ["--role-arn", ROLE_ARN, "--sts-endpoint", sts.url, ...extra], STS_ENV);
}

async function keyOf(server: Server): Promise<string> {
  const answer = await http(server.base + server.credentialPath, "GET", { [TOKEN_HEADER]: server.token });
  return (JSON.parse(answer.body) as { AccessKeyId: string }).AccessKeyId;
}

async function steadyRotation(sts: { url: string; calls: unknown[] }): Promise<Rotation> {
  const server = await stsDaemon(sts, ["--admin-port", "0"]);
  try {
    const admin = String(server.daemon.logs.find((line) => line.event === "admin-listening")!.url);
    const url = server.base + server.credentialPath;
    // The steady state: load, with what a running daemon sees besides it (probes, scrapes, rotations).
    const warm = wrk(url, 4, { token: server.token });
    for (const call of ["healthz", "healthz", "metrics", "rotate", "healthz", "healthz", "rotate", "healthz"]) {
      await sleep(400);
      const answer = call === "rotate" ? await http(`${admin}/admin/credentials/rotate`, "POST") : await http(`${admin}/${call}`);
      if (answer.status !== 200) throw new Error(`warm-up ${call}: ${answer.status} ${answer.body}`);
    }
    await warm;
    const calm = await measure(server, ROUTES[0]!);
    const before = await keyOf(server);
    const callsBefore = sts.calls.length;
    const load = wrk(url, DURATION_S, { token: server.token });
    await sleep((DURATION_S * 1000) / 2);
    const rotated = await http(`${admin}/admin/credentials/rotate`, "POST");
    if (rotated.status !== 200) throw new Error(`rotate: ${rotated.status} ${rotated.body}`);
    const rotating = { ...(await load), cpuUs: 0 };
    return { calm, rotating, stsCalls: sts.calls.length - callsBefore, keyChanged: (await keyOf(server)) !== before };
  } finally {
    await server.daemon.stop();
  }
}

async function firstRotation(sts: { url: string; calls: unknown[] }): Promise<Rotation> {
  // Sessions of 900 s rotated this long before expiry: the first rotation falls mid-way in the measured run.
  const rotateAfterS = FIRST_ROTATION_WARM_S + DURATION_S / 2;
  const server = await stsDaemon(sts, ["--duration-seconds", "900", "--rotate-before", String(Math.round(900 - rotateAfterS))]);
  try {
    const url = server.base + server.credentialPath;
    const before = await keyOf(server);
    const callsBefore = sts.calls.length;
    await wrk(url, FIRST_ROTATION_WARM_S, { token: server.token });
    const rotating = { ...(await wrk(url, DURATION_S, { token: server.token })), cpuUs: 0 };
    return { rotating, stsCalls: sts.calls.length - callsBefore, keyChanged: (await keyOf(server)) !== before };
  } finally {
    await server.daemon.stop();
  }
}

// ---------------------------------------------------------------------------------------------
// The table.

const us = (value: number) => (value >= 1000 ? `${(value / 1000).toFixed(2)} ms` : `${Math.round(value)} µs`);
const rate = (value: number) => Math.round(value).toLocaleString("en-US");
const ratio = (value: number) => `${value.toFixed(2)}x`;
const mark = (ok: boolean) => (ok ? "met" : "MISSED");

async function main(): Promise<void> {
  const watchdog = setTimeout(() => {
    console.error(`bench: over ${TIME_LIMIT_MS / 60_000} minutes, stopping`);
    stopAll();
    process.exit(1);
  }, TIME_LIMIT_MS);
  const began = Date.now();
  const wrkVersion = ensureWrk();

  console.log(`bench: ${DURATION_S} s runs after ${WARMUP_S} s warm-ups, ${ROUNDS} rounds, wrk -t1 -c${CONNECTIONS}, loopback only`);
  // Alternated with Node's own start, so the ratio of each pair sees the same load on the machine.
  const startups: Startup[] = [];
  const nodeStarts: number[] = [];
  for (let i = 0; i < STARTUPS; i++) {
    nodeStarts.push(await nodeStart());
    startups.push(await startup());
  }

  const daemon = await daemonServer("daemon", []);
  const noCache = await daemonServer("daemon, token cache off", [], {}, join(__dirname, "no-token-cache.js"));
  const baseline = await baselineServer(daemon);
  const moto = await motoServer();
  const rss: Array<[string, number, number]> = [daemon, noCache, baseline, ...(moto.server ? [moto.server] : [])].map((s) => [s.name, s.pid, rssMb(s.pid)]);

  const results = new Map<string, Load[]>();
  const record = (server: Server, route: Route, load: Load) => {
    const key = `${route.name}\0${server.name}`;
    results.set(key, [...(results.get(key) ?? []), load]);
    process.stdout.write(`  ${route.name.padEnd(24)} ${server.name.padEnd(26)} ${rate(load.rps).padStart(7)} req/s  p99 ${us(load.p99Us)}\n`);
  };
  for (let round = 0; round < ROUNDS; round++) {
    console.log(`round ${round + 1} of ${ROUNDS}`);
    for (const route of ROUTES) {
      const servers = route === ROUTES[0] ? [baseline, daemon, noCache] : [baseline, daemon];
      for (const server of round % 2 === 0 ? servers : [...servers].reverse()) record(server, route, await measure(server, route));
    }
  }
  if (moto.server !== undefined) {
    console.log("moto_server");
    for (const route of ROUTES) record(moto.server, route, await measure(moto.server, route));
  }
  const rssAfter = new Map(rss.map(([name, pid]) => [name, rssMb(pid)]));
  await daemon.daemon.stop();
  await noCache.daemon.stop();

  console.log("rotation under load (STS source, fake STS)");
  const sts = await startFakeSts();
  cleanups.push(() => sts.close());
  const rotated = await steadyRotation(sts);
  const first = await firstRotation(sts);

  // Medians of each server's runs, and the median of each round's ratio to the baseline.
  const runs = (route: Route, server: Server) => results.get(`${route.name}\0${server.name}`) ?? [];
  const mid = (route: Route, server: Server, field: keyof Load) => median(runs(route, server).map((load) => load[field]));
  const versus = (route: Route, server: Server, field: "rps" | "p99Us") => {
    const own = runs(route, server);
    const base = runs(route, baseline);
    if (server === moto.server) return own[0]![field] / mid(route, baseline, field);
    return median(own.map((load, i) => load[field] / base[i]![field]));
  };

  const lines: string[] = [];
  lines.push("| Route | Server | req/s | p50 | p99 | CPU/request | req/s vs baseline | p99 vs baseline |");
  lines.push("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |");
  for (const route of ROUTES) {
    for (const server of [baseline, daemon, noCache, ...(moto.server ? [moto.server] : [])]) {
      if (runs(route, server).length === 0) continue;
      const isBase = server === baseline;
      lines.push(
        `| ${route.name} | ${server.name} | ${rate(mid(route, server, "rps"))} | ${us(mid(route, server, "p50Us"))} | ${us(mid(route, server, "p99Us"))} | ` +
          `${mid(route, server, "cpuUs").toFixed(1)} µs | ${isBase ? "1.00x" : ratio(versus(route, server, "rps"))} | ${isBase ? "1.00x" : ratio(versus(route, server, "p99Us"))} |`,
      );
    }
  }
  const [credential, token, leaf] = ROUTES as [Route, Route, Route];
  const failedResponses = [...results.values()].flat().reduce((sum, load) => sum + load.non2xx + load.errors, 0);

  const startupMs = startups.map((s) => s.ms);
  const startupRatio = median(startups.map((s, i) => s.ms / nodeStarts[i]!));
  const idleRss = rss.find(([name]) => name === "daemon")![2];
  const worstStartup = Math.max(...startupMs);
  const early = startups.reduce((sum, s) => sum + s.early, 0);
  const complete = startups.every((s) => s.complete);
  const baselineP99 = mid(credential, baseline, "p99Us");
  const rotationP99Ratio = rotated.rotating.p99Us / baselineP99;
  const firstP99Ratio = first.rotating.p99Us / baselineP99;
  const failed = (rotation: Rotation) => rotation.rotating.non2xx + rotation.rotating.errors;
  const versusMoto = moto.server === undefined ? undefined : mid(credential, daemon, "rps") / runs(credential, moto.server)[0]!.rps;

  const checks: Array<[string, boolean | undefined, string]> = [
    [`credential GET throughput >= ${TARGETS.credentialThroughput}x baseline`, versus(credential, daemon, "rps") >= TARGETS.credentialThroughput, ratio(versus(credential, daemon, "rps"))],
    [`credential GET p99 <= ${TARGETS.credentialP99}x baseline`, versus(credential, daemon, "p99Us") <= TARGETS.credentialP99, ratio(versus(credential, daemon, "p99Us"))],
    [`token PUT throughput >= ${TARGETS.tokenThroughput}x baseline`, versus(token, daemon, "rps") >= TARGETS.tokenThroughput, ratio(versus(token, daemon, "rps"))],
    [`leaf GET throughput >= ${TARGETS.leafThroughput}x baseline`, versus(leaf, daemon, "rps") >= TARGETS.leafThroughput, ratio(versus(leaf, daemon, "rps"))],
    [`credential GET >= ${TARGETS.versusMoto}x moto_server`, versusMoto === undefined ? undefined : versusMoto >= TARGETS.versusMoto, versusMoto === undefined ? `skipped: ${moto.why}` : ratio(versusMoto)],
    [
      `start-up to first credential document < ${TARGETS.startupMs} ms, credentials ready first`,
      worstStartup < TARGETS.startupMs && early === 0 && complete,
      `median ${Math.round(median(startupMs))} ms, worst ${Math.round(worstStartup)} ms of ${STARTUPS}; ${early} non-200 credential answers before it`,
    ],
    [
      `start-up to first credential document <= ${TARGETS.startupVsNode}x \`node -e 0\` (mock source)`,
      startupRatio <= TARGETS.startupVsNode,
      `median ${ratio(startupRatio)}: ${Math.round(median(startupMs))} ms against ${Math.round(median(nodeStarts))} ms`,
    ],
    [`idle RSS of the daemon after start <= ${TARGETS.idleRssMb} MB (mock source)`, idleRss <= TARGETS.idleRssMb, `${idleRss.toFixed(1)} MB`],
    [
      "rotation under load (steady state): no failed response, p99 within target, exactly one STS call",
      failed(rotated) === 0 && rotationP99Ratio <= TARGETS.credentialP99 && rotated.stsCalls === 1 && rotated.keyChanged,
      `${failed(rotated)} failed of ${rate(rotated.rotating.requests)}, p99 ${us(rotated.rotating.p99Us)} (${ratio(rotationP99Ratio)} baseline p99), ` +
        `${rotated.stsCalls} STS call, new key served: ${rotated.keyChanged ? "yes" : "no"}`,
    ],
    [
      "first rotation of a fresh daemon: no failed response, p99 within target, exactly one STS call",
      failed(first) === 0 && firstP99Ratio <= TARGETS.credentialP99 && first.stsCalls === 1 && first.keyChanged,
      `${failed(first)} failed of ${rate(first.rotating.requests)}, p99 ${us(first.rotating.p99Us)} (${ratio(firstP99Ratio)} baseline p99), ` +
        `${first.stsCalls} STS call, new key served: ${first.keyChanged ? "yes" : "no"}`,
    ],
    ["no failed response in any run", failedResponses === 0, `${failedResponses} non-2xx or socket errors`],
  ];

  console.log("");
  console.log(`Machine: ${cpus().length} x ${cpus()[0]?.model.trim()}, Node ${process.version}, ${wrkVersion}${moto.version ? `, moto ${moto.version}` : ""}; ${new Date().toISOString().slice(0, 10)}`);
  console.log(`wrk -t1 -c${CONNECTIONS}, ${WARMUP_S} s warm-up + ${DURATION_S} s per run, ${ROUNDS} rounds (medians; moto_server one run), 127.0.0.1`);
  console.log("");
  for (const line of lines) console.log(line);
  console.log("");
  console.log("| Target | Result | Measured |");
  console.log("| --- | --- | --- |");
  for (const [name, ok, measured] of checks) console.log(`| ${name} | ${ok === undefined ? "skipped" : mark(ok)} | ${measured} |`);
  console.log("");
  const tail = (load: Load) => `p50 ${us(load.p50Us)}, p99 ${us(load.p99Us)}, p99.9 ${us(load.p999Us)}, max ${us(load.maxUs)}`;
  console.log(`Steady-state rotation run: ${rate(rotated.rotating.rps)} req/s, ${tail(rotated.rotating)}; the same daemon without a rotation: ${tail(rotated.calm!)}.`);
  console.log(`First rotation of a fresh daemon (after ${FIRST_ROTATION_WARM_S} s of load): ${rate(first.rotating.rps)} req/s, ${tail(first.rotating)}.`);
  console.log(`RSS after start -> after load: ${rss.map(([name]) => `${name} ${rss.find((r) => r[0] === name)![2].toFixed(1)} -> ${rssAfter.get(name)!.toFixed(1)} MB`).join("; ")}`);
  console.log(`Total ${((Date.now() - began) / 1000).toFixed(0)} s.`);
  clearTimeout(watchdog);
  const missed = checks.filter(([, ok]) => ok === false);
  console.log(missed.length === 0 ? "bench: every target met" : `bench: ${missed.length} target(s) MISSED`);
  process.exitCode = missed.length === 0 ? 0 : 1;
}

function stopAll(): void {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
  for (const cleanup of cleanups) void cleanup();
  rmSync(work, { recursive: true, force: true });
}

for (const [signal, code] of [["SIGINT", 130], ["SIGTERM", 143]] as const) {
  process.once(signal, () => {
    stopAll();
    process.exit(code);
  });
}

main()
  .catch((error: unknown) => {
    console.error(`bench: ${error instanceof Error ? error.stack : String(error)}`);
    process.exitCode = 1;
  })
  .finally(stopAll);
