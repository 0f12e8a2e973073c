import type { IncomingMessage } from "node:http";
import express, { type ErrorRequestHandler, type Express } from "express";
import type { Reply } from "../cache/replies";
import { secretMatcher } from "../secrets";
import { EVENT_KINDS } from "../config/events";
import type { Controls } from "../controls";
import type { Health } from "../credentials/refresher";
import { ConfigError, oneOf } from "../validation";
import { bodyLimit, jsonObject, readBody } from "./body";
import { eventsDocument } from "./events-document";

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

const KIB = 1024;
/** User data is checked against EC2's 16 KiB after reading, so an oversize upload gets that message. */
const MAX_USER_DATA_BODY = 64 * KIB;

/** Bad input is a 400 with the same one-line message the CLI prints; nothing else leaks a stack. */
const errors: ErrorRequestHandler = (error, _req, res, next) => {
  if (res.headersSent) return next(error);
  if (error instanceof ConfigError) return void res.status(400).json({ error: error.message });
  const status = typeof error?.status === "number" && error.status >= 400 && error.status < 500 ? error.status : 500;
  const message = status === 500 ? "internal error" : String(error.message ?? "bad request");
  res.status(status).json({ error: message });
};

export interface AdminSecurity {
  /** The metadata port's refusals: callers, Host (DNS rebinding could reach a loopback admin), browsers. */
  readonly guard?: (req: IncomingMessage) => Reply | undefined;
  /** Required as `Authorization: Bearer <token>` when set. */
  readonly token?: string;
}

/** The admin listener's routes. It runs on its own port, so nothing here is reachable through the metadata port. */
export function createAdminApp(controls: Controls, security: AdminSecurity = {}): Express {
  const app = express();
  app.disable("x-powered-by");
  const tokenMatches = security.token === undefined ? undefined : secretMatcher(security.token);
  app.use(bodyLimit(MAX_USER_DATA_BODY));
  app.use((req, res, next) => {
    const refusal = security.guard?.(req);
    if (refusal !== undefined) return void res.status(refusal.status).type("text/plain").send(refusal.body);
    if (tokenMatches !== undefined) {
      const header = req.headers.authorization ?? "";
      if (!header.startsWith("Bearer ") || !tokenMatches(header.slice(7))) {
        return void res.status(401).set("WWW-Authenticate", "Bearer").json({ error: "a valid admin token is required" });
      }
    }
    next();
  });

  app.get("/healthz", (_req, res) => {
    const health = controls.health();
    res.status(health.status === "healthy" ? 200 : 503).json(healthDocument(health, controls.now()));
  });
  app.get("/metrics", async (_req, res) => {
    const { contentType, text } = await controls.metrics();
    res.type(contentType).send(text);
  });

  app.get("/admin/events", (_req, res) => {
    res.json(eventsDocument(controls.events()));
  });
  app.post("/admin/events/:kind", readBody(16 * KIB), (req, res) => {
    const at = controls.triggerEvent(req.params.kind, jsonObject(req.body));
    res.status(at.getTime() > controls.now() ? 202 : 200).json({ kind: req.params.kind, at: at.toISOString() });
  });
  app.delete("/admin/events/:kind", (req, res) => {
    controls.clearEvent(oneOf("event", req.params.kind, EVENT_KINDS));
    res.status(204).end();
  });

  app.put("/admin/tags/:key", readBody(4 * KIB), (req, res) => {
    controls.setTag(req.params.key, req.body.toString("utf8"));
    res.status(204).end();
  });
  app.delete("/admin/tags/:key", (req, res) => {
    res.status(controls.removeTag(req.params.key) ? 204 : 404).end();
  });

  const metadataPath = (params: Record<string, string | string[]>) => ([] as string[]).concat(params.path ?? []).join("/");
  app.put("/admin/metadata/*path", readBody(16 * KIB), (req, res) => {
    controls.setMetadata(metadataPath(req.params), req.body.toString("utf8"));
    res.status(204).end();
  });
  app.delete("/admin/metadata/*path", (req, res) => {
    res.status(controls.removeMetadata(metadataPath(req.params)) ? 204 : 404).end();
  });

  app.put("/admin/user-data", readBody(MAX_USER_DATA_BODY), (req, res) => {
    controls.setUserData(req.body);
    res.status(204).end();
  });
  app.delete("/admin/user-data", (_req, res) => {
    controls.setUserData(undefined);
    res.status(204).end();
  });

  app.post("/admin/credentials/rotate", async (_req, res) => {
    const health = await controls.rotateCredentials();
    res.status(health.status === "healthy" ? 200 : 503).json(healthDocument(health, controls.now()));
  });

  app.get("/admin/identity-certificate", (_req, res) => {
    res.type("application/x-pem-file").send(controls.identityCertificate());
  });

  app.use((_req, res) => {
    res.status(404).json({ error: "not found" });
  });
  app.use(errors);
  return app;
}
