import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { fromInstanceMetadata } from "@aws-sdk/credential-providers";
import { OPTIONS } from "../../src/config/schema";
import { CLI, cleanClientEnv, run, startDaemon, type DaemonProcess } from "../support/daemon";

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
