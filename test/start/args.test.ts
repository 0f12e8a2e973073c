import assert from "node:assert/strict";
import { test } from "node:test";
import { parseCommandLine, wantsHelp } from "../../src/args";
import { resolveConfig } from "../../src/config/config";

test("options take a value after a space or an equals sign; repeated ones collect", () => {
  assert.deepEqual(parseCommandLine(["--port", "80", "--host=169.254.169.254", "--host", "fd00:ec2::254"]), {
    port: ["80"],
    host: ["169.254.169.254", "fd00:ec2::254"],
  });
  const config = resolveConfig(parseCommandLine(["--port", "80", "--port", "81", "--host", "::1"]), {});
  assert.equal(config.port, 81, "a repeated single-value option takes its last value");
  assert.deepEqual(config.hosts, ["::1"]);
});

test("a flag needs no value, and may be given one or negated", () => {
  assert.deepEqual(parseCommandLine(["--wait-for-credentials"]), { "wait-for-credentials": true });
  assert.deepEqual(parseCommandLine(["--wait-for-credentials=false"]), { "wait-for-credentials": false });
  assert.deepEqual(parseCommandLine(["--no-wait-for-credentials"]), { "wait-for-credentials": false });
  assert.equal(resolveConfig(parseCommandLine(["--wait-for-credentials"]), {}).waitForCredentials, true);
  assert.equal(resolveConfig({}, {}).waitForCredentials, false);
  assert.equal(resolveConfig({}, { IMDS_EMULATOR_WAIT_FOR_CREDENTIALS: "true" }).waitForCredentials, true);
  assert.throws(() => parseCommandLine(["--wait-for-credentials=maybe"]), /^ConfigError: --wait-for-credentials: expected true or false, got "maybe"$/);
});

test("unknown options and stray words are refused in one line, with the option probably meant", () => {
  assert.throws(() => parseCommandLine(["--htp-tokens", "required"]), {
    message: "Unknown argument: htp-tokens; did you mean --http-tokens for --htp-tokens?",
  });
  assert.throws(() => parseCommandLine(["start", "now"]), { message: "Unknown arguments: start, now" });
  assert.throws(() => parseCommandLine(["--port"]), { message: "Not enough arguments following: port" });
  assert.throws(() => parseCommandLine(["--port", "--host", "::1"]), { message: "Not enough arguments following: port" });
});

test("--help, --version and completion go to yargs; a start never loads it", () => {
  for (const argv of [["--help"], ["--port", "1", "--version"], ["completion"], ["--get-yargs-completions", "imds-emulator"]]) {
    assert.equal(wantsHelp(argv), true, argv.join(" "));
  }
  assert.equal(wantsHelp(["--port", "80"]), false);
});
