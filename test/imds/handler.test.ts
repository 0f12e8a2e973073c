import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { EVENT_KINDS } from "../../src/config/events";
import { testEmulator, type TestEmulator } from "../support/emulator";
import { tempDir } from "../support/tmp";

const TTL = "X-aws-ec2-metadata-token-ttl-seconds";
const TOKEN = "X-aws-ec2-metadata-token";
const AWS_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

describe("session tokens", () => {
  let t: TestEmulator;
  before(async () => (t = await testEmulator()));

  test("PUT /latest/api/token returns a token and echoes the TTL", async () => {
    const response = await t.http.put("/latest/api/token").set(TTL, "21600");
    assert.equal(response.status, 200);
    assert.equal(response.headers[TTL.toLowerCase()], "21600");
    assert.match(response.headers["content-type"]!, /^text\/plain/);
    assert.equal(response.headers.server, "EC2ws");
    assert.ok(response.text.length > 20);
    assert.doesNotMatch(response.text, /[\r\n]/);
  });

  test("TTL 1 and 21600 are accepted", async () => {
    for (const ttl of ["1", "21600"]) {
      const response = await t.http.put("/latest/api/token").set(TTL, ttl);
      assert.equal(response.status, 200, ttl);
      assert.equal(response.headers[TTL.toLowerCase()], ttl);
    }
  });

  test("a missing, empty, non-integer, <= 0 or > 21600 TTL is 400", async () => {
    assert.equal((await t.http.put("/latest/api/token")).status, 400);
    for (const ttl of ["", "abc", "1.5", "0", "-5", "21601"]) {
      const response = await t.http.put("/latest/api/token").set(TTL, ttl);
      assert.equal(response.status, 400, `TTL "${ttl}"`);
      assert.match(response.text, /1 to 21600/);
    }
  });

  test("a token PUT with X-Forwarded-For is 403", async () => {
    const response = await t.http.put("/latest/api/token").set(TTL, "60").set("X-Forwarded-For", "10.0.0.1");
    assert.equal(response.status, 403);
  });

  test("a token PUT with any other proxy-forwarding header is 403 too; reads are not affected", async () => {
    const headers = [
      ["Forwarded", "for=10.0.0.1"],
      ["X-Real-IP", "10.0.0.1"],
      ["Via", "1.1 proxy.internal"],
      ["X-Forwarded-Host", "169.254.169.254"],
      ["True-Client-IP", "10.0.0.1"],
      ["CF-Connecting-IP", "10.0.0.1"],
    ];
    for (const [name, value] of headers) {
      const response = await t.http.put("/latest/api/token").set(TTL, "60").set(name!, value!);
      assert.equal(response.status, 403, name);
      assert.match(response.text, /must not carry proxy headers/);
    }
    assert.equal((await t.http.get("/latest/meta-data/instance-id").set("Via", "1.1 proxy.internal")).status, 200);
  });

  test("PUT on a dated version's token path is 403", async () => {
    const response = await t.http.put("/2021-07-15/api/token").set(TTL, "60");
    assert.equal(response.status, 403);
  });

  test("GET and HEAD on the token path are 405", async () => {
    for (const method of ["get", "head", "post", "delete"] as const) {
      const response = await t.http[method]("/latest/api/token").set(TTL, "60");
      assert.equal(response.status, 405, method);
      assert.equal(response.headers.allow, "PUT");
    }
  });

  test("a valid token reads metadata; an unknown or expired token is 401 even in optional mode", async () => {
    const token = await t.token(5);
    assert.equal((await t.http.get("/latest/meta-data/instance-id").set(TOKEN, token)).status, 200);
    assert.equal((await t.http.get("/latest/meta-data/instance-id").set(TOKEN, "bogus")).status, 401);
    assert.equal((await t.http.get("/latest/meta-data/instance-id").set(TOKEN, "")).status, 401);
    await t.clock.advance(5000);
    assert.equal((await t.http.get("/latest/meta-data/instance-id").set(TOKEN, token)).status, 401);
  });

  test("many tokens are valid at once", async () => {
    const tokens = await Promise.all(Array.from({ length: 50 }, () => t.token(600)));
    for (const token of tokens) {
      assert.equal((await t.http.get("/latest/meta-data/").set(TOKEN, token)).status, 200);
    }
  });
});

describe("HttpTokens and HttpEndpoint", () => {
  test("optional: a request without a token is served (IMDSv1)", async () => {
    const t = await testEmulator({ "http-tokens": "optional" });
    assert.equal((await t.http.get("/latest/meta-data/instance-id")).status, 200);
  });

  test("required: a request without a token is 401, with one it is served", async () => {
    const t = await testEmulator({ "http-tokens": "required" });
    const response = await t.http.get("/latest/meta-data/instance-id");
    assert.equal(response.status, 401);
    assert.equal(response.headers.server, "EC2ws");
    assert.equal((await t.http.get("/latest/meta-data/instance-id").set(TOKEN, await t.token())).status, 200);
  });

  test("disabled: every request is 403, the token PUT included", async () => {
    const t = await testEmulator({ "http-endpoint": "disabled" });
    assert.equal((await t.http.put("/latest/api/token").set(TTL, "60")).status, 403);
    assert.equal((await t.http.get("/latest/meta-data/")).status, 403);
    assert.equal((await t.http.get("/")).status, 403);
  });
});

describe("tree, listings and content", () => {
  let t: TestEmulator;
  let token: string;
  const get = (path: string) => t.http.get(path).set(TOKEN, token);
  before(async () => {
    t = await testEmulator({ "user-data-file": undefined });
    token = await t.token();
  });

  test("only GET and HEAD read metadata; other methods are 405", async () => {
    for (const method of ["post", "put", "delete", "patch"] as const) {
      const response = await t.http[method]("/latest/meta-data/instance-id").set(TOKEN, token);
      assert.equal(response.status, 405, method);
      assert.equal(response.headers.allow, "GET, HEAD");
      assert.equal(response.headers.server, "EC2ws");
    }
    const head = await t.http.head("/latest/meta-data/instance-id").set(TOKEN, token);
    assert.equal(head.status, 200);
    assert.equal(head.headers["content-length"], String(t.emulator.instance.instanceId.length));
  });

  test("every response carries Server: EC2ws and text/plain, a 404 text/html", async () => {
    for (const path of ["/", "/latest/", "/latest/meta-data/", "/latest/meta-data/instance-id", "/nope"]) {
      const response = await get(path);
      assert.equal(response.headers.server, "EC2ws", path);
      assert.match(response.headers["content-type"]!, path === "/nope" ? /^text\/html/ : /^text\/plain/, path);
    }
  });

  test("GET / lists the API versions with latest last", async () => {
    const lines = (await get("/")).text.split("\n");
    assert.equal(lines.at(-1), "latest");
    assert.ok(lines.includes("2021-07-15"));
    assert.ok(lines.includes("1.0"));
  });

  test("GET /latest/ lists dynamic and meta-data, and user-data only when set", async () => {
    assert.deepEqual((await get("/latest/")).text.split("\n"), ["dynamic", "meta-data"]);
    assert.equal((await get("/latest/user-data")).status, 404);
  });

  test("a listing is LF-separated with /-suffixed sub-trees, and lists every required category", async () => {
    const response = await get("/latest/meta-data/");
    assert.equal(response.status, 200);
    assert.doesNotMatch(response.text, /\r|\n$/);
    const entries = response.text.split("\n");
    for (const entry of [
      "ami-id", "ami-launch-index", "ami-manifest-path", "block-device-mapping/", "events/", "hostname", "iam/",
      "instance-action", "instance-id", "instance-life-cycle", "instance-type", "local-hostname", "local-ipv4",
      "mac", "metrics/", "network/", "placement/", "profile", "public-hostname", "public-ipv4", "public-keys/",
      "reservation-id", "security-groups", "services/",
    ]) {
      assert.ok(entries.includes(entry), entry);
    }
    assert.equal((await get("/latest/meta-data")).text, response.text);
  });

  test("an unknown path is 404", async () => {
    for (const path of ["/latest/meta-data/nope", "/latest/meta-data/placement/nope", "/nope", "/2099-01-01/meta-data/"]) {
      assert.equal((await get(path)).status, 404, path);
    }
  });

  test("a leaf answers with a trailing slash and with a doubled leading slash", async () => {
    const zone = (await get("/latest/meta-data/placement/availability-zone")).text;
    assert.equal(zone, "us-east-1a");
    assert.equal((await get("/latest/meta-data/placement/availability-zone/")).text, zone);
    assert.equal((await get("//latest/meta-data/placement/availability-zone")).text, zone);
    assert.equal((await get("//latest//meta-data/placement/availability-zone/")).text, zone);
  });

  test("dated API versions answer from the same tree", async () => {
    assert.equal((await get("/2021-07-15/meta-data/instance-id")).text, t.emulator.instance.instanceId);
  });

  test("placement gives the zone, zone id and region as plain text", async () => {
    assert.equal((await get("/latest/meta-data/placement/availability-zone")).text, "us-east-1a");
    assert.equal((await get("/latest/meta-data/placement/availability-zone-id")).text, "use1-az1");
    assert.equal((await get("/latest/meta-data/placement/region")).text, "us-east-1");
  });

  test("network/interfaces/macs/<mac>/ describes the interface", async () => {
    const mac = (await get("/latest/meta-data/mac")).text;
    assert.equal((await get("/latest/meta-data/network/interfaces/macs/")).text, `${mac}/`);
    const entries = (await get(`/latest/meta-data/network/interfaces/macs/${mac}/`)).text.split("\n");
    for (const entry of ["device-number", "local-ipv4s", "subnet-id", "vpc-id", "interface-id", "mac"]) {
      assert.ok(entries.includes(entry), entry);
    }
    const base = `/latest/meta-data/network/interfaces/macs/${mac}`;
    assert.equal((await get(`${base}/device-number`)).text, "0");
    assert.equal((await get(`${base}/local-ipv4s`)).text, (await get("/latest/meta-data/local-ipv4")).text);
    assert.match((await get(`${base}/subnet-id`)).text, /^subnet-0[0-9a-f]{16}$/);
    assert.match((await get(`${base}/vpc-id`)).text, /^vpc-0[0-9a-f]{16}$/);
  });

  test("the instance identity document has every field, agreeing with the tree", async () => {
    const response = await get("/latest/dynamic/instance-identity/document");
    assert.match(response.headers["content-type"]!, /^text\/plain/);
    const document = JSON.parse(response.text);
    assert.deepEqual(Object.keys(document).sort(), [
      "accountId", "architecture", "availabilityZone", "billingProducts", "devpayProductCodes", "imageId",
      "instanceId", "instanceType", "kernelId", "marketplaceProductCodes", "pendingTime", "privateIp",
      "ramdiskId", "region", "version",
    ]);
    assert.equal(document.instanceId, (await get("/latest/meta-data/instance-id")).text);
    assert.equal(document.imageId, (await get("/latest/meta-data/ami-id")).text);
    assert.equal(document.privateIp, (await get("/latest/meta-data/local-ipv4")).text);
    assert.equal(document.availabilityZone, "us-east-1a");
    assert.equal(document.region, "us-east-1");
    assert.equal(document.version, "2017-09-30");
    assert.equal(document.billingProducts, null);
    assert.equal(document.marketplaceProductCodes, null);
    assert.match(document.pendingTime, AWS_TIMESTAMP);
  });

  test("spot/instance-action is 404 when nothing is scheduled, and instance-action says none", async () => {
    assert.equal((await get("/latest/meta-data/spot/instance-action")).status, 404);
    assert.equal((await get("/latest/meta-data/instance-action")).text, "none");
  });

  test("spot/instance-action and events answer in EC2's formats when set", async () => {
    const at = t.clock.now() + 120_000;
    t.emulator.scheduleEvent({ request: { kind: "spot-interruption", action: "terminate" }, afterMs: 0 });
    t.emulator.scheduleEvent({ request: { kind: "rebalance-recommendation" }, afterMs: 0 });
    t.emulator.scheduleEvent({
      request: { kind: "maintenance", code: "system-reboot", notBefore: Date.UTC(2019, 0, 21, 9, 0, 43) },
      afterMs: 0,
    });
    try {
      assert.deepEqual(JSON.parse((await get("/latest/meta-data/spot/instance-action")).text), {
        action: "terminate",
        time: new Date(at).toISOString().replace(".000Z", "Z"),
      });
      assert.equal((await get("/latest/meta-data/instance-action")).text, "terminate");
      assert.match(JSON.parse((await get("/latest/meta-data/events/recommendations/rebalance")).text).noticeTime, AWS_TIMESTAMP);
      const [event] = JSON.parse((await get("/latest/meta-data/events/maintenance/scheduled")).text);
      assert.equal(event.NotBefore, "21 Jan 2019 09:00:43 GMT");
      assert.deepEqual(Object.keys(event), ["NotBefore", "Code", "Description", "EventId", "NotAfter", "State"]);
    } finally {
      for (const kind of EVENT_KINDS) t.emulator.clearEvent(kind);
    }
    assert.equal((await get("/latest/meta-data/events/recommendations/rebalance")).status, 404);
    assert.equal((await get("/latest/meta-data/events/maintenance/scheduled")).text, "[]");
  });

  test("tags/instance/ is served only with instance metadata tags enabled", async () => {
    assert.equal((await get("/latest/meta-data/tags/instance/")).status, 404);
  });
});

describe("user data", () => {
  test("user-data is raw bytes as application/octet-stream, listed under /latest/", async (context) => {
    const { writeFile } = await import("node:fs/promises");
    const { join } = await import("node:path");
    const dir = tempDir("imds-ud-");
    const bytes = Buffer.from([0x23, 0x21, 0x00, 0xff, 0x0a, 0x0d]);
    await writeFile(join(dir, "ud"), bytes);
    const t = await testEmulator({ "user-data-file": join(dir, "ud") });
    const token = await t.token();
    const response = await t.http.get("/latest/user-data").set(TOKEN, token).buffer(true).parse((res, done) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => done(null, Buffer.concat(chunks)));
    });
    assert.equal(response.status, 200);
    assert.equal(response.headers["content-type"], "application/octet-stream");
    assert.deepEqual(response.body, bytes);
    assert.deepEqual((await t.http.get("/latest/").set(TOKEN, token)).text.split("\n"), ["dynamic", "meta-data", "user-data"]);
    context.diagnostic(`user-data served ${bytes.length} bytes`);
  });
});

describe("tags", () => {
  test("with tags enabled, tags/instance/ lists keys and each key gives its value", async () => {
    const t = await testEmulator({ "instance-metadata-tags": "enabled" }, {}, undefined, {
      tags: { Name: "dev-box", team: "platform" },
    });
    const token = await t.token();
    const get = (path: string) => t.http.get(path).set(TOKEN, token);
    assert.ok((await get("/latest/meta-data/")).text.split("\n").includes("tags/"));
    assert.deepEqual((await get("/latest/meta-data/tags/instance/")).text.split("\n"), ["Name", "team"]);
    assert.equal((await get("/latest/meta-data/tags/instance/Name")).text, "dev-box");
  });

  test("with tags disabled (the default), tags/ is neither listed nor served", async () => {
    const t = await testEmulator({}, {}, undefined, { tags: { Name: "dev-box" } });
    const token = await t.token();
    assert.ok(!(await t.http.get("/latest/meta-data/").set(TOKEN, token)).text.split("\n").includes("tags/"));
    assert.equal((await t.http.get("/latest/meta-data/tags/instance/Name").set(TOKEN, token)).status, 404);
  });
});

describe("role credentials", () => {
  let t: TestEmulator;
  let token: string;
  const get = (path: string) => t.http.get(path).set(TOKEN, token);
  before(async () => {
    t = await testEmulator({ "role-name": "app-role" });
    token = await t.token();
  });
  after(() => t.emulator.stop());

  test("iam/ lists info and security-credentials/", async () => {
    assert.deepEqual((await get("/latest/meta-data/iam/")).text.split("\n"), ["info", "security-credentials/"]);
  });

  test("iam/info has Code Success, LastUpdated, the instance profile ARN and id", async () => {
    const info = JSON.parse((await get("/latest/meta-data/iam/info")).text);
    assert.deepEqual(Object.keys(info), ["Code", "LastUpdated", "InstanceProfileArn", "InstanceProfileId"]);
    assert.equal(info.Code, "Success");
    assert.match(info.LastUpdated, AWS_TIMESTAMP);
    assert.equal(info.InstanceProfileArn, `arn:aws:iam::${t.emulator.instance.accountId}:instance-profile/app-role`);
    assert.match(info.InstanceProfileId, /^AIPA[A-Z0-9]{17}$/);
  });

  test("security-credentials/ lists exactly one role name on one line", async () => {
    const response = await get("/latest/meta-data/iam/security-credentials/");
    assert.equal(response.text, "app-role");
  });

  test("the credential document has every field in AWS's formats", async () => {
    const response = await get("/latest/meta-data/iam/security-credentials/app-role");
    assert.equal(response.status, 200);
    assert.match(response.headers["content-type"]!, /^text\/plain/);
    const document = JSON.parse(response.text);
    assert.deepEqual(Object.keys(document), [
      "Code", "LastUpdated", "Type", "AccessKeyId", "SecretAccessKey", "Token", "Expiration",
    ]);
    assert.equal(document.Code, "Success");
    assert.equal(document.Type, "AWS-HMAC");
    assert.match(document.AccessKeyId, /^ASIA[A-Z0-9]{16}$/);
    assert.equal(document.SecretAccessKey.length, 40);
    assert.ok(document.Token.length > 500);
    assert.match(document.LastUpdated, AWS_TIMESTAMP);
    assert.match(document.Expiration, AWS_TIMESTAMP);
    assert.equal(Date.parse(document.Expiration) - Date.parse(document.LastUpdated), 3600_000);
    assert.equal((await get("/latest/meta-data/iam/security-credentials/app-role/")).text, response.text);
  });

  test("a wrong role name is 404", async () => {
    assert.equal((await get("/latest/meta-data/iam/security-credentials/other-role")).status, 404);
    assert.equal((await get("/latest/meta-data/iam/security-credentials-extended/other-role")).status, 404);
  });

  test("the -extended paths are served in full, with AccountId", async () => {
    assert.equal((await get("/latest/meta-data/iam/security-credentials-extended/")).text, "app-role");
    const legacy = JSON.parse((await get("/latest/meta-data/iam/security-credentials/app-role")).text);
    const extended = JSON.parse((await get("/latest/meta-data/iam/security-credentials-extended/app-role")).text);
    assert.equal(extended.AccountId, t.emulator.instance.accountId);
    assert.deepEqual({ ...extended, AccountId: undefined }, { ...legacy, AccountId: undefined });
  });

  test("credentials rotate 30 minutes before expiry; LastUpdated changes only with them", async () => {
    const first = JSON.parse((await get("/latest/meta-data/iam/security-credentials/app-role")).text);
    await t.clock.advance(29 * 60_000);
    const same = JSON.parse((await get("/latest/meta-data/iam/security-credentials/app-role")).text);
    assert.deepEqual(same, first);
    await t.clock.advance(60_000);
    const next = JSON.parse((await get("/latest/meta-data/iam/security-credentials/app-role")).text);
    assert.notEqual(next.AccessKeyId, first.AccessKeyId);
    assert.notEqual(next.LastUpdated, first.LastUpdated);
    assert.ok(Date.parse(next.Expiration) - t.clock.now() >= 30 * 60_000);
  });
});
