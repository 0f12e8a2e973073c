import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { README, withFreshTable } from "../support/options-table";

test("the README's options table matches the options (npm run docs regenerates it)", () => {
  const readme = readFileSync(README, "utf8");
  assert.equal(readme, withFreshTable(readme));
});

test("the README starts with the two commands a newcomer needs", () => {
  const lines = readFileSync(README, "utf8").split("\n");
  const fence = lines.indexOf("```sh");
  assert.ok(fence > 0 && fence < 4, "a shell block right under the title");
  const [start, tests] = lines.slice(fence + 1);
  assert.match(start!, /^npm ci && npm run build && npm start/);
  assert.match(tests!, /^npm test/);
});
