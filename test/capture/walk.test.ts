import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { test } from "node:test";
import { parseYamlLinear } from "../../src/config/file";
import { describe as describeWalk, REDACTED } from "../../src/capture/describe";
import { NoToken, walk, type WalkLimits } from "../../src/capture/walk";

const TOKEN = "stand-in-token";

/** A stand-in IMDS on loopback: path -> [status, body] or a delay that outlasts the walk's timeout. */
async function standIn(routes: Record<string, [number, string] | "slow">, tokenStatus = 200): Promise<{ url: URL; server: Server; seen: string[] }> {
  const seen: string[] = [];
  const server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    if (req.method === "PUT" && req.url === "/latest/api/token") {
      res.writeHead(tokenStatus).end(tokenStatus === 200 ? TOKEN : "");
      return;
    }
    if (req.headers["x-aws-ec2-metadata-token"] !== TOKEN) return void res.writeHead(401).end();
    const route = routes[decodeURIComponent(req.url!.replace(/^\/latest\//, ""))];
    if (route === "slow") return void setTimeout(() => res.writeHead(200).end("late"), 5000).unref();
    if (route === undefined) return void res.writeHead(404).end("nope");
    res.writeHead(route[0]).end(route[1]);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}`), server, seen };
}

const LIMITS: WalkLimits = { timeoutMs: 300, maxRequests: 1000, deadlineMs: 20_000 };

const TREE: Record<string, [number, string] | "slow"> = {
  "meta-data/": [200, "ami-id\niam/\nplacement/\npublic-keys/\ntags/\nbroken\nslow"],
  "meta-data/ami-id": [200, "ami-0abc"],
  "meta-data/iam/": [200, "info\nsecurity-credentials/"],
  "meta-data/iam/security-credentials/": [200, "prod-role"],
  "meta-data/iam/security-credentials/prod-role": [200, '{"SecretAccessKey":"must-not-be-read"}'],
  "meta-data/iam/info": [200, "{}"],
  "meta-data/placement/": [200, "availability-zone\nregion"],
  "meta-data/placement/availability-zone": [200, "eu-west-1a"],
  "meta-data/public-keys/": [200, "0=prod key"],
  "meta-data/public-keys/0/": [200, "openssh-key"],
  "meta-data/public-keys/0/openssh-key": [200, "ssh-ed25519 AAAA prod\n"],
  "meta-data/tags/": [200, "instance/"],
  "meta-data/tags/instance/": [200, "Owner\nTeam"],
  "meta-data/tags/instance/Owner": [200, "alice@example.com"],
  "meta-data/tags/instance/Team": [200, "payments"],
  "meta-data/broken": [500, "oops"],
  "meta-data/slow": "slow",
  "dynamic/": [200, "instance-identity/"],
  "dynamic/instance-identity/": [200, "document\npkcs7\nsignature"],
  "dynamic/instance-identity/document": [200, '{"accountId" : "210987654321", "region" : "eu-west-1"}'],
  "dynamic/instance-identity/signature": [200, "must-not-be-read"],
  "user-data": [200, "#!/bin/sh\r\n  echo hi\n\n"],
};

test("a walk reads every listed path, never credentials or signatures, and lists what failed", async (t) => {
  const { url, server, seen } = await standIn(TREE);
  t.after(() => server.close());
  const walked = await walk(url, LIMITS);
  assert.equal(walked.roleName, "prod-role");
  assert.equal(walked.bodies.get("meta-data/placement/region"), undefined);
  assert.deepEqual(walked.missing, [
    { path: "meta-data/broken", reason: "status 500" },
    { path: "meta-data/slow", reason: "no answer within 300 ms" },
    { path: "meta-data/placement/region", reason: "status 404" },
  ]);
  assert.equal(walked.bodies.get("meta-data/public-keys/0/openssh-key")?.toString(), "ssh-ed25519 AAAA prod\n");
  assert.equal(walked.bodies.get("meta-data/public-keys/")?.toString(), "0=prod key");
  assert.equal(walked.bodies.get("user-data")?.toString(), "#!/bin/sh\r\n  echo hi\n\n");
  assert.ok(!seen.some((line) => /prod-role$|signature$|pkcs7$|iam\/info$/.test(line)), seen.join("\n"));
  assert.equal(seen.filter((line) => line.startsWith("PUT")).length, 1);
});

test("a walk stops at its request bound and names what it left", async (t) => {
  const { url, server, seen } = await standIn(TREE);
  t.after(() => server.close());
  const walked = await walk(url, { ...LIMITS, maxRequests: 4 });
  assert.equal(seen.length, 4);
  assert.ok(walked.missing.some((entry) => entry.path === "meta-data/ami-id" && entry.reason === "not read: the bound of 4 requests"));
});

test("a walk that gets no token fails after one retry", async (t) => {
  const { url, server, seen } = await standIn(TREE, 403);
  t.after(() => server.close());
  await assert.rejects(walk(url, LIMITS), (error: unknown) => error instanceof NoToken && /status 403/.test(error.message));
  assert.equal(seen.length, 2);
});

test("a walk of an endpoint that never answers ends within its bounds", async (t) => {
  const names = Array.from({ length: 50 }, (_, i) => `p${i}`);
  const slow = Object.fromEntries(names.map((name) => [`meta-data/${name}`, "slow" as const]));
  const { url, server } = await standIn({ ...slow, "meta-data/": [200, names.join("\n")] });
  t.after(() => server.close());
  const started = Date.now();
  const walked = await walk(url, { timeoutMs: 200, maxRequests: 1000, deadlineMs: 1500 });
  assert.ok(Date.now() - started < 5000, "a generous bound on a walk with a 1.5 s deadline");
  assert.ok(walked.missing.some((entry) => entry.reason === "not read: the deadline passed"));
});

test("the description: bodies exact through YAML, binary as base64, redaction, the missing paths as comments", async (t) => {
  const { url, server } = await standIn({ ...TREE, "user-data": [200, "\u001f\u008b"] });
  t.after(() => server.close());
  const walked = await walk(url, LIMITS);
  walked.bodies.set("user-data", Buffer.from([0x1f, 0x8b, 0xff]));
  const { yaml, unmatched } = describeWalk(walked, { redact: ["tags/instance/Owner", "nothing/here"], roleArn: "arn:aws:iam::210987654321:role/prod-role" });
  assert.deepEqual(unmatched, ["nothing/here"]);
  assert.match(yaml, /^# +Not captured:$/m);
  assert.match(yaml, /^# +meta-data\/broken: status 500$/m);
  const data = parseYamlLinear(yaml) as Record<string, unknown>;
  assert.equal(data["role-name"], "prod-role");
  assert.equal(data["role-arn"], "arn:aws:iam::210987654321:role/prod-role");
  assert.equal(data["account-id"], "210987654321");
  assert.equal(data.region, "eu-west-1");
  const captured = data.captured as Record<string, unknown>;
  assert.equal(captured["meta-data/tags/instance/Owner"], REDACTED);
  assert.equal(captured["meta-data/tags/instance/Team"], "payments");
  assert.deepEqual(captured["user-data"], { base64: Buffer.from([0x1f, 0x8b, 0xff]).toString("base64") });
  for (const [path, body] of walked.bodies) {
    if (path === "user-data" || path.endsWith("Owner")) continue;
    assert.equal(captured[path], body.toString(), path);
  }
});
