import { writeSync } from "node:fs";
import { isatty } from "node:tty";

/**
 * The daemon's log and messages go to file descriptor 2 with write(2), not through `process.stderr`:
 * Node builds that stream (a socket over the pipe, a tty stream, or a file stream) on first use,
 * which was a millisecond of every start, and writes to a pipe or a terminal synchronously on Linux
 * anyway. A descriptor left non-blocking by another process on the same pipe (EAGAIN) hands this
 * line's rest and every later one to `process.stderr`, which queues them in order; a reader that
 * has gone away (EPIPE) loses the line instead of stopping the daemon.
 */
export interface StderrDeps {
  readonly write: (text: Buffer) => number;
  readonly fallback: () => { write(text: Buffer): unknown };
}

const SYSTEM: StderrDeps = {
  write: (text) => writeSync(2, text),
  fallback: () => process.stderr,
};

export function createStderr(deps: StderrDeps = SYSTEM): (text: string) => void {
  let stream: { write(text: Buffer): unknown } | undefined;
  return (text) => {
    let rest = Buffer.from(text);
    if (stream === undefined) {
      try {
        while (rest.length > 0) rest = rest.subarray(deps.write(rest));
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EAGAIN") return;
        stream = deps.fallback();
      }
    }
    stream.write(rest);
  };
}

export const writeStderr = createStderr();

/** Whether fd 2 is a terminal, asked without building `process.stderr`. */
export function stderrIsTerminal(): boolean {
  return isatty(2);
}
