import assert from "node:assert/strict";
import { test } from "node:test";
import { createLogger, resolveLogFormat } from "../src/log";
import { prettyLine } from "../src/log-format";

const NOON = Date.parse("2026-11-24T12:00:03.250Z");

const ESC = "\x1b";

test("a pretty line: time, level, event, then the fields as key=value, quoting only what needs it", () => {
  const line = prettyLine(NOON, "warn", "credentials-refresh-failed", { failureClass: "throttling", message: "Rate exceeded", nextAttempt: undefined, ok: true, count: 3 }, false);
  assert.equal(line, '12:00:03 WARN  credentials-refresh-failed  failureClass=throttling message="Rate exceeded" ok=true count=3');
  assert.equal(prettyLine(NOON, "info", "shutdown", {}, false), "12:00:03 INFO  shutdown");
  assert.equal(prettyLine(NOON, "info", "x", { empty: "" }, false), '12:00:03 INFO  x  empty=""');
});

test("colours mark the level only, and only when asked", () => {
  assert.equal(prettyLine(NOON, "error", "start-failed", {}, true), "12:00:03 \x1b[31mERROR\x1b[0m start-failed");
  assert.ok(!prettyLine(NOON, "error", "start-failed", {}, false).includes(ESC));
});

test("the logger writes the same event as JSON or pretty, filtered by level", () => {
  const json: string[] = [];
  const pretty: string[] = [];
  for (const [lines, format] of [[json, "json"], [pretty, "pretty"]] as const) {
    const log = createLogger("info", (line) => lines.push(line), () => NOON, { format });
    log.debug("request", { status: 200 });
    log.info("listening", { url: "http://127.0.0.1:1338" });
    assert.equal(log.debugEnabled, false);
  }
  assert.deepEqual(json.map((line) => JSON.parse(line)), [{ time: "2026-11-24T12:00:03.250Z", level: "info", event: "listening", url: "http://127.0.0.1:1338" }]);
  assert.deepEqual(pretty, ["12:00:03 INFO  listening  url=http://127.0.0.1:1338"]);
  assert.equal(createLogger("debug", () => undefined).debugEnabled, true);
});

test("auto is pretty on a terminal and JSON otherwise; an explicit format wins", () => {
  assert.equal(resolveLogFormat("auto", true), "pretty");
  assert.equal(resolveLogFormat("auto", false), "json");
  assert.equal(resolveLogFormat("json", true), "json");
  assert.equal(resolveLogFormat("pretty", false), "pretty");
});
