import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test, type TestContext } from "node:test";
import { gzipSync } from "node:zlib";
import { openSshPublicKey } from "../../src/instance/public-key";
import { run, startDaemon, type DaemonProcess } from "../support/daemon";
import { buildGoClient, type GoClient } from "../support/go-client";
import { requireMoto, startMoto, type Moto } from "../support/moto";
import { createNetns, netnsNames, netnsUnavailable, requireNetns, type Netns } from "../support/netns";
import { tempDir } from "../support/tmp";

// Unmodified AWS clients, with no configuration pointing them anywhere, find the emulator at EC2's own
// addresses. Those addresses exist only inside a namespace of this suite's own: nothing here sends a
// packet to them from the machine's namespace, where they may be a cloud host's real metadata service.

const ACCOUNT = "123456789012";
const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/e2e-role`;
const ASSUMED_ARN = `arn:aws:sts::${ACCOUNT}:assumed-role/e2e-role/e2e-session`;
// Not us-east-1: a client that falls back to a default region instead of asking IMDS is caught.
const REGION = "eu-west-3";
const INSTANCE_ID = "i-0e2e0123456789abc";
const STS = "http://127.0.0.1:5000";
const IMDS = "http://169.254.169.254";
const CLIENTS_DIR = join(__dirname, "clients");
const CLIENT_SOURCES = join(__dirname, "..", "..", "..", "test", "e2e", "clients");
// The instance as readers beyond the SDKs see it: the NIC cloud-init configures has this MAC, the
// user data is binary (gzip, as cloud-init accepts it), and the description adds IPv6 and disks.
const MAC = "0e:e2:e0:12:34:56";
const NIC = "eth0";
const USER_DATA = gzipSync("#cloud-config\nhostname: e2e-instance\n");
const DESCRIPTION = [
  "ipv6: [\"2600:1f16:292:100::e2e\"]",
  "instance-monitoring: enabled",
  "block-device-mapping: {ebs1: sdf, ephemeral0: sdb}",
  "",
].join("\n");
// The daemon's seed is the host name, which the namespace shares with this process.
const PUBLIC_KEY = openSshPublicKey(hostname(), "imds-emulator");

let goClient: GoClient = { reason: "not built yet" };

type Mode = "optional" | "required";
const MODES: readonly Mode[] = ["optional", "required"];

interface Tool {
  readonly name: string;
  readonly install: string;
  present(): boolean;
}

const goBinary = () => ("binary" in goClient ? goClient.binary : "go-imds-not-built");

const succeeds = (command: string, ...args: string[]) => () => spawnSync(command, args, { stdio: "ignore" }).status === 0;
const resolves = (module: string) => () => {
  try {
    return Boolean(require.resolve(module));
  } catch {
    return false;
  }
};
const TOOLS = {
  jsV3: { name: "@aws-sdk/client-sts", install: "npm ci", present: resolves("@aws-sdk/client-sts") },
  jsV2: { name: "aws-sdk (v2)", install: "npm ci", present: resolves("aws-sdk") },
  boto3: { name: "boto3", install: "pip install boto3", present: succeeds("python3", "-c", "import boto3") },
  awsCli: { name: "aws", install: "pip install awscli", present: succeeds("aws", "--version") },
  ec2Metadata: {
    name: "ec2-metadata",
    install: "apt-get install amazon-ec2-utils",
    present: succeeds("sh", "-c", "command -v ec2-metadata"),
  },
  curl: { name: "curl", install: "apt-get install curl", present: succeeds("curl", "--version") },
  // Debian's cloud-init runs on Debian's python, not a python3 earlier on PATH.
  cloudInit: {
    name: "cloud-init",
    install: "mkdir -p /etc/cloud && touch /etc/cloud/cloud-init.disabled && apt-get install cloud-init",
    present: succeeds("/usr/bin/python3", "-c", "import cloudinit.sources.DataSourceEc2"),
  },
  goSdk: {
    name: "AWS SDK for Go v2 client",
    get install() {
      return "reason" in goClient ? goClient.reason : "";
    },
    present: () => "binary" in goClient,
  },
} satisfies Record<string, Tool>;

interface Client {
  readonly name: string;
  readonly tool: Tool;
  /** A function when the command exists only once `before` has built it. */
  readonly argv: readonly string[] | (() => readonly string[]);
  readonly env?: Readonly<Record<string, string>>;
  /** Nothing else in the namespace speaks IPv6, so received IPv6 packets prove the IPv6 endpoint was used. */
  readonly ipv6?: boolean;
  check(stdout: string, mode: Mode): void;
}

function assumedRole(stdout: string): void {
  const output = JSON.parse(stdout);
  assert.equal(output.arn ?? output.Arn, ASSUMED_ARN);
  if (output.region !== undefined) assert.equal(output.region, REGION);
  if (output.method !== undefined) assert.equal(output.method, "iam-role");
}

const BOTO3 = `
import boto3, json, sys
session = boto3.session.Session()
arn = session.client("sts", endpoint_url=sys.argv[1], region_name=sys.argv[2]).get_caller_identity()["Arn"]
print(json.dumps({"arn": arn, "method": session.get_credentials().method}))
`;
const IDENTITY_DOCUMENT = `
token=$(curl -sf -X PUT -H "X-aws-ec2-metadata-token-ttl-seconds: 60" ${IMDS}/latest/api/token) &&
curl -sf -H "X-aws-ec2-metadata-token: $token" ${IMDS}/latest/dynamic/instance-identity/document
`;
const jsV3 = join(CLIENTS_DIR, "js-v3.js");

/** cloud-init's crawl (test/e2e/clients/cloud_init_ec2.py): everything a booting instance would take from IMDS. */
function cloudInitCrawl(stdout: string): void {
  const out = JSON.parse(stdout);
  const exchanges = out.exchanges as Array<{ method: string; url: string; status: number | null }>;
  assert.deepEqual(exchanges.filter((exchange) => exchange.status !== 200), [], "every request answered 200: no 404 in the crawl");
  assert.deepEqual(out.warnings, [], "no warning from cloud-init");
  assert.equal(out.found, true);
  assert.equal(out.cloudName, "aws");
  assert.equal(out.apiVersion, "2021-03-23");
  assert.equal(exchanges[0]?.method, "PUT", "a session token first");
  assert.ok(exchanges.some((exchange) => exchange.url.endsWith("/2021-03-23/meta-data/public-keys/0/openssh-key")));
  assert.ok(exchanges.length > 40, `a full crawl (${exchanges.length} requests)`);
  assert.deepEqual([out.instanceId, out.metadataInstanceId, out.identityInstanceId], [INSTANCE_ID, INSTANCE_ID, INSTANCE_ID]);
  assert.deepEqual([out.region, out.availabilityZone], [REGION, `${REGION}a`]);
  assert.deepEqual(out.publicKeys, [PUBLIC_KEY]);
  assert.deepEqual(Buffer.from(out.userData, "base64"), USER_DATA, "user data byte for byte");
  assert.deepEqual(out.networkConfig, {
    version: 2,
    ethernets: { [NIC]: { dhcp4: true, dhcp6: true, match: { macaddress: MAC }, "set-name": NIC } },
  });
}

const CLIENTS: readonly Client[] = [
  { name: "JS v3, default chain", tool: TOOLS.jsV3, argv: [process.execPath, jsV3, STS, REGION], check: assumedRole },
  {
    name: "JS v3, AWS_EC2_METADATA_V1_DISABLED=true",
    tool: TOOLS.jsV3,
    argv: [process.execPath, jsV3, STS, REGION],
    env: { AWS_EC2_METADATA_V1_DISABLED: "true" },
    check: assumedRole,
  },
  {
    name: "JS v3, ENDPOINT_MODE=IPv6",
    tool: TOOLS.jsV3,
    argv: [process.execPath, jsV3, STS, REGION],
    env: { AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE: "IPv6" },
    ipv6: true,
    check: assumedRole,
  },
  // No region argument: the region must come from placement/region.
  { name: "JS v3, no region configured", tool: TOOLS.jsV3, argv: [process.execPath, jsV3, STS], check: assumedRole },
  {
    name: "JS v2 (aws-sdk), default chain",
    tool: TOOLS.jsV2,
    argv: [process.execPath, join(CLIENTS_DIR, "js-v2.js"), STS, REGION],
    check: assumedRole,
  },
  { name: "boto3, default chain", tool: TOOLS.boto3, argv: ["python3", "-c", BOTO3, STS, REGION], check: assumedRole },
  {
    name: "boto3, ENDPOINT_MODE=IPv6",
    tool: TOOLS.boto3,
    argv: ["python3", "-c", BOTO3, STS, REGION],
    env: { AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE: "IPv6" },
    ipv6: true,
    check: assumedRole,
  },
  {
    name: "AWS CLI, aws sts get-caller-identity",
    tool: TOOLS.awsCli,
    argv: ["aws", "sts", "get-caller-identity", "--endpoint-url", STS, "--region", REGION, "--output", "json"],
    check: assumedRole,
  },
  {
    // Debian's script (amazon-ec2-utils 2.0.1) has no region or identity-document option: the zone
    // carries the region, and -e reads `latest//meta-data/reservation-id` (its double slash included).
    name: "ec2-metadata -i -z -e",
    tool: TOOLS.ec2Metadata,
    argv: ["ec2-metadata", "-i", "-z", "-e"],
    check: (stdout) => assert.match(stdout, new RegExp(`^instance-id: ${INSTANCE_ID}\nplacement: ${REGION}a\nreservation-id: r-[0-9a-f]{17}\n$`)),
  },
  {
    // -u reads public-keys/ line by line (`0=<name>`) and asks for public-keys/0/ itself.
    name: "ec2-metadata -u -b",
    tool: TOOLS.ec2Metadata,
    argv: ["ec2-metadata", "-u", "-b"],
    check: (stdout) => {
      const keys = `public-keys: \nkeyname:imds-emulator\nindex:0\nformat:openssh-key\nkey:(begins from next line)\n${PUBLIC_KEY}\n`;
      const disks = "block-device-mapping: \n\t ami: /dev/xvda\n\t ebs1: sdf\n\t ephemeral0: sdb\n\t root: /dev/xvda\n";
      assert.equal(stdout, keys + disks);
    },
  },
  {
    name: "cloud-init 22.4, EC2 datasource",
    tool: TOOLS.cloudInit,
    argv: ["/usr/bin/python3", join(CLIENT_SOURCES, "cloud_init_ec2.py")],
    check: cloudInitCrawl,
  },
  {
    name: "Go SDK v2, default chain + imds client",
    tool: TOOLS.goSdk,
    argv: () => [goBinary(), STS],
    check: (stdout) => {
      const out = JSON.parse(stdout);
      assert.equal(out.arn, ASSUMED_ARN);
      assert.equal(out.credentialSource, "EC2RoleProvider");
      assert.deepEqual([out.region, out.imdsRegion, out.documentRegion], [REGION, REGION, REGION]);
      assert.deepEqual([out.instanceId, out.documentInstanceId], [INSTANCE_ID, INSTANCE_ID]);
      assert.equal(out.documentAccountId, ACCOUNT);
    },
  },
  {
    name: "curl, identity document (IMDSv2)",
    tool: TOOLS.curl,
    argv: ["sh", "-c", IDENTITY_DOCUMENT],
    check: (stdout) => {
      const { instanceId, region, accountId } = JSON.parse(stdout);
      assert.deepEqual({ instanceId, region, accountId }, { instanceId: INSTANCE_ID, region: REGION, accountId: ACCOUNT });
    },
  },
  {
    name: "curl, token-less GET (IMDSv1)",
    tool: TOOLS.curl,
    argv: ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", `${IMDS}/latest/meta-data/instance-id`],
    check: (stdout, mode) => assert.equal(stdout, mode === "required" ? "401" : "200"),
  },
];

interface Cell {
  status: "pass" | "FAIL" | "skip";
  seconds?: number;
}

function renderTable(cells: Map<string, Cell>): string[] {
  const header = ["client", ...MODES.map((mode) => `--http-tokens ${mode}`)];
  const rows = CLIENTS.map((client) => [
    client.name,
    ...MODES.map((mode) => {
      const cell = cells.get(`${client.name}|${mode}`) ?? { status: "skip" };
      return cell.seconds === undefined ? cell.status : `${cell.status} ${cell.seconds.toFixed(2)} s`;
    }),
  ]);
  const widths = header.map((_, column) => Math.max(...[header, ...rows].map((row) => row[column]!.length)));
  const line = (row: string[]) => `| ${row.map((text, column) => text.padEnd(widths[column]!)).join(" | ")} |`;
  return [line(header), line(widths.map((width) => "-".repeat(width))), ...rows.map(line)];
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A missing client fails under CI; elsewhere it is skipped with what to install. */
function requireTool(tool: Tool, t: TestContext): boolean {
  if (tool.present()) return true;
  const reason = `${tool.name} is not installed: ${tool.install}`;
  if (process.env.CI === "true") throw new Error(reason);
  t.skip(reason);
  return false;
}

// Outside CI, one visible line says why the suite did not run; under CI every cell fails instead.
const skip = process.env.CI === "true" ? false : (netnsUnavailable() ?? false);

describe("end to end at the real address: unmodified clients in a network namespace", { skip }, () => {
  const started = performance.now();
  const namespacesBefore = netnsNames();
  const cells = new Map<string, Cell>();
  const seenPids = new Set<number>();
  let netns: Netns | string;
  let moto: Moto | string | undefined;

  const files = tempDir("imds-e2e-files-");
  before(async () => {
    goClient = await buildGoClient();
    await writeFile(join(files, "user-data.gz"), USER_DATA);
    await writeFile(join(files, "instance.yaml"), DESCRIPTION);
    netns = createNetns(["169.254.169.254/32", "fd00:ec2::254/128"]);
    if (typeof netns !== "object") return;
    const nic = netns.addInterface(NIC, MAC);
    if (nic !== undefined) throw new Error(nic);
    moto = await startMoto(30_000, { prefix: netns.exec, port: 5000, reachable: netns.reachable });
  });
  // Also after a failure: nothing may outlive the suite.
  after(async () => {
    if (typeof moto === "object") await moto.stop();
    if (typeof netns === "object") netns.destroy();
  });

  for (const mode of MODES) {
    describe(`--http-tokens ${mode}`, () => {
      let daemon: DaemonProcess | undefined;
      before(async () => {
        if (typeof netns !== "object" || typeof moto !== "object") return;
        daemon = await startDaemon(
          ["--role-arn", ROLE_ARN, "--role-session-name", "e2e-session", "--sts-endpoint", STS,
           "--region", REGION, "--instance-id", INSTANCE_ID, "--http-tokens", mode, "--mac", MAC,
           "--user-data-file", join(files, "user-data.gz"), "--config", join(files, "instance.yaml")],
          { AWS_ACCESS_KEY_ID: "testing", AWS_SECRET_ACCESS_KEY: "testing" },
          15_000,
          { prefix: netns.exec, listen: ["--host", "169.254.169.254", "--host", "fd00:ec2::254", "--port", "80"] },
        );
        for (const pid of netns.pids()) seenPids.add(pid);
      });
      after(async () => daemon?.stop());

      for (const client of CLIENTS) {
        test(client.name, async (t) => {
          const cell: Cell = { status: "FAIL" };
          cells.set(`${client.name}|${mode}`, cell);
          if (!requireNetns(netns, t) || !requireMoto(moto, t) || !requireTool(client.tool, t)) {
            cell.status = "skip";
            return;
          }
          // A clean client: no AWS_* variable but the scenario's own, and an empty HOME (no ~/.aws).
          const home = await mkdtemp(join(tmpdir(), "imds-e2e-home-"));
          const ipv6Before = netns.ipv6Received();
          const begin = performance.now();
          try {
            const argv = typeof client.argv === "function" ? client.argv() : client.argv;
            const result = await run(netns.exec[0]!, [...netns.exec.slice(1), ...argv], {
              PATH: process.env.PATH,
              HOME: home,
              ...client.env,
            });
            cell.seconds = (performance.now() - begin) / 1000;
            assert.equal(result.code, 0, `${result.stderr}\n${result.stdout}`);
            client.check(result.stdout, mode);
            if (client.ipv6) assert.ok(netns.ipv6Received() > ipv6Before, "the client reached fd00:ec2::254 over IPv6");
            cell.status = "pass";
          } finally {
            await rm(home, { recursive: true, force: true });
          }
        });
      }
    });
  }

  test("leaves no namespace or process behind, and reports the table", async (t) => {
    if (typeof netns === "object") {
      for (const pid of netns.pids()) seenPids.add(pid);
      if (typeof moto === "object") await moto.stop();
      const killed = netns.destroy();
      t.diagnostic(`namespace ${netns.name} deleted; processes still inside at the end: ${killed.length}`);
    }
    const namespacesAfter = netnsNames();
    const alive = [...seenPids].filter(isAlive);
    // Another checkout running this suite at the same time legitimately owns a namespace of its own.
    const otherRun = (name: string) => {
      const pid = Number(/^imds-e2e-(\d+)$/.exec(name)?.[1]);
      return pid !== process.pid && isAlive(pid);
    };
    const leftover = namespacesAfter.filter((name) => !namespacesBefore.includes(name) && !otherRun(name));
    for (const line of renderTable(cells)) t.diagnostic(line);
    if ("binary" in goClient) {
      t.diagnostic(`Go client (SDK ${goClient.sdkVersion}): ${goClient.built ? `built in ${goClient.seconds.toFixed(1)} s` : "cached"}`);
    }
    t.diagnostic(`ip netns list before: [${namespacesBefore.join(", ")}], after: [${namespacesAfter.join(", ")}]`);
    t.diagnostic(`processes started in the namespace: ${seenPids.size}, still alive: ${alive.length}`);
    t.diagnostic(`suite time: ${((performance.now() - started) / 1000).toFixed(1)} s`);
    assert.deepEqual(leftover, []);
    assert.deepEqual(alive, []);
  });
});
