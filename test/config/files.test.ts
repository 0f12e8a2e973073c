import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { readBounded } from "../../src/bounded-read";
import { ConfigError, resolveConfig } from "../../src/config/config";
import { loadConfigFile, MAX_CONFIG_BYTES, readContainerToken, readUserData } from "../../src/config/file";
import { tempDir } from "../support/tmp";

const rejectsWith = (promise: Promise<unknown>, pattern: RegExp) =>
  assert.rejects(promise, (error: unknown) => error instanceof ConfigError && pattern.test(error.message));

test("files meant to be small are checked before they are read: devices, FIFOs and oversized files are refused", async () => {
  const dir = tempDir("imds-files-");
  await rejectsWith(readUserData("/dev/zero"), /^--user-data-file: \/dev\/zero is not a regular file$/);
  await rejectsWith(readContainerToken({ path: "/c", tokenFile: "/dev/zero" }), /^--container-auth-token-file: \/dev\/zero is not a regular file$/);
  await rejectsWith(loadConfigFile("/dev/zero"), /^--config: \/dev\/zero is not a regular file$/);
  await rejectsWith(loadConfigFile(dir), /is not a regular file$/);
  const fifo = join(dir, "fifo");
  if (spawnSync("mkfifo", [fifo]).status === 0) {
    await assert.rejects(readBounded(fifo, 10), /is not a regular file/);
  }
  const big = join(dir, "big.yaml");
  await writeFile(big, Buffer.alloc(MAX_CONFIG_BYTES + 1, "#"));
  await rejectsWith(loadConfigFile(big), new RegExp(`^--config: .*big\\.yaml has ${MAX_CONFIG_BYTES + 1} bytes; at most ${MAX_CONFIG_BYTES} are allowed$`));
  const userData = join(dir, "user-data");
  await writeFile(userData, Buffer.alloc(16 * 1024 + 1));
  await rejectsWith(readUserData(userData), /^--user-data-file: .* has 16385 bytes; at most 16384 are allowed$/);
  await writeFile(userData, "#!/bin/sh\n");
  assert.equal((await readUserData(userData))?.toString(), "#!/bin/sh\n");
});

test("a large YAML mapping parses in linear time, and a duplicate key is still an error", async () => {
  const dir = tempDir("imds-yaml-");
  const path = join(dir, "many.yaml");
  const keys = Array.from({ length: 40_000 }, (_, i) => `  k${i}: v`).join("\n");
  await writeFile(path, `metadata:\n${keys}\n`);
  const started = process.hrtime.bigint();
  const file = await loadConfigFile(path);
  const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
  assert.equal(Object.keys((file.data as { metadata: object }).metadata).length, 40_000);
  // Not a timing assertion on a fast path: the quadratic check this replaces took tens of seconds here.
  assert.ok(elapsedMs < 10_000, `${elapsedMs} ms`);

  await writeFile(path, "region: us-east-1\nport: 80\nregion: eu-west-1\n");
  await rejectsWith(loadConfigFile(path), /is not valid YAML: the key "region" appears twice in one mapping/);
});

test("--rotate-before inside the SDKs' refresh windows starts with a warning that says why", () => {
  const [warning] = resolveConfig({ "rotate-before": "60" }, {}).warnings;
  assert.match(warning!, /^--rotate-before 60: served credentials will come within 1 minutes of expiry; botocore .* extends it past expiry/);
  assert.deepEqual(resolveConfig({ "rotate-before": "1200" }, {}).warnings, []);
  assert.deepEqual(resolveConfig({}, {}).warnings, []);
});
