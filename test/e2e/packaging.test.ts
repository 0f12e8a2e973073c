import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { cp, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { after, before, describe, test, type TestContext } from "node:test";
import { parse as parseYaml } from "yaml";
import { resolveConfig } from "../../src/config/config";
import { imdsCredentials, run, startDaemon } from "../support/daemon";
import { requireMoto, startMoto, type Moto } from "../support/moto";

const ROOT = join(__dirname, "..", "..", "..");

interface Instruction {
  readonly keyword: string;
  readonly args: string;
}

interface Stage {
  readonly image: string;
  readonly name?: string;
  readonly instructions: Instruction[];
}

/** Enough of Dockerfile syntax for this project's file: comments, line continuations, stages. */
function parseDockerfile(text: string): Stage[] {
  const stages: Stage[] = [];
  let pending = "";
  for (const line of text.split("\n")) {
    if (/^\s*(#|$)/.test(line)) continue;
    pending += line.trimEnd();
    if (pending.endsWith("\\")) {
      pending = `${pending.slice(0, -1)} `;
      continue;
    }
    const [, word, args] = /^\s*(\S+)\s+(.*)$/.exec(pending) ?? assert.fail(`Dockerfile: cannot parse ${pending}`);
    pending = "";
    const keyword = word!.toUpperCase();
    if (keyword === "FROM") {
      const [, image, name] = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args!) ?? assert.fail(`Dockerfile: FROM ${args}`);
      stages.push({ image: image!, name, instructions: [] });
    } else {
      assert.ok(stages.length > 0, `${keyword} before FROM`);
      stages.at(-1)!.instructions.push({ keyword, args: args!.replace(/\s+/g, " ").trim() });
    }
  }
  return stages;
}

function argsOf(stage: Stage, keyword: string): string[] {
  return stage.instructions.filter((instruction) => instruction.keyword === keyword).map((instruction) => instruction.args);
}

function envOf(stage: Stage): Record<string, string> {
  const env: Record<string, string> = {};
  for (const args of argsOf(stage, "ENV")) {
    for (const pair of args.split(" ")) {
      const [, key, value] = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(pair) ?? assert.fail(`ENV ${pair}: expected KEY=value`);
      env[key!] = value!.replace(/^"(.*)"$/, "$1");
    }
  }
  return env;
}

function copiesOf(stage: Stage): Array<{ from?: string; sources: string[]; destination: string }> {
  return argsOf(stage, "COPY").map((args) => {
    const words = args.split(" ");
    const flags = words.filter((word) => word.startsWith("--"));
    const paths = words.filter((word) => !word.startsWith("--"));
    const from = flags.find((flag) => flag.startsWith("--from="))?.slice("--from=".length);
    return { from, sources: paths.slice(0, -1), destination: paths.at(-1)! };
  });
}

const WILDCARDS = new Map([
  ["**/", "(.*/)?"],
  ["**", ".*"],
  ["*", "[^/]*"],
  ["?", "[^/]"],
]);

/** Docker's .dockerignore rules: patterns anchored at the context root, `**`, `!` exceptions, the last match wins. */
function dockerIgnored(path: string, patterns: readonly string[]): boolean {
  const segments = path.split("/");
  let ignored = false;
  for (const raw of patterns) {
    const negated = raw.startsWith("!");
    const pattern = (negated ? raw.slice(1) : raw).replace(/^\/+|\/+$/g, "");
    const source = pattern
      .split(/(\*\*\/|\*\*|\*|\?)/)
      .map((part) => WILDCARDS.get(part) ?? part.replace(/[.+^${}()|[\]\\]/g, "\\$&"))
      .join("");
    const regex = new RegExp(`^${source}$`);
    if (segments.some((_, index) => regex.test(segments.slice(0, index + 1).join("/")))) ignored = !negated;
  }
  return ignored;
}

async function filesUnder(path: string): Promise<string[]> {
  if (!(await stat(path)).isDirectory()) return [path];
  const entries = await readdir(path, { recursive: true, withFileTypes: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name));
}

/** A missing tool skips outside CI, with a message saying what to install; under CI=true it fails. */
function requireTool(t: TestContext, available: boolean, message: string): boolean {
  if (available) return true;
  if (process.env.CI === "true") assert.fail(`${message} (CI must install it: .ci/run)`);
  t.skip(message);
  return false;
}

const dockerfile = async () => parseDockerfile(await readFile(join(ROOT, "Dockerfile"), "utf8"));

function healthcheckOf(stage: Stage): string[] {
  const [args] = argsOf(stage, "HEALTHCHECK");
  const [, json] = /\bCMD (\[.*\])$/.exec(args ?? "") ?? assert.fail(`HEALTHCHECK must have an exec-form CMD: ${args}`);
  return JSON.parse(json!);
}

describe("the Dockerfile", () => {
  test("builds with dev dependencies in one stage and runs on slim Node 22 with the built CLI only, no node_modules", async () => {
    const stages = await dockerfile();
    assert.equal(stages.length, 2);
    const [build, final] = stages as [Stage, Stage];
    for (const stage of stages) assert.equal(stage.image, "node:22-bookworm-slim");
    assert.ok(argsOf(build, "RUN").some((args) => /\bnpm ci\b/.test(args) && !/--omit/.test(args)), "npm ci with dev dependencies");
    assert.ok(argsOf(build, "RUN").some((args) => /\bnpm run build\b/.test(args)));
    // The bundle holds every dependency it loads: the image installs none (the Kubernetes client alone was 24 MB).
    assert.ok(!argsOf(final, "RUN").some((args) => /\bnpm\b/.test(args)), "the run stage has no npm step");
    assert.deepEqual(
      copiesOf(final).filter((copy) => copy.from === build.name).flatMap((copy) => copy.sources),
      ["/app/dist/bin"],
    );
  });

  test("runs as a non-root user, with no file capability and no layer that rewrites the node binary", async () => {
    const final = (await dockerfile()).at(-1)!;
    const users = argsOf(final, "USER");
    assert.equal(users.length, 1);
    assert.doesNotMatch(users[0]!, /^(root|0)(:|$)/);
    // A capability on /usr/local/bin/node copied the whole binary into a layer of its own (about 100 MB),
    // and under --cap-drop ALL it stopped node from starting. Docker 20.10+ lets any user bind port 80.
    for (const args of argsOf(final, "RUN")) assert.doesNotMatch(args, /setcap|libcap|\/usr\/local\/bin\/node/);
    const text = await readFile(join(ROOT, "Dockerfile"), "utf8");
    assert.match(text, /--sysctl net\.ipv4\.ip_unprivileged_port_start=0/, "says what a runtime without Docker's default needs");
  });

  test("health is known soon after the start: the first check comes 5 s in, not 30", async () => {
    const [args] = argsOf((await dockerfile()).at(-1)!, "HEALTHCHECK");
    assert.match(args!, /--interval=5s\b/);
    assert.doesNotMatch(args!, /--start-interval/, "Docker 20.10's builder refuses --start-interval");
  });

  test("copies only files that exist and that .dockerignore lets into the build context", async () => {
    const stages = await dockerfile();
    const patterns = (await readFile(join(ROOT, ".dockerignore"), "utf8"))
      .split("\n")
      .map((line) => line.trim())
      .filter((line) => line !== "" && !line.startsWith("#"));
    const copied: string[] = [];
    for (const copy of stages.flatMap(copiesOf).filter((each) => each.from === undefined)) {
      for (const source of copy.sources) {
        const files = await filesUnder(join(ROOT, source));
        assert.ok(files.length > 0, `COPY ${source}: nothing to copy`);
        for (const file of files) {
          const path = relative(ROOT, file);
          assert.ok(!dockerIgnored(path, patterns), `COPY ${source}: .dockerignore excludes ${path}`);
        }
        copied.push(source.replace(/\/$/, ""));
      }
    }
    const buildConfig = JSON.parse(await readFile(join(ROOT, "tsconfig.build.json"), "utf8"));
    const needed = ["package.json", "package-lock.json", "tsconfig.build.json", buildConfig.extends.replace(/^\.\//, ""), ...buildConfig.include];
    for (const path of needed) assert.ok(copied.includes(path), `npm run build reads ${path}, which the build stage does not copy`);
  });

  test("configures the daemon by IMDS_EMULATOR_* to listen on the container's address at port 80, admin on loopback", async () => {
    const final = (await dockerfile()).at(-1)!;
    const config = resolveConfig({}, envOf(final));
    assert.deepEqual(config.hosts, ["0.0.0.0"]);
    assert.equal(config.port, 80);
    assert.equal(config.admin?.host, "127.0.0.1");
    assert.equal(config.admin?.port, 9901);
    assert.equal(config.sts, undefined, "the image alone serves mock credentials");
    assert.deepEqual(argsOf(final, "EXPOSE"), ["80"]);
  });

  test("stops on SIGTERM and enters through the CLI the build stage compiles", async () => {
    const [build, final] = (await dockerfile()) as [Stage, Stage];
    assert.deepEqual(argsOf(final, "STOPSIGNAL"), ["SIGTERM"]);
    assert.deepEqual(argsOf(final, "ENTRYPOINT").map((args) => JSON.parse(args)), [["node", "/app/dist/bin/cli.js"]]);
    assert.deepEqual(argsOf(build, "WORKDIR"), ["/app"]);
    assert.deepEqual(argsOf(final, "WORKDIR"), ["/app"]);
    const buildConfig = JSON.parse(await readFile(join(ROOT, "tsconfig.build.json"), "utf8"));
    assert.equal(buildConfig.compilerOptions.outDir, "dist");
    const bin = JSON.parse(await readFile(join(ROOT, "package.json"), "utf8")).bin["imds-emulator"];
    assert.equal(`/app/${bin}`, "/app/dist/bin/cli.js");
    assert.equal(healthcheckOf(final)[0], "node", "slim images have no curl");
  });
});

const EC2_IPV4 = "169.254.169.254";
const EC2_IPV6 = "fd00:ec2::254";
const ROLE_ARN = "arn:aws:iam::123456789012:role/compose-role";

interface ComposeService {
  image?: string;
  command?: string[];
  entrypoint?: string[];
  environment?: Record<string, string | number | null>;
  volumes?: string[];
  profiles?: string[];
  networks?: Record<string, { ipv4_address?: string; ipv6_address?: string } | null>;
  depends_on?: Record<string, { condition: string }>;
}

/** The image's budget over its base for what the run stage copies; iptables and its libraries take the rest of 40 MB. */
const IMAGE_FILES_BUDGET_MB = 10;

/**
 * The run stage's files as the image holds them: each COPY of the final stage, from the build context
 * (this checkout) or from the build stage (whose /app is this checkout once `npm run build` ran), put
 * under a directory far from any node_modules, so a dependency the bundle left out cannot resolve.
 */
async function imageFiles(root: string): Promise<string> {
  const [build, final] = (await dockerfile()) as [Stage, Stage];
  const [workdir] = argsOf(final, "WORKDIR");
  const app = join(root, workdir!);
  for (const copy of copiesOf(final)) {
    for (const source of copy.sources) {
      const from = copy.from === build.name ? join(ROOT, relative(argsOf(build, "WORKDIR")[0]!, source)) : join(ROOT, source);
      const destination = copy.destination.endsWith("/") ? join(app, copy.destination, source.split("/").at(-1)!) : join(app, copy.destination);
      await cp(from, destination, { recursive: true });
    }
  }
  return app;
}

describe("the image's files, run without node_modules", () => {
  let root: string;
  let app: string;
  let moto: Moto | string | undefined;
  const entrypoint = async () => JSON.parse(argsOf((await dockerfile()).at(-1)!, "ENTRYPOINT")[0]!) as string[];
  const cli = async () => (await entrypoint()).slice(1).map((word) => join(root, word));
  before(async () => {
    root = await mkdtemp(join(tmpdir(), "imds-image-"));
    app = await imageFiles(root);
    moto = await startMoto();
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
    if (typeof moto === "object") await moto.stop();
  });

  test(`hold no node_modules and at most ${IMAGE_FILES_BUDGET_MB} MB`, async () => {
    const files = await filesUnder(app);
    assert.ok(!files.some((file) => file.split("/").includes("node_modules")), "no node_modules in the image");
    const bytes = (await Promise.all(files.map((file) => stat(file)))).reduce((sum, each) => sum + each.size, 0);
    assert.ok(bytes <= IMAGE_FILES_BUDGET_MB * 1024 * 1024, `the run stage copies ${(bytes / 1024 / 1024).toFixed(1)} MB`);
  });

  test("--version and --help (yargs) answer from the entrypoint", async () => {
    const [node, ...script] = [process.execPath, ...(await cli())];
    const version = await run(node!, [...script, "--version"], { PATH: process.env.PATH }, 30_000, root);
    assert.equal(version.code, 0, version.stderr);
    assert.equal(version.stdout.trim(), JSON.parse(await readFile(join(ROOT, "package.json"), "utf8")).version);
    const help = await run(node!, [...script, "--help"], { PATH: process.env.PATH }, 30_000, root);
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /--kubernetes-node-name/);
  });

  test("an example description (yaml), the admin listener (express) and its metrics (prom-client)", async () => {
    const daemon = await startDaemon(["--config", join(app, "examples", "web-server.yaml"), "--admin-port", "0"], {}, 15_000, {
      cli: [process.execPath, ...(await cli())],
    });
    try {
      const credentials = await imdsCredentials(daemon.url);
      assert.equal(credentials.Code, "Success");
      const adminPort = daemon.logs.find((line) => line.event === "admin-listening")!.port;
      const metrics = await fetch(`http://127.0.0.1:${adminPort}/metrics`);
      assert.equal(metrics.status, 200);
      assert.match(await metrics.text(), /^imds_emulator_requests_total\{/m);
      const events = await fetch(`http://127.0.0.1:${adminPort}/admin/events`);
      assert.equal(((await events.json()) as { pending: unknown[] }).pending.length, 1, "the example's spot interruption");
    } finally {
      await daemon.stop();
    }
  });

  test("the STS source (its worker thread and the AWS SDK) against moto", async (t) => {
    if (!requireMoto(moto, t)) return;
    const daemon = await startDaemon(
      ["--role-arn", "arn:aws:iam::123456789012:role/image-role", "--sts-endpoint", moto.url],
      { AWS_ACCESS_KEY_ID: "testing", AWS_SECRET_ACCESS_KEY: "testing" },
      15_000,
      { cli: [process.execPath, ...(await cli())] },
    );
    try {
      const credentials = await imdsCredentials(daemon.url);
      assert.equal(credentials.Code, "Success");
      assert.match(credentials.AccessKeyId!, /^ASIA/);
    } finally {
      await daemon.stop();
    }
  });

  test("node mode's Kubernetes client loads, with every name src/kubernetes uses", async () => {
    const used = new Set<string>();
    for (const file of await filesUnder(join(ROOT, "src", "kubernetes"))) {
      for (const [, name] of (await readFile(file, "utf8")).matchAll(/\bk8s\.([A-Za-z0-9_]+)/g)) used.add(name!);
    }
    assert.ok(used.size > 0);
    const vendor = join(app, "dist", "bin", "vendor", "kubernetes-client-node.js");
    const probe = `const k8s = require(${JSON.stringify(vendor)}); process.stdout.write(JSON.stringify(${JSON.stringify([...used])}.filter((name) => k8s[name] === undefined)))`;
    const result = await run(process.execPath, ["-e", probe], { PATH: process.env.PATH }, 30_000, root);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(JSON.parse(result.stdout), [], "names the bundled client lacks");
  });
});

describe("compose.yaml", () => {
  let home: string;
  before(async () => (home = await mkdtemp(join(tmpdir(), "imds-compose-home-"))));
  after(() => rm(home, { recursive: true, force: true }));

  test("docker-compose validates it; the emulator sits at EC2's addresses, the apps hold no credentials", async (t) => {
    const env = {
      PATH: process.env.PATH,
      HOME: home,
      IMDS_EMULATOR_ROLE_ARN: ROLE_ARN,
      AWS_ACCESS_KEY_ID: "AKIAIOSFODNN7EXAMPLE",
      AWS_SECRET_ACCESS_KEY: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    };
    let result: Awaited<ReturnType<typeof run>> | undefined;
    try {
      result = await run("docker-compose", ["-f", join(ROOT, "compose.yaml"), "config"], env);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    }
    if (!requireTool(t, result !== undefined, "docker-compose is not installed: apt-get install docker-compose")) return;
    assert.equal(result!.code, 0, result!.stderr);
    assert.doesNotMatch(result!.stderr, /warn/i);
    const compose = parseYaml(result!.stdout) as {
      services: Record<string, ComposeService>;
      networks: Record<string, { enable_ipv6?: boolean; ipam: { config: Array<{ subnet: string }> } }>;
    };
    const { services } = compose;

    const network = compose.networks.ec2!;
    assert.deepEqual(network.ipam.config.map((pool) => pool.subnet), ["169.254.169.0/24", "fd00:ec2::/64"]);
    assert.equal(network.enable_ipv6, true);

    const image = envOf((await dockerfile()).at(-1)!);
    const configOf = (service: ComposeService) => {
      const environment = Object.entries(service.environment ?? {}).filter(([, value]) => value !== null);
      return resolveConfig({}, { ...image, ...Object.fromEntries(environment.map(([key, value]) => [key, String(value)])) });
    };
    for (const name of ["imds", "imds-offline"]) {
      const service = services[name]!;
      assert.equal((service as { healthcheck?: { interval?: string } }).healthcheck?.interval, "2s", `${name}: an app waits about 2 s for it, not an interval of 10`);
      assert.deepEqual(service.networks, { ec2: { ipv4_address: EC2_IPV4, ipv6_address: EC2_IPV6 } }, name);
      const config = configOf(service);
      assert.deepEqual(config.hosts, [EC2_IPV4, EC2_IPV6], `${name} listens on exactly its network addresses`);
      assert.equal(config.port, 80, name);
    }

    const imds = services.imds!;
    assert.equal(imds.profiles, undefined);
    assert.equal(configOf(imds).sts?.roleArn, ROLE_ARN, "the role ARN comes from the host");
    assert.equal(imds.environment!.AWS_ACCESS_KEY_ID, env.AWS_ACCESS_KEY_ID, "source credentials pass through from the host");
    assert.deepEqual(imds.volumes, [`${home}/.aws:/home/node/.aws:ro`]);
    assert.deepEqual(argsOf((await dockerfile()).at(-1)!, "USER"), ["node"], "~/.aws is mounted in the home of the image's user");

    const offline = services["imds-offline"]!;
    assert.deepEqual(offline.profiles, ["offline"]);
    assert.equal(configOf(offline).sts, undefined, "the offline emulator uses the mock source");
    assert.equal(offline.volumes, undefined);
    assert.deepEqual(Object.keys(offline.environment ?? {}).filter((key) => key.startsWith("AWS_")), []);

    for (const [name, emulator, profiles] of [
      ["app", "imds", undefined],
      ["app-offline", "imds-offline", ["offline"]],
    ] as const) {
      const app = services[name]!;
      assert.equal(app.image, "amazon/aws-cli", name);
      assert.deepEqual(app.profiles, profiles, name);
      assert.equal(app.environment, undefined, `${name} has no credentials, region or endpoint of its own`);
      assert.equal(app.volumes, undefined, `${name} mounts no ~/.aws`);
      assert.deepEqual(Object.keys(app.networks ?? {}), ["ec2"]);
      assert.deepEqual(app.depends_on, { [emulator]: { condition: "service_healthy" } }, name);
    }
    assert.deepEqual(services.app!.command, ["sts", "get-caller-identity"]);
    assert.match(services["app-offline"]!.entrypoint!.join(" "), /aws configure list .*grep -qw iam-role/);
  });
});

/** Nested npm commands must not inherit the outer `npm test`'s npm_* settings, which name this project as their prefix. */
function npmEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key) && key !== "INIT_CWD"));
}


describe("the npm package", () => {
  let work: string;
  let tarball: string;
  let installed: string;
  const manifest = async () => JSON.parse(await readFile(join(ROOT, "package.json"), "utf8"));

  before(async () => {
    work = await mkdtemp(join(tmpdir(), "imds-pack-"));
    // A copy without dist/, build/ or node_modules/ of its own: prepack must build the package from
    // sources, as on a clean clone, and the working tree's dist/ (which other tests run) stays untouched.
    const project = join(work, "project");
    await cp(ROOT, project, {
      recursive: true,
      filter: (source) => !/^(node_modules|dist|build|\.git)(\/|$)/.test(relative(ROOT, source)),
    });
    await symlink(join(ROOT, "node_modules"), join(project, "node_modules"));
    const pack = await run("npm", ["pack", "--pack-destination", work], npmEnv(), 60_000, project);
    assert.equal(pack.code, 0, pack.stderr);
    const [name] = (await readdir(work)).filter((file) => file.endsWith(".tgz"));
    tarball = join(work, name!);

    installed = join(work, "install");
    await mkdir(installed);
    await writeFile(join(installed, "package.json"), '{ "private": true }\n');
    // --prefer-offline: the production dependencies are those `npm ci` just put in npm's cache.
    const install = await run("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", tarball], npmEnv(), 60_000, installed);
    assert.equal(install.code, 0, install.stderr);
  });
  after(() => rm(work, { recursive: true, force: true }));

  test("holds the CLI, the library's entry and types, the README and what it links to, and no tests or TypeScript sources", async () => {
    const list = await run("tar", ["-tzf", tarball], { PATH: process.env.PATH });
    assert.equal(list.code, 0, list.stderr);
    const files = list.stdout.trim().split("\n").map((line) => line.replace(/^package\//, ""));
    const pkg = await manifest();
    for (const required of ["package.json", "README.md", pkg.bin["imds-emulator"], pkg.main, pkg.types]) {
      assert.ok(files.includes(required), `the tarball lacks ${required}: ${files.join(" ")}`);
    }
    const readme = await readFile(join(ROOT, "README.md"), "utf8");
    for (const [, link] of readme.matchAll(/\]\(([^)#:]+)\)/g)) {
      assert.ok(files.includes(link!), `README.md links to ${link}, which the registry's copy of it would lack`);
    }
    for (const file of files) assert.match(file, /^(package\.json|README\.md|LICENSE|dist\/.+\.(js|d\.ts)|dist\/bin\/main\.cache|docs\/[^/]+\.md|examples\/[^/]+\.(ya?ml|json))$/);
    // dist/bin is the CLI bundled (tools/bundle.mjs), not a module of the library.
    for (const js of files.filter((file) => file.endsWith(".js") && !file.startsWith("dist/bin/"))) {
      assert.ok(files.includes(js.replace(/\.js$/, ".d.ts")), `${js} has no declarations`);
    }
  });

  test("its bin runs from any directory, directly and through npx", async () => {
    const bin = join(installed, "node_modules", ".bin", "imds-emulator");
    const direct = await run(bin, ["--help"], { PATH: process.env.PATH }, 30_000, tmpdir());
    assert.equal(direct.code, 0, direct.stderr);
    assert.match(direct.stdout, /^imds-emulator \[options\]/);
    assert.match(direct.stdout, /--role-arn/);
    const npx = await run("npx", ["--no", "--", "imds-emulator", "--help"], npmEnv(), 30_000, installed);
    assert.equal(npx.code, 0, npx.stderr);
    assert.equal(npx.stdout, direct.stdout);
  });

  test("its library entry loads with production dependencies only", async () => {
    const probe = "const m = require('imds-emulator'); process.stdout.write(typeof m.startEmulator)";
    const result = await run(process.execPath, ["-e", probe], { PATH: process.env.PATH }, 30_000, installed);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, "function");
  });

  test("the installed daemon serves credentials through IMDSv2, passes the image's HEALTHCHECK, and exits 0 on SIGTERM", async () => {
    const bin = join(installed, "node_modules", ".bin", "imds-emulator");
    const adminToken = randomBytes(24).toString("hex");
    const daemon = await startDaemon(["--admin-port", "0"], { IMDS_EMULATOR_ADMIN_TOKEN: adminToken }, 15_000, { cli: [bin] });
    let stopped = false;
    try {
      const credentials = await imdsCredentials(daemon.url);
      assert.equal(credentials.Code, "Success");
      assert.match(credentials.AccessKeyId!, /^ASIA[A-Z0-9]{16}$/);
      assert.ok(credentials.SecretAccessKey && credentials.Token);
      assert.ok(Date.parse(credentials.Expiration!) - Date.now() > 30 * 60_000);

      const [command, ...args] = healthcheckOf((await dockerfile()).at(-1)!);
      const adminPort = String(daemon.logs.find((line) => line.event === "admin-listening")!.port);
      const healthEnv = { PATH: process.env.PATH, IMDS_EMULATOR_ADMIN_PORT: adminPort, IMDS_EMULATOR_ADMIN_TOKEN: adminToken };
      assert.equal((await run(command!, args, healthEnv)).code, 0, "HEALTHCHECK passes on a healthy daemon");
      const withoutToken = { ...healthEnv, IMDS_EMULATOR_ADMIN_TOKEN: undefined };
      assert.equal((await run(command!, args, withoutToken)).code, 1, "HEALTHCHECK fails when the admin token is not sent");

      assert.equal(await daemon.stop(), 0, "SIGTERM exits 0");
      stopped = true;
      assert.equal((await run(command!, args, healthEnv)).code, 1, "HEALTHCHECK fails when nothing answers");
    } finally {
      if (!stopped) await daemon.stop();
    }
  });
});
