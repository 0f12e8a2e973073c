import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { OPTIONS, envName } from "../../src/config/schema";

export const README = join(__dirname, "..", "..", "..", "README.md");
const HEADER = "| Option | Environment variable | Default | Meaning |";

/** The README's options table, made from the one list of options so the two cannot drift apart. */
export function optionsTable(): string {
  const rows = [HEADER, "| --- | --- | --- | --- |"];
  for (const option of OPTIONS) {
    const choices = option.choices === undefined ? "" : `: \`${option.choices.join("` or `")}\``;
    const fallback = option.default === undefined ? "" : `\`${option.default}\``;
    rows.push(`| \`--${option.name}\` | \`${envName(option.name)}\` | ${fallback} | ${option.description}${choices} |`);
  }
  return rows.join("\n");
}

/** The README's text with its options table replaced by a fresh one. */
export function withFreshTable(readme: string): string {
  const start = readme.indexOf(HEADER);
  const end = readme.indexOf("\n\n", start);
  return readme.slice(0, start) + optionsTable() + readme.slice(end);
}

if (require.main === module) writeFileSync(README, withFreshTable(readFileSync(README, "utf8")));
