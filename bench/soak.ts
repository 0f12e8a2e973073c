/**
 * Soak: a million IMDSv2 token PUTs against the built daemon on loopback, then its RSS compared with
 * the start. Tokens are stateless, so memory must stay flat. Bounded in count and time; not part of
 * `npm test`. Run: npm run soak [-- --puts 1000000]
 */
import { readFileSync } from "node:fs";
import { Agent, request } from "node:http";
import { startDaemon } from "../test/support/daemon";

const putsFlag = process.argv.indexOf("--puts");
const PUTS = putsFlag === -1 ? 1_000_000 : Number(process.argv[putsFlag + 1]);
const CONCURRENCY = 32;
const TIME_LIMIT_MS = 10 * 60_000;
const RSS_BUDGET_MB = 50;

function rssMb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, "utf8").split("\n").find((l) => l.startsWith("VmRSS:"))!;
  return Number(line.split(/\s+/)[1]) / 1024;
}

function put(agent: Agent, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      { agent, host: "127.0.0.1", port, method: "PUT", path: "/latest/api/token", headers: { "X-aws-ec2-metadata-token-ttl-seconds": "21600" } },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
      },
    );
    req.on("error", reject);
    req.end();
  });
}

async function main(): Promise<void> {
  const daemon = await startDaemon([]);
  const pid = daemon.child.pid!;
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  try {
    for (let i = 0; i < 10_000; i++) await put(agent, daemon.port);
    const startRss = rssMb(pid);
    const started = Date.now();
    let sent = 0;
    let refused = 0;
    let peakRss = startRss;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (sent < PUTS && Date.now() - started < TIME_LIMIT_MS) {
          sent += 1;
          if ((await put(agent, daemon.port)) !== 200) refused += 1;
          if (sent % 100_000 === 0) peakRss = Math.max(peakRss, rssMb(pid));
        }
      }),
    );
    const seconds = (Date.now() - started) / 1000;
    const endRss = rssMb(pid);
    const growth = endRss - startRss;
    console.log(`token PUTs:   ${sent} in ${seconds.toFixed(1)} s (${Math.round(sent / seconds)} req/s), ${refused} not 200`);
    console.log(`daemon RSS:   start ${startRss.toFixed(1)} MB, peak ${Math.max(peakRss, endRss).toFixed(1)} MB, end ${endRss.toFixed(1)} MB, growth ${growth.toFixed(1)} MB (budget ${RSS_BUDGET_MB} MB)`);
    const ok = sent === PUTS && refused === 0 && growth <= RSS_BUDGET_MB;
    console.log(ok ? "soak: PASS" : "soak: FAIL");
    process.exitCode = ok ? 0 : 1;
  } finally {
    agent.destroy();
    await daemon.stop();
  }
}

void main();
