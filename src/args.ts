import { OPTIONS } from "./config/schema";
import { nearest } from "./config/suggest";
import { ConfigError } from "./validation";

/**
 * The command line of a start, read here: yargs takes a tenth of the start to load, so it is loaded
 * only for --help, --version and shell completion (help.ts). Node's util.parseArgs would do, but its
 * code is compiled at each start. The messages are the ones yargs gave, with the nearest real option
 * named for a misspelt one.
 */

export type Token = { kind: "option"; name: string; value?: string } | { kind: "positional"; value: string } | { kind: "option-terminator" };

/**
 * The words of a command line, as util.parseArgs reads them when it knows no options: `--name` and
 * `--name=value`; `-abc` as the short options a, b and c; `--` ends the options; the rest are
 * positionals, values being taken by the parser below.
 */
export function tokenize(argv: readonly string[]): Token[] {
  const tokens: Token[] = [];
  for (let index = 0; index < argv.length; index++) {
    const arg = argv[index]!;
    if (arg === "--") {
      tokens.push({ kind: "option-terminator" });
      for (const rest of argv.slice(index + 1)) tokens.push({ kind: "positional", value: rest });
      break;
    }
    if (arg.startsWith("--")) {
      // As parseArgs reads it, `--=x` is an option named "=x".
      const equals = arg.indexOf("=", 3);
      tokens.push(equals === -1 ? { kind: "option", name: arg.slice(2) } : { kind: "option", name: arg.slice(2, equals), value: arg.slice(equals + 1) });
    } else if (arg.length > 1 && arg.startsWith("-")) {
      for (const name of arg.slice(1)) tokens.push({ kind: "option", name });
    } else {
      tokens.push({ kind: "positional", value: arg });
    }
  }
  return tokens;
}

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
  const tokens = tokenize(argv);
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
