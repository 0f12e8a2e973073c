import assert from "node:assert/strict";
import { test } from "node:test";
import { deferredLog } from "../../src/start-log";
import { logInto } from "../support/log";

test("a start's progress lines wait for flush; warnings and errors do not; after flush everything goes straight through", () => {
  const lines: Array<Record<string, unknown>> = [];
  const start = deferredLog(logInto(lines));
  start.log.info("listening", { port: 1 });
  start.log.debug("request", {});
  start.log.warn("config-warning", { message: "m" });
  assert.deepEqual(lines.map((line) => line.event), ["config-warning"]);
  start.flush();
  assert.deepEqual(lines.map((line) => line.event), ["config-warning", "listening", "request"]);
  start.log.info("started", {});
  assert.equal(lines.at(-1)?.event, "started");
  assert.equal(start.log.debugEnabled, true);
});

test("a start that fails before flush has written only its warnings and errors", () => {
  const lines: Array<Record<string, unknown>> = [];
  const start = deferredLog(logInto(lines));
  start.log.info("open-file-limit", {});
  start.log.error("start-failed", { message: "boom" });
  assert.deepEqual(lines.map((line) => line.event), ["start-failed"]);
});
