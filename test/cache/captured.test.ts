import assert from "node:assert/strict";
import { test } from "node:test";
import { ConfigError, resolveConfig } from "../../src/config/config";
import { testEmulator } from "../support/emulator";

const DOCUMENT = '{\n  "accountId" : "210987654321",\n  "region" : "eu-west-1"\n}';
const BINARY = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0xff, 0x00, 0x0a]);

/** A small capture as `imds-emulator capture` writes it: listings under `dir/`, bodies as they were. */
const CAPTURED = {
  "meta-data/": "ami-id\niam/\ninstance-id\npublic-keys/\ntags/",
  "meta-data/ami-id": "ami-0abc",
  "meta-data/instance-id": "i-0123456789abcdef0\n",
  "meta-data/iam/": "info\nsecurity-credentials/",
  "meta-data/iam/security-credentials/": "prod-role",
  "meta-data/public-keys/": "0=prod key",
  "meta-data/public-keys/0/": "openssh-key",
  "meta-data/public-keys/0/openssh-key": "ssh-ed25519 AAAA prod\n",
  "meta-data/tags/": "instance/",
  "meta-data/tags/instance/": "Team Name",
  "meta-data/tags/instance/Team Name": "payments",
  "dynamic/": "instance-identity/",
  "dynamic/instance-identity/": "document\npkcs7\nrsa2048\nsignature",
  "dynamic/instance-identity/document": DOCUMENT,
  "user-data": { base64: BINARY.toString("base64") },
};

async function replay() {
  const emulator = await testEmulator({}, {}, undefined, { "role-name": "prod-role", captured: CAPTURED });
  const token = await emulator.token();
  const get = (path: string) => emulator.http.get(path).set("X-aws-ec2-metadata-token", token).buffer(true).parse((res, done) => {
    const chunks: Buffer[] = [];
    res.on("data", (chunk: Buffer) => chunks.push(chunk));
    res.on("end", () => done(null, Buffer.concat(chunks)));
  });
  return { emulator, get };
}

test("a capture is served byte for byte, at latest and at every dated version", async () => {
  const { get } = await replay();
  for (const version of ["latest", "2021-03-23", "2009-04-04"]) {
    assert.equal((await get(`/${version}/meta-data/instance-id`)).body.toString(), "i-0123456789abcdef0\n");
    assert.equal((await get(`/${version}/meta-data/`)).body.toString(), CAPTURED["meta-data/"]);
    assert.equal((await get(`/${version}/meta-data`)).body.toString(), CAPTURED["meta-data/"]);
    assert.equal((await get(`/${version}/meta-data/public-keys/0/openssh-key`)).body.toString(), "ssh-ed25519 AAAA prod\n");
    assert.equal((await get(`/${version}/meta-data/ami-id/`)).body.toString(), "ami-0abc");
  }
  assert.deepEqual((await get("/latest/user-data")).body, BINARY);
  assert.equal((await get("/latest/")).body.toString(), "dynamic\nmeta-data\nuser-data");
  assert.equal((await get("/latest/meta-data/hostname")).status, 404, "nothing the capture lacks is made up");
});

test("credentials and signatures over a capture are live: the role's rotated set, the captured document signed", async () => {
  const { emulator, get } = await replay();
  const first = JSON.parse((await get("/latest/meta-data/iam/security-credentials/prod-role")).body.toString());
  assert.equal(first.Code, "Success");
  assert.match(first.AccessKeyId, /^ASIA/);
  assert.equal((await get("/latest/dynamic/instance-identity/document")).body.toString(), DOCUMENT);
  const signature = (await get("/latest/dynamic/instance-identity/signature")).body.toString();
  assert.match(signature, /^[A-Za-z0-9+/=\n]{100,}$/);
  await emulator.emulator.refresher.refresh();
  const second = JSON.parse((await get("/2021-03-23/meta-data/iam/security-credentials/prod-role")).body.toString());
  assert.notEqual(second.AccessKeyId, first.AccessKeyId);
  assert.equal((await get("/latest/meta-data/iam/security-credentials/")).body.toString(), "prod-role");
});

const rejects = (data: Record<string, unknown>, pattern: RegExp) =>
  assert.throws(() => resolveConfig({}, {}, { path: "c.yaml", data }), (error: unknown) => error instanceof ConfigError && pattern.test(error.message));

test("a captured section is checked: its paths, bodies, size, and no section that would change it", () => {
  rejects({ captured: { ...CAPTURED, "meta-data/../x": "1" } }, /c\.yaml: captured\.meta-data\/\.\.\/x: expected a path below meta-data\//);
  rejects({ captured: { ...CAPTURED, "latest/meta-data/x": "1" } }, /expected a path below meta-data\//);
  rejects({ captured: { ...CAPTURED, "meta-data/x": 5 } }, /captured\.meta-data\/x: expected the body as text/);
  rejects({ captured: { ...CAPTURED, "user-data": { base64: "not base64!" } } }, /expected the body as text, or \{ base64/);
  rejects({ captured: { "dynamic/": "x" } }, /no meta-data\/ listing/);
  rejects({ captured: [] }, /expected a mapping of paths to bodies/);
  rejects({ captured: { ...CAPTURED, "meta-data/big": "x".repeat(1024 * 1024) } }, /at most 1048576 bytes/);
  rejects({ captured: CAPTURED, tags: { a: "b" } }, /captured: a capture is served as it is; tags cannot change it/);
});

test("instances: entries carry a capture each, or the top level's", () => {
  const other = { ...CAPTURED, "meta-data/instance-id": "i-0fedcba9876543210" };
  const config = resolveConfig({}, {}, {
    path: "fleet.yaml",
    data: {
      captured: CAPTURED,
      instances: [
        { name: "a", callers: ["10.0.0.2"], captured: other },
        { name: "b", callers: ["10.0.0.3"] },
      ],
    },
  });
  assert.equal(config.captured?.get("meta-data/instance-id")?.toString(), "i-0123456789abcdef0\n");
  assert.equal(config.instances[0]!.captured?.get("meta-data/instance-id")?.toString(), "i-0fedcba9876543210");
  assert.equal(config.instances[1]!.captured, config.captured);
});
