import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { OPTIONS, envName } from "../../src/config/schema";

/** The page that holds the table; the README links to it. */
export const OPTIONS_PAGE = join(__dirname, "..", "..", "..", "docs", "options.md");
const HEADER = "| Option | Environment variable | Default | Meaning |";

/** The options table of docs/options.md, made from the one list of options so the two cannot drift apart. */
export function optionsTable(): string {
  const rows = [HEADER, "| --- | --- | --- | --- |"];
  for (const option of OPTIONS) {
    const choices = option.choices === undefined ? "" : `: \`${option.choices.join("` or `")}\``;
    const fallback = option.default === undefined ? "" : `\`${option.default}\``;
    rows.push(`| \`--${option.name}\` | \`${envName(option.name)}\` | ${fallback} | ${option.description}${choices} |`);
  }
  return rows.join("\n");
}

/** The page's text with its options table replaced by a fresh one. */
export function withFreshTable(page: string): string {
  const start = page.indexOf(HEADER);
  const end = page.indexOf("\n\n", start);
  return page.slice(0, start) + optionsTable() + page.slice(end);
}

if (require.main === module) writeFileSync(OPTIONS_PAGE, withFreshTable(readFileSync(OPTIONS_PAGE, "utf8")));
