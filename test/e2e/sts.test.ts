import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { createStsSource } from "../../src/credentials/sts";
import { CLI, cleanClientEnv, run, startDaemon, type DaemonProcess } from "../support/daemon";
import { requireMoto, startMoto, type Moto } from "../support/moto";
import { tempDir } from "../support/tmp";

const ACCOUNT = "123456789012";
const SOURCE_ENV = { AWS_ACCESS_KEY_ID: "testing", AWS_SECRET_ACCESS_KEY: "testing" };

const BOTO3_CALLER = `
import boto3, sys
session = boto3.session.Session()
print(session.get_credentials().method)
print(session.client("sts", endpoint_url=sys.argv[1], region_name="us-east-1").get_caller_identity()["Arn"])
`;

function adminUrl(daemon: DaemonProcess): string {
  return String(daemon.logs.find((line) => line.event === "admin-listening")!.url);
}

async function credentialsOf(daemon: DaemonProcess, role: string) {
  const token = await (
    await fetch(`${daemon.url}/latest/api/token`, { method: "PUT", headers: { "X-aws-ec2-metadata-token-ttl-seconds": "60" } })
  ).text();
  const response = await fetch(`${daemon.url}/latest/meta-data/iam/security-credentials/${role}`, {
    headers: { "X-aws-ec2-metadata-token": token },
  });
  return { status: response.status, text: await response.text() };
}

describe("the STS source against moto_server as a real STS", () => {
  let moto: Moto | string | undefined;
  before(async () => (moto = await startMoto()));
  after(async () => typeof moto === "object" && moto.stop());

  test("AssumeRole: the AWS CLI and boto3 get the assumed role's identity with credentials from the emulator", async (t) => {
    if (!requireMoto(moto, t)) return;
    const daemon = await startDaemon(
      ["--role-arn", `arn:aws:iam::${ACCOUNT}:role/e2e-role`, "--role-session-name", "e2e-session",
       "--sts-endpoint", moto.url, "--admin-port", "0"],
      SOURCE_ENV,
    );
    try {
      const expected = `arn:aws:sts::${ACCOUNT}:assumed-role/e2e-role/e2e-session`;
      const env = await cleanClientEnv(daemon.url, { AWS_DEFAULT_REGION: "us-east-1" });
      const cli = await run("aws", ["sts", "get-caller-identity", "--endpoint-url", moto.url, "--output", "json"], env);
      assert.equal(cli.code, 0, cli.stderr);
      assert.equal(JSON.parse(cli.stdout).Arn, expected);
      const boto3 = await run("python3", ["-c", BOTO3_CALLER, moto.url], env);
      assert.equal(boto3.code, 0, boto3.stderr);
      assert.deepEqual(boto3.stdout.trim().split("\n"), ["iam-role", expected]);

      const health = await fetch(`${adminUrl(daemon)}/healthz`);
      assert.equal(health.status, 200);
      assert.equal(((await health.json()) as { source: string }).source, "sts");
      const metrics = await (await fetch(`${adminUrl(daemon)}/metrics`)).text();
      assert.match(metrics, /^imds_emulator_credential_rotations_total\{source="sts"\} 1$/m);
      const extended = JSON.parse((await credentialsOf(daemon, "e2e-role")).text);
      assert.equal(extended.Code, "Success");
    } finally {
      await daemon.stop();
    }
  });

  test("AssumeRoleWithWebIdentity: the token file is read at each refresh, no source credentials needed", async (t) => {
    if (!requireMoto(moto, t)) return;
    const dir = tempDir("imds-oidc-");
    const tokenFile = join(dir, "token");
    await writeFile(tokenFile, "header.payload.signature\n");
    const daemon = await startDaemon([
      "--role-arn", `arn:aws:iam::${ACCOUNT}:role/ci-role`, "--role-session-name", "ci-run",
      "--web-identity-token-file", tokenFile, "--sts-endpoint", moto.url,
    ]);
    try {
      const env = await cleanClientEnv(daemon.url);
      const boto3 = await run("python3", ["-c", BOTO3_CALLER, moto.url], env);
      assert.equal(boto3.code, 0, boto3.stderr);
      assert.deepEqual(boto3.stdout.trim().split("\n"), ["iam-role", `arn:aws:sts::${ACCOUNT}:assumed-role/ci-role/ci-run`]);
      assert.equal(daemon.logs.find((line) => line.event === "started")?.source, "web-identity");
    } finally {
      await daemon.stop();
    }
  });

  test("real clock: with --duration-seconds 900 --rotate-before 890 the key changes within about 15 s, never expired", async (t) => {
    if (!requireMoto(moto, t)) return;
    const daemon = await startDaemon(
      ["--role-arn", `arn:aws:iam::${ACCOUNT}:role/fast-role`, "--sts-endpoint", moto.url,
       "--duration-seconds", "900", "--rotate-before", "890"],
      SOURCE_ENV,
    );
    try {
      const seen = new Map<string, string>();
      const started = Date.now();
      let first: string | undefined;
      while (Date.now() - started < 20_000) {
        const { status, text } = await credentialsOf(daemon, "fast-role");
        assert.equal(status, 200);
        const document = JSON.parse(text);
        assert.ok(Date.parse(document.Expiration) > Date.now(), "never expired");
        const lastUpdated = seen.get(document.AccessKeyId);
        if (lastUpdated !== undefined) assert.equal(document.LastUpdated, lastUpdated, "LastUpdated moves only with the key");
        seen.set(document.AccessKeyId, document.LastUpdated);
        first ??= document.AccessKeyId;
        if (document.AccessKeyId !== first) break;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      const elapsed = (Date.now() - started) / 1000;
      assert.equal(seen.size, 2, `the key changed once within ${elapsed} s`);
      assert.ok(elapsed < 16, `rotated after ${elapsed} s`);
      t.diagnostic(`key rotated after ${elapsed.toFixed(1)} s`);
    } finally {
      await daemon.stop();
    }
  });

  test("AssumeRole returns credentials that moto accepts as the assumed role", async (t) => {
    if (!requireMoto(moto, t)) return;
    const motoUrl = moto.url;
    const source = createStsSource({
      roleArn: `arn:aws:iam::${ACCOUNT}:role/test-role`,
      roleSessionName: "imds-emulator-test",
      durationSeconds: 900,
      region: "us-east-1",
      endpoint: motoUrl,
      requestTimeoutMs: 5000,
    }, {
      sourceCredentials: async () => ({ accessKeyId: "testing", secretAccessKey: "testing", sessionToken: "testing" }),
    });

    const credentials = await source.fetch();

    assert.match(credentials.accessKeyId, /^ASIA/);
    assert.ok(credentials.expiration > Date.now());
    assert.equal(credentials.accountId, "123456789012");
    const { accessKeyId, secretAccessKey, sessionToken } = credentials;
    const client = new STSClient({
      region: "us-east-1",
      endpoint: motoUrl,
      maxAttempts: 1,
      credentials: { accessKeyId, secretAccessKey, sessionToken },
    });
    try {
      const identity = await client.send(new GetCallerIdentityCommand({}));
      assert.equal(identity.Arn, "arn:aws:sts::123456789012:assumed-role/test-role/imds-emulator-test");
    } finally {
      client.destroy();
    }
  });
});

describe("the daemon never asks an instance metadata service for its own source credentials", () => {
  test("no source credentials: the start stops with exit code 2 and one line, the IMDS trap sees nothing", async () => {
    const trapped: string[] = [];
    const trap = createServer((req, res) => {
      trapped.push(`${req.method} ${req.url}`);
      res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => trap.listen(0, "127.0.0.1", resolve));
    const home = tempDir("imds-nohome-");
    try {
      const result = await run(
        process.execPath,
        [CLI, "--port", "0", "--role-arn", `arn:aws:iam::${ACCOUNT}:role/lonely`, "--sts-endpoint", "http://127.0.0.1:9"],
        {
          PATH: process.env.PATH,
          HOME: home,
          AWS_CONFIG_FILE: join(home, "none"),
          AWS_SHARED_CREDENTIALS_FILE: join(home, "none"),
          AWS_EC2_METADATA_SERVICE_ENDPOINT: `http://127.0.0.1:${(trap.address() as AddressInfo).port}`,
          AWS_DEFAULTS_MODE: "auto",
        },
      );
      assert.equal(result.code, 2, result.stderr);
      const lines = result.stderr.trim().split("\n");
      const last = lines.at(-1)!;
      assert.match(last, /^imds-emulator: the first STS call failed \(invalid-config\): AssumeRole .*no source credentials found.*--wait-for-credentials/);
      assert.equal(lines.filter((line) => /credentials-unavailable|no source credentials/.test(line)).length, 1, "said once, not once a retry");
      assert.deepEqual(trapped, []);
    } finally {
      trap.close();
    }
  });

  test("--wait-for-credentials: nothing is served, health says STS has not answered, the IMDS trap sees nothing", async () => {
    const trapped: string[] = [];
    const trap = createServer((req, res) => {
      trapped.push(`${req.method} ${req.url}`);
      res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => trap.listen(0, "127.0.0.1", resolve));
    const trapUrl = `http://127.0.0.1:${(trap.address() as AddressInfo).port}`;
    const home = tempDir("imds-nohome-");
    const daemon = await startDaemon(
      ["--role-arn", `arn:aws:iam::${ACCOUNT}:role/lonely`, "--sts-endpoint", "http://127.0.0.1:9", "--admin-port", "0", "--wait-for-credentials"],
      {
        HOME: home,
        AWS_CONFIG_FILE: join(home, "none"),
        AWS_SHARED_CREDENTIALS_FILE: join(home, "none"),
        AWS_EC2_METADATA_SERVICE_ENDPOINT: trapUrl,
        AWS_DEFAULTS_MODE: "auto",
      },
    );
    try {
      const health = await fetch(`${adminUrl(daemon)}/healthz`);
      assert.equal(health.status, 503);
      const body = (await health.json()) as { reason: string };
      assert.match(body.reason, /has not answered since start \(invalid-config: .*no source credentials found/);
      const credentials = await credentialsOf(daemon, "lonely");
      assert.equal(credentials.status, 503);
      const failure = daemon.logs.find((line) => line.event === "credentials-unavailable");
      assert.equal(failure?.failureClass, "invalid-config");
      assert.deepEqual(trapped, []);
    } finally {
      await daemon.stop();
      trap.close();
    }
  });
});
