import type { Clock } from "../../src/clock";
import { createLogger, type Logger } from "../../src/log";

/** A debug-level logger whose lines are parsed into `lines`, timed by `clock` when given. */
export function logInto(lines: Array<Record<string, unknown>>, clock?: Clock): Logger {
  return createLogger("debug", (line) => lines.push(JSON.parse(line)), clock === undefined ? undefined : () => clock.now());
}
