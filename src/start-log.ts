import type { Logger } from "./log";

/**
 * The log of a start in progress: warnings and errors are written at once, the info and debug
 * lines of the start (the open-file limit, the ports bound, the first credentials) only once the
 * start has gone far enough to be worth telling. A start that then fails on a bad file or a refused
 * role says one line, not three lines of progress and then the failure.
 */
export function deferredLog(log: Logger): { readonly log: Logger; flush(): void } {
  let held: Array<() => void> | undefined = [];
  const later = (write: Logger["info"]): Logger["info"] => (event, fields) => {
    if (held === undefined) return write(event, fields);
    held.push(() => write(event, fields));
  };
  return {
    log: {
      debug: later(log.debug),
      info: later(log.info),
      warn: log.warn,
      error: log.error,
      debugEnabled: log.debugEnabled,
    },
    flush() {
      const lines = held ?? [];
      held = undefined;
      for (const line of lines) line();
    },
  };
}
