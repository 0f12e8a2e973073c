import assert from "node:assert/strict";
import { test } from "node:test";
import supertest from "supertest";
import { createAdminApp } from "../../src/admin/app";
import { ReplyCache, type TreeState } from "../../src/cache/reply-cache";
import { resolvePath } from "../../src/cache/replies";
import { capturedTree } from "../../src/config/captured";
import { ConfigError, resolveConfig } from "../../src/config/config";
import { MAX_METADATA_PATHS, MAX_TAGS } from "../../src/config/description";
import { createMockSource } from "../../src/credentials/mock";
import { Refresher } from "../../src/credentials/refresher";
import { createIdentityCredentials } from "../../src/instance/identity-credentials";
import { describeInstance } from "../../src/instance/instance";
import { API_VERSIONS } from "../../src/instance/versions";
import { silentLogger } from "../../src/log";
import { testEmulator } from "../support/emulator";
import { FakeClock } from "../support/fake-clock";

const ROLE = "cache-role";
const VERSIONS = ["latest", "2021-03-23", "2016-09-02"];

async function cacheOnFakeClock(more: () => Partial<TreeState> = () => ({})) {
  const clock = new FakeClock();
  const instance = describeInstance({ region: "us-east-1", instanceType: "t3.micro", instanceLifeCycle: "on-demand" }, "cache-seed", clock.now());
  const source = createMockSource({ durationSeconds: 3600, accountId: instance.accountId, clock });
  const refresher = new Refresher({ source, clock, log: silentLogger });
  const identity = createIdentityCredentials({ accountId: instance.accountId, durationSeconds: 3600, clock, log: silentLogger });
  await Promise.all([refresher.start(), identity.start()]);
  let signatures = 0;
  const state = (): TreeState => ({
    instance,
    role: { name: ROLE, instanceProfileArn: `arn:aws:iam::${instance.accountId}:instance-profile/${ROLE}`, instanceProfileId: "AIPAEXAMPLE" },
    identityCredentials: identity.current(),
    publicKey: "ssh-rsa AAAA test",
    events: { scheduledMaintenance: [], pending: [] },
    overrides: {},
    sign: (document) => {
      signatures += 1;
      return { signature: `sig-${document.length}`, pkcs7: "pkcs7", rsa2048: "rsa2048" };
    },
    ...more(),
  });
  const cache = new ReplyCache(refresher, state);
  identity.onChange(() => cache.swapCredentials());
  return { cache, refresher, identity, signatures: () => signatures };
}

/** A request path's reply as the port finds it: dated versions map to their era's table keys. */
const text = (cache: ReplyCache, path: string) => {
  const resolved = resolvePath(path);
  return resolved.kind === "metadata" ? cache.replies().get(resolved.key)?.body.toString() : undefined;
};

test("a rotation swaps the credential replies in every version without building or signing the tree again", async () => {
  const { cache, refresher, signatures } = await cacheOnFakeClock();
  const before = cache.replies();
  const signedAtBuild = signatures();
  const oldKey = refresher.current()!.credentials.accessKeyId;
  const document = cache.replies().get("/latest/dynamic/instance-identity/document");

  await refresher.refresh();
  const newKey = refresher.current()!.credentials.accessKeyId;
  assert.notEqual(newKey, oldKey);
  for (const version of VERSIONS) {
    assert.equal(JSON.parse(text(cache, `/${version}/meta-data/iam/security-credentials/${ROLE}`)!).AccessKeyId, newKey, version);
    assert.match(text(cache, `/${version}/meta-data/iam/info`)!, /"Code" : "Success"/);
  }
  assert.equal(JSON.parse(text(cache, `/latest/meta-data/iam/security-credentials-extended/${ROLE}`)!).AccessKeyId, newKey);
  assert.equal(JSON.parse(cache.containerReply().body.toString()).AccessKeyId, newKey);
  assert.equal(signatures(), signedAtBuild, "the identity document was not signed again");
  assert.equal(cache.replies().get("/latest/dynamic/instance-identity/document"), document, "other replies are the same objects");
  assert.notEqual(cache.replies(), before, "a new table is swapped in whole");
  assert.equal(JSON.parse(before.get(`/latest/meta-data/iam/security-credentials/${ROLE}`)!.body.toString()).AccessKeyId, oldKey, "the old table is left as it was");

  cache.rebuild();
  assert.equal(signatures(), signedAtBuild + 1, "a rebuild signs again (the check above can fail)");
  assert.equal(JSON.parse(text(cache, `/latest/meta-data/iam/security-credentials/${ROLE}`)!).AccessKeyId, newKey);
});

test("the identity role's credentials are swapped the same way", async () => {
  const { cache, identity, signatures } = await cacheOnFakeClock();
  cache.replies();
  const signed = signatures();
  await identity.refresh();
  const key = identity.current()!.credentials.accessKeyId;
  const path = "meta-data/identity-credentials/ec2/security-credentials/ec2-instance";
  assert.equal(JSON.parse(text(cache, `/latest/${path}`)!).AccessKeyId, key);
  assert.equal(JSON.parse(text(cache, `/2021-03-23/${path}`)!).AccessKeyId, key);
  assert.equal(signatures(), signed);
});

test("the tree is built at the first read: credentials that came before it are compiled in, not swapped over", async () => {
  const { cache, refresher, identity, signatures } = await cacheOnFakeClock();
  assert.equal(signatures(), 0, "nothing is built before a read");
  await refresher.refresh();
  await identity.refresh();
  assert.equal(signatures(), 0, "a rotation before the first read builds nothing either");
  const served = JSON.parse(text(cache, `/latest/meta-data/iam/security-credentials/${ROLE}`)!);
  assert.equal(served.AccessKeyId, refresher.current()!.credentials.accessKeyId);
  const path = "meta-data/identity-credentials/ec2/security-credentials/ec2-instance";
  assert.equal(JSON.parse(text(cache, `/latest/${path}`)!).AccessKeyId, identity.current()!.credentials.accessKeyId);
  assert.equal(JSON.parse(cache.containerReply().body.toString()).AccessKeyId, served.AccessKeyId);
  assert.equal(signatures(), 1, "one build");
});

const CREDENTIALS = `meta-data/iam/security-credentials/${ROLE}`;
const IDENTITY = "meta-data/identity-credentials/ec2/security-credentials/ec2-instance";

/** Every listed version's credential documents' keys, as served: undefined where the version has no such path. */
function keysServed(cache: ReplyCache, path: string): Map<string, string | undefined> {
  return new Map(API_VERSIONS.map((version) => {
    const body = text(cache, `/${version}/${path}`);
    return [version, body === undefined ? undefined : JSON.parse(body).AccessKeyId];
  }));
}

test("a rotation serves the new credentials in every dated version, its era compiled before the rotation or after", async () => {
  const { cache, refresher, identity } = await cacheOnFakeClock();
  const key = () => refresher.current()!.credentials.accessKeyId;
  const oldKey = key();
  // Compiles one era before the rotation; the others are compiled by the reads after it.
  assert.equal(JSON.parse(text(cache, `/2016-09-02/${CREDENTIALS}`)!).AccessKeyId, oldKey);
  const before = cache.replies();

  await refresher.refresh();
  await identity.refresh();
  const expected = (since: string, value: string) => new Map(API_VERSIONS.map((version) => [version, version >= since ? value : undefined]));
  assert.deepEqual(keysServed(cache, CREDENTIALS), expected("2012-01-12", key()), "iam/ appeared with 2012-01-12");
  assert.deepEqual(keysServed(cache, IDENTITY), expected("2018-08-17", identity.current()!.credentials.accessKeyId), "identity-credentials/ (2018-05-23) from the next listed version");
  assert.notEqual(key(), oldKey);

  await refresher.refresh();
  assert.deepEqual(keysServed(cache, CREDENTIALS), expected("2012-01-12", key()), "a second rotation, every era compiled");
  assert.equal(JSON.parse(before.get(`/2016-06-30/${CREDENTIALS}`)!.body.toString()).AccessKeyId, oldKey, "the old table is left as it was");
  assert.equal(JSON.parse(before.get(`/2021-03-23/${CREDENTIALS}`)!.body.toString()).AccessKeyId, oldKey, "in eras compiled after it too");
});

test("an era compiled after rotations and an override answers the current credentials", async () => {
  const { cache, refresher } = await cacheOnFakeClock();
  await refresher.refresh();
  await refresher.refresh();
  cache.setOverride({ code: "Expired" });
  const served = JSON.parse(text(cache, `/2014-02-25/${CREDENTIALS}`)!);
  assert.equal(served.AccessKeyId, refresher.current()!.credentials.accessKeyId);
  assert.equal(served.Code, "Expired");
  assert.match(text(cache, "/2021-07-15/meta-data/iam/info")!, /"Code" : "Expired"/);
  assert.equal(text(cache, "/2014-02-25/meta-data/iam/info"), text(cache, "/latest/meta-data/iam/info"));
});

test("an era compiled late answers from the last build's tree; a rebuild discards the compiled eras", async () => {
  let value = "one";
  const { cache } = await cacheOnFakeClock(() => ({ overrides: { "custom/value": value } }));
  const served = () => ["latest", "2016-09-02", "2021-03-23"].map((version) => text(cache, `/${version}/meta-data/custom/value`));
  assert.equal(text(cache, "/2016-09-02/meta-data/custom/value"), "one");
  value = "two";
  assert.deepEqual(served(), ["one", "one", "one"], "until a rebuild, every era answers from the tree latest answers from");
  cache.rebuild();
  assert.deepEqual(served(), ["two", "two", "two"]);
  assert.equal(cache.replies().get("/2016-06-30/meta-data/instance-id"), cache.replies().get("/latest/meta-data/instance-id"), "eras share latest's replies");
});

test("a captured instance's dated versions are compiled on request and rotate with latest", async () => {
  const captured = capturedTree("capture", {
    "meta-data/": "iam/\ninstance-id",
    "meta-data/instance-id": "i-0123456789abcdef0",
    "meta-data/iam/": "info\nsecurity-credentials/",
    "meta-data/iam/security-credentials/": ROLE,
  });
  const { cache, refresher } = await cacheOnFakeClock(() => ({ captured }));
  const oldKey = refresher.current()!.credentials.accessKeyId;
  assert.equal(JSON.parse(text(cache, `/2016-09-02/${CREDENTIALS}`)!).AccessKeyId, oldKey);
  await refresher.refresh();
  const newKey = refresher.current()!.credentials.accessKeyId;
  assert.notEqual(newKey, oldKey);
  for (const version of ["latest", "2016-09-02", "2021-03-23", "1.0"]) {
    assert.equal(JSON.parse(text(cache, `/${version}/${CREDENTIALS}`)!).AccessKeyId, newKey, version);
    assert.equal(text(cache, `/${version}/meta-data/instance-id/`), "i-0123456789abcdef0", version);
    assert.equal(text(cache, `/${version}`), "meta-data", version);
  }
});

test("the expanded description is bounded: metadata paths, their bytes, and EC2's 50 tags", async () => {
  const fails = (data: Record<string, unknown>, pattern: RegExp) =>
    assert.throws(() => resolveConfig({}, {}, { path: "big.yaml", data }), (error: unknown) => error instanceof ConfigError && pattern.test(error.message));
  const paths = Object.fromEntries(Array.from({ length: MAX_METADATA_PATHS + 1 }, (_, i) => [`custom/p${i}`, "v"]));
  fails({ metadata: paths }, new RegExp(`^big\\.yaml: metadata: expected at most ${MAX_METADATA_PATHS} paths, got "${MAX_METADATA_PATHS + 1} paths"$`));
  fails({ metadata: { "custom/a": "x".repeat(600_000), "custom/b": "y".repeat(600_000) } }, /^big\.yaml: metadata: expected at most 1048576 bytes of paths and values/);
  const tags = Object.fromEntries(Array.from({ length: MAX_TAGS + 1 }, (_, i) => [`t${i}`, "v"]));
  fails({ tags }, /^big\.yaml: tags: expected at most 50 tags, as EC2 allows, got "51 tags"$/);

  const t = await testEmulator({ "instance-metadata-tags": "enabled" });
  for (let i = 0; i < MAX_TAGS; i++) t.emulator.setTag(`t${i}`, "v");
  assert.throws(() => t.emulator.setTag("one-more", "v"), /at most 50 tags/);
  t.emulator.setTag("t0", "replaced");
  t.emulator.setMetadata("custom/a", "x".repeat(600_000));
  const admin = supertest(createAdminApp(t.emulator));
  assert.equal((await admin.put("/admin/metadata/custom/b").send("y".repeat(15_000))).status, 204, "within the budget");
  for (let i = 0; i < 43; i++) t.emulator.setMetadata(`custom/c${i}`, "z".repeat(10_000));
  assert.throws(() => t.emulator.setMetadata("custom/last", "z".repeat(40_000)), /at most 1048576 bytes/);
  assert.equal((await admin.put("/admin/metadata/custom/last").send("z".repeat(15_000))).status, 400);
  t.emulator.setMetadata("custom/c0", "short");
  t.emulator.setMetadata("custom/c1", "short");
  t.emulator.setMetadata("custom/last", "z".repeat(15_000));
  await t.emulator.stop();
});
