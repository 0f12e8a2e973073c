import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { ConfigError, resolveConfig } from "../../src/config/config";
import { loadConfigFile } from "../../src/config/file";
import { tempDir } from "../support/tmp";

const fails = (fn: () => unknown, pattern: RegExp) =>
  assert.throws(fn, (error: unknown) => error instanceof ConfigError && pattern.test(error.message));

test("defaults: loopback, port 1338, one hour, optional tokens, the mock source", () => {
  const config = resolveConfig({}, {});
  assert.deepEqual(config.hosts, ["127.0.0.1"]);
  assert.equal(config.port, 1338);
  assert.equal(config.durationSeconds, 3600);
  assert.equal(config.rotateBeforeSeconds, undefined);
  assert.equal(config.httpTokens, "optional");
  assert.equal(config.httpEndpoint, "enabled");
  assert.equal(config.roleName, "imds-emulator");
  assert.equal(config.sts, undefined);
  assert.equal(config.admin, undefined);
  assert.equal(config.logLevel, "info");
});

test("the command line beats IMDS_EMULATOR_* which beats the config file", () => {
  const file = { path: "c.yaml", data: { port: 1000, region: "eu-west-1", "instance-type": "m5.large" } };
  const env = { IMDS_EMULATOR_PORT: "2000", IMDS_EMULATOR_REGION: "ap-southeast-2" };
  const config = resolveConfig({ port: "3000" }, env, file);
  assert.equal(config.port, 3000);
  assert.equal(config.instance.region, "ap-southeast-2");
  assert.equal(config.instance.instanceType, "m5.large");
});

test("--host is repeatable, takes IPv6 literals, and a list from the environment", () => {
  assert.deepEqual(resolveConfig({ host: ["127.0.0.1", "fd00:ec2::254"] }, {}).hosts, ["127.0.0.1", "fd00:ec2::254"]);
  assert.deepEqual(resolveConfig({}, { IMDS_EMULATOR_HOST: "169.254.169.254,fd00:ec2::254" }).hosts, [
    "169.254.169.254",
    "fd00:ec2::254",
  ]);
  fails(() => resolveConfig({ host: ["example.com"] }, {}), /^--host: expected an IPv4 or IPv6 address/);
});

test("bad values name the option and the accepted values", () => {
  fails(() => resolveConfig({ port: "abc" }, {}), /^--port: expected an integer from 0 to 65535, got "abc"$/);
  fails(() => resolveConfig({ "http-tokens": "maybe" }, {}), /^--http-tokens: expected one of optional, required, got "maybe"$/);
  fails(() => resolveConfig({ "duration-seconds": "10" }, {}), /^--duration-seconds: expected an integer from 900 to 43200/);
  fails(() => resolveConfig({ "rotate-before": "3600" }, {}), /^--rotate-before: expected an integer from 1 to 3599/);
  fails(() => resolveConfig({ region: "mars" }, {}), /^--region: expected an AWS region/);
  fails(() => resolveConfig({ "instance-id": "i-xyz" }, {}), /^--instance-id: expected i- and 8 or 17 hexadecimal digits/);
  fails(() => resolveConfig({ "log-level": "loud" }, {}), /^--log-level: expected one of debug, info, warn, error/);
  fails(() => resolveConfig({ "role-arn": "arn:aws:s3:::bucket" }, {}), /^--role-arn: expected an IAM role ARN/);
  fails(() => resolveConfig({ "sts-endpoint": "http://127.0.0.1:1" }, {}), /^--sts-endpoint: only meaningful with --role-arn/);
  fails(() => resolveConfig({ region: "eu-west-1", "availability-zone": "us-east-1a" }, {}), /expected a zone of eu-west-1/);
  fails(() => resolveConfig({}, { IMDS_EMULATOR_PORT: "70000" }), /^IMDS_EMULATOR_PORT: expected an integer from 0 to 65535, got "70000"$/);
  fails(() => resolveConfig({ "spot-interruption-after": "soon" }, {}), /^--spot-interruption-after: expected a duration such as 30s/);
  fails(() => resolveConfig({ "spot-action": "explode" }, {}), /^--spot-action: expected one of stop, terminate, hibernate/);
  fails(() => resolveConfig({ "target-lifecycle-state": ["Gone@5s"] }, {}), /^--target-lifecycle-state: expected one of InService, Terminated/);
});

test("--role-arn selects STS and gives the role name and account id", () => {
  const config = resolveConfig({ "role-arn": "arn:aws:iam::210987654321:role/team/app-role", "sts-endpoint": "http://127.0.0.1:5000" }, {});
  assert.equal(config.roleName, "app-role");
  assert.equal(config.instance.accountId, "210987654321");
  assert.equal(config.sts?.region, "us-east-1");
  assert.equal(config.sts?.endpoint, "http://127.0.0.1:5000");
  assert.equal(resolveConfig({ "role-arn": "arn:aws:iam::210987654321:role/app-role", "role-name": "other" }, {}).roleName, "other");
});

test("config files: YAML and JSON, with metadata overrides and tags; errors name the file and the key", async () => {
  const dir = tempDir("imds-config-");
  const yamlPath = join(dir, "instance.yaml");
  await writeFile(yamlPath, "region: eu-central-1\nhost: [127.0.0.1, '::1']\nmetadata:\n  placement/group-name: web-tier\n  custom/path: 42\ntags:\n  Name: dev\n");
  const config = resolveConfig({}, {}, await loadConfigFile(yamlPath));
  assert.equal(config.instance.region, "eu-central-1");
  assert.deepEqual(config.hosts, ["127.0.0.1", "::1"]);
  assert.deepEqual(config.metadata, { "placement/group-name": "web-tier", "custom/path": "42" });
  assert.deepEqual(config.tags, { Name: "dev" });

  const jsonPath = join(dir, "instance.json");
  await writeFile(jsonPath, JSON.stringify({ "http-tokens": "required" }));
  assert.equal(resolveConfig({}, {}, await loadConfigFile(jsonPath)).httpTokens, "required");

  await writeFile(jsonPath, "{ not json");
  await assert.rejects(loadConfigFile(jsonPath), /--config: .*instance\.json is not valid JSON/);
  await assert.rejects(loadConfigFile(join(dir, "missing.yaml")), /--config: cannot read .*missing\.yaml: ENOENT/);
  fails(() => resolveConfig({}, {}, { path: "x.yaml", data: { colour: "red" } }), /^x\.yaml: unknown key "colour"/);
  fails(() => resolveConfig({}, {}, { path: "x.yaml", data: { metadata: ["a"] } }), /^x\.yaml: metadata: expected a mapping/);
  fails(() => resolveConfig({}, {}, { path: "x.yaml", data: { tags: { Name: { a: 1 } } } }), /^x\.yaml: tags\.Name: expected a text value/);
  fails(() => resolveConfig({}, {}, { path: "x.yaml", data: { tags: { "a/b": "c" } } }), /^x\.yaml: tags: expected a tag key/);
  for (const key of ["a b", "_index", "..", "é"]) {
    fails(() => resolveConfig({}, {}, { path: "x.yaml", data: { tags: { [key]: "c" } } }), /^x\.yaml: tags: expected a tag key/);
  }
  assert.deepEqual(resolveConfig({}, {}, { path: "x.yaml", data: { tags: { "a+b=c.d,e_f:g@h": "v", _indexed: "v" } } }).tags, { "a+b=c.d,e_f:g@h": "v", _indexed: "v" });
  fails(() => resolveConfig({}, {}, { path: "x.yaml", data: { region: "nowhere" } }), /^x\.yaml: region: expected an AWS region such as us-east-1, got "nowhere"$/);
  fails(() => resolveConfig({}, {}, { path: "x.yaml", data: { "network-interfaces": [{ mac: "zz" }] } }), /^x\.yaml: network-interfaces\[0\]\.mac: expected a lower-case MAC/);
  fails(() => resolveConfig({}, {}, { path: "x.yaml", data: { "network-interfaces": [{ colour: "red" }] } }), /^x\.yaml: network-interfaces\[0\]: unknown key "colour"/);
  fails(() => resolveConfig({}, {}, { path: "x.yaml", data: "just text" }), /^x\.yaml: expected a mapping/);
});

test("event options become scheduled events", () => {
  const config = resolveConfig(
    {
      "spot-interruption-after": "30s",
      "spot-action": "stop",
      "rebalance-after": "2m",
      "maintenance-after": "1h",
      "target-lifecycle-state": ["InService", "Terminated@90s"],
    },
    {},
  );
  assert.deepEqual(config.events, [
    { request: { kind: "spot-interruption", action: "stop" }, afterMs: 30_000 },
    { request: { kind: "rebalance-recommendation" }, afterMs: 120_000 },
    { request: { kind: "maintenance", code: "system-reboot" }, afterMs: 3_600_000 },
    { request: { kind: "target-lifecycle-state", state: "InService" }, afterMs: 0 },
    { request: { kind: "target-lifecycle-state", state: "Terminated" }, afterMs: 90_000 },
  ]);
  assert.deepEqual(resolveConfig({}, {}).events, []);
});

test("an instance description file: identity values, inline user data and more interfaces", () => {
  const config = resolveConfig({}, {}, {
    path: "i.yaml",
    data: {
      "instance-id": "i-0123456789abcdef0",
      "local-ipv4": "10.1.2.3",
      "user-data": "#!/bin/sh\necho hi\n",
      "network-interfaces": [{ "local-ipv4": "10.1.2.50", "security-group-ids": ["sg-0123456789abcdef0"] }],
    },
  });
  assert.equal(config.instance.instanceId, "i-0123456789abcdef0");
  assert.equal(config.userData?.toString(), "#!/bin/sh\necho hi\n");
  assert.deepEqual(config.instance.secondaryInterfaces, [
    { mac: undefined, localIpv4: "10.1.2.50", publicIpv4: undefined, subnetId: undefined, securityGroupIds: ["sg-0123456789abcdef0"] },
  ]);
  fails(
    () => resolveConfig({ "user-data-file": "/x" }, {}, { path: "i.yaml", data: { "user-data": "a" } }),
    /^i\.yaml: user-data and --user-data-file both give user data/,
  );
  fails(() => resolveConfig({}, {}, { path: "i.yaml", data: { "user-data": "x".repeat(16385) } }), /^i\.yaml: user-data: expected at most 16384 bytes/);
});

test("on the command line a repeatable option keeps every value, a single-value option its last", () => {
  const config = resolveConfig({ host: ["169.254.169.254", "fd00:ec2::254"], port: ["80", "81"] }, {});
  assert.deepEqual(config.hosts, ["169.254.169.254", "fd00:ec2::254"]);
  assert.equal(config.port, 81);
});
