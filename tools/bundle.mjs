// The CLI as it ships (the package's bin, the image's entrypoint): our code in one file, and each
// large dependency in a file of its own under vendor/ that is read only when a start needs it.
// Resolving and compiling some eighty modules one by one was a third of the start; the image needs
// no node_modules at all (the Kubernetes client alone is 24 MB there, and 1.6 MB bundled).
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, copyFileSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const OUT = join(ROOT, "dist", "bin");

/** Each large dependency: its file under vendor/ and the module that file is made of. */
const VENDOR = {
  express: { file: "express", contents: 'module.exports = require("express");' },
  "prom-client": { file: "prom-client", contents: 'module.exports = require("prom-client");' },
  yaml: { file: "yaml", contents: 'module.exports = require("yaml");' },
  "yargs/yargs": { file: "yargs", contents: 'module.exports = require("yargs/yargs");' },
  // Only what node mode uses (src/kubernetes/): the whole client is 15 MB of generated API.
  "@kubernetes/client-node": {
    file: "kubernetes-client-node",
    contents:
      'export { ADD, CoreV1Api, DELETE, ERROR, KubeConfig, PatchStrategy, UPDATE, makeInformer, setHeaderOptions } from "@kubernetes/client-node";',
  },
};

// keepNames: error classes keep their names, which the logs and the STS failure classes read.
const common = { bundle: true, platform: "node", target: "node20", format: "cjs", minify: true, keepNames: true, legalComments: "none", logLevel: "warning" };

const vendorExternal = {
  name: "vendor-external",
  setup(build) {
    const filter = new RegExp(`^(${Object.keys(VENDOR).map((name) => name.replace(/[/.]/g, "\\$&")).join("|")})$`);
    build.onResolve({ filter }, (args) => ({ path: `./vendor/${VENDOR[args.path].file}.js`, external: true }));
  },
};

rmSync(OUT, { recursive: true, force: true });
await Promise.all([
  // import() becomes require(): the vendor files are CommonJS, and the launcher runs main.js as a
  // vm.Script. Our code reads no function's name, so it is spared the __name() call for each of its
  // functions at every start.
  build({
    ...common,
    entryPoints: { main: join(ROOT, "src/cli.ts") },
    outdir: OUT,
    plugins: [vendorExternal],
    supported: { "dynamic-import": false },
    keepNames: false,
    // The first line names the build: the launcher uses main.cache only beside the main.js it was made for.
    // The file is the function Node would wrap a CommonJS module in, so the launcher compiles its text as
    // read, without building a second copy of it wrapped on every start.
    banner: { js: `// imds-emulator build ${randomBytes(12).toString("hex")}\n(function (exports, require, module, __filename, __dirname) {` },
    footer: { js: "})" },
  }),
  // The STS worker is a file of its own (credentials/worker-source.ts starts it by path), with the SDK in it.
  build({ ...common, entryPoints: { "sts-worker": join(ROOT, "src/credentials/sts-worker.ts") }, outdir: OUT }),
  ...Object.values(VENDOR).map(({ file, contents }) =>
    build({ ...common, stdin: { contents, resolveDir: ROOT, loader: "js" }, outfile: join(OUT, "vendor", `${file}.js`) }),
  ),
]);

// cli.js is the launcher, main.js the CLI it runs: tsc's output of src/launch.ts (npm run build ran
// tsc first), plain CommonJS that needs no bundler helpers, each of which a start would compile.
copyFileSync(join(ROOT, "dist", "launch.js"), join(OUT, "cli.js"));
chmodSync(join(OUT, "cli.js"), 0o755);

// With no IMDS_EMULATOR_* from the build's environment: the warm start is the default, mock one.
const warm = spawnSync(process.execPath, [join(ROOT, "tools", "warm-cache.cjs"), OUT], { env: { PATH: process.env.PATH }, encoding: "utf8", timeout: 60_000 });
if (warm.status !== 0) throw new Error(`tools/warm-cache.cjs exited with ${warm.status ?? warm.signal}: ${warm.stderr}`);
