#!/usr/bin/env node
import yargs from "yargs/yargs";
import { ConfigError, resolveConfig, type Config } from "./config/config";
import { loadConfigFile } from "./config/file";
import { OPTIONS, envName } from "./config/options";
import { Emulator } from "./emulator";
import { raiseOpenFileLimit } from "./limits";
import { createLogger, logRuntimeWarning, type Logger } from "./log";

/** In-flight requests get this long; the promise is an exit within 5 s. */
const SHUTDOWN_GRACE_MS = 4500;
const SIGNAL_NUMBERS: Partial<Record<NodeJS.Signals, number>> = { SIGINT: 2, SIGTERM: 15 };

function parseArgs(argv: string[]): Record<string, unknown> {
  const parser = yargs(argv)
    .scriptName("imds-emulator")
    .usage("$0 [options]\n\nEmulates the EC2 Instance Metadata Service (IMDSv2) with rotated IAM role credentials.")
    .epilog(`Every option can also be set as ${envName("<NAME>")} (e.g. ${envName("role-arn")}) or as a key of the --config file.`)
    .parserConfiguration({ "camel-case-expansion": false })
    .strict()
    .exitProcess(false)
    .fail((message, error) => {
      throw new ConfigError(message ?? error?.message ?? "invalid arguments");
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
  try {
    const emulator = new Emulator(config, { log });
    handleSignals(emulator, log);
    await emulator.prepare();
    // Before listening: the default connection caps are read from the limit it leaves.
    await raiseOpenFileLimit(log);
    await emulator.listen();
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
