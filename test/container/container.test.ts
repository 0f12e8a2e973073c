import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fromContainerMetadata } from "@aws-sdk/credential-providers";
import { ConfigError, resolveConfig } from "../../src/config/config";
import { startEmulator, type RunningEmulator } from "../../src/index";
import { run } from "../support/daemon";
import { tempDir } from "../support/tmp";

const PATH = "/container-credentials";
const AUTH = "container-auth-0123456789";

const BOTOCORE_CONTAINER = `
import json, botocore.session
credentials = botocore.session.get_session().get_credentials()
print(json.dumps({"method": credentials.method, "key": credentials.get_frozen_credentials().access_key}))
`;

describe("the container credentials endpoint", () => {
  let imds: RunningEmulator;
  before(async () => {
    imds = await startEmulator({ containerCredentialsPath: PATH, containerAuthToken: AUTH });
  });
  after(() => imds.stop());

  test("JS v3 fromContainerMetadata() reads it through AWS_CONTAINER_CREDENTIALS_FULL_URI", async () => {
    process.env.AWS_CONTAINER_CREDENTIALS_FULL_URI = `${imds.url}${PATH}`;
    process.env.AWS_CONTAINER_AUTHORIZATION_TOKEN = AUTH;
    const credentials = await fromContainerMetadata({ timeout: 1000, maxRetries: 0 })();
    assert.equal(credentials.accessKeyId, imds.credentials()!.accessKeyId);
    assert.ok(credentials.expiration!.getTime() > Date.now() + 30 * 60_000);
  });

  test("botocore's default chain uses it (container-role), with the token from a file", async (t) => {
    const dir = tempDir("imds-ecs-");
    await writeFile(join(dir, "token"), AUTH);
    const result = await run("python3", ["-c", BOTOCORE_CONTAINER], {
      PATH: process.env.PATH,
      HOME: dir,
      AWS_CONFIG_FILE: join(dir, "none"),
      AWS_SHARED_CREDENTIALS_FILE: join(dir, "none"),
      AWS_CONTAINER_CREDENTIALS_FULL_URI: `${imds.url}${PATH}`,
      AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: join(dir, "token"),
    });
    if (result.code !== 0 && /No module named 'botocore'/.test(result.stderr) && process.env.CI !== "true") {
      return t.skip("botocore is not installed: pip install botocore");
    }
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(JSON.parse(result.stdout), { method: "container-role", key: imds.credentials()!.accessKeyId });
  });

  test("the document has the four fields (+ AccountId) and a whole-second Z expiration", async () => {
    const response = await fetch(`${imds.url}${PATH}`, { headers: { Authorization: AUTH } });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("content-type"), "application/json");
    const document = (await response.json()) as Record<string, string>;
    assert.deepEqual(Object.keys(document), ["AccessKeyId", "SecretAccessKey", "Token", "Expiration", "AccountId"]);
    assert.match(document.Expiration!, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
  });

  test("a missing or wrong Authorization is 401; other methods 405; the metadata tree is untouched", async () => {
    assert.equal((await fetch(`${imds.url}${PATH}`)).status, 401);
    assert.equal((await fetch(`${imds.url}${PATH}`, { headers: { Authorization: "wrong" } })).status, 401);
    assert.equal((await fetch(`${imds.url}${PATH}`, { method: "POST", headers: { Authorization: AUTH } })).status, 405);
    assert.equal((await fetch(`${imds.url}/latest/meta-data/instance-id`)).status, 200);
  });
});

test("the endpoint's options are checked", () => {
  const fails = (cli: Record<string, unknown>, pattern: RegExp) =>
    assert.throws(() => resolveConfig(cli, {}), (error: unknown) => error instanceof ConfigError && pattern.test(error.message));
  fails({ "container-credentials-path": PATH }, /give exactly one of --container-auth-token and --container-auth-token-file/);
  fails({ "container-credentials-path": "/latest/meta-data/x", "container-auth-token": AUTH }, /not part of the metadata tree/);
  fails({ "container-auth-token": AUTH }, /only meaningful with --container-credentials-path/);
});

test("with --http-endpoint disabled the container path is refused like the rest of the port, and the start warns", async () => {
  const imds = await startEmulator({ containerCredentialsPath: PATH, containerAuthToken: AUTH, httpEndpoint: "disabled" });
  try {
    const response = await fetch(`${imds.url}${PATH}`, { headers: { Authorization: AUTH } });
    assert.equal(response.status, 403);
    assert.doesNotMatch(await response.text(), /SecretAccessKey/);
    assert.equal((await fetch(`${imds.url}/latest/meta-data/instance-id`)).status, 403);
  } finally {
    await imds.stop();
  }
  const config = resolveConfig({ "container-credentials-path": PATH, "container-auth-token": AUTH, "http-endpoint": "disabled" }, {});
  assert.match(config.warnings.join("\n"), /--container-credentials-path: with --http-endpoint disabled the whole metadata port answers 403/);
});
