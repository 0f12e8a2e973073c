import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { Clock } from "../clock";
import type { AttemptReport, Refresher } from "../credentials/refresher";
import type { RequestOutcome } from "../imds/handler";

/** Prometheus metrics of one emulator, in a registry of its own so several can share a process. */
export class Metrics {
  readonly registry = new Registry();
  private readonly requests: Counter<"path_class" | "status">;
  private readonly noToken: Counter;
  private readonly rotations: Counter<"source">;
  private readonly fetchDuration: Histogram<"source" | "outcome">;
  private readonly fetchFailures: Counter<"source" | "class">;
  /** Label children resolved once: the request path only increments a number. */
  private readonly requestChildren = new Map<string, { inc(): void }>();

  constructor(
    private readonly source: string,
    refresher: Refresher,
    clock: Clock,
  ) {
    const registers = [this.registry];
    this.requests = new Counter({
      name: "imds_emulator_requests_total",
      help: "Metadata port requests by path class and HTTP status",
      labelNames: ["path_class", "status"],
      registers,
    });
    this.noToken = new Counter({
      name: "imds_emulator_metadata_no_token_total",
      help: "Metadata reads without a session token (IMDSv1), as EC2's MetadataNoToken metric counts them",
      registers,
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
        const served = refresher.current();
        if (served !== undefined) this.set((clock.now() - served.lastUpdated) / 1000);
      },
    });
    new Gauge({
      name: "imds_emulator_credentials_expiry_seconds",
      help: "Seconds until the served credentials expire",
      registers,
      collect() {
        const served = refresher.current();
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
  }

  readonly onOutcome = (outcome: RequestOutcome): void => {
    const key = `${outcome.pathClass} ${outcome.status}`;
    let child = this.requestChildren.get(key);
    if (child === undefined) {
      child = this.requests.labels(outcome.pathClass, String(outcome.status));
      this.requestChildren.set(key, child);
    }
    child.inc();
    if (outcome.tokenless) this.noToken.inc();
  };

  readonly onAttempt = (report: AttemptReport): void => {
    this.fetchDuration.labels(this.source, report.ok ? "success" : "failure").observe(report.durationMs / 1000);
    if (report.ok) this.rotations.labels(this.source).inc();
    else this.fetchFailures.labels(this.source, report.failureClass ?? "unknown").inc();
  };
}
