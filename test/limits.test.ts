import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { test } from "node:test";
import {
  defaultMaxConnections,
  defaultMaxConnectionsPerCaller,
  parseOpenFileLimits,
  raiseOpenFileLimit,
  readOpenFileLimits,
} from "../src/limits";
import { eventually } from "./support/eventually";
import { logInto } from "./support/log";

test("the default cap leaves the admin listener and the daemon's own descriptors their share of the open-file limit", () => {
  assert.equal(defaultMaxConnections(1024), 896, "the common soft limit");
  assert.equal(defaultMaxConnections(1024, 2), 448, "split between two listeners");
  assert.equal(defaultMaxConnections(20_000), 1024, "never above the old fixed default");
  assert.equal(defaultMaxConnections(Infinity), 1024);
  assert.equal(defaultMaxConnections(100), 1, "a limit too small for any head-room still allows one");
  assert.equal(defaultMaxConnectionsPerCaller(896), 224);
  assert.equal(defaultMaxConnectionsPerCaller(1024), 256);
  assert.equal(defaultMaxConnectionsPerCaller(20), 16);
  assert.equal(defaultMaxConnectionsPerCaller(8), 8);
});

test("/proc/<pid>/limits parses, unlimited included", () => {
  const row = (soft: string, hard: string) =>
    `Limit                     Soft Limit           Hard Limit           Units\nMax open files            ${soft.padEnd(21)}${hard.padEnd(21)}files\n`;
  assert.deepEqual(parseOpenFileLimits(row("1024", "524288")), { soft: 1024, hard: 524288 });
  assert.deepEqual(parseOpenFileLimits(row("unlimited", "unlimited")), { soft: Infinity, hard: Infinity });
  assert.equal(parseOpenFileLimits("Max processes 10 10 processes\n"), undefined);
  const own = readOpenFileLimits();
  assert.ok(own === undefined || own.soft <= own.hard);
});

/** A process whose soft open-file limit is below its hard one; Node raises its own, so this is a shell. */
async function lowSoftLimitProcess(): Promise<{ pid: number; stop: () => void }> {
  const child = spawn("bash", ["-c", "ulimit -Sn 1024 && exec sleep 30"], { stdio: "ignore" });
  const pid = child.pid!;
  await eventually(() => readOpenFileLimits(pid)?.soft === 1024, "the child runs with soft limit 1024");
  return { pid, stop: () => void child.kill("SIGKILL") };
}

test("raises the soft limit to the hard one with prlimit and logs it", async (t) => {
  const hard = readOpenFileLimits()?.hard;
  if (hard === undefined || hard <= 1024) return t.skip("needs /proc and a hard open-file limit above 1024");
  const child = await lowSoftLimitProcess();
  try {
    const lines: Array<Record<string, unknown>> = [];
    const result = await raiseOpenFileLimit(logInto(lines), child.pid);
    if (lines[0]?.raised === false && /not installed/.test(String(lines[0].detail))) {
      if (process.env.CI === "true") assert.fail("prlimit (util-linux) is missing");
      return t.skip("prlimit (util-linux) is not installed");
    }
    assert.deepEqual(result, { soft: hard, hard });
    assert.deepEqual(readOpenFileLimits(child.pid), { soft: hard, hard });
    assert.deepEqual(lines.map((line) => [line.event, line.soft, line.raisedFrom]), [["open-file-limit", hard, 1024]]);
  } finally {
    child.stop();
  }
});

test("where the limit cannot be raised, it says why and goes on with what there is", async (t) => {
  const hard = readOpenFileLimits()?.hard;
  if (hard === undefined || hard <= 1024) return t.skip("needs /proc and a hard open-file limit above 1024");
  const child = await lowSoftLimitProcess();
  try {
    const lines: Array<Record<string, unknown>> = [];
    const missing = async () => {
      throw Object.assign(new Error("spawn prlimit ENOENT"), { code: "ENOENT" });
    };
    const result = await raiseOpenFileLimit(logInto(lines), child.pid, missing);
    assert.deepEqual(result, { soft: 1024, hard });
    assert.equal(lines[0]!.level, "warn");
    assert.equal(lines[0]!.detail, "could not raise the soft limit: prlimit is not installed");
  } finally {
    child.stop();
  }
});
