import { Counter, Gauge, Histogram, Registry } from "prom-client";
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

/** Prometheus metrics of one emulator, in a registry of its own so several can share a process. */
export class Metrics {
  readonly registry = new Registry();
  private readonly requests: Counter<"path_class" | "status">;
  private readonly noToken: Counter;
  private readonly rotations: Counter<"source">;
  private readonly fetchDuration: Histogram<"source" | "outcome">;
  private readonly fetchFailures: Counter<"source" | "class">;
  /**
   * Request counts live in plain numbers and reach the prom-client counters only when /metrics is
   * read: an increment through prom-client hashes its label set and validates it on every call,
   * which is more than the rest of the request's bookkeeping together. Cells are found by the
   * outcome object's identity (the handler reuses one frozen object per outcome), else by its text.
   */
  private readonly requestCells = new Map<string, RequestCell>();
  private readonly cellsByOutcome = new WeakMap<RequestOutcome, RequestCell>();
  private noTokenCount = 0;
  private noTokenReported = 0;

  constructor(
    private readonly source: string,
    refresher: Refresher,
    clock: Clock,
    refusals?: Refusals,
  ) {
    const registers = [this.registry];
    if (refusals !== undefined) this.countRefusals(refusals);
    const flushRequests = () => this.flushRequests();
    this.requests = new Counter({
      name: "imds_emulator_requests_total",
      help: "Metadata port requests by path class and HTTP status",
      labelNames: ["path_class", "status"],
      registers,
      collect: flushRequests,
    });
    this.noToken = new Counter({
      name: "imds_emulator_metadata_no_token_total",
      help: "Metadata reads without a session token (IMDSv1), as EC2's MetadataNoToken metric counts them",
      registers,
      collect: flushRequests,
    });
    this.rotations = new Counter({
      name: "imds_emulator_credential_rotations_total",
      help: "Credential sets obtained from the source",
      labelNames: ["source"],
      registers,
    });
    this.fetchDuration = new Histogram({
      name: "imds_emulator_sts_call_duration_seconds",
      help: "Duration of calls to the credential source (STS), by outcome",
      labelNames: ["source", "outcome"],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.fetchFailures = new Counter({
      name: "imds_emulator_sts_call_failures_total",
      help: "Failed calls to the credential source (STS), by failure class",
      labelNames: ["source", "class"],
      registers,
    });
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
    this.countAttempts(refresher);
  }

  /**
   * Per-role gauges, for emulators with several roles: the labels are the configured roles' names,
   * as many as the config file has, never anything a caller sends.
   */
  watchRoles(roles: () => ReadonlyArray<{ readonly name: string; readonly refresher: Refresher }>, clock: Clock): void {
    const registers = [this.registry];
    new Gauge({
      name: "imds_emulator_role_credentials_expiry_seconds",
      help: "Seconds until each role's served credentials expire",
      labelNames: ["role"],
      registers,
      collect() {
        for (const { name, refresher } of roles()) {
          const served = refresher.lastObtained();
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
        for (const { name, refresher } of roles()) this.labels(name).set(refresher.health().status === "healthy" ? 1 : 0);
      },
    });
  }

  /** Counts another role's source calls too (by source kind: one role or many, the labels stay few). */
  countAttempts(refresher: Refresher): void {
    refresher.onAttempt(this.onAttempt);
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

  /** Moves the counts since the last read into the prom-client counters. */
  private flushRequests(): void {
    for (const cell of this.requestCells.values()) {
      if (cell.count > cell.reported) {
        this.requests.labels(cell.pathClass, cell.status).inc(cell.count - cell.reported);
        cell.reported = cell.count;
      }
    }
    if (this.noTokenCount > this.noTokenReported) {
      this.noToken.inc(this.noTokenCount - this.noTokenReported);
      this.noTokenReported = this.noTokenCount;
    }
  }

  /** Refusals are counted where they happen (guards, connection limits) and read here at scrape time. */
  private countRefusals(refusals: Refusals): void {
    const reported = new Map<RefusalReason, number>(REFUSAL_REASONS.map((reason) => [reason, 0]));
    new Counter({
      name: "imds_emulator_refusals_total",
      help: "Requests and connections refused, by reason (caller, host, duplicate-host, browser, headers, proxy-header, caller-connection-limit, connection-limit)",
      labelNames: ["reason"],
      registers: [this.registry],
      collect() {
        for (const reason of REFUSAL_REASONS) {
          const total = refusals.total(reason);
          this.labels(reason).inc(total - reported.get(reason)!);
          reported.set(reason, total);
        }
      },
    });
  }

  readonly onAttempt = (report: AttemptReport): void => {
    this.fetchDuration.labels(this.source, report.ok ? "success" : "failure").observe(report.durationMs / 1000);
    if (report.ok) this.rotations.labels(this.source).inc();
    else this.fetchFailures.labels(this.source, report.failureClass ?? "unknown").inc();
  };
}
