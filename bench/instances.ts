/**
 * `npm run bench` (second part): the cost of many instances on the request path. Two built daemons on
 * 127.0.0.1, mock source: one instance for every caller, and 100 instances each with its own caller
 * address (127.0.1.1 to 127.0.1.100) and role. The same load drives both: 32 keep-alive connections
 * spread over the 100 source addresses, each reading its own credential document with its own token,
 * for the same time; rounds alternate the order and the ratio is the median of the rounds' ratios.
 * The load generator is in this process (wrk cannot choose source addresses); both daemons get the
 * same one, so the ratio measures the daemons. Target: at least 0.9.
 *
 * Run: npm run bench [-- --duration 5 --rounds 3]
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { Agent, request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startDaemon, type DaemonProcess } from "../test/support/daemon";

function flag(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  const value = at === -1 ? fallback : Number(process.argv[at + 1]);
  if (!(value > 0)) throw new Error(`--${name} needs a positive number`);
  return value;
}

const DURATION_MS = flag("duration", 5) * 1000;
const ROUNDS = flag("rounds", 3);
const INSTANCES = 100;
const CONNECTIONS = 32;
const TARGET = 0.9;

const callerAddress = (i: number) => `127.0.1.${(i % INSTANCES) + 1}`;

function exchange(agent: Agent, port: number, from: string, method: string, path: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, method, path, headers, agent, localAddress: from }, (res) => {
      let body = "";
      res.setEncoding("utf8").on("data", (chunk: string) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

/** Credential GETs completed in the window by CONNECTIONS keep-alive loops from the 100 addresses. */
async function load(port: number, roleOf: (from: string) => string): Promise<number> {
  const loops = Array.from({ length: CONNECTIONS }, async (_, i) => {
    const from = callerAddress(i);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const token = await exchange(agent, port, from, "PUT", "/latest/api/token", { "X-aws-ec2-metadata-token-ttl-seconds": "21600" });
    if (token.status !== 200) throw new Error(`token PUT from ${from}: ${token.status} ${token.body}`);
    const path = `/latest/meta-data/iam/security-credentials/${roleOf(from)}`;
    const first = await exchange(agent, port, from, "GET", path, { "X-aws-ec2-metadata-token": token.body });
    if (first.status !== 200) throw new Error(`credential GET from ${from}: ${first.status} ${first.body}`);
    let done = 0;
    const end = Date.now() + DURATION_MS;
    while (Date.now() < end) {
      await exchange(agent, port, from, "GET", path, { "X-aws-ec2-metadata-token": token.body });
      done += 1;
    }
    agent.destroy();
    return done;
  });
  return (await Promise.all(loops)).reduce((sum, count) => sum + count, 0);
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), "imds-bench-instances-"));
  const config = join(work, "instances.yaml");
  const entries = Array.from({ length: INSTANCES }, (_, i) => `  - {name: i${i + 1}, callers: [${callerAddress(i)}], role-name: role-${i + 1}}`);
  writeFileSync(config, ["instances:", ...entries, ""].join("\n"));
  const daemons: DaemonProcess[] = [];
  try {
    const single = await startDaemon([]);
    daemons.push(single);
    const many = await startDaemon(["--config", config]);
    daemons.push(many);
    const manyRole = (from: string) => `role-${Number(from.split(".")[3])}`;
    const ratios: number[] = [];
    const rows: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? ["single", "many"] : ["many", "single"];
      const counts: Record<string, number> = {};
      for (const which of order) {
        counts[which] = which === "single" ? await load(single.port, () => "imds-emulator") : await load(many.port, manyRole);
      }
      ratios.push(counts.many! / counts.single!);
      rows.push(`round ${round + 1}: one instance ${(counts.single! / (DURATION_MS / 1000)).toFixed(0)} req/s, ${INSTANCES} instances ${(counts.many! / (DURATION_MS / 1000)).toFixed(0)} req/s`);
    }
    const ratio = median(ratios);
    console.log(rows.join("\n"));
    console.log(`credential GET with ${INSTANCES} instances and ${INSTANCES} callers: ${ratio.toFixed(2)}x one instance (target >= ${TARGET}) ${ratio >= TARGET ? "ok" : "MISSED"}`);
    if (ratio < TARGET) process.exitCode = 1;
  } finally {
    await Promise.all(daemons.map((daemon) => daemon.stop()));
    rmSync(work, { recursive: true, force: true });
  }
}

void main();
