#!/usr/bin/env node
import { closeSignalledInspector } from "./no-inspector";
import yargs from "yargs/yargs";
import { ConfigError, resolveConfig, type Config } from "./config/config";
import { loadConfigFile } from "./config/file";
import { OPTIONS, envName } from "./config/schema";
import { nearest } from "./config/suggest";
import { createEmulator, type Emulator } from "./emulator";
import { raiseOpenFileLimit } from "./limits";
import { createLogger, logRuntimeWarning, type Logger } from "./log";

/** In-flight requests get this long; the promise is an exit within 5 s. */
const SHUTDOWN_GRACE_MS = 4500;
const SIGNAL_NUMBERS: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 };

/** yargs names an unknown option; add the nearest real one, as a misspelt flag is the usual cause. */
function withSuggestion(message: string): string {
  const unknown = /^Unknown arguments?: (.+)$/.exec(message);
  if (unknown === null) return message;
  const hints = unknown[1]!.split(", ").flatMap((name) => {
    const hint = nearest(name, OPTIONS.map((option) => option.name));
    return hint === undefined ? [] : [`--${hint} for --${name}`];
  });
  return hints.length === 0 ? message : `${message}; did you mean ${hints.join(", ")}?`;
}

function parseArgs(argv: string[]): Record<string, unknown> {
  const parser = yargs(argv)
    .scriptName("imds-emulator")
    .usage("$0 [options]\n\nEmulates the EC2 Instance Metadata Service (IMDSv2) with rotated IAM role credentials.")
    .epilog(`Every option can also be set as ${envName("<NAME>")} (e.g. ${envName("role-arn")}) or as a key of the --config file.`)
    .parserConfiguration({ "camel-case-expansion": false })
    .strict()
    .exitProcess(false)
    .fail((message, error) => {
      throw new ConfigError(withSuggestion(message ?? error?.message ?? "invalid arguments"));
    })
    .wrap(process.stdout.isTTY ? Math.min(120, process.stdout.columns) : null);
  for (const option of OPTIONS) {
    parser.option(option.name, {
      type: "string",
      array: option.repeatable === true,
      requiresArg: true,
      describe:
        option.description +
        (option.choices === undefined ? "" : ` (${option.choices.join("|")})`) +
        (option.default === undefined ? "" : ` [default: ${option.default}]`),
    });
  }
  return parser.parseSync() as Record<string, unknown>;
}

async function loadConfig(cli: Record<string, unknown>): Promise<Config> {
  const path = (cli.config as string | undefined) ?? process.env[envName("config")];
  const file = path === undefined || path === "" ? undefined : await loadConfigFile(path);
  return resolveConfig(cli, process.env, file);
}

function handleSignals(emulator: Emulator, log: Logger): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      log.warn("shutdown-forced", { signal });
      process.exit(128 + (SIGNAL_NUMBERS[signal] ?? 0));
    }
    stopping = true;
    log.info("shutdown", { signal });
    setTimeout(() => process.exit(0), SHUTDOWN_GRACE_MS).unref();
    void emulator.stop().then(() => process.exit(0));
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
  // A closed terminal or a supervisor's hang-up: a graceful stop (Node's default would be an abrupt exit).
  process.on("SIGHUP", onSignal);
  process.on("SIGUSR1", () => log.warn("signal-ignored", { signal: "SIGUSR1", detail: "this daemon never opens a debugger on a signal" }));
}

/**
 * The daemon must never ask an instance metadata service for its own source credentials, not even
 * through a profile's `credential_source = Ec2InstanceMetadata`; this process runs no user code.
 */
process.env.AWS_EC2_METADATA_DISABLED = "true";

/** Node prints warnings (the SDK's Node version notice) as free text; the log stays one JSON line an event. */
function routeProcessWarnings(log: Logger): void {
  process.removeAllListeners("warning");
  process.on("warning", (warning) => {
    logRuntimeWarning(log, warning.name, warning.message);
  });
}

async function main(): Promise<void> {
  let cli: Record<string, unknown>;
  let config: Config;
  try {
    cli = parseArgs(process.argv.slice(2));
    if (cli.help === true || cli.version === true) return;
    config = await loadConfig(cli);
  } catch (error) {
    process.stderr.write(`imds-emulator: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 2;
    return;
  }
  const log = createLogger(config.logLevel);
  routeProcessWarnings(log);
  for (const message of config.warnings) log.warn("config-warning", { message });
  try {
    const emulator = await createEmulator(config, { log });
    handleSignals(emulator, log);
    // Before listening: the default connection caps are read from the limit it leaves.
    await raiseOpenFileLimit(log);
    await emulator.listen();
    if (closeSignalledInspector()) log.warn("inspector-closed", { detail: "a SIGUSR1 during start-up opened Node's inspector; it is closed" });
    log.info("started", {
      source: emulator.refresher.health().source,
      role: config.roleName,
      instanceId: emulator.instance.instanceId,
      region: emulator.instance.region,
      httpTokens: config.httpTokens,
    });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (error instanceof ConfigError) {
      process.stderr.write(`imds-emulator: ${message}\n`);
      process.exit(2);
    }
    log.error("start-failed", { message });
    process.exit(1);
  }
}

void main();
