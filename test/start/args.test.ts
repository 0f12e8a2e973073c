import assert from "node:assert/strict";
import { test } from "node:test";
import { parseArgs } from "node:util";
import { parseCommandLine, tokenize, wantsHelp } from "../../src/args";
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

/** What util.parseArgs makes of a command line when it knows no options, in tokenize's shape. */
function nodeTokens(argv: string[]) {
  const { tokens } = parseArgs({ args: argv, strict: false, allowPositionals: true, tokens: true, options: {} });
  return tokens.map((token) => {
    if (token.kind === "option") return token.value === undefined ? { kind: "option", name: token.name } : { kind: "option", name: token.name, value: token.value };
    return token.kind === "positional" ? { kind: "positional", value: token.value } : { kind: "option-terminator" };
  });
}

test("the command line is cut into words as util.parseArgs cuts it", () => {
  const cases = [
    ["--port", "80", "--host=::1", "--host", "fd00:ec2::254"],
    ["--a=b=c", "--=x", "--", "--port", "-p", "-"],
    ["-p", "80", "-abc", "-", "--no-wait-for-credentials", "word", "-x=1"],
    ["--", "--"],
    ["--port=", "", "-é", "--ü=ö"],
    [],
  ];
  const pieces = ["--port", "--host=", "=", "-", "--", "-ab", "80", "::1", "x", "", "--no-x", "-p=8"];
  let seed = 7;
  for (let n = 0; n < 300; n++) {
    const argv: string[] = [];
    for (let i = 0; i < n % 7; i++) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      argv.push(pieces[seed % pieces.length]! + (seed % 3 === 0 ? pieces[(seed >> 4) % pieces.length]! : ""));
    }
    cases.push(argv);
  }
  for (const argv of cases) assert.deepEqual(tokenize(argv), nodeTokens(argv), JSON.stringify(argv));
});
