import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { inspectorOpen, type InspectorDeps } from "../../src/no-inspector";
import { run } from "../support/daemon";

const MODULE = join(__dirname, "..", "..", "src", "no-inspector.js");

/**
 * In a child process (importing the module installs its SIGUSR1 listener and watch): the inspector
 * opened on a free loopback port, then closed by the module, which asks Node's binding whether it is
 * open and loads node:inspector only to close it.
 */
const PROBE = `
const inspector = require("node:inspector");
const { closeSignalledInspector } = require(${JSON.stringify(MODULE)});
const idle = closeSignalledInspector();
inspector.open(0, "127.0.0.1");
const opened = inspector.url() !== undefined;
const closed = closeSignalledInspector();
console.log(JSON.stringify({ idle, opened, closed, after: inspector.url() ?? null, again: closeSignalledInspector() }));
`;

test("an inspector found open is closed, read through Node's binding", async () => {
  const result = await run(process.execPath, ["-e", PROBE], { PATH: process.env.PATH });
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(JSON.parse(result.stdout), { idle: false, opened: true, closed: true, after: null, again: false });
  assert.doesNotMatch(result.stderr, /DeprecationWarning/);
});

test("a start with no inspector open does not load node:inspector", async () => {
  const probe = `require(${JSON.stringify(MODULE)}); console.log(process.moduleLoadList.filter((name) => /NativeModule (inspector|worker_threads)$/.test(name)).length);`;
  const result = await run(process.execPath, ["-e", probe], { PATH: process.env.PATH });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout.trim(), "0");
});

test("under --pending-deprecation, or where the binding is gone, node:inspector answers", async () => {
  const asked: string[] = [];
  const deps = (pendingDeprecation: boolean, binding: InspectorDeps["binding"]): InspectorDeps => ({
    pendingDeprecation,
    binding: () => {
      asked.push("binding");
      return binding();
    },
    module: () => {
      asked.push("module");
      return { url: () => "ws://127.0.0.1:9229/x" } as unknown as typeof import("node:inspector");
    },
  });
  assert.equal(inspectorOpen(deps(false, () => ({ url: () => undefined }))), false);
  assert.deepEqual(asked.splice(0), ["binding"]);
  assert.equal(inspectorOpen(deps(true, () => ({ url: () => undefined }))), true);
  assert.deepEqual(asked.splice(0), ["module"], "the binding is not asked: it would print DEP0111's warning");
  const gone = () => {
    throw new Error("No such module: inspector");
  };
  assert.equal(inspectorOpen(deps(false, gone)), true);
  assert.deepEqual(asked.splice(0), ["binding", "module"]);
  const pending = await run(process.execPath, ["--pending-deprecation", "-e", `require(${JSON.stringify(MODULE)})`], { PATH: process.env.PATH });
  assert.equal(pending.code, 0, pending.stderr);
  assert.doesNotMatch(pending.stderr, /DEP0111/);
});
