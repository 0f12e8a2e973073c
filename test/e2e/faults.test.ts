import assert from "node:assert/strict";
import { join } from "node:path";
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
});
