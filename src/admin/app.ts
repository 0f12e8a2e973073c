import express, { type Express } from "express";
import type { Health } from "../credentials/refresher";
import type { Metrics } from "./metrics";

export interface AdminDeps {
  readonly health: () => Health;
  readonly metrics: Metrics;
  readonly now: () => number;
}

const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

/** The health document: state, reason and times; never a key, secret or token. */
export function healthDocument(health: Health, now: number) {
  return {
    status: health.status,
    source: health.source,
    reason: health.reason,
    since: iso(health.since),
    lastUpdated: iso(health.lastUpdated),
    expiration: iso(health.expiration),
    secondsToExpiry: health.expiration === undefined ? undefined : Math.floor((health.expiration - now) / 1000),
    promisedValiditySeconds:
      health.promisedValidityMs === undefined ? undefined : Math.round(health.promisedValidityMs / 1000),
    nextAttemptAt: iso(health.nextAttemptAt),
    consecutiveFailures: health.consecutiveFailures,
  };
}

/** The admin listener's routes. It runs on its own port, so nothing here is reachable through the metadata port. */
export function createAdminApp(deps: AdminDeps): Express {
  const app = express();
  app.disable("x-powered-by");
  app.get("/healthz", (_req, res) => {
    const health = deps.health();
    res.status(health.status === "healthy" ? 200 : 503).json(healthDocument(health, deps.now()));
  });
  app.get("/metrics", async (_req, res) => {
    res.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });
  app.use((_req, res) => {
    res.status(404).json({ error: "not found" });
  });
  return app;
}
