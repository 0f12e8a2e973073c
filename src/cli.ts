import { closeSignalledInspector, reportInspectorClosings } from "./no-inspector";
import { parseCommandLine, wantsHelp } from "./args";
import { bannerLines, startedFields, type ReadyFacts } from "./banner";
import { bindListeners } from "./bind";
import { systemClock } from "./clock";
import { resolveConfig, type Config } from "./config/config";
import { loadConfigFile } from "./config/file";
import { envName } from "./config/schema";
import { createEmulator, type Emulator } from "./emulator";
import { raiseOpenFileLimit } from "./limits";
import { createLogger, logRuntimeWarning, resolveLogFormat, type Logger } from "./log";
import { Refusals } from "./refusals";
import { deferredLog } from "./start-log";
import { startFailure } from "./startup-errors";

/** In-flight requests get this long; the promise is an exit within 5 s. */
const SHUTDOWN_GRACE_MS = 4500;
const SIGNAL_NUMBERS: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 };

async function loadConfig(cli: Record<string, unknown>): Promise<Config> {
  const path = (cli.config as string[] | undefined)?.at(-1) ?? process.env[envName("config")];
  const file = path === undefined || path === "" ? undefined : await loadConfigFile(path);
  return resolveConfig(cli, process.env, file);
}

/** The ready banner on a terminal, the `started` line in JSON: where to point clients, whose credentials, until when. */
function announce(emulator: Emulator, config: Config, urls: readonly string[], adminUrl: string | undefined, log: Logger, pretty: boolean): void {
  const health = emulator.refresher.health();
  const facts: ReadyFacts = {
    urls,
    adminUrl,
    roleName: config.roleName,
    source: health.source,
    roleArn: config.sts?.roleArn,
    expiration: emulator.refresher.current()?.credentials.expiration,
    unavailableReason: health.reason,
  };
  if (pretty && config.logLevel !== "warn" && config.logLevel !== "error") {
    process.stderr.write(`${bannerLines(facts, emulator.now(), colourWanted()).join("\n")}\n`);
    return;
  }
  log.info("started", {
    source: health.source,
    role: config.roleName,
    instanceId: emulator.instance.instanceId,
    region: emulator.instance.region,
    httpTokens: config.httpTokens,
    ...startedFields(facts),
  });
}

/** Colours only on a terminal, and never when NO_COLOR is set (no-color.org). */
function colourWanted(): boolean {
  return process.stderr.isTTY === true && (process.env.NO_COLOR ?? "") === "";
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
  let config: Config;
  const argv = process.argv.slice(2);
  if (argv[0] === "capture") {
    // A client of another IMDS, not the daemon: loaded only for this command.
    const { runCapture } = require("./capture/command") as typeof import("./capture/command");
    process.exitCode = await runCapture(argv.slice(1));
    return;
  }
  try {
    if (wantsHelp(argv)) {
      // Loaded only here: yargs is a tenth of the start's module loading.
      const { printHelp } = require("./help") as typeof import("./help");
      return printHelp(argv);
    }
    config = await loadConfig(parseCommandLine(argv));
  } catch (error) {
    process.stderr.write(`imds-emulator: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 2;
    return;
  }
  const pretty = resolveLogFormat(config.logFormat, process.stderr.isTTY === true) === "pretty";
  const start = deferredLog(createLogger(config.logLevel, undefined, undefined, { format: pretty ? "pretty" : "json", colour: pretty && colourWanted() }));
  const { log } = start;
  routeProcessWarnings(log);
  for (const message of config.warnings) log.warn("config-warning", { message });
  try {
    // Before binding: the default connection caps are read from the limit it leaves.
    const openFiles = await raiseOpenFileLimit(log);
    // Ports first: one in use fails here, before an STS call is spent. They hold requests until the emulator answers.
    const refusals = new Refusals(log, systemClock);
    const bound = await bindListeners(config, log, refusals, openFiles);
    const emulator = await createEmulator(config, { log, refusals });
    start.flush();
    handleSignals(emulator, log);
    const { metadata, admin } = await emulator.listen(bound);
    const closed = () => log.warn("inspector-closed", { detail: "a SIGUSR1 during start-up opened Node's inspector; it is closed" });
    reportInspectorClosings(closed);
    if (closeSignalledInspector()) closed();
    announce(emulator, config, metadata.map((listening) => listening.url), admin?.url, log, pretty);
  } catch (error) {
    const failure = startFailure(error);
    if (failure.exitCode === 2) process.stderr.write(`imds-emulator: ${failure.message}\n`);
    else log.error("start-failed", { message: failure.message });
    process.exit(failure.exitCode);
  }
}

void main();
