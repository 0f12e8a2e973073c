import type { Registry } from "prom-client";
import type { Clock } from "../clock";
import type { AttemptReport, Refresher } from "../credentials/refresher";
import type { RequestOutcome } from "../imds/handler";
import { REFUSAL_REASONS, type RefusalReason, type Refusals } from "../refusals";

interface RequestCell {
  readonly pathClass: string;
  readonly status: string;
  count: number;
  reported: number;
}

const FETCH_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/**
 * Source calls wait here for the registry, which replays them into its histogram when it is made.
 * Past this many (a daemon nobody scrapes, failing for days) the registry is made at once instead.
 */
const MAX_UNREPORTED_ATTEMPTS = 1000;

/**
 * Prometheus metrics of one emulator, in a registry of its own so several can share a process.
 *
 * Everything is counted in plain numbers; prom-client is loaded, and its registry made, only when the
 * metrics are first read (a scrape of /metrics): it is a sixth of the start's module loading, and most
 * runs never serve /metrics. Request counts stay plain even then, reaching the prom-client counters
 * at each scrape: an increment through prom-client hashes its label set and validates it on every
 * call, which is more than the rest of the request's bookkeeping together. Cells are found by the
 * outcome object's identity (the handler reuses one frozen object per outcome), else by its text.
 */
export class Metrics {
  private made: Registry | undefined;
  private readonly requestCells = new Map<string, RequestCell>();
  private readonly cellsByOutcome = new WeakMap<RequestOutcome, RequestCell>();
  private noTokenCount = 0;
  private rotationCount = 0;
  private readonly failureCounts = new Map<string, number>();
  private unreportedAttempts: AttemptReport[] = [];
  /** Set once the registry exists: a source call goes to its histogram as it happens. */
  private observe: ((report: AttemptReport) => void) | undefined;
  /** With several roles: each one's refresher, for per-role gauges. */
  private roles: (() => ReadonlyArray<{ readonly name: string; readonly refresher: Refresher }>) | undefined;

  constructor(
    private readonly source: string,
    private readonly refresher: Refresher,
    private readonly clock: Clock,
    private readonly refusals?: Refusals,
  ) {
    refresher.onAttempt(this.onAttempt);
  }

  /** Counts another role's source calls too (by source kind: one role or many, the labels stay few). */
  countAttempts(refresher: Refresher): void {
    refresher.onAttempt(this.onAttempt);
  }

  /**
   * Per-role gauges, for emulators with several roles: the labels are the configured roles' names,
   * as many as the configuration has, never anything a caller sends.
   */
  watchRoles(roles: () => ReadonlyArray<{ readonly name: string; readonly refresher: Refresher }>): void {
    this.roles = roles;
  }

  /** The prom-client registry, made on first use. */
  get registry(): Registry {
    this.made ??= this.makeRegistry();
    return this.made;
  }

  readonly onOutcome = (outcome: RequestOutcome): void => {
    let cell = this.cellsByOutcome.get(outcome);
    if (cell === undefined) {
      const key = `${outcome.pathClass} ${outcome.status}`;
      cell = this.requestCells.get(key);
      if (cell === undefined) {
        cell = { pathClass: outcome.pathClass, status: String(outcome.status), count: 0, reported: 0 };
        this.requestCells.set(key, cell);
      }
      this.cellsByOutcome.set(outcome, cell);
    }
    cell.count += 1;
    if (outcome.tokenless) this.noTokenCount += 1;
  };

  readonly onAttempt = (report: AttemptReport): void => {
    if (report.ok) this.rotationCount += 1;
    else {
      const failureClass = report.failureClass ?? "unknown";
      this.failureCounts.set(failureClass, (this.failureCounts.get(failureClass) ?? 0) + 1);
    }
    if (this.observe !== undefined) {
      this.observe(report);
      return;
    }
    this.unreportedAttempts.push(report);
    if (this.unreportedAttempts.length >= MAX_UNREPORTED_ATTEMPTS) this.made ??= this.makeRegistry();
  };

  private makeRegistry(): Registry {
    // Loaded here, not at start: see the class comment.
    const { Counter, Gauge, Histogram, Registry } = require("prom-client") as typeof import("prom-client");
    const registry = new Registry();
    const registers = [registry];
    const { source, refresher, clock } = this;

    const requests = new Counter({
      name: "imds_emulator_requests_total",
      help: "Metadata port requests by path class and HTTP status",
      labelNames: ["path_class", "status"],
      registers,
      collect: () => {
        for (const cell of this.requestCells.values()) {
          if (cell.count > cell.reported) {
            requests.labels(cell.pathClass, cell.status).inc(cell.count - cell.reported);
            cell.reported = cell.count;
          }
        }
      },
    });
    let noTokenReported = 0;
    const noToken = new Counter({
      name: "imds_emulator_metadata_no_token_total",
      help: "Metadata reads without a session token (IMDSv1), as EC2's MetadataNoToken metric counts them",
      registers,
      collect: () => {
        if (this.noTokenCount > noTokenReported) noToken.inc(this.noTokenCount - noTokenReported);
        noTokenReported = this.noTokenCount;
      },
    });
    let rotationsReported = 0;
    const rotations = new Counter({
      name: "imds_emulator_credential_rotations_total",
      help: "Credential sets obtained from the source",
      labelNames: ["source"],
      registers,
      collect: () => {
        if (this.rotationCount > rotationsReported) rotations.labels(source).inc(this.rotationCount - rotationsReported);
        rotationsReported = this.rotationCount;
      },
    });
    const failuresReported = new Map<string, number>();
    const failures = new Counter({
      name: "imds_emulator_sts_call_failures_total",
      help: "Failed calls to the credential source (STS), by failure class",
      labelNames: ["source", "class"],
      registers,
      collect: () => {
        for (const [failureClass, total] of this.failureCounts) {
          const reported = failuresReported.get(failureClass) ?? 0;
          if (total > reported) failures.labels(source, failureClass).inc(total - reported);
          failuresReported.set(failureClass, total);
        }
      },
    });
    const fetchDuration = new Histogram({
      name: "imds_emulator_sts_call_duration_seconds",
      help: "Duration of calls to the credential source (STS), by outcome",
      labelNames: ["source", "outcome"],
      buckets: FETCH_BUCKETS,
      registers,
    });
    this.observe = (report) => fetchDuration.labels(source, report.ok ? "success" : "failure").observe(report.durationMs / 1000);
    for (const report of this.unreportedAttempts) this.observe(report);
    this.unreportedAttempts = [];
    new Gauge({
      name: "imds_emulator_credentials_age_seconds",
      help: "Seconds since the served credentials were obtained",
      registers,
      collect() {
        const served = refresher.lastObtained();
        if (served !== undefined) this.set((clock.now() - served.lastUpdated) / 1000);
      },
    });
    new Gauge({
      name: "imds_emulator_credentials_expiry_seconds",
      help: "Seconds until the served credentials expire",
      registers,
      collect() {
        const served = refresher.lastObtained();
        if (served !== undefined) this.set((served.credentials.expiration - clock.now()) / 1000);
      },
    });
    new Gauge({
      name: "imds_emulator_healthy",
      help: "1 when the emulator is healthy, 0 when starting or degraded",
      registers,
      collect() {
        this.set(refresher.health().status === "healthy" ? 1 : 0);
      },
    });
    if (this.refusals !== undefined) this.countRefusals(registry, this.refusals);
    const { roles } = this;
    if (roles !== undefined) {
      new Gauge({
        name: "imds_emulator_role_credentials_expiry_seconds",
        help: "Seconds until each role's served credentials expire",
        labelNames: ["role"],
        registers,
        collect() {
          for (const { name, refresher: role } of roles()) {
            const served = role.lastObtained();
            if (served !== undefined) this.labels(name).set((served.credentials.expiration - clock.now()) / 1000);
          }
        },
      });
      new Gauge({
        name: "imds_emulator_role_healthy",
        help: "1 when a role's credentials are healthy, 0 when starting or degraded",
        labelNames: ["role"],
        registers,
        collect() {
          for (const { name, refresher: role } of roles()) this.labels(name).set(role.health().status === "healthy" ? 1 : 0);
        },
      });
    }
    return registry;
  }

  /** Refusals are counted where they happen (guards, connection limits) and read here at scrape time. */
  private countRefusals(registry: Registry, refusals: Refusals): void {
    const { Counter } = require("prom-client") as typeof import("prom-client");
    const reported = new Map<RefusalReason, number>(REFUSAL_REASONS.map((reason) => [reason, 0]));
    new Counter({
      name: "imds_emulator_refusals_total",
      help: "Requests and connections refused, by reason (caller, host, duplicate-host, browser, headers, proxy-header, caller-connection-limit, connection-limit)",
      labelNames: ["reason"],
      registers: [registry],
      collect() {
        for (const reason of REFUSAL_REASONS) {
          const total = refusals.total(reason);
          this.labels(reason).inc(total - reported.get(reason)!);
          reported.set(reason, total);
        }
      },
    });
  }
}
