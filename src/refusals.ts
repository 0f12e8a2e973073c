import type { Clock, Timer } from "./clock";
import type { Logger } from "./log";

/** Why a request or a connection was refused; each has a count in the metrics and a log event `<reason>-refused`. */
export const REFUSAL_REASONS = [
  "caller",
  "host",
  "duplicate-host",
  "browser",
  "headers",
  "proxy-header",
  "caller-connection-limit",
  "connection-limit",
  "unknown-caller",
] as const;
export type RefusalReason = (typeof REFUSAL_REASONS)[number];

/** Distinct (reason, value) pairs logged an hour, one line each. */
export const LOGGED_VALUES_PER_HOUR = 1000;
const HOUR_MS = 3_600_000;
/** Once the hour's budget is spent, refusals are summed up in one line this often. */
export const SUMMARY_INTERVAL_MS = 60_000;
/** The summary names the most recent distinct values, this many. */
const SUMMARY_VALUES = 10;
const VALUE_CHARS = 200;

/**
 * Counts every refusal and logs each new value (a Host name, an address) once an hour. A flood of
 * distinct values spends the hour's budget, but never silences the log: past it, one summary line a
 * minute says how many refusals went unlogged and names the latest, so a real rebinding attempt in
 * the flood still shows. Memory stays bounded by the budget, whatever the flood.
 */
export class Refusals {
  private readonly counts = new Map<RefusalReason, number>();
  private readonly logged = new Set<string>();
  private windowEndsAt = -Infinity;
  private unlogged = 0;
  private latest: string[] = [];
  private summary: Timer | undefined;

  constructor(
    private readonly log: Logger,
    private readonly clock: Clock,
  ) {}

  record(reason: RefusalReason, value: string): void {
    this.counts.set(reason, (this.counts.get(reason) ?? 0) + 1);
    const now = this.clock.now();
    if (now >= this.windowEndsAt) {
      this.logged.clear();
      this.windowEndsAt = now + HOUR_MS;
    }
    const text = value.slice(0, VALUE_CHARS);
    const key = `${reason}\0${text}`;
    if (this.logged.has(key)) return;
    if (this.logged.size < LOGGED_VALUES_PER_HOUR) {
      this.logged.add(key);
      this.log.warn(`${reason}-refused`, { value: text });
      return;
    }
    this.unlogged += 1;
    const named = `${reason}: ${text}`;
    if (!this.latest.includes(named)) this.latest = [...this.latest.slice(1 - SUMMARY_VALUES), named];
    this.summary ??= this.clock.schedule(SUMMARY_INTERVAL_MS, () => this.summarize());
  }

  /** Ends the pending summary (the emulator stops): its line would come after the last one. */
  stop(): void {
    this.summary?.cancel();
    this.summary = undefined;
  }

  /** Refusals since start, by reason. */
  total(reason: RefusalReason): number {
    return this.counts.get(reason) ?? 0;
  }

  private summarize(): void {
    this.log.warn("refusals-summary", {
      unlogged: this.unlogged,
      latest: this.latest.join("; "),
      detail: `over ${LOGGED_VALUES_PER_HOUR} distinct refused values this hour: each is counted, the latest are named here`,
    });
    this.unlogged = 0;
    this.latest = [];
    this.summary = undefined;
  }
}
