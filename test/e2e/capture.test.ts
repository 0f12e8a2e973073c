import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { parse as parseYaml } from "yaml";
import { CLI, run, startDaemon, type DaemonProcess } from "../support/daemon";
import { createLan, METADATA_ADDRESS, type Lan } from "../support/lan";
import { requireNetns } from "../support/netns";
import { tempDir } from "../support/tmp";
import { resolveConfig } from "../../src/config/config";
import { loadConfigFile } from "../../src/config/file";

// A round trip at EC2's address, inside namespaces of this test's own: an emulator started from an
// example is captured from a caller's namespace; a second emulator started from the capture answers
// the same walk byte for byte, and cloud-init's crawl of both finds the same instance. Nothing is
// sent to 169.254.169.254 from the machine's namespace.

const EXAMPLE = join(__dirname, "..", "..", "..", "examples", "web-server.yaml");
const CLOUD_INIT = join(__dirname, "..", "..", "..", "test", "e2e", "clients", "cloud_init_ec2.py");
const LISTEN = ["--host", METADATA_ADDRESS, "--port", "80"];

describe("capture an emulator from another namespace, replay it, and find the same instance", () => {
  const files = tempDir("imds-capture-");
  let lan: Lan | string;
  let daemon: DaemonProcess | undefined;

  before(() => {
    lan = createLan(`imds-cap-${process.pid}`, { probe: 10 });
  });
  after(async () => {
    await daemon?.stop();
    if (typeof lan === "object") lan.destroy();
  });

  const inProbe = (command: string[]) => {
    const probe = (lan as Lan).callers.get("probe")!;
    const home = tempDir("imds-capture-home-");
    return run(probe.netns.exec[0]!, [...probe.netns.exec.slice(1), ...command], { PATH: process.env.PATH, HOME: home }, 60_000);
  };
  const serve = async (config: string) => {
    daemon = await startDaemon(["--config", config, "--allow-cidr", "10.231.0.0/24"], {}, 30_000, { prefix: (lan as Lan).emulator.exec, listen: LISTEN });
  };
  /** The capture of whatever answers at EC2's address now, and what it reported. */
  const capture = async (name: string) => {
    const output = join(files, name);
    const done = await inProbe([process.execPath, CLI, "capture", "--output", output]);
    assert.equal(done.code, 0, done.stderr);
    assert.match(done.stderr, / paths captured, 0 missing\n$/);
    return { text: await readFile(output, "utf8"), data: parseYaml(await readFile(output, "utf8")) as Record<string, unknown> };
  };
  const cloudInit = async () => {
    const done = await inProbe(["/usr/bin/python3", CLOUD_INIT]);
    assert.equal(done.code, 0, done.stderr);
    return JSON.parse(done.stdout) as Record<string, unknown>;
  };

  test("the replay answers the first emulator's walk byte for byte, and cloud-init's crawl of both is the same", async (t) => {
    if (!requireNetns(typeof lan === "object" ? lan.emulator : lan, t)) return;
    await serve(EXAMPLE);
    const first = await capture("first.yaml");
    const hasCloudInit = (await run("/usr/bin/python3", ["-c", "import cloudinit.sources.DataSourceEc2"], { PATH: process.env.PATH })).code === 0;
    if (!hasCloudInit && process.env.CI === "true") throw new Error("cloud-init is not installed: apt-get install cloud-init");
    const crawlFirst = hasCloudInit ? await cloudInit() : undefined;
    await daemon!.stop();
    daemon = undefined;

    await serve(join(files, "first.yaml"));
    const second = await capture("second.yaml");
    assert.equal(second.text, first.text, "the same file: every path, listing and body, and the same options");
    const captured = first.data.captured as Record<string, unknown>;
    assert.ok(Object.keys(captured).length > 60, `a whole tree (${Object.keys(captured).length} paths)`);
    assert.equal(first.data["role-name"], "web-server");
    assert.equal(captured["meta-data/tags/instance/Team"], "platform");
    assert.ok(!/SecretAccessKey|"Token"|AccessKeyId/.test(first.text), "no credentials in a capture");

    // Credentials and signatures are live on the replay: read where EC2 serves them.
    const token = `T=$(curl -s -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 60' http://${METADATA_ADDRESS}/latest/api/token)`;
    const read = async (path: string) =>
      (await inProbe(["sh", "-c", `${token} && curl -s -w ' %{http_code}' -H "X-aws-ec2-metadata-token: $T" http://${METADATA_ADDRESS}${path}`])).stdout;
    assert.match(await read("/latest/meta-data/iam/security-credentials/web-server"), /"AccessKeyId" : "ASIA[A-Z0-9]{16}"[\s\S]* 200$/);
    assert.match(await read("/latest/dynamic/instance-identity/signature"), /^[A-Za-z0-9+/=\n]{100,} 200$/);

    if (crawlFirst === undefined) return t.skip("cloud-init is not installed: apt-get install cloud-init");
    const crawlSecond = await cloudInit();
    assert.equal(crawlFirst.found, true);
    assert.deepEqual(crawlSecond, crawlFirst);
  });
});

test("capture --help prints its usage; a bad argument is one line and exit 2, before any request", async () => {
  const env = { PATH: process.env.PATH };
  const help = await run(process.execPath, [CLI, "capture", "--help"], env);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^imds-emulator capture \[--output FILE\]/);
  const bad = await run(process.execPath, [CLI, "capture", "--max-requests", "many"], env);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^imds-emulator: capture: --max-requests: expected an integer from 2 to 10000, got "many"\n$/);
  const mode = await run(process.execPath, [CLI, "capture"], { ...env, AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE: "IPv5" });
  assert.equal(mode.code, 2);
});

test("capture of an endpoint that fails part-way: done within its bounds, the missing paths listed, the file loads", async (t) => {
  // A loopback stand-in: a 404, a 500 and a path that never answers in time.
  const routes: Record<string, string> = {
    "/latest/meta-data/": "ami-id\ngone\nbroken\nslow",
    "/latest/meta-data/ami-id": "ami-0abc",
    "/latest/dynamic/": "instance-identity/",
    "/latest/dynamic/instance-identity/": "document",
    "/latest/dynamic/instance-identity/document": '{"region" : "eu-west-1"}',
  };
  const server = createServer((req, res) => {
    if (req.method === "PUT") return void res.end("token");
    if (req.url === "/latest/meta-data/broken") return void res.writeHead(500).end();
    if (req.url === "/latest/meta-data/slow") return void setTimeout(() => res.end("late"), 3000).unref();
    const body = routes[req.url!];
    res.writeHead(body === undefined ? 404 : 200).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.after(() => server.close());
  const output = join(tempDir("imds-capture-partial-"), "partial.yaml");
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const done = await run(process.execPath, [CLI, "capture", "--output", output], { PATH: process.env.PATH, AWS_EC2_METADATA_SERVICE_ENDPOINT: endpoint }, 20_000);
  assert.equal(done.code, 0, done.stderr);
  assert.match(done.stderr, /not captured: meta-data\/gone: status 404\n/);
  assert.match(done.stderr, /not captured: meta-data\/broken: status 500\n/);
  assert.match(done.stderr, /not captured: meta-data\/slow: no answer within 1000 ms\n/);
  assert.match(done.stderr, /5 paths captured, 3 missing\n$/);
  const text = await readFile(output, "utf8");
  assert.match(text, /^# +meta-data\/slow: no answer within 1000 ms$/m);
  const config = resolveConfig({}, {}, await loadConfigFile(output));
  assert.equal(config.captured?.get("meta-data/ami-id")?.toString(), "ami-0abc");
});
