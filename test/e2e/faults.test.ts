import assert from "node:assert/strict";
import { join } from "node:path";
import { spawn } from "node:child_process";
import { describe, test } from "node:test";
import { cleanClientEnv, run, startDaemon, type DaemonProcess } from "../support/daemon";

// Real clients through each fault, against the built daemon on loopback: what they observe, and how
// long they take, is what docs/faults.md reports.

const ROOT = join(__dirname, "..", "..", "..");

/** JS v3's instance-metadata provider as shipped; prints the key it got or its error, and the time taken. */
const JS_V3 = `
const { fromInstanceMetadata } = require("@aws-sdk/credential-providers");
const started = Date.now();
fromInstanceMetadata({ timeout: 1000, maxRetries: Number(process.argv[1] ?? 0) })()
  .then((c) => console.log(JSON.stringify({ ok: true, accessKeyId: c.accessKeyId, ms: Date.now() - started })))
  .catch((e) => console.log(JSON.stringify({ ok: false, error: String(e.message).split("\\n")[0], ms: Date.now() - started })));
`;

/** boto3 as shipped (the instance-metadata provider of its default chain); the same report. */
const BOTO3 = `
import json, time, boto3
started = time.monotonic()
try:
    frozen = boto3.session.Session().get_credentials().get_frozen_credentials()
    print(json.dumps({"ok": True, "accessKeyId": frozen.access_key, "ms": round((time.monotonic() - started) * 1000)}))
except Exception as e:
    print(json.dumps({"ok": False, "error": str(e), "ms": round((time.monotonic() - started) * 1000)}))
`;

/** One JS v3 provider chain (memoized, as an SDK client holds it), asked twice: before and after the test's "next" line. */
const JS_V3_TWICE = `
const { fromNodeProviderChain } = require("@aws-sdk/credential-providers");
const provider = fromNodeProviderChain();
const report = (c) => console.log(JSON.stringify({ accessKeyId: c.accessKeyId, expiration: c.expiration.toISOString() }));
provider().then(report).then(() => process.stdin.once("data", () => provider().then(report).then(() => process.exit(0))));
`;

/** One boto3 session's credentials, asked twice the same way. */
const BOTO3_TWICE = `
import json, sys, boto3
credentials = boto3.session.Session().get_credentials()
print(json.dumps({"accessKeyId": credentials.get_frozen_credentials().access_key}), flush=True)
sys.stdin.readline()
print(json.dumps({"accessKeyId": credentials.get_frozen_credentials().access_key}), flush=True)
`;

/** Runs a two-call client: its first answer, then (after `between`) its second. */
async function twice(command: string[], url: string, between: () => Promise<void>): Promise<Array<{ accessKeyId: string; expiration?: string }>> {
  const env = await cleanClientEnv(url);
  const child = spawn(command[0]!, command.slice(1), { env, cwd: ROOT, stdio: ["pipe", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => (out += chunk));
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (err += chunk));
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  const deadline = Date.now() + 20_000;
  while (!out.includes("\n") && Date.now() < deadline && child.exitCode === null) await new Promise((resolve) => setTimeout(resolve, 20));
  await between();
  child.stdin!.write("next\n");
  const code = await exited;
  assert.equal(code, 0, err);
  return out.trim().split("\n").map((line) => JSON.parse(line));
}

interface Report {
  readonly ok: boolean;
  readonly accessKeyId?: string;
  readonly error?: string;
  readonly ms: number;
}

async function client(kind: "js-v3" | "boto3", url: string, env: NodeJS.ProcessEnv = {}, maxRetries = 0): Promise<Report> {
  const clientEnv = await cleanClientEnv(url, env);
  const result =
    kind === "js-v3"
      ? await run(process.execPath, ["-e", JS_V3, String(maxRetries)], clientEnv, 30_000, ROOT)
      : await run("python3", ["-c", BOTO3], clientEnv);
  assert.equal(result.code, 0, result.stderr);
  return JSON.parse(result.stdout.trim().split("\n").at(-1)!);
}

async function daemonWith(args: string[]): Promise<DaemonProcess & { admin: string }> {
  const daemon = await startDaemon(["--admin-port", "0", ...args]);
  const admin = String(daemon.logs.find((line) => line.event === "admin-listening")!.url);
  return Object.assign(daemon, { admin });
}

async function faultList(admin: string): Promise<Array<{ fired: number }>> {
  return (await fetch(`${admin}/admin/faults`)).json() as Promise<Array<{ fired: number }>>;
}

describe("real clients through the faults", () => {
  test("JS v3 and boto3 retry a 500 on the credential path and succeed once the fault is spent", async () => {
    const daemon = await daemonWith(["--fault", "status=500,path=/latest/meta-data/iam/security-credentials/*,count=1"]);
    try {
      const js = await client("js-v3", daemon.url, {}, 2);
      assert.equal(js.ok, true, js.error);
      assert.equal((await faultList(daemon.admin))[0]!.fired, 1, "JS v3 met the 500 and retried");
      await fetch(`${daemon.admin}/admin/faults`, { method: "POST", body: JSON.stringify({ status: 500, path: "/latest/meta-data/iam/security-credentials/*", count: 1 }) });
      const boto = await client("boto3", daemon.url, { AWS_METADATA_SERVICE_NUM_ATTEMPTS: "2" });
      assert.equal(boto.ok, true, boto.error);
      assert.equal((await faultList(daemon.admin))[1]!.fired, 1, "boto3 met the 500 and retried");
    } finally {
      await daemon.stop();
    }
  });

  test("hops 2 over hop limit 1: JS v3 with IMDSv1 disabled fails after its timeout; boto3 falls back to IMDSv1", async () => {
    const daemon = await daemonWith(["--hops", "2"]);
    try {
      const js = await client("js-v3", daemon.url, { AWS_EC2_METADATA_V1_DISABLED: "true" });
      assert.equal(js.ok, false);
      const boto = await client("boto3", daemon.url);
      assert.equal(boto.ok, true, boto.error);
      const jsV1 = await client("js-v3", daemon.url);
      assert.equal(jsV1.ok, true, jsV1.error);
      // Generous bounds: each waits out its 1 s token timeout, and none waits for ever.
      for (const report of [js, boto, jsV1]) assert.ok(report.ms >= 900 && report.ms < 10_000, JSON.stringify(report));
      console.log(JSON.stringify({ hopLimit: { jsV3V1Disabled: js, boto3: boto, jsV3: jsV1 } }));
    } finally {
      await daemon.stop();
    }
  });

  test("already-expired credentials: JS v3 and boto3 keep the set, extended, on their next call; a new client gets the fresh set", async () => {
    const daemon = await daemonWith([]);
    try {
      const expire = () => fetch(`${daemon.admin}/admin/credentials/expire`, { method: "POST", body: "{}" });
      const rotate = async () => {
        await fetch(`${daemon.admin}/admin/credentials/rotate`, { method: "POST" });
      };
      assert.equal((await expire()).status, 200);
      const [jsFirst, jsNext] = await twice([process.execPath, "-e", JS_V3_TWICE], daemon.url, rotate);
      // JS v3's static stability: an expired instance-profile set is extended minutes into the future, not refused.
      assert.ok(Date.parse(jsFirst!.expiration!) > Date.now(), JSON.stringify(jsFirst));
      assert.equal(jsNext!.accessKeyId, jsFirst!.accessKeyId, "the next call keeps the extended set");
      const fresh = await client("js-v3", daemon.url);
      assert.notEqual(fresh.accessKeyId, jsFirst!.accessKeyId, "a new client reads the rotated set");

      assert.equal((await expire()).status, 200);
      const [botoFirst, botoNext] = await twice(["python3", "-c", BOTO3_TWICE], daemon.url, rotate);
      assert.equal(botoNext!.accessKeyId, botoFirst!.accessKeyId, "botocore extends it by 12 to 20 minutes and keeps it");
      const freshBoto = await client("boto3", daemon.url);
      assert.notEqual(freshBoto.accessKeyId, botoFirst!.accessKeyId);
      console.log(JSON.stringify({ expired: { jsFirst, jsNext, botoFirst, botoNext } }));
    } finally {
      await daemon.stop();
    }
  });
});
