import yargs from "yargs/yargs";
import { isFlag } from "./args";
import { OPTIONS, envName, type Group } from "./config/schema";
import { ConfigError } from "./validation";

/**
 * --help, --version and shell completion, which yargs prints. Loaded only when asked for (args.ts
 * reads the command line of a start).
 */

/** --help's section of each group of the schema, in this order; every group has one (the type checks it). */
const SECTIONS: Readonly<Record<Group, string>> = {
  general: "Configuration:",
  listening: "Listening:",
  credentials: "Credentials:",
  instance: "Instance:",
  events: "Events:",
  security: "Security:",
  faults: "Faults (testing clients; docs/faults.md):",
  kubernetes: "Kubernetes node mode (docs/kubernetes.md):",
  admin: "Admin listener:",
  logging: "Logging:",
};
const HELP_GROUPS = Object.entries(SECTIONS) as ReadonlyArray<[Group, string]>;

const EXAMPLES: ReadonlyArray<[string, string]> = [
  ["$0", "mock credentials on http://127.0.0.1:1338, no AWS account needed"],
  ["$0 --role-arn arn:aws:iam::123456789012:role/app-role", "real credentials of that role, assumed with STS and rotated"],
  ["$0 --host 169.254.169.254 --port 80 --admin-port 9901", "EC2's own address (after ip addr add 169.254.169.254/32 dev lo), with health and metrics"],
];

/** Prints what was asked for. */
export function printHelp(argv: readonly string[]): void {
  const parser = yargs([...argv])
    .scriptName("imds-emulator")
    .usage("$0 [options]\n\nEmulates the EC2 Instance Metadata Service (IMDSv2) with rotated IAM role credentials.")
    .epilog(
      `Every option can also be set as ${envName("<NAME>")} (e.g. ${envName("role-arn")}) or as a key of the --config file.\n` +
        "Shell completion: imds-emulator completion >> ~/.bashrc (or ~/.zshrc).\n" +
        "Replay a real instance: imds-emulator capture --output instance.yaml on it, then --config instance.yaml (capture --help).",
    )
    .parserConfiguration({ "camel-case-expansion": false })
    .completion("completion", "Print a bash or zsh completion script")
    .exitProcess(false)
    .fail((message, error) => {
      throw new ConfigError(message ?? error?.message ?? "invalid arguments");
    })
    .wrap(process.stdout.isTTY ? Math.min(120, process.stdout.columns) : null);
  for (const option of OPTIONS) {
    const flag = isFlag(option.choices);
    parser.option(option.name, {
      type: flag ? "boolean" : "string",
      array: option.repeatable === true,
      describe:
        option.description +
        (option.choices === undefined || flag ? "" : ` (${option.choices.join("|")})`) +
        (option.default === undefined ? "" : ` [default: ${option.default}]`),
    });
  }
  for (const [group, title] of HELP_GROUPS) {
    parser.group(OPTIONS.filter((option) => option.group === group).map((option) => option.name), title);
  }
  for (const [command, description] of EXAMPLES) parser.example(command, description);
  // Printed here: parsed as a command, `completion` would go on to the rest of the command line.
  if (argv[0] === "completion") return void parser.showCompletionScript();
  parser.parseSync();
}
