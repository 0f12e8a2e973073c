import { parseArgs } from "node:util";
import { OPTIONS } from "./config/schema";
import { nearest } from "./config/suggest";
import { ConfigError } from "./validation";

/**
 * The command line of a start, read with Node's own parser: yargs takes a tenth of the start to
 * load, so it is loaded only for --help, --version and shell completion (help.ts). The messages are
 * the ones yargs gave, with the nearest real option named for a misspelt one.
 */

/** Options that take no value: `--wait-for-credentials`, also `--wait-for-credentials=false` and `--no-wait-for-credentials`. */
export function isFlag(choices: readonly string[] | undefined): boolean {
  return choices?.length === 2 && choices.includes("true") && choices.includes("false");
}

const FLAGS: ReadonlySet<string> = new Set(OPTIONS.filter((option) => isFlag(option.choices)).map((option) => option.name));
const VALUED: ReadonlySet<string> = new Set(OPTIONS.filter((option) => !FLAGS.has(option.name)).map((option) => option.name));

/** `options` are the unknown names given as options: only those get a suggestion. */
function unknown(names: readonly string[], options: ReadonlySet<string>): ConfigError {
  const hints = names.filter((name) => options.has(name)).flatMap((name) => {
    const hint = nearest(name, OPTIONS.map((option) => option.name));
    return hint === undefined ? [] : [`--${hint} for --${name}`];
  });
  const message = `Unknown argument${names.length > 1 ? "s" : ""}: ${names.join(", ")}`;
  return new ConfigError(hints.length === 0 ? message : `${message}; did you mean ${hints.join(", ")}?`);
}

/** Every option given, by name: a list of its values (config.ts keeps the last of a single-value option), `true`/`false` for a flag. */
export function parseCommandLine(argv: readonly string[]): Record<string, unknown> {
  const { tokens } = parseArgs({ args: [...argv], strict: false, allowPositionals: true, tokens: true, options: {} });
  const values: Record<string, unknown> = {};
  const unknowns: string[] = [];
  const unknownOptions = new Set<string>();
  for (let index = 0; index < tokens.length; index++) {
    const token = tokens[index]!;
    if (token.kind === "option-terminator") continue;
    if (token.kind === "positional") {
      unknowns.push(token.value);
      continue;
    }
    const { name } = token;
    const negated = name.startsWith("no-") && FLAGS.has(name.slice(3));
    if (FLAGS.has(name) || negated) {
      const value = negated ? "false" : (token.value ?? "true");
      if (value !== "true" && value !== "false") throw new ConfigError(`--${name}: expected true or false, got ${JSON.stringify(value)}`);
      values[negated ? name.slice(3) : name] = value === "true";
      continue;
    }
    if (!VALUED.has(name)) {
      unknowns.push(name);
      unknownOptions.add(name);
      // As yargs did, an unknown option's value is not reported as one more unknown argument.
      if (token.value === undefined && tokens[index + 1]?.kind === "positional") index += 1;
      continue;
    }
    // `--port 80` or `--port=80`; `--port --host x` is a missing port.
    let value = token.value;
    if (value === undefined && tokens[index + 1]?.kind === "positional") value = (tokens[++index] as { value: string }).value;
    if (value === undefined) throw new ConfigError(`Not enough arguments following: ${name}`);
    values[name] = [...((values[name] as string[] | undefined) ?? []), value];
  }
  if (unknowns.length > 0) throw unknown(unknowns, unknownOptions);
  return values;
}

/** Asks for what yargs prints (help.ts) rather than a start. */
export function wantsHelp(argv: readonly string[]): boolean {
  return argv[0] === "completion" || argv.some((arg) => arg === "--help" || arg === "--version" || arg === "--get-yargs-completions");
}
