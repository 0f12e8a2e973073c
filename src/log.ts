/** Structured logging: one JSON object a line, one line an event. Secrets never go in `fields`. */
export type LogLevel = (typeof LOG_LEVELS)[number];

export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;

export type LogFields = Record<string, string | number | boolean | null | undefined>;

export interface Logger {
  debug(event: string, fields?: LogFields): void;
  info(event: string, fields?: LogFields): void;
  warn(event: string, fields?: LogFields): void;
  error(event: string, fields?: LogFields): void;
}

export function createLogger(
  level: LogLevel,
  write: (line: string) => void = (line) => process.stderr.write(line + "\n"),
  now: () => number = Date.now,
): Logger {
  const threshold = LOG_LEVELS.indexOf(level);
  const emit = (at: LogLevel) => (event: string, fields: LogFields = {}) => {
    if (LOG_LEVELS.indexOf(at) < threshold) return;
    write(JSON.stringify({ time: new Date(now()).toISOString(), level: at, event, ...fields }));
  };
  return { debug: emit("debug"), info: emit("info"), warn: emit("warn"), error: emit("error") };
}

export const silentLogger: Logger = createLogger("error", () => undefined);

/** A runtime warning (the SDK's Node version notice) as one log line, its text folded onto one line. */
export function logRuntimeWarning(log: Logger, name: string, message: string): void {
  log.warn("runtime-warning", { name, message: message.replace(/\s+/g, " ").trim() });
}

/** The only part of a key id that may be logged: enough to tell two sets apart. */
export function keyIdSuffix(accessKeyId: string): string {
  return accessKeyId.slice(-4);
}
