import type { Clock } from "../clock";

/**
 * A per-instance request rate, as a token bucket holding one second's worth: a burst of `rate`
 * requests passes, then `rate` a second. EC2 throttles per instance (User Guide, "Query
 * throttling") without publishing the rate; this one is the user's.
 */
export class Throttle {
  private tokens: number;
  private last: number;

  constructor(
    private readonly clock: Clock,
    private readonly rate: number,
  ) {
    this.tokens = rate;
    this.last = clock.now();
  }

  /** Takes one request's token; false when the instance is over its rate. */
  take(): boolean {
    const now = this.clock.now();
    this.tokens = Math.min(this.rate, this.tokens + ((now - this.last) * this.rate) / 1000);
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
