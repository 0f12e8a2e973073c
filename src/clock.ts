/** Time is injected everywhere so that tests drive it with a fake clock instead of sleeping. */
export interface Timer {
  cancel(): void;
}

export interface Clock {
  now(): number;
  /** Runs `fn` once after `ms`; the timer never keeps the process alive on its own. */
  schedule(ms: number, fn: () => void): Timer;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  schedule(ms, fn) {
    const handle = setTimeout(fn, Math.max(0, ms));
    handle.unref();
    return { cancel: () => clearTimeout(handle) };
  },
};

/** AWS's timestamp format: RFC 3339, whole seconds, UTC with `Z` (botocore parses `%Y-%m-%dT%H:%M:%SZ`). */
export function awsTimestamp(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(/\.000Z$/, "Z");
}

/** A time as the admin API, the logs and the library print it: ISO 8601 in UTC with milliseconds. */
export function isoTime(ms: number): string;
export function isoTime(ms: number | undefined): string | undefined;
export function isoTime(ms: number | undefined): string | undefined {
  return ms === undefined ? undefined : new Date(ms).toISOString();
}
