/**
 * The log for people at a terminal: `12:00:03 INFO  credentials-rotated  source=mock keyIdSuffix=WXYZ`.
 * The same events and fields as the JSON lines, so nothing is told to one reader and kept from the other.
 */

type Level = "debug" | "info" | "warn" | "error";
type Value = string | number | boolean | null | undefined;

const LEVEL_COLOURS: Record<Level, string> = { debug: "\x1b[2m", info: "\x1b[36m", warn: "\x1b[33m", error: "\x1b[31m" };
const RESET = "\x1b[0m";

/** A value quoted only when it would not read as one word. */
function shown(value: Exclude<Value, undefined>): string {
  const text = String(value);
  return text === "" || /[\s"=]/.test(text) ? JSON.stringify(text) : text;
}

export function prettyLine(time: number, level: Level, event: string, fields: Readonly<Record<string, Value>>, colour: boolean): string {
  const clock = new Date(time).toISOString().slice(11, 19);
  const label = level.toUpperCase().padEnd(5);
  const pairs = Object.entries(fields)
    .filter((entry): entry is [string, Exclude<Value, undefined>] => entry[1] !== undefined)
    .map(([key, value]) => `${key}=${shown(value)}`)
    .join(" ");
  const head = colour ? `${LEVEL_COLOURS[level]}${label}${RESET}` : label;
  return `${clock} ${head} ${event}${pairs === "" ? "" : `  ${pairs}`}`;
}
