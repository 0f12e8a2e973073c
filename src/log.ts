import { prettyLine } from "./log-format";

/** Structured logging: one event a line, JSON or for people (log-format.ts). Secrets never go in `fields`. */
export type LogLevel = (typeof LOG_LEVELS)[number];

export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;

/** `auto`: pretty when the log's stream (stderr) is a terminal, JSON otherwise. */
export const LOG_FORMATS = ["auto", "json", "pretty"] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export type LogFields = Record<string, string | number | boolean | null | undefined>;

export interface Logger {
  debug(event: string, fields?: LogFields): void;
  info(event: string, fields?: LogFields): void;
  warn(event: string, fields?: LogFields): void;
  error(event: string, fields?: LogFields): void;
  /** Whether `debug` lines are written: callers skip the work of building them otherwise. */
  readonly debugEnabled: boolean;
}

export interface LoggerOptions {
  /** JSON unless told otherwise: files, pipes and the library's callbacks read JSON. */
  readonly format?: "json" | "pretty";
  /** ANSI colours in the pretty format. */
  readonly colour?: boolean;
}

export function createLogger(
  level: LogLevel,
  write: (line: string) => void = (line) => process.stderr.write(line + "\n"),
  now: () => number = Date.now,
  { format = "json", colour = false }: LoggerOptions = {},
): Logger {
  const threshold = LOG_LEVELS.indexOf(level);
  const emit = (at: LogLevel) => (event: string, fields: LogFields = {}) => {
    if (LOG_LEVELS.indexOf(at) < threshold) return;
    const time = now();
    write(format === "pretty" ? prettyLine(time, at, event, fields, colour) : JSON.stringify({ time: new Date(time).toISOString(), level: at, event, ...fields }));
  };
  return { debug: emit("debug"), info: emit("info"), warn: emit("warn"), error: emit("error"), debugEnabled: threshold === 0 };
}

/** The format `auto` stands for, given whether the log's stream is a terminal. */
export function resolveLogFormat(format: LogFormat, isTerminal: boolean): "json" | "pretty" {
  return format === "auto" ? (isTerminal ? "pretty" : "json") : format;
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
