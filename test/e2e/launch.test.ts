import assert from "node:assert/strict";
import { cp, readFile, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { CLI, run } from "../support/daemon";
import { tempDir } from "../support/tmp";

/** The built launcher (src/launch.ts, bundled as the bin): its helpers, as the build's warm-up uses them. */
const launcher = require(CLI) as typeof import("../../src/launch");
const BIN = dirname(CLI);

test("the build's code cache is made for this build of the CLI and V8 takes it", () => {
  const main = launcher.readMain(BIN);
  assert.match(launcher.buildLine(main), /^\/\/ imds-emulator build [0-9a-f]{24}$/);
  const cache = launcher.readCache(main);
  assert.ok(cache !== undefined && cache.length > 0, "main.cache belongs to this main.js");
  assert.equal(launcher.compileMain(main, cache).cachedDataRejected, false);
});

test("a cache from another build, or one V8 refuses, is not used: the CLI compiles itself and runs", async () => {
  // Laid out as in the package and the image: --version reads the package.json two levels up.
  const root = tempDir("imds-launch-");
  await cp(join(BIN, "..", "..", "package.json"), join(root, "package.json"));
  const version = JSON.parse(await readFile(join(root, "package.json"), "utf8")).version;
  const copy = join(root, "dist", "bin");
  await cp(BIN, copy, { recursive: true });
  const main = launcher.readMain(copy);

  const otherBuild = Buffer.from((await readFile(join(copy, launcher.CODE_CACHE))).toString("latin1").replace(/build [0-9a-f]{24}/, `build ${"0".repeat(24)}`), "latin1");
  await writeFile(join(copy, launcher.CODE_CACHE), otherBuild);
  assert.equal(launcher.readCache(main), undefined, "a cache is used only beside the build it names");
  const first = await run(process.execPath, [join(copy, "cli.js"), "--version"], { PATH: process.env.PATH });
  assert.equal(first.code, 0, first.stderr);
  assert.equal(first.stdout.trim(), version);

  // This build's line, then bytes that are no V8 cache at all.
  await writeFile(join(copy, launcher.CODE_CACHE), launcher.cacheFile(main, Buffer.from("not a code cache")));
  assert.equal(launcher.compileMain(main, launcher.readCache(main)).cachedDataRejected, true);
  const second = await run(process.execPath, [join(copy, "cli.js"), "--version"], { PATH: process.env.PATH });
  assert.equal(second.code, 0, second.stderr);
  assert.equal(second.stdout.trim(), version);
});
