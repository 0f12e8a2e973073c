import assert from "node:assert/strict";
import { test } from "node:test";
import { ConfigError, resolveConfig, resolveLibraryOptions } from "../../src/config/config";
import { OPTIONS, type TypedOptions } from "../../src/config/schema";
import { nearest } from "../../src/config/suggest";
import type { EmulatorOptions } from "../../src/index";

// Compile-time checks: `npm test` compiles this file, so a wrong type that type-checks fails the build.
// @ts-expect-error a number is not one of http-tokens' choices
const wrongType: EmulatorOptions = { httpTokens: 42 };
// @ts-expect-error the port is a number, not text
const wrongPort: TypedOptions = { port: "1338" };
// @ts-expect-error no such option
const unknown: TypedOptions = { httpToken: "required" };
const right: EmulatorOptions = { httpTokens: "required", port: 0, host: ["127.0.0.1"], spotInterruptionAfter: "30s", logLevel: "warn" };

const NO_SECTIONS = { metadata: {}, tags: {} };

test("every option has its scope, group, description and parser in the one schema", () => {
  for (const option of OPTIONS) {
    assert.ok(["daemon", "instance"].includes(option.scope), option.name);
    assert.ok(option.group.length > 0 && option.description.length > 0, option.name);
    if (option.default !== undefined) assert.doesNotThrow(() => option.parse(String(option.default), `--${option.name}`), option.name);
  }
  assert.equal(new Set(OPTIONS.map((option) => option.name)).size, OPTIONS.length);
});

test("the library's typed options are checked by the same parsers, whatever a cast lets through", () => {
  assert.equal(resolveLibraryOptions(right, NO_SECTIONS).httpTokens, "required");
  assert.equal(resolveLibraryOptions(right, NO_SECTIONS).events[0]?.afterMs, 30_000);
  for (const bad of [wrongType, { port: 70000 }, { port: 80.5 }, { host: [42] as unknown as string[] }]) {
    assert.throws(() => resolveLibraryOptions(bad as TypedOptions, NO_SECTIONS), ConfigError, JSON.stringify(bad));
  }
  assert.throws(() => resolveLibraryOptions(wrongType, NO_SECTIONS), /startEmulator: http-tokens: expected one of optional, required, got 42$/);
  assert.equal(resolveLibraryOptions(unknown as TypedOptions, NO_SECTIONS).httpTokens, "optional");
  assert.equal(resolveLibraryOptions(wrongPort, NO_SECTIONS).port, 1338, "text a CLI would give is still a port");
});

test("a misspelt IMDS_EMULATOR_* variable is a warning naming the nearest option", () => {
  const config = resolveConfig({}, { IMDS_EMULATOR_HTTP_TOKEN: "required", IMDS_EMULATOR_PORT: "1400", PATH: "/bin" });
  assert.equal(config.httpTokens, "optional");
  assert.deepEqual(config.warnings, ["IMDS_EMULATOR_HTTP_TOKEN is not an option and is ignored; did you mean IMDS_EMULATOR_HTTP_TOKENS?"]);
  assert.deepEqual(resolveConfig({}, { IMDS_EMULATOR_SOMETHING_ELSE_ENTIRELY: "x" }).warnings, [
    "IMDS_EMULATOR_SOMETHING_ELSE_ENTIRELY is not an option and is ignored",
  ]);
  assert.deepEqual(resolveConfig({}, { IMDS_EMULATOR_PORT: "1400" }).warnings, []);
});

test("an unknown config file key names the nearest option", () => {
  assert.throws(
    () => resolveConfig({}, {}, { path: "c.yaml", data: { "http-token": "required" } }),
    /c\.yaml: unknown key "http-token"; did you mean "http-tokens"\?/,
  );
  assert.throws(() => resolveConfig({}, {}, { path: "c.yaml", data: { tag: { a: "b" } } }), /did you mean "tags"\?/);
});

test("nearest: close names only", () => {
  assert.equal(nearest("htp-tokens", ["http-tokens", "http-endpoint"]), "http-tokens");
  assert.equal(nearest("regoin", ["region", "role-arn"]), "region");
  assert.equal(nearest("banana", ["region", "port"]), undefined);
});
