import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getInstanceMetadataEndpoint } from "@smithy/credential-provider-imds";
import {
  classifyStsError,
  createStsSource,
  sourceCredentialChain,
  type StsSourceDeps,
  type StsSourceOptions,
} from "../../src/credentials/sts";
import { accountIdFromArn, defaultRoleSessionName, parseRoleArn } from "../../src/config/arn";
import { SourceError, type FailureClass } from "../../src/credentials/source";
import { eventually } from "../support/eventually";
import { hang, raw, startFakeSts, stsError, success, trickle, type FakeResponse, type FakeSts } from "../support/fake-sts";

const ROLE_ARN = "arn:aws:iam::123456789012:role/test-role";
const staticSourceCredentials = async () => ({ accessKeyId: "AKIDSOURCE", secretAccessKey: "source-secret" });

function options(endpoint: string, overrides: Partial<StsSourceOptions> = {}): StsSourceOptions {
  return {
    roleArn: ROLE_ARN,
    roleSessionName: "imds-emulator-test",
    durationSeconds: 900,
    region: "us-east-1",
    endpoint,
    requestTimeoutMs: 300,
    ...overrides,
  };
}

async function rejection(promise: Promise<unknown>): Promise<SourceError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof SourceError, `expected a SourceError, got ${String(error)}`);
    assert.doesNotMatch(error.message, /\n/);
    return error;
  }
  assert.fail("expected a rejection");
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function closedPortUrl(): Promise<string> {
  const server = createServer();
  const url = await listen(server);
  await new Promise((resolve) => server.close(resolve));
  return url;
}

/** Runs fn with only the given AWS_* variables, restoring the environment afterwards. */
async function withAwsEnv<T>(vars: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const touched = [...Object.keys(process.env).filter((k) => k.startsWith("AWS_")), "HOME", ...Object.keys(vars)];
  const saved = Object.fromEntries(touched.map((k) => [k, process.env[k]]));
  for (const k of touched) delete process.env[k];
  Object.assign(process.env, vars);
  try {
    return await fn();
  } finally {
    for (const k of touched) delete process.env[k];
    for (const [k, v] of Object.entries(saved)) if (v !== undefined) process.env[k] = v;
  }
}

describe("AssumeRole against the fake STS", () => {
  let sts: FakeSts;
  before(async () => (sts = await startFakeSts()));
  after(() => sts.close());

  const source = (overrides: Partial<StsSourceOptions> = {}, deps: StsSourceDeps = {}) =>
    createStsSource(options(sts.url, overrides), { sourceCredentials: staticSourceCredentials, ...deps });

  test("returns the credentials STS issued, with the account from the assumed-role ARN", async () => {
    const expiration = Date.UTC(2030, 0, 1, 12, 0, 0);
    sts.enqueue(success({ accessKeyId: "ASIAEXAMPLE", expiration }));
    const s = source({ externalId: "ext-123" });
    assert.equal(s.kind, "sts");

    const credentials = await s.fetch();

    assert.deepEqual(credentials, {
      accessKeyId: "ASIAEXAMPLE",
      secretAccessKey: `fake-secret-${sts.calls.length}`,
      sessionToken: `fake-session-token-${sts.calls.length}`,
      expiration,
      accountId: "123456789012",
    });
    const call = sts.calls.at(-1)!;
    assert.equal(call.action, "AssumeRole");
    assert.equal(call.signed, true);
    assert.equal(call.params.Version, "2011-06-15");
    assert.equal(call.params.RoleArn, ROLE_ARN);
    assert.equal(call.params.RoleSessionName, "imds-emulator-test");
    assert.equal(call.params.DurationSeconds, "900");
    assert.equal(call.params.ExternalId, "ext-123");
  });

  test("sends no ExternalId when none is configured", async () => {
    await source().fetch();
    assert.equal("ExternalId" in sts.calls.at(-1)!.params, false);
  });

  const secret = "SEKRITKEY/abc";
  const token = "SEKRITTOKEN";
  const truncated =
    `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><Credentials>` +
    `<AccessKeyId>ASIAX</AccessKeyId><SecretAccessKey>${secret}</SecretAccessKey><SessionToken>${token}`;
  const failures: [string, FakeResponse, FailureClass][] = [
    ["Throttling 400", stsError("Throttling", 400, "Rate exceeded"), "throttling"],
    ["ServiceUnavailable 503", stsError("ServiceUnavailable", 503), "server-error"],
    ["InternalFailure 500", stsError("InternalFailure", 500), "server-error"],
    ["an unparseable 502", raw(502, "<html>Bad Gateway"), "server-error"],
    ["AccessDenied 403", stsError("AccessDenied", 403, "not authorized to perform sts:AssumeRole"), "access-denied"],
    ["ExpiredToken 400", stsError("ExpiredToken", 400, "The security token included in the request is expired"), "expired-token"],
    ["truncated XML", raw(200, truncated), "malformed-response"],
    ["a 200 that is not XML", raw(200, "not xml at all"), "malformed-response"],
    ["a 200 missing SessionToken", success({ omit: ["SessionToken"] }), "malformed-response"],
    ["a 200 missing Expiration", success({ omit: ["Expiration"] }), "malformed-response"],
    ["a role ARN STS refuses (ValidationError 400)", stsError("ValidationError", 400, "1 validation error detected: Value at 'roleArn' failed to satisfy constraint"), "invalid-config"],
    ["an unmodelled error code", stsError("SomethingNew", 403), "unknown"],
  ];
  for (const [label, response, failureClass] of failures) {
    test(`${label} -> ${failureClass}`, async () => {
      sts.enqueue(response);
      const error = await rejection(source().fetch());
      assert.equal(error.failureClass, failureClass);
      assert.match(error.message, /^AssumeRole arn:aws:iam::123456789012:role\/test-role: /);
      for (const secretText of [secret, token, "fake-secret", "fake-session-token"]) {
        assert.ok(!error.message.includes(secretText), `message leaks ${secretText}: ${error.message}`);
      }
    });
  }

  test("a 200 missing a field names the field", async () => {
    sts.enqueue(success({ omit: ["SessionToken"] }));
    assert.match((await rejection(source().fetch())).message, /lacks SessionToken$/);
  });

  test("a hanging STS -> timeout, after the configured request timeout", async () => {
    sts.enqueue(hang());
    const started = Date.now();
    const error = await rejection(source({ requestTimeoutMs: 200 }).fetch());
    assert.equal(error.failureClass, "timeout");
    assert.ok(Date.now() - started < 2000, "gave up late");
  });

  test("an STS that trickles its answer, one byte at a time -> timeout at the deadline of the whole call, the connection dropped", async () => {
    sts.enqueue(trickle(50, 3000));
    const abandoned = sts.abandoned;
    const error = await rejection(source({ requestTimeoutMs: 300, callTimeoutMs: 600 }).fetch());
    assert.equal(error.failureClass, "timeout");
    assert.match(error.message, /^AssumeRole arn:aws:iam::123456789012:role\/test-role: no complete answer within 600 ms$/);
    await eventually(() => sts.abandoned === abandoned + 1, "the client drops the trickling connection");
  });

  test("nothing listening -> connection", async () => {
    const error = await rejection(source({ endpoint: await closedPortUrl() }).fetch());
    assert.equal(error.failureClass, "connection");
  });

  test("no source credentials -> invalid-config, and STS is not called", async () => {
    const before = sts.calls.length;
    const noCredentials = async () => {
      throw Object.assign(new Error("Could not load credentials from any providers"), {
        name: "CredentialsProviderError",
      });
    };
    const error = await rejection(source({}, { sourceCredentials: noCredentials }).fetch());
    assert.equal(error.failureClass, "invalid-config");
    assert.equal(sts.calls.length, before);
  });

  test("each attempt is a single request: retries belong to the refresher", async () => {
    const before = sts.calls.length;
    sts.enqueue(stsError("Throttling", 400));
    await rejection(source().fetch());
    assert.equal(sts.calls.length, before + 1);
  });
});

describe("AssumeRoleWithWebIdentity against the fake STS", () => {
  let sts: FakeSts;
  let dir: string;
  before(async () => {
    sts = await startFakeSts();
    dir = await mkdtemp(join(tmpdir(), "sts-test-"));
  });
  after(async () => {
    await sts.close();
    await rm(dir, { recursive: true, force: true });
  });

  test("re-reads the token file at every fetch, sends it trimmed and unsigned, uses no source credentials", async () => {
    const tokenFile = join(dir, "token");
    let sourceCredentialCalls = 0;
    const s = createStsSource(options(sts.url, { webIdentityTokenFile: tokenFile }), {
      sourceCredentials: async () => {
        sourceCredentialCalls++;
        return staticSourceCredentials();
      },
    });
    assert.equal(s.kind, "web-identity");

    await writeFile(tokenFile, "  token-one\n");
    const first = await s.fetch();
    await writeFile(tokenFile, "token-two\n");
    const second = await s.fetch();

    const calls = sts.calls.slice(-2);
    assert.deepEqual(
      calls.map((c) => [c.action, c.params.WebIdentityToken, c.signed]),
      [
        ["AssumeRoleWithWebIdentity", "token-one", false],
        ["AssumeRoleWithWebIdentity", "token-two", false],
      ],
    );
    assert.equal(calls[0]!.params.RoleArn, ROLE_ARN);
    assert.equal(calls[0]!.params.DurationSeconds, "900");
    assert.notEqual(first.accessKeyId, second.accessKeyId);
    assert.equal(second.accountId, "123456789012");
    assert.equal(sourceCredentialCalls, 0);
  });

  test("a missing token file -> invalid-config, and STS is not called", async () => {
    const before = sts.calls.length;
    const s = createStsSource(options(sts.url, { webIdentityTokenFile: join(dir, "absent") }));
    const error = await rejection(s.fetch());
    assert.equal(error.failureClass, "invalid-config");
    assert.match(error.message, /absent/);
    assert.equal(sts.calls.length, before);
  });

  test("an empty token file -> invalid-config", async () => {
    const s = createStsSource(options(sts.url, { webIdentityTokenFile: "/token" }), {
      readFile: async () => " \n",
    });
    assert.equal((await rejection(s.fetch())).failureClass, "invalid-config");
  });

  test("the token never appears in an error message, even when STS echoes it", async () => {
    const jwt = "eyJhbGciOiJSUzI1NiJ9.secret-claims.signature";
    sts.enqueue(stsError("InvalidIdentityToken", 400, `Token ${jwt} is not valid`));
    const s = createStsSource(options(sts.url, { webIdentityTokenFile: "/token" }), { readFile: async () => jwt });
    const error = await rejection(s.fetch());
    assert.ok(!error.message.includes(jwt), error.message);
    assert.equal(sts.calls.at(-1)!.params.WebIdentityToken, jwt);
  });
});

describe("no instance metadata, ever", () => {
  let trap: Server;
  let trapUrl: string;
  const trapped: string[] = [];
  let sts: FakeSts;
  let dir: string;
  before(async () => {
    trap = createServer((req, res) => {
      trapped.push(`${req.method} ${req.url}`);
      res.writeHead(500).end();
    });
    trapUrl = await listen(trap);
    sts = await startFakeSts();
    dir = await mkdtemp(join(tmpdir(), "sts-imds-"));
  });
  after(async () => {
    trap.closeAllConnections();
    await new Promise((resolve) => trap.close(resolve));
    await sts.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** An environment without credentials, in which any IMDS request lands on the trap. */
  const isolated = (extra: Record<string, string> = {}) => ({
    HOME: dir,
    AWS_CONFIG_FILE: join(dir, "no-config"),
    AWS_SHARED_CREDENTIALS_FILE: join(dir, "no-credentials"),
    AWS_EC2_METADATA_SERVICE_ENDPOINT: trapUrl,
    // "auto" makes SDK clients ask IMDS for the region unless the mode is pinned.
    AWS_DEFAULTS_MODE: "auto",
    AWS_REGION: "us-east-1",
    ...extra,
  });

  test("the trap is where the SDK would send instance-metadata requests", async () => {
    await withAwsEnv(isolated(), async () => {
      const endpoint = await getInstanceMetadataEndpoint();
      assert.equal(`${endpoint.protocol}//${endpoint.hostname}:${endpoint.port}`, trapUrl);
    });
  });

  test("sourceCredentialChain fails with invalid-config and never asks IMDS", async () => {
    await withAwsEnv(isolated(), async () => {
      let error: unknown;
      await sourceCredentialChain()().catch((e: unknown) => (error = e));
      assert.equal(classifyStsError(error), "invalid-config");
    });
    assert.deepEqual(trapped, []);
  });

  test("an AssumeRole source on the default chain signs with env credentials and never asks IMDS", async () => {
    const credentials = await withAwsEnv(
      isolated({ AWS_ACCESS_KEY_ID: "AKIDENV", AWS_SECRET_ACCESS_KEY: "env-secret" }),
      () => createStsSource(options(sts.url)).fetch(),
    );
    assert.match(credentials.accessKeyId, /^ASIAFAKE/);
    assert.equal(sts.calls.at(-1)!.signed, true);
    assert.deepEqual(trapped, []);
  });

  test("a source_profile role chain resolves through STS without asking IMDS", async () => {
    const credentialsFile = join(dir, "credentials");
    await writeFile(
      credentialsFile,
      "[base]\naws_access_key_id = AKIDBASE\naws_secret_access_key = base-secret\n" +
        "[default]\nrole_arn = arn:aws:iam::123456789012:role/source-role\nsource_profile = base\n",
    );
    const before = sts.calls.length;
    const credentials = await withAwsEnv(
      isolated({ AWS_SHARED_CREDENTIALS_FILE: credentialsFile, AWS_ENDPOINT_URL_STS: sts.url }),
      () => sourceCredentialChain()(),
    );
    assert.match(credentials.accessKeyId, /^ASIAFAKE/);
    assert.equal(sts.calls.length, before + 1);
    assert.equal(sts.calls.at(-1)!.params.RoleArn, "arn:aws:iam::123456789012:role/source-role");
    assert.deepEqual(trapped, []);
  });
});

describe("classifyStsError", () => {
  const named = (name: string, extra: object = {}) => Object.assign(new Error("x"), { name }, extra);
  const withCode = (code: string) => Object.assign(new Error(`connect ${code}`), { code });
  const serviceError = (name: string, status: number) =>
    named(name, { $fault: status >= 500 ? "server" : "client", $metadata: { httpStatusCode: status } });
  const cases: [string, unknown, FailureClass][] = [
    ["Throttling", serviceError("Throttling", 400), "throttling"],
    ["ThrottlingException", serviceError("ThrottlingException", 400), "throttling"],
    ["RequestLimitExceeded", serviceError("RequestLimitExceeded", 400), "throttling"],
    ["ServiceUnavailable", serviceError("ServiceUnavailable", 503), "server-error"],
    ["InternalFailure", serviceError("InternalFailure", 500), "server-error"],
    ["any 5xx", serviceError("SomethingNew", 504), "server-error"],
    ["TimeoutError", named("TimeoutError"), "timeout"],
    ["ETIMEDOUT", withCode("ETIMEDOUT"), "timeout"],
    ["ECONNREFUSED", withCode("ECONNREFUSED"), "connection"],
    ["ECONNRESET", withCode("ECONNRESET"), "connection"],
    ["ENOTFOUND", withCode("ENOTFOUND"), "connection"],
    ["EHOSTUNREACH", withCode("EHOSTUNREACH"), "connection"],
    ["an XML parse error", Object.defineProperty(new Error("XML parse error"), "$response", { value: {} }), "malformed-response"],
    ["AccessDenied", serviceError("AccessDenied", 403), "access-denied"],
    ["ExpiredToken", serviceError("ExpiredToken", 400), "expired-token"],
    ["ExpiredTokenException", serviceError("ExpiredTokenException", 400), "expired-token"],
    ["CredentialsProviderError", named("CredentialsProviderError"), "invalid-config"],
    ["a SourceError keeps its class", new SourceError("throttling", "x"), "throttling"],
    ["a role ARN STS cannot parse (ValidationError)", serviceError("ValidationError", 400), "invalid-config"],
    ["RegionDisabledException", serviceError("RegionDisabledException", 403), "invalid-config"],
    ["an unknown source key (InvalidClientTokenId)", serviceError("InvalidClientTokenId", 403), "access-denied"],
    ["a wrong secret (SignatureDoesNotMatch)", serviceError("SignatureDoesNotMatch", 403), "access-denied"],
    ["an untrusted web identity token", serviceError("InvalidIdentityToken", 400), "access-denied"],
    ["an unmodelled service error", serviceError("SomethingUnmodelled", 400), "unknown"],
    ["a plain Error", new Error("boom"), "unknown"],
    ["a string", "boom", "unknown"],
    ["undefined", undefined, "unknown"],
  ];
  for (const [label, error, failureClass] of cases) {
    test(`${label} -> ${failureClass}`, () => assert.equal(classifyStsError(error), failureClass));
  }
});

describe("role session names and ARNs", () => {
  const SESSION_NAME = /^[\w+=,.@-]{2,64}$/;

  test("defaultRoleSessionName derives a valid name from the host name", () => {
    assert.equal(defaultRoleSessionName("build-01.example.com"), "imds-emulator-build-01.example.com");
    assert.equal(defaultRoleSessionName("my host/ü:1"), "imds-emulator-my-host---1");
    const long = defaultRoleSessionName("h".repeat(200));
    assert.equal(long.length, 64);
    for (const name of [long, defaultRoleSessionName(""), defaultRoleSessionName("ü ü")]) {
      assert.match(name, SESSION_NAME);
    }
  });

  test("parseRoleArn accepts IAM role ARNs in any partition, with or without a path", () => {
    assert.deepEqual(parseRoleArn("arn:aws:iam::123456789012:role/test-role"), {
      partition: "aws",
      accountId: "123456789012",
      roleName: "test-role",
    });
    assert.deepEqual(parseRoleArn("arn:aws-us-gov:iam::123456789012:role/path/to/My+Role=,.@-_1"), {
      partition: "aws-us-gov",
      accountId: "123456789012",
      roleName: "My+Role=,.@-_1",
    });
    assert.equal(parseRoleArn("arn:aws-cn:iam::123456789012:role/x")?.partition, "aws-cn");
  });

  test("parseRoleArn rejects anything that is not an IAM role ARN", () => {
    for (const arn of [
      "",
      "test-role",
      "arn:aws:iam::123456789012:user/test-user",
      "arn:aws:iam::12345678901:role/short-account",
      "arn:aws:iam:us-east-1:123456789012:role/regional",
      "arn:aws:sts::123456789012:assumed-role/test-role/session",
      "arn:aws:iam::123456789012:role/",
      "arn:aws:iam::123456789012:role/path/",
      `arn:aws:iam::123456789012:role/${"r".repeat(65)}`,
      "arn:aws:iam::123456789012:role/has space",
      "arn:aws:iam::123456789012:role/x\n",
    ]) {
      assert.equal(parseRoleArn(arn), undefined, JSON.stringify(arn));
    }
  });

  test("accountIdFromArn", () => {
    assert.equal(accountIdFromArn("arn:aws:sts::123456789012:assumed-role/test-role/s"), "123456789012");
    assert.equal(accountIdFromArn(ROLE_ARN), "123456789012");
    assert.equal(accountIdFromArn("arn:aws:s3:::bucket"), undefined);
    assert.equal(accountIdFromArn("not an arn"), undefined);
  });
});
