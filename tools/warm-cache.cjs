// Run by tools/bundle.mjs: one start of the bundled CLI (mock source, a free loopback port) that
// serves itself a token and the role's credential document as an SDK asks for them, then saves the
// bytecode V8 compiled on the way as main.cache, which dist/bin/cli.js (src/launch.ts) starts from.
const { writeFileSync } = require("node:fs");
const { request } = require("node:http");
const { createServer } = require("node:net");
const { join } = require("node:path");

const DIR = process.argv[2];
const { readMain, compileMain, runMain, cacheFile, MAIN, CODE_CACHE } = require(join(DIR, "cli.js"));
const { createRequire } = require("node:module");

const freePort = () =>
  new Promise((resolve, reject) => {
    const server = createServer().once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });

const call = (port, method, path, headers) =>
  new Promise((resolve, reject) => {
    const outgoing = request({ host: "127.0.0.1", port, method, path, headers, agent: false }, (response) => {
      let body = "";
      response.setEncoding("utf8").on("data", (chunk) => (body += chunk));
      response.on("end", () => resolve({ status: response.statusCode, body }));
    });
    outgoing.once("error", reject).end();
  });

async function main() {
  const port = await freePort();
  process.argv = [process.execPath, join(DIR, MAIN), "--host", "127.0.0.1", "--port", String(port)];
  const main = readMain(DIR);
  const script = compileMain(main);
  runMain(main, script, createRequire(join(DIR, MAIN)));
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (Date.now() > deadline) throw new Error("the CLI did not serve credentials within 20 s");
    const token = await call(port, "PUT", "/latest/api/token", { "x-aws-ec2-metadata-token-ttl-seconds": "60" }).catch(() => undefined);
    if (token === undefined) {
      await new Promise((resolve) => setTimeout(resolve, 5));
      continue;
    }
    const headers = { "x-aws-ec2-metadata-token": token.body };
    const role = await call(port, "GET", "/latest/meta-data/iam/security-credentials/", headers);
    const document = await call(port, "GET", `/latest/meta-data/iam/security-credentials/${role.body}`, headers);
    if (document.status !== 200) throw new Error(`the credential document answered ${document.status}`);
    break;
  }
  writeFileSync(join(DIR, CODE_CACHE), cacheFile(main, script.createCachedData()));
  process.exit(0);
}

main().catch((error) => {
  process.stderr.write(`warm-cache: ${error.message}\n`);
  process.exit(1);
});
