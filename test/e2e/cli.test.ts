import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import { fromInstanceMetadata } from "@aws-sdk/credential-providers";
import { OPTIONS } from "../../src/config/schema";
import { CLI, cleanClientEnv, run, startDaemon, type DaemonProcess } from "../support/daemon";
import { startFakeSts, stsError, success, type FakeSts } from "../support/fake-sts";

const BOTOCORE_SCRIPT = `
import json, botocore.session
session = botocore.session.get_session()
credentials = session.get_credentials()
frozen = credentials.get_frozen_credentials()
print(json.dumps({"method": credentials.method, "accessKey": frozen.access_key, "hasToken": bool(frozen.token)}))
`;

describe("the built daemon serves unmodified SDK clients", () => {
  let daemon: DaemonProcess;
  before(async () => {
    daemon = await startDaemon(["--role-name", "e2e-role", "--http-tokens", "required"]);
  });
  after(async () => {
    assert.equal(await daemon.stop(), 0, "SIGTERM exits 0");
  });

  test("AWS SDK for JavaScript v3 fromInstanceMetadata() gets the credentials", async () => {
    Object.assign(process.env, await cleanClientEnv(daemon.url));
    const credentials = await fromInstanceMetadata({ timeout: 1000, maxRetries: 0 })();
    assert.match(credentials.accessKeyId, /^ASIA[A-Z0-9]{16}$/);
    assert.ok(credentials.sessionToken);
    assert.ok(credentials.expiration!.getTime() - Date.now() > 30 * 60_000);
  });

  test("python3 botocore finds them through its instance metadata provider", async (context) => {
    const result = await run("python3", ["-c", BOTOCORE_SCRIPT], await cleanClientEnv(daemon.url));
    if (result.code !== 0 && /No module named 'botocore'/.test(result.stderr) && process.env.CI !== "true") {
      context.skip("botocore is not installed: pip install botocore");
      return;
    }
    assert.equal(result.code, 0, result.stderr);
    const output = JSON.parse(result.stdout);
    assert.equal(output.method, "iam-role");
    assert.match(output.accessKey, /^ASIA[A-Z0-9]{16}$/);
    assert.equal(output.hasToken, true);
  });

  test("the log has one JSON line an event and no secret", async () => {
    const started = daemon.logs.find((line) => line.event === "started");
    assert.equal(started?.role, "e2e-role");
    const rotated = daemon.logs.find((line) => line.event === "credentials-rotated");
    assert.match(String(rotated?.keyIdSuffix), /^[A-Z0-9]{4}$/);
    const text = JSON.stringify(daemon.logs);
    assert.doesNotMatch(text, /ASIA[A-Z0-9]{16}|IQoJb3JpZ2lu/);
  });
});

describe("the command line", () => {
  for (const [args, pattern] of [
    [["--port", "abc"], /^imds-emulator: --port: expected an integer from 0 to 65535, got "abc"$/],
    [["--http-tokens", "maybe"], /^imds-emulator: .*http-tokens.*maybe/],
    [["--duration-seconds", "10"], /^imds-emulator: --duration-seconds: expected an integer from 900 to 43200, got "10"$/],
    [["--no-such-option"], /^imds-emulator: Unknown argument/],
    [["--htp-tokens", "required"], /^imds-emulator: Unknown argument: htp-tokens; did you mean --http-tokens for --htp-tokens\?$/],
    [["--config", "/nonexistent/x.yaml"], /^imds-emulator: --config: cannot read \/nonexistent\/x\.yaml: ENOENT$/],
    [["--user-data-file", "/nonexistent/ud"], /^imds-emulator: --user-data-file: cannot read \/nonexistent\/ud: ENOENT$/],
  ] as const) {
    test(`${args.join(" ")} prints one clear line and exits 2`, async () => {
      const result = await run(process.execPath, [CLI, "--port", "0", ...args], { PATH: process.env.PATH });
      assert.equal(result.code, 2);
      const lines = result.stderr.trim().split("\n");
      assert.equal(lines.length, 1, result.stderr);
      assert.match(lines[0]!, pattern);
      assert.doesNotMatch(result.stderr, /\n\s+at /);
    });
  }

  test("a misspelt IMDS_EMULATOR_* variable is logged as a warning naming the option meant", async () => {
    const daemon = await startDaemon([], { IMDS_EMULATOR_HTTP_TOKEN: "required" });
    try {
      const warning = daemon.logs.find((line) => line.event === "config-warning");
      assert.match(String(warning?.message), /IMDS_EMULATOR_HTTP_TOKEN is not an option and is ignored; did you mean IMDS_EMULATOR_HTTP_TOKENS\?/);
    } finally {
      await daemon.stop();
    }
  });

  test("--help documents every option with its default", async () => {
    const result = await run(process.execPath, [CLI, "--help"], { PATH: process.env.PATH, COLUMNS: "200" });
    assert.equal(result.code, 0);
    for (const option of OPTIONS) {
      assert.match(result.stdout, new RegExp(`--${option.name}\\b`), option.name);
      if (option.default !== undefined) assert.ok(result.stdout.includes(`[default: ${option.default}]`), option.name);
    }
  });
});

describe("the start: ports first, configuration failures stop it", () => {
  let sts: FakeSts;
  before(async () => (sts = await startFakeSts()));
  after(() => sts.close());
  const stsArgs = () => ["--role-arn", "arn:aws:iam::123456789012:role/app", "--sts-endpoint", sts.url];
  const sourceEnv = { PATH: process.env.PATH, AWS_ACCESS_KEY_ID: "AKIDSOURCE", AWS_SECRET_ACCESS_KEY: "source-secret" };

  test("a port in use: exit 2 with one line that says so, and no AssumeRole spent", async () => {
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, "127.0.0.1", resolve));
    const { port } = busy.address() as AddressInfo;
    const calls = sts.calls.length;
    try {
      const result = await run(process.execPath, [CLI, "--port", String(port), ...stsArgs()], sourceEnv);
      assert.equal(result.code, 2, result.stderr);
      assert.equal(result.stderr.trim().split("\n").at(-1), `imds-emulator: port ${port} on 127.0.0.1 is in use (another imds-emulator?); stop it, or choose another port`);
      assert.equal(sts.calls.length, calls, "no STS call before the port is bound");
    } finally {
      busy.close();
    }
  });

  test("access denied on the first call: exit 2 with one line; a transient failure is retried instead", async () => {
    sts.respondWith(stsError("AccessDenied", 403, "not authorized to perform sts:AssumeRole"));
    const denied = await run(process.execPath, [CLI, "--port", "0", ...stsArgs()], sourceEnv);
    assert.equal(denied.code, 2, denied.stderr);
    assert.match(denied.stderr.trim().split("\n").at(-1)!, /^imds-emulator: the first STS call failed \(access-denied\): AssumeRole .*not authorized/);
    assert.doesNotMatch(denied.stderr, /source-secret|\n\s+at /);

    sts.respondWith(stsError("ServiceUnavailable", 503));
    const daemon = await startDaemon([...stsArgs()], sourceEnv);
    try {
      assert.equal(daemon.logs.find((line) => line.event === "credentials-unavailable")?.failureClass, "server-error");
      const started = daemon.logs.find((line) => line.event === "started")!;
      assert.equal(started.expiration, undefined, "no credentials yet");
    } finally {
      await daemon.stop();
      sts.respondWith(success());
    }
  });

  test("--log-level debug logs each request once answered, never the token", async () => {
    const daemon = await startDaemon(["--log-level", "debug"]);
    try {
      const token = await (await fetch(`${daemon.url}/latest/api/token`, { method: "PUT", headers: { "X-aws-ec2-metadata-token-ttl-seconds": "60" } })).text();
      await fetch(`${daemon.url}/latest/meta-data/instance-id`, { headers: { "X-aws-ec2-metadata-token": token } });
      await new Promise((resolve) => setTimeout(resolve, 100));
      const requests = daemon.logs.filter((line) => line.event === "request");
      assert.deepEqual(requests.map((line) => [line.method, line.pathClass, line.status, line.token]), [
        ["PUT", "token", 200, false],
        ["GET", "metadata", 200, true],
      ]);
      assert.ok(requests.every((line) => line.caller === "127.0.0.1" && typeof line.latencyMs === "number"));
      assert.ok(!JSON.stringify(daemon.logs).includes(token));
    } finally {
      await daemon.stop();
    }
  });
});

/** Runs the CLI under a pseudo-terminal (util-linux `script`), as a person at a terminal would, until `done` sees enough. */
function underTerminal(args: readonly string[], done: (output: string) => boolean): Promise<string> {
  const command = [process.execPath, CLI, ...args].map((word) => `'${word}'`).join(" ");
  const child = spawn("script", ["-q", "-e", "-c", command, "/dev/null"], { env: { PATH: process.env.PATH, TERM: "xterm" }, detached: true });
  let output = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => finish(new Error(`no banner within 15 s: ${output}`)), 15_000);
    const finish = (error?: Error) => {
      clearTimeout(timer);
      // The whole session: script, and the daemon on its terminal.
      try {
        process.kill(-child.pid!, "SIGTERM");
      } catch {}
      if (error === undefined) resolve(output);
      else reject(error);
    };
    child.once("error", finish);
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      output += chunk;
      if (done(output)) finish();
    });
  });
}

describe("at a terminal", () => {
  test("lines for people and a ready banner with the line to paste, which works", async (t) => {
    if (spawnSync("script", ["--version"]).status !== 0) {
      if (process.env.CI === "true") assert.fail("util-linux script is missing");
      return t.skip("util-linux script is not installed");
    }
    const output = await underTerminal(["--port", "0", "--admin-port", "0"], (text) => /export AWS_EC2_METADATA_SERVICE_ENDPOINT=\S+/.test(text));
    // Colour codes shown as <ESC> to match them plainly.
    const text = output.replace(/\r/g, "").replaceAll("\x1b", "<ESC>");
    assert.match(text, /^\d\d:\d\d:\d\d <ESC>\[36mINFO <ESC>\[0m listening {2}address=127\.0\.0\.1 port=\d+ url=http:\/\/127\.0\.0\.1:\d+$/m);
    assert.match(text, /^\d\d:\d\d:\d\d <ESC>\[36mINFO <ESC>\[0m credentials-rotated {2}source=mock keyIdSuffix=[A-Z0-9]{4} expiration=/m);
    assert.doesNotMatch(text, /\{"time":/, "no JSON at a terminal");
    assert.match(text, /imds-emulator is ready/);
    assert.match(text, /^ {2}credentials role imds-emulator, mock credentials minted here/m);
    assert.match(text, /^ {2}expires {5}\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \(in 60 min/m);
    assert.match(text, /^ {2}admin {7}http:\/\/127\.0\.0\.1:\d+/m);
    const endpoint = /export AWS_EC2_METADATA_SERVICE_ENDPOINT=(http:\/\/127\.0\.0\.1:\d+)/.exec(text)![1]!;
    assert.match(text, new RegExp(`^ {2}metadata {4}${endpoint.replace(/[.:/]/g, "\\$&")}$`, "m"));
    assert.doesNotMatch(text, /ASIA[A-Z0-9]{16}/);
  });

  test("--log-format json keeps JSON at a terminal", async (t) => {
    if (spawnSync("script", ["--version"]).status !== 0) return t.skip("util-linux script is not installed");
    const output = await underTerminal(["--port", "0", "--log-format", "json"], (text) => text.includes('"event":"started"'));
    const started = output.split(/\r?\n/).find((line) => line.includes('"event":"started"'))!;
    assert.match(JSON.parse(started).endpoint, /^http:\/\/127\.0\.0\.1:\d+$/);
  });
});
