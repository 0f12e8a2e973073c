import assert from "node:assert/strict";
import { test } from "node:test";
import { ConfigError, resolveConfig } from "../../src/config/config";

const fails = (data: Record<string, unknown>, pattern: RegExp) =>
  assert.throws(() => resolveConfig({}, {}, { path: "i.yaml", data }), (error: unknown) => error instanceof ConfigError && pattern.test(error.message));

const ROLE_A = "arn:aws:iam::111111111111:role/web-role";
const ROLE_B = "arn:aws:iam::111111111111:role/worker-role";

test("instances: each entry inherits the top level's instance settings and replaces those it names", () => {
  const config = resolveConfig({ "http-tokens": "required" }, {}, {
    path: "i.yaml",
    data: {
      region: "eu-west-1",
      "instance-type": "m5.large",
      "instance-id": "i-0123456789abcdef0",
      tags: { Team: "platform" },
      "instance-metadata-tags": "enabled",
      instances: [
        { name: "web", callers: ["10.0.0.2"], "role-arn": ROLE_A, tags: { Name: "web" } },
        { name: "worker", callers: ["worker", "10.0.1.0/24"], "role-arn": ROLE_B, "instance-type": "c5.xlarge", "http-tokens": "optional" },
        { name: "jobs", callers: ["jobs"], "one-per-caller": true },
      ],
    },
  });
  assert.equal(config.unknownCallers, "deny");
  assert.equal(config.instance.instanceId, "i-0123456789abcdef0");
  const [web, worker, jobs] = config.instances;
  assert.equal(web!.instance.region, "eu-west-1");
  assert.equal(web!.instance.instanceType, "m5.large");
  assert.equal(web!.instance.instanceId, undefined, "an instance id is never inherited");
  assert.equal(web!.instance.localIpv4, "10.0.0.2", "a single caller address is the instance's own address");
  assert.equal(web!.roleName, "web-role");
  assert.equal(web!.httpTokens, "required", "the command line's value reaches the entries");
  assert.deepEqual(web!.tags, { Name: "web" }, "an entry's tags replace the top level's");
  assert.equal(worker!.instance.instanceType, "c5.xlarge");
  assert.equal(worker!.httpTokens, "optional", "an entry's own value beats the command line's");
  assert.deepEqual(worker!.tags, { Team: "platform" });
  assert.equal(worker!.instance.localIpv4, undefined);
  assert.deepEqual(worker!.callers.map((caller) => caller.kind), ["name", "network"]);
  assert.equal(jobs!.onePerCaller, true);
  assert.equal(jobs!.sts, undefined);
});

test("instances: the top level's STS settings are the entries' defaults, without a role of its own", () => {
  const config = resolveConfig({}, {}, {
    path: "i.yaml",
    data: { "sts-endpoint": "http://127.0.0.1:5000", instances: [{ name: "web", callers: ["web"], "role-arn": ROLE_A }, { name: "mock", callers: ["m"] }] },
  });
  assert.equal(config.instances[0]!.sts?.endpoint, "http://127.0.0.1:5000");
  assert.equal(config.instances[1]!.sts, undefined);
  fails({ instances: [{ name: "web", callers: ["web"], "external-id": "abc" }] }, /^i\.yaml: instances\[web\]\.external-id: only meaningful with --role-arn$/);
});

test("instances: bad entries are refused with one line naming the entry", () => {
  fails({ instances: [] }, /^i\.yaml: instances: expected a list of instances/);
  fails({ instances: [{ name: "Web!", callers: ["web"] }] }, /^i\.yaml: instances\[0\]\.name: expected a name of lower-case letters/);
  fails({ instances: [{ name: "web" }] }, /^i\.yaml: instances\[web\]: callers is required/);
  fails({ instances: [{ name: "web", callers: ["a b"] }] }, /^i\.yaml: instances\[web\]\.callers: expected an address, a network/);
  fails({ instances: [{ name: "web", callers: ["web"], colour: "red" }] }, /^i\.yaml: instances\[web\]: unknown key "colour"/);
  fails({ instances: [{ name: "web", callers: ["web"], "role-arm": ROLE_A }] }, /unknown key "role-arm"; did you mean "role-arn"\?/);
  fails({ instances: [{ name: "web", callers: ["web"], port: 80 }] }, /^i\.yaml: instances\[web\]: port is daemon-wide; set it at the top level$/);
  fails({ instances: [{ name: "web", callers: ["web"], "http-tokens": "maybe" }] }, /^i\.yaml: instances\[web\]\.http-tokens: expected one of optional, required/);
  fails({ instances: [{ name: "a", callers: ["x"] }, { name: "a", callers: ["y"] }] }, /instances\[1\]\.name: a is the name of an earlier entry too/);
  fails(
    { instances: [{ name: "a", callers: ["10.0.0.0/24"] }, { name: "b", callers: ["10.0.0.7"] }] },
    /^i\.yaml: instances\[b\]: 10\.0\.0\.7 overlaps 10\.0\.0\.0\/24 of i\.yaml: instances\[a\]; a caller belongs to one instance$/,
  );
  fails({ instances: [{ name: "a", callers: ["web"] }, { name: "b", callers: ["WEB"] }] }, /WEB is a caller of i\.yaml: instances\[a\] too/);
  fails({ instanses: [] }, /unknown key "instanses"; did you mean "instances"\?/);
  fails({ instances: [{ name: "default", callers: ["web"] }] }, /instances\[0\]\.name: default is the top-level instance's name/);
});

test("unknown-callers: deny by default, default on request, and a warning without instances", () => {
  const data = { instances: [{ name: "a", callers: ["10.0.0.2"] }] };
  assert.equal(resolveConfig({ "unknown-callers": "default" }, {}, { path: "i.yaml", data }).unknownCallers, "default");
  assert.match(resolveConfig({ "unknown-callers": "default" }, {}).warnings.join("\n"), /only meaningful with an instances: list/);
  assert.throws(() => resolveConfig({ "unknown-callers": "allow" }, {}), /--unknown-callers: expected one of deny, default/);
});
