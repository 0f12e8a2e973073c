import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { parse as parseYaml } from "yaml";
import { run, startDaemon, type DaemonProcess } from "../support/daemon";
import { createLan, METADATA_ADDRESS, type Lan } from "../support/lan";
import { requireMoto, startMoto, type Moto } from "../support/moto";
import { requireNetns } from "../support/netns";
import { tempDir } from "../support/tmp";

// Several callers on one network, each its own EC2 instance and role through one emulator at EC2's
// address, as compose services or a small fleet see it. Everything runs inside namespaces of this
// test's own; nothing is sent to 169.254.169.254 from the machine's namespace.

const ACCOUNT = "123456789012";
const ROLE_A = `arn:aws:iam::${ACCOUNT}:role/role-a`;
const ROLE_B = `arn:aws:iam::${ACCOUNT}:role/role-b`;
const CALLERS = { a: 10, b: 11, stranger: 12 } as const;
const IMDS = `http://${METADATA_ADDRESS}`;
const CLIENTS_DIR = join(__dirname, "clients");

const BOTO3 = `
import boto3, json, sys
session = boto3.session.Session(region_name="us-east-1")
identity = session.client("sts", endpoint_url=sys.argv[1]).get_caller_identity()
print(json.dumps({"method": session.get_credentials().method, "arn": identity["Arn"]}))
`;

/** A client environment with no AWS configuration at all: credentials can come only from the metadata service. */
function bareEnv(): NodeJS.ProcessEnv {
  const home = tempDir("imds-lan-home-");
  return { PATH: process.env.PATH, HOME: home, AWS_CONFIG_FILE: join(home, "none"), AWS_SHARED_CREDENTIALS_FILE: join(home, "none") };
}

describe("each caller its own instance and role, at EC2's address", () => {
  let lan: Lan | string;
  let moto: Moto | string | undefined;
  let daemon: DaemonProcess | undefined;
  let sts = "";

  before(async () => {
    lan = createLan(`imds-lan-${process.pid}`, CALLERS);
    if (typeof lan === "string") return;
    const emulator = lan.emulator;
    moto = await startMoto(30_000, { prefix: emulator.exec, host: lan.gateway, port: 5000, reachable: emulator.reachable });
    if (typeof moto === "string") return;
    sts = moto.url;
    const config = join(tempDir("imds-lan-"), "instances.yaml");
    await writeFile(
      config,
      [
        `sts-endpoint: ${sts}`,
        "instances:",
        `  - {name: app, callers: [${lan.callers.get("a")!.address}], role-arn: ${ROLE_A}, role-session-name: app}`,
        `  - {name: app-twin, callers: [10.231.0.20], role-arn: ${ROLE_A}, role-session-name: app}`,
        `  - {name: batch, callers: [${lan.callers.get("b")!.address}], role-arn: ${ROLE_B}, role-session-name: batch, instance-type: c5.large}`,
        "",
      ].join("\n"),
    );
    daemon = await startDaemon(
      ["--config", config, "--allow-cidr", "10.231.0.0/24", "--http-tokens", "required"],
      { AWS_ACCESS_KEY_ID: "testing", AWS_SECRET_ACCESS_KEY: "testing" },
      30_000,
      { prefix: emulator.exec, listen: ["--host", METADATA_ADDRESS, "--port", "80"] },
    );
  });
  after(async () => {
    await daemon?.stop();
    if (typeof moto === "object") await moto.stop();
    if (typeof lan === "object") lan.destroy();
  });

  const inCaller = (name: keyof typeof CALLERS, command: string[], timeoutMs = 30_000) => {
    const caller = (lan as Lan).callers.get(name)!;
    return run(caller.netns.exec[0]!, [...caller.netns.exec.slice(1), ...command], bareEnv(), timeoutMs);
  };

  test("the AWS CLI, boto3 and JS v3 in caller A get role A; in caller B, role B", async (t) => {
    if (!requireNetns(typeof lan === "object" ? lan.emulator : lan, t) || !requireMoto(moto, t)) return;
    for (const [caller, role] of [["a", "role-a/app"], ["b", "role-b/batch"]] as const) {
      const arn = `arn:aws:sts::${ACCOUNT}:assumed-role/${role}`;
      const cli = await inCaller(caller, ["aws", "sts", "get-caller-identity", "--endpoint-url", sts, "--region", "us-east-1", "--output", "json"]);
      assert.equal(cli.code, 0, cli.stderr);
      assert.equal(JSON.parse(cli.stdout).Arn, arn, `AWS CLI in ${caller}`);
      const boto3 = await inCaller(caller, ["python3", "-c", BOTO3, sts]);
      assert.equal(boto3.code, 0, boto3.stderr);
      assert.deepEqual(JSON.parse(boto3.stdout), { method: "iam-role", arn }, `boto3 in ${caller}`);
      const js = await inCaller(caller, [process.execPath, join(CLIENTS_DIR, "js-v3.js"), sts]);
      assert.equal(js.code, 0, js.stderr);
      assert.equal(JSON.parse(js.stdout).arn, arn, `JS v3 in ${caller}`);
    }
  });

  test("each caller reads its own instance: id, address, type; identity documents agree", async (t) => {
    if (!requireNetns(typeof lan === "object" ? lan.emulator : lan, t) || !requireMoto(moto, t)) return;
    const read = async (caller: keyof typeof CALLERS, path: string) => {
      const script = `T=$(curl -s -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 60' ${IMDS}/latest/api/token) && curl -s -H "X-aws-ec2-metadata-token: $T" ${IMDS}${path}`;
      const result = await inCaller(caller, ["sh", "-c", script]);
      assert.equal(result.code, 0, result.stderr);
      return result.stdout;
    };
    const idA = await read("a", "/latest/meta-data/instance-id");
    const idB = await read("b", "/latest/meta-data/instance-id");
    assert.match(idA, /^i-0[0-9a-f]{16}$/);
    assert.notEqual(idA, idB);
    assert.equal(await read("a", "/latest/meta-data/local-ipv4"), "10.231.0.10");
    assert.equal(await read("b", "/latest/meta-data/instance-type"), "c5.large");
    assert.equal(JSON.parse(await read("b", "/latest/dynamic/instance-identity/document")).instanceId, idB);
  });

  test("the stranger gets 403 everywhere, token PUT included; A's token is 401 in B", async (t) => {
    if (!requireNetns(typeof lan === "object" ? lan.emulator : lan, t) || !requireMoto(moto, t)) return;
    const status = (caller: keyof typeof CALLERS, args: string[]) =>
      inCaller(caller, ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", ...args]).then((result) => result.stdout);
    assert.equal(await status("stranger", ["-X", "PUT", "-H", "X-aws-ec2-metadata-token-ttl-seconds: 60", `${IMDS}/latest/api/token`]), "403");
    assert.equal(await status("stranger", [`${IMDS}/latest/meta-data/instance-id`]), "403");
    assert.equal(await status("stranger", [`${IMDS}/latest/meta-data/iam/security-credentials/role-a`]), "403");
    const token = await inCaller("a", ["curl", "-s", "-X", "PUT", "-H", "X-aws-ec2-metadata-token-ttl-seconds: 60", `${IMDS}/latest/api/token`]);
    assert.equal(await status("a", ["-H", `X-aws-ec2-metadata-token: ${token.stdout}`, `${IMDS}/latest/meta-data/instance-id`]), "200");
    assert.equal(await status("b", ["-H", `X-aws-ec2-metadata-token: ${token.stdout}`, `${IMDS}/latest/meta-data/instance-id`]), "401");
    assert.ok(daemon!.logs.some((line) => line.event === "unknown-caller-refused" && line.value === "10.231.0.12"));
  });

  test("one AssumeRole per role, whatever the number of instances: three instances, two roles, two calls", async (t) => {
    if (!requireNetns(typeof lan === "object" ? lan.emulator : lan, t) || !requireMoto(moto, t)) return;
    const rotations = daemon!.logs.filter((line) => line.event === "credentials-rotated" && line.source === "sts");
    assert.equal(rotations.length, 2, JSON.stringify(rotations));
  });
});

describe("the compose example: two services, each its own role, by service name", () => {
  const EXAMPLES = join(__dirname, "..", "..", "..", "examples");
  let lan: Lan | string;
  let daemon: DaemonProcess | undefined;

  before(async () => {
    lan = createLan(`imds-cmp-${process.pid}`, { web: 10, worker: 11, other: 12 });
    if (typeof lan === "string") return;
    lan.nameCallers();
    daemon = await startDaemon(["--config", join(EXAMPLES, "instances.yaml"), "--allow-cidr", "10.231.0.0/24"], {}, 30_000, {
      prefix: lan.emulator.exec,
      listen: ["--host", METADATA_ADDRESS, "--port", "80"],
    });
  });
  after(async () => {
    await daemon?.stop();
    if (typeof lan === "object") lan.destroy();
  });

  test("docker-compose validates it; the emulator reads examples/instances.yaml, whose callers are the services", async (t) => {
    let result: Awaited<ReturnType<typeof run>> | undefined;
    try {
      result = await run("docker-compose", ["-f", join(EXAMPLES, "compose.instances.yaml"), "config"], { PATH: process.env.PATH, HOME: tempDir("imds-cmp-home-") });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    }
    if (result === undefined) {
      if (process.env.CI === "true") throw new Error("docker-compose is not installed: apt-get install docker-compose");
      return t.skip("docker-compose is not installed: apt-get install docker-compose");
    }
    assert.equal(result.code, 0, result.stderr);
    const { services } = parseYaml(result.stdout) as { services: Record<string, { environment?: Record<string, string>; volumes?: string[]; networks?: Record<string, { ipv4_address?: string } | null> }> };
    const imds = services.imds!;
    assert.equal(imds.networks?.ec2?.ipv4_address, METADATA_ADDRESS);
    const mounted = imds.volumes!.find((volume) => volume.endsWith(":ro") && volume.includes("instances.yaml"))!;
    assert.equal(mounted.split(":")[1], imds.environment!.IMDS_EMULATOR_CONFIG, "the emulator reads the mounted file");
    const described = parseYaml(await readFile(join(EXAMPLES, "instances.yaml"), "utf8")) as { instances: Array<{ callers: string[] }> };
    const callers = described.instances.flatMap((instance) => instance.callers).sort();
    assert.deepEqual(callers, Object.keys(services).filter((name) => name !== "imds").sort(), "every other service is a caller by name");
  });

  test("through namespaces: web gets web-role, worker worker-role, by name; another caller gets 403", async (t) => {
    if (!requireNetns(typeof lan === "object" ? lan.emulator : lan, t)) return;
    const inCaller = (name: string, command: string[]) => {
      const caller = (lan as Lan).callers.get(name)!;
      return run(caller.netns.exec[0]!, [...caller.netns.exec.slice(1), ...command], bareEnv());
    };
    const read = async (name: string, path: string) => {
      const script = `T=$(curl -s -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 60' ${IMDS}/latest/api/token) && curl -s -w ' %{http_code}' -H "X-aws-ec2-metadata-token: $T" ${IMDS}${path}`;
      return (await inCaller(name, ["sh", "-c", script])).stdout;
    };
    assert.equal(await read("web", "/latest/meta-data/iam/security-credentials/"), "web-role 200");
    assert.equal(await read("worker", "/latest/meta-data/iam/security-credentials/"), "worker-role 200");
    assert.equal(await read("web", "/latest/meta-data/tags/instance/Service"), "web 200");
    assert.equal(await read("worker", "/latest/meta-data/instance-type"), "c5.large 200");
    const botocore = await inCaller("worker", ["python3", "-c", "import botocore.session; c = botocore.session.get_session().get_credentials(); print(c.method)"]);
    assert.equal(botocore.stdout.trim(), "iam-role", botocore.stderr);
    const refused = await inCaller("other", ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "PUT", "-H", "X-aws-ec2-metadata-token-ttl-seconds: 60", `${IMDS}/latest/api/token`]);
    assert.equal(refused.stdout, "403");
  });
});
