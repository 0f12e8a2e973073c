import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { test } from "node:test";
import { OPTIONS_PAGE, withFreshTable } from "../support/options-table";

const ROOT = join(__dirname, "..", "..", "..");
const README = join(ROOT, "README.md");
const DOCS = join(ROOT, "docs");

test("the options table of docs/options.md matches the options (npm run docs regenerates it)", () => {
  const page = readFileSync(OPTIONS_PAGE, "utf8");
  assert.equal(page, withFreshTable(page));
});

test("the README starts with the two commands a newcomer needs", () => {
  const lines = readFileSync(README, "utf8").split("\n");
  const fence = lines.indexOf("```sh");
  assert.ok(fence > 0 && fence < 4, "a shell block right under the title");
  const [start, tests] = lines.slice(fence + 1);
  assert.match(start!, /^npm ci && npm run build && npm start/);
  assert.match(tests!, /^npm test/);
});

test("the README's first screen (60 lines) holds the two commands, the three ways to run it, the SDK hookup and the contents", () => {
  const screen = readFileSync(README, "utf8").split("\n").slice(0, 60).join("\n");
  for (const needed of ["npm ci && npm run build && npm start", "npm test", "npx imds-emulator", "docker run", "docker compose", "export AWS_EC2_METADATA_SERVICE_ENDPOINT=", "## Contents"]) {
    assert.ok(screen.includes(needed), needed);
  }
  const pages = readdirSync(DOCS).filter((name) => name.endsWith(".md"));
  for (const page of pages) assert.ok(screen.includes(`](docs/${page})`), `the contents link docs/${page}`);
});

test("every relative link of the README and the docs pages points at a file of the repository", () => {
  for (const file of [README, ...readdirSync(DOCS).map((name) => join(DOCS, name))]) {
    for (const [, link] of readFileSync(file, "utf8").matchAll(/\]\(([^)#:]+)(#[^)]*)?\)/g)) {
      const target = resolve(dirname(file), link!);
      assert.ok(target.startsWith(`${ROOT}/`), `${file}: ${link} leaves the repository`);
      assert.doesNotThrow(() => readFileSync(target), `${file}: ${link} does not exist`);
    }
  }
});
