import { isoTime, type Clock, type Timer } from "../clock";
import { keyIdSuffix, type Logger } from "../log";
import { SourceError, type CredentialSource, type Credentials, type FailureClass } from "./source";

/** Credentials as served: `lastUpdated` is when this set was obtained, so it changes only with them. */
export interface ServedCredentials {
  readonly credentials: Credentials;
  readonly lastUpdated: number;
}

/** The project's rotation rule (IMDS-SPEC "Role credentials"): served credentials keep 30 minutes. */
export const DEFAULT_ROTATE_BEFORE_SECONDS = 1800;
/** Below this lifetime the 30-minute rule cannot hold; rotate at half the lifetime instead. */
export const SHORT_SESSION_SECONDS = 2700;
/** A rotation always waits this long after a fetch, whatever --rotate-before says, so it cannot spin. */
const MIN_HOLD_MS = 5000;
/** Health tolerates the moment between the rotation time and the new set arriving. */
const HEALTH_GRACE_MS = 30_000;
/**
 * How long past its expiry the last good set is still served while the source fails. SDKs extend
 * an expired instance-profile set a few minutes at a time and retry ("static stability"): JS v3 by
 * 5 to 10 minutes (@smithy/credential-provider-imds, staticStabilityProvider), Go v2 by 5 to 15
 * (ec2rolecreds HandleFailToRefresh), botocore by 12 to 20 but only on a set IMDS still serves
 * (InstanceMetadataFetcher._evaluate_expiration), Java every 50 to 70 seconds. 15 minutes covers
 * one extension of each, so a client that read the set just before expiry comes back at least once
 * inside the window and finds fresh credentials if the source recovered. After it the credential
 * paths answer 503: every SDK reads that as "IMDS unavailable", and JS v3, Go and Java keep
 * extending the set they hold themselves; the daemon stops handing a dead set to new clients.
 */
export const EXPIRED_SERVING_WINDOW_MS = 15 * 60_000;

export interface Backoff {
  readonly initialMs: number;
  readonly maxMs: number;
}

export const DEFAULT_BACKOFF: Backoff = { initialMs: 1000, maxMs: 60_000 };

/** How long before expiry to rotate a set that lives `lifetimeMs`; an explicit value wins. */
export function rotationLeadMs(lifetimeMs: number, explicitSeconds?: number): number {
  const wanted =
    explicitSeconds !== undefined
      ? explicitSeconds * 1000
      : lifetimeMs >= SHORT_SESSION_SECONDS * 1000
        ? DEFAULT_ROTATE_BEFORE_SECONDS * 1000
        : lifetimeMs / 2;
  return Math.max(0, Math.min(wanted, lifetimeMs - MIN_HOLD_MS));
}

/** Capped exponential backoff with jitter over the upper half, so retries neither bunch up nor fire at once. */
export function backoffDelayMs(failures: number, backoff: Backoff, random: () => number): number {
  const ceiling = Math.min(backoff.maxMs, backoff.initialMs * 2 ** Math.max(0, failures - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

export type HealthStatus = "starting" | "healthy" | "degraded";

export interface Health {
  readonly status: HealthStatus;
  readonly source: string;
  readonly reason?: string;
  /** Epoch ms since when the state has not been healthy. */
  readonly since?: number;
  readonly lastUpdated?: number;
  readonly expiration?: number;
  readonly nextAttemptAt?: number;
  readonly consecutiveFailures: number;
  /** The validity the rotation rule promises every served set, in ms. */
  readonly promisedValidityMs?: number;
}

export interface AttemptReport {
  readonly ok: boolean;
  readonly durationMs: number;
  readonly failureClass?: FailureClass;
}

export interface RefresherOptions {
  readonly source: CredentialSource;
  readonly clock: Clock;
  readonly log: Logger;
  readonly rotateBeforeSeconds?: number;
  readonly backoff?: Backoff;
  readonly random?: () => number;
  /**
   * A first fetch that fails for a reason only the user can fix (CONFIGURATION_FAILURES) makes
   * start() reject, unlogged and not retried, so the start stops with one clear line instead of
   * retrying the same refusal forever. Transient failures are retried either way.
   */
  readonly stopOnConfigFailure?: boolean;
}

/**
 * Failures that no retry fixes: no or refused source credentials, a role STS refuses. Expired source
 * credentials count too: a new set comes from the user (aws sso login), not from waiting.
 */
export const CONFIGURATION_FAILURES: ReadonlySet<FailureClass> = new Set(["invalid-config", "access-denied", "expired-token"]);

function validated(credentials: Credentials, now: number): Credentials {
  const fields = [credentials.accessKeyId, credentials.secretAccessKey, credentials.sessionToken];
  if (fields.some((field) => typeof field !== "string" || field === "")) {
    throw new SourceError("malformed-response", "the source returned a credential set with a missing field");
  }
  if (!Number.isFinite(credentials.expiration) || credentials.expiration <= now) {
    throw new SourceError("malformed-response", "the source returned credentials that are already expired");
  }
  return credentials;
}

/**
 * Keeps one current credential set: fetches before serving, rotates ahead of expiry, one fetch in
 * flight at a time, and on failure keeps the last good set while it retries with backoff.
 */
export class Refresher {
  private served: ServedCredentials | undefined;
  private inflight: Promise<void> | undefined;
  private timer: Timer | undefined;
  private failures = 0;
  private lastFailure: { failureClass: FailureClass; message: string } | undefined;
  private unhealthySince: number | undefined;
  private nextAttemptAt: number | undefined;
  private attempted = false;
  private stopped = false;
  private withdrawal: Timer | undefined;
  private warnedShortSession = false;
  private starting = false;
  private startFailure: SourceError | undefined;
  private readonly listeners: Array<(served: ServedCredentials | undefined) => void> = [];
  private readonly attemptListeners: Array<(report: AttemptReport) => void> = [];
  private readonly backoff: Backoff;
  private readonly random: () => number;

  constructor(private readonly options: RefresherOptions) {
    this.backoff = options.backoff ?? DEFAULT_BACKOFF;
    this.random = options.random ?? Math.random;
  }

  /** The set to serve now: the last good one, until EXPIRED_SERVING_WINDOW_MS past its expiry. */
  current(): ServedCredentials | undefined {
    const served = this.served;
    if (served === undefined || this.options.clock.now() >= served.credentials.expiration + EXPIRED_SERVING_WINDOW_MS) return undefined;
    return served;
  }

  /** The last good set, served or not. */
  lastObtained(): ServedCredentials | undefined {
    return this.served;
  }

  /** Called with the new set after a rotation, and with undefined when an expired set is withdrawn. */
  onChange(listener: (served: ServedCredentials | undefined) => void): void {
    this.listeners.push(listener);
  }

  /** Every fetch's outcome and duration, for metrics. */
  onAttempt(listener: (report: AttemptReport) => void): void {
    this.attemptListeners.push(listener);
  }

  private report(report: AttemptReport): void {
    for (const listener of this.attemptListeners) listener(report);
  }

  /**
   * Resolves after the first attempt, successful or not; retries go on in the background. With
   * stopOnConfigFailure, rejects with the first attempt's SourceError when it is a configuration
   * failure, and the refresher is stopped.
   */
  async start(): Promise<void> {
    this.starting = true;
    try {
      await this.refresh();
    } finally {
      this.starting = false;
    }
    if (this.startFailure !== undefined) {
      this.stop();
      throw this.startFailure;
    }
  }

  /** Rotates now, or joins the rotation already under way. */
  refresh(): Promise<void> {
    this.inflight ??= this.attempt().finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  /** Settles when no fetch is under way. */
  whenIdle(): Promise<void> {
    return this.inflight ?? Promise.resolve();
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    this.withdrawal?.cancel();
  }

  health(): Health {
    const { clock, source } = this.options;
    const now = clock.now();
    const served = this.served;
    const base = {
      source: source.kind,
      consecutiveFailures: this.failures,
      // While a fetch is under way the next attempt is not scheduled yet: no time in the past shows.
      nextAttemptAt: this.inflight === undefined ? this.nextAttemptAt : undefined,
      lastUpdated: served?.lastUpdated,
      expiration: served?.credentials.expiration,
    };
    if (served === undefined) {
      if (!this.attempted) return { ...base, status: "starting" };
      const failure = this.lastFailure;
      return {
        ...base,
        status: "degraded",
        since: this.unhealthySince,
        reason: `no credentials yet: the ${source.kind} source has not answered since start (${failure?.failureClass}: ${failure?.message})`,
      };
    }
    const promised = this.leadFor(served);
    const { expiration } = served.credentials;
    const remaining = expiration - now;
    const reasons: string[] = [];
    if (this.lastFailure !== undefined) {
      const serving = this.current() === undefined ? "the last good credentials are no longer served" : "serving the last good credentials";
      reasons.push(`${this.lastFailure.failureClass}: ${this.lastFailure.message}; ${serving}`);
    }
    if (remaining <= 0) {
      const until = isoTime(expiration + EXPIRED_SERVING_WINDOW_MS);
      reasons.push(
        now < expiration + EXPIRED_SERVING_WINDOW_MS
          ? `the credentials served expired at ${isoTime(expiration)}; they are served until ${until}, then the credential paths answer 503`
          : `the credentials expired at ${isoTime(expiration)} and were withdrawn at ${until}; the credential paths answer 503 until the source answers`,
      );
    } else if (remaining < promised - HEALTH_GRACE_MS) {
      reasons.push(
        `the credentials served expire in ${Math.floor(remaining / 1000)} s, less than the ${Math.round(promised / 1000)} s the rotation rule promises`,
      );
    }
    if (reasons.length === 0) return { ...base, status: "healthy", promisedValidityMs: promised };
    return {
      ...base,
      status: "degraded",
      promisedValidityMs: promised,
      since: this.unhealthySince ?? served.credentials.expiration - promised,
      reason: reasons.join("; "),
    };
  }

  private leadFor(served: ServedCredentials): number {
    return rotationLeadMs(served.credentials.expiration - served.lastUpdated, this.options.rotateBeforeSeconds);
  }

  private async attempt(): Promise<void> {
    const { clock, source } = this.options;
    const started = clock.now();
    this.timer?.cancel();
    try {
      const credentials = validated(await source.fetch(), clock.now());
      this.attempted = true;
      this.report({ ok: true, durationMs: clock.now() - started });
      this.accept(credentials);
    } catch (error) {
      this.attempted = true;
      const failure =
        error instanceof SourceError
          ? error
          : new SourceError("unknown", error instanceof Error ? error.message : String(error));
      this.report({ ok: false, durationMs: clock.now() - started, failureClass: failure.failureClass });
      this.reject(failure);
    }
  }

  private accept(credentials: Credentials): void {
    const { clock, log, source } = this.options;
    const now = clock.now();
    const served = { credentials, lastUpdated: now };
    this.served = served;
    this.failures = 0;
    this.lastFailure = undefined;
    this.unhealthySince = undefined;
    const lifetimeMs = credentials.expiration - now;
    const lead = this.leadFor(served);
    if (
      this.options.rotateBeforeSeconds === undefined &&
      lifetimeMs < SHORT_SESSION_SECONDS * 1000 &&
      !this.warnedShortSession
    ) {
      this.warnedShortSession = true;
      log.warn("short-session", {
        lifetimeSeconds: Math.round(lifetimeMs / 1000),
        rotateBeforeSeconds: Math.round(lead / 1000),
        detail:
          "sessions under 45 minutes cannot keep 30 minutes of validity; botocore may extend them past expiry. Rotating at half the lifetime.",
      });
    }
    this.schedule(credentials.expiration - lead);
    this.withdrawal?.cancel();
    this.withdrawal = clock.schedule(credentials.expiration + EXPIRED_SERVING_WINDOW_MS - now, () => this.withdraw(served));
    log.info("credentials-rotated", {
      source: source.kind,
      keyIdSuffix: keyIdSuffix(credentials.accessKeyId),
      expiration: isoTime(credentials.expiration),
      nextRotation: isoTime(credentials.expiration - lead),
    });
    for (const listener of this.listeners) listener(served);
  }

  /** The served set is past its window: the emulator rebuilds its replies without it. */
  private withdraw(served: ServedCredentials): void {
    const { log, source } = this.options;
    log.error("credentials-withdrawn", {
      source: source.kind,
      keyIdSuffix: keyIdSuffix(served.credentials.accessKeyId),
      expiration: isoTime(served.credentials.expiration),
      detail: `the ${source.kind} source has not answered since; the credential paths answer 503 until it does`,
    });
    for (const listener of this.listeners) listener(undefined);
  }

  private reject(failure: SourceError): void {
    const { clock, log, source } = this.options;
    const now = clock.now();
    this.failures += 1;
    this.lastFailure = { failureClass: failure.failureClass, message: failure.message };
    this.unhealthySince ??= now;
    if (this.starting && this.options.stopOnConfigFailure === true && CONFIGURATION_FAILURES.has(failure.failureClass)) {
      // start() reports it, once; a log line and a retry here would only repeat it.
      this.startFailure = failure;
      return;
    }
    const delay = backoffDelayMs(this.failures, this.backoff, this.random);
    this.schedule(now + delay);
    const fields = {
      source: source.kind,
      failureClass: failure.failureClass,
      message: failure.message,
      consecutiveFailures: this.failures,
      nextAttempt: isoTime(now + delay),
    };
    if (this.served === undefined) {
      log.error("credentials-unavailable", {
        ...fields,
        detail: `the ${source.kind} source has not answered since start; no credentials are served until it does`,
      });
    } else {
      log.warn("credentials-refresh-failed", {
        ...fields,
        servingKeyIdSuffix: keyIdSuffix(this.served.credentials.accessKeyId),
        servingExpiration: isoTime(this.served.credentials.expiration),
      });
    }
  }

  private schedule(at: number): void {
    if (this.stopped) return;
    const { clock } = this.options;
    this.nextAttemptAt = at;
    this.timer = clock.schedule(at - clock.now(), () => void this.refresh());
  }
}
