import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { join } from "node:path";
import { test } from "node:test";
import { ReplyCache } from "../../src/cache/reply-cache";
import { resolveConfig } from "../../src/config/config";
import { createEmulator, type Emulator } from "../../src/emulator";
import { LazySigner } from "../../src/instance/lazy-signer";
import { listen } from "../../src/listeners";
import { generateSigningKeys } from "../../src/instance/signing";
import { Unavailable } from "../../src/instance/tree";
import { run } from "../support/daemon";

const INDEX = join(__dirname, "..", "..", "src", "index.js");

/**
 * In a fresh process (the module cache is the process's): start an emulator, read what an SDK reads,
 * and report which heavy modules were loaded and how many signing keys were made; then read a signature.
 */
const PROBE = `
const crypto = require("node:crypto");
let keys = 0;
for (const name of ["generateKeyPair", "generateKeyPairSync"]) {
  const original = crypto[name];
  crypto[name] = (...args) => { keys += 1; return original(...args); };
  // Node marks generateKeyPair for promisify to resolve to both keys; the wrapper keeps the mark.
  for (const symbol of Object.getOwnPropertySymbols(original)) crypto[name][symbol] = original[symbol];
}
let derived = 0;
const createPrivateKey = crypto.createPrivateKey;
crypto.createPrivateKey = (...args) => { derived += 1; return createPrivateKey(...args); };
const loaded = () => ["prom-client", "express", "yaml", "yargs", "@aws-sdk"].filter((name) =>
  Object.keys(require.cache).some((path) => path.includes("/node_modules/" + name + "/")));
(async () => {
  const imds = await require(${JSON.stringify(INDEX)}).startEmulator({ httpTokens: "required" });
  const token = await (await fetch(imds.url + "/latest/api/token", { method: "PUT", headers: { "X-aws-ec2-metadata-token-ttl-seconds": "60" } })).text();
  const get = async (path) => { const r = await fetch(imds.url + path, { headers: { "X-aws-ec2-metadata-token": token } }); return [r.status, await r.text()]; };
  const credentials = await get("/latest/meta-data/iam/security-credentials/imds-emulator");
  const document = await get("/latest/dynamic/instance-identity/document");
  const listing = await get("/latest/dynamic/instance-identity/");
  const atStart = { loaded: loaded(), keys, derived, statuses: [credentials[0], document[0]], listing: listing[1] };
  const sshKey = await get("/latest/meta-data/public-keys/0/openssh-key");
  const sshKeyAgain = await get("/2016-09-02/meta-data/public-keys/0/openssh-key");
  const signature = await get("/latest/dynamic/instance-identity/signature");
  const metrics = (await imds.metrics()).text;
  console.log(JSON.stringify({ atStart, sshKey, sshKeyAgain, derivedAfter: derived, signature, keysAfter: keys, loadedAfter: loaded(), metrics: metrics.includes("imds_emulator_requests_total"),
    certificate: imds.identityCertificate().startsWith("-----BEGIN CERTIFICATE-----"), document: document[1] }));
  await imds.stop();
})();
`;

test("a start loads neither prom-client, express, yaml, yargs nor the AWS SDK, and makes no signing or SSH key until one is read", async () => {
  const result = await run(process.execPath, ["-e", PROBE], { PATH: process.env.PATH });
  assert.equal(result.code, 0, result.stderr);
  const report = JSON.parse(result.stdout);
  assert.deepEqual(report.atStart.loaded, []);
  assert.equal(report.atStart.keys, 0);
  assert.equal(report.atStart.derived, 0, "the SSH public key is derived at its first read");
  assert.equal(report.sshKey[0], 200);
  assert.match(report.sshKey[1], /^ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI[A-Za-z0-9+/]+=* /);
  assert.deepEqual(report.sshKeyAgain, report.sshKey, "a dated version serves the same key");
  assert.equal(report.derivedAfter, 1, "derived once");
  assert.deepEqual(report.atStart.statuses, [200, 200]);
  assert.equal(report.atStart.listing, "document\npkcs7\nrsa2048\nsignature", "the listing names the signatures before they exist");

  const [status, signature] = report.signature;
  assert.equal(status, 200, "the first signature read waits for the key and gets a signature, never a placeholder");
  assert.match(signature, /^[A-Za-z0-9+/=\n]+$/);
  assert.equal(report.keysAfter, 1);
  assert.ok(report.metrics, "reading the metrics loads prom-client then");
  assert.deepEqual(report.loadedAfter, ["prom-client"]);
  assert.ok(report.certificate);
});

test("the lazy signer makes one key however many ask at once, and runs its listeners before answering", async () => {
  let made = 0;
  const events: string[] = [];
  const signer = new LazySigner({
    commonName: "test",
    now: () => Date.parse("2026-11-24T12:00:00Z"),
    generateKeys: () => {
      made += 1;
      return generateSigningKeys();
    },
  });
  assert.equal(signer.current(), undefined);
  assert.ok(signer.signatures("{}").signature instanceof Unavailable);
  signer.onReady(() => events.push("listener"));
  const first = signer.ready().then((made) => {
    events.push("ready");
    return made;
  });
  const [a, b] = await Promise.all([first, signer.ready()]);
  assert.equal(a, b);
  assert.equal(made, 1);
  assert.deepEqual(events, ["listener", "ready"]);
  assert.equal(typeof signer.signatures("{}").signature, "string");
  assert.equal(signer.now(), a);
});

test("the synchronous path makes the key at once when nothing asked before", () => {
  const signer = new LazySigner({ commonName: "test", now: () => 0, generateKeys: () => assert.fail("not the async path") });
  let ready = 0;
  signer.onReady(() => (ready += 1));
  const made = signer.now();
  assert.match(made.certificatePem, /^-----BEGIN CERTIFICATE-----/);
  assert.equal(signer.current(), made);
  assert.equal(ready, 1);
});

/** Counts the reply tables the emulators build, until `restore`. */
function countBuilds(): { readonly count: () => number; restore(): void } {
  const cache = ReplyCache.prototype as unknown as { compileAll(): unknown };
  const compileAll = cache.compileAll;
  let builds = 0;
  cache.compileAll = function (this: unknown) {
    builds += 1;
    return compileAll.call(this);
  };
  return {
    count: () => builds,
    restore: () => {
      cache.compileAll = compileAll;
    },
  };
}

test("the replies are built at the first idle turn after the first answer, not during the start, and once", async () => {
  const builds = countBuilds();
  // The emulator's handler runs inside a server of the test's own, so the count can be read in the
  // same turn as each answer, before any idle turn.
  let handler: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  const atAnswers: number[] = [];
  const server = createServer((req, res) => {
    handler!(req, res);
    atAnswers.push(builds.count());
  });
  let emulator: Emulator | undefined;
  try {
    emulator = await createEmulator(resolveConfig({ host: ["127.0.0.1"], port: "0" }, {}), { seed: "idle-seed" });
    assert.equal(builds.count(), 0, "createEmulator builds no replies");
    const listening = await listen(server, "127.0.0.1", 0);
    await emulator.listen({ metadata: [{ server, listening, open: (target) => (handler = target) }], servers: [server] });
    assert.equal(builds.count(), 0, "nor does opening the ports");
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(builds.count(), 0, "nor an idle turn before any request: a token request waiting then would wait for them");
    const put = () => fetch(`${listening.url}/latest/api/token`, { method: "PUT", headers: { "X-aws-ec2-metadata-token-ttl-seconds": "60" } });
    const token = await (await put()).text();
    assert.equal(atAnswers[0], 0, "a token's answer needs none and is written before they are built");
    assert.equal(builds.count(), 1, "the idle turn after the first answer builds them");
    const read = await fetch(`${listening.url}/latest/meta-data/instance-id`, { headers: { "X-aws-ec2-metadata-token": token } });
    assert.equal(read.status, 200);
    assert.equal((await put()).status, 200);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(atAnswers, [0, 1, 1], "a read finds them built, and a later answer builds nothing again");
    assert.equal(builds.count(), 1);
  } finally {
    builds.restore();
    await emulator?.stop();
    server.close();
  }
});

test("a first request that reads the tree builds the replies then, once", async () => {
  const builds = countBuilds();
  let emulator: Emulator | undefined;
  try {
    emulator = await createEmulator(resolveConfig({ host: ["127.0.0.1"], port: "0" }, {}), { seed: "idle-seed" });
    const { metadata } = await emulator.listen();
    const read = await fetch(`${metadata[0]!.url}/latest/meta-data/instance-id`);
    assert.equal(read.status, 200, "IMDSv1 is allowed by default");
    assert.equal(builds.count(), 1);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(builds.count(), 1, "the idle turn after it finds them built");
  } finally {
    builds.restore();
    await emulator?.stop();
  }
});
