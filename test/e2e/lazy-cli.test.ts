import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { CLI, imdsCredentials, startDaemon } from "../support/daemon";
import { tempDir } from "../support/tmp";

/**
 * Preloaded into the CLI: on SIGUSR2, writes the files the process has loaded and the built-in modules
 * it has compiled (Node's own list), so a test can see what a start read without a debugger.
 */
const PROBE = `
process.on("SIGUSR2", () => {
  const builtins = process.moduleLoadList.filter((entry) => entry.startsWith("NativeModule ")).map((entry) => entry.slice(13));
  require("node:fs").writeFileSync(process.env.PROBE_OUT, JSON.stringify({ files: Object.keys(require.cache), builtins }));
});
`;

async function loadedBy(daemon: { child: { kill(signal: NodeJS.Signals): boolean } }, out: string): Promise<{ files: string[]; builtins: string[] }> {
  daemon.child.kill("SIGUSR2");
  for (let i = 0; i < 200; i++) {
    const text = await readFile(out, "utf8").catch(() => "");
    if (text !== "") {
      await writeFile(out, "");
      return JSON.parse(text);
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error("the probe did not answer");
}

const vendorFiles = (files: readonly string[]) =>
  files.filter((file) => file.includes("/dist/bin/vendor/")).map((file) => file.slice(file.lastIndexOf("/") + 1)).sort();


test("the shipped CLI's start reads no vendor file, no promise-based fs or DNS (nor the readline they bring); an admin listener reads express, a scrape prom-client", async () => {
  const dir = tempDir("imds-lazy-cli-");
  const probe = join(dir, "probe.js");
  const out = join(dir, "loaded.json");
  await writeFile(probe, PROBE);
  const env = { PROBE_OUT: out };

  const plain = await startDaemon([], env, 15_000, { cli: [process.execPath, "--require", probe, CLI] });
  try {
    await imdsCredentials(plain.url);
    const loaded = await loadedBy(plain, out);
    assert.deepEqual(vendorFiles(loaded.files), []);
    assert.ok(loaded.builtins.includes("http"), "the probe lists built-in modules");
    for (const builtin of ["fs/promises", "internal/readline/interface", "dns/promises"]) assert.ok(!loaded.builtins.includes(builtin), `a start loads ${builtin}`);
  } finally {
    await plain.stop();
  }

  const admin = await startDaemon(["--admin-port", "0"], env, 15_000, { cli: [process.execPath, "--require", probe, CLI] });
  try {
    assert.deepEqual(vendorFiles((await loadedBy(admin, out)).files), ["express.js"]);
    const adminPort = admin.logs.find((line) => line.event === "admin-listening")!.port;
    assert.equal((await fetch(`http://127.0.0.1:${adminPort}/metrics`)).status, 200);
    assert.deepEqual(vendorFiles((await loadedBy(admin, out)).files), ["express.js", "prom-client.js"]);
  } finally {
    await admin.stop();
  }
});
