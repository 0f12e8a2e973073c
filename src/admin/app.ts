import type { IncomingMessage } from "node:http";
import express, { type ErrorRequestHandler, type Express, type Request, type Router } from "express";
import type { Reply } from "../cache/replies";
import { isoTime } from "../clock";
import { secretMatcher } from "../secrets";
import { EVENT_KINDS } from "../config/events";
import type { Controls, InstanceControls } from "../controls";
import type { Health } from "../credentials/refresher";
import { ConfigError, oneOf } from "../validation";
import { bodyLimit, jsonObject, readBody } from "./body";
import { credentialEdgeRoutes, faultRoutes } from "./faults";
import { eventsDocument } from "./events-document";


/** The health document: state, reason and times; never a key, secret or token. */
export function healthDocument(health: Health, now: number) {
  return {
    status: health.status,
    source: health.source,
    reason: health.reason,
    since: isoTime(health.since),
    lastUpdated: isoTime(health.lastUpdated),
    expiration: isoTime(health.expiration),
    secondsToExpiry: health.expiration === undefined ? undefined : Math.floor((health.expiration - now) / 1000),
    promisedValiditySeconds:
      health.promisedValidityMs === undefined ? undefined : Math.round(health.promisedValidityMs / 1000),
    nextAttemptAt: isoTime(health.nextAttemptAt),
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
    const instances = controls.instances();
    const healthy = health.status === "healthy" && instances.every((instance) => instance.health === "healthy");
    const document = healthDocument(health, controls.now());
    res.status(healthy ? 200 : 503).json(instances.length > 1 ? { ...document, instances } : document);
  });
  app.get("/metrics", async (_req, res) => {
    const { contentType, text } = await controls.metrics();
    res.type(contentType).send(text);
  });
  app.get("/admin/instances", (_req, res) => {
    res.json(controls.instances());
  });
  faultRoutes(app, controls);

  // The same routes act on the top-level instance at /admin/... and on any instance at /admin/instances/<name>/...
  const named = express.Router({ mergeParams: true });
  instanceRoutes(named, (req) => controls.named(String(req.params.name)), () => controls.now());
  app.use("/admin/instances/:name", named);
  const top = express.Router();
  instanceRoutes(top, () => controls, () => controls.now());
  app.use("/admin", top);

  app.use((_req, res) => {
    res.status(404).json({ error: "not found" });
  });
  app.use(errors);
  return app;
}

/** The routes that change one instance, on a router mounted at /admin or /admin/instances/<name>. */
function instanceRoutes(router: Router, of: (req: Request) => InstanceControls, now: () => number): void {
  router.get("/events", (req, res) => {
    res.json(eventsDocument(of(req).events()));
  });
  router.post("/events/:kind", readBody(16 * KIB), (req, res) => {
    const at = of(req).triggerEvent(req.params.kind, jsonObject(req.body));
    res.status(at.getTime() > now() ? 202 : 200).json({ kind: req.params.kind, at: at.toISOString() });
  });
  router.delete("/events/:kind", (req, res) => {
    of(req).clearEvent(oneOf("event", req.params.kind, EVENT_KINDS));
    res.status(204).end();
  });

  router.put("/tags/:key", readBody(4 * KIB), (req, res) => {
    of(req).setTag(req.params.key, req.body.toString("utf8"));
    res.status(204).end();
  });
  router.delete("/tags/:key", (req, res) => {
    res.status(of(req).removeTag(req.params.key) ? 204 : 404).end();
  });

  const metadataPath = (params: Record<string, string | string[]>) => ([] as string[]).concat(params.path ?? []).join("/");
  router.put("/metadata/*path", readBody(16 * KIB), (req, res) => {
    of(req).setMetadata(metadataPath(req.params), req.body.toString("utf8"));
    res.status(204).end();
  });
  router.delete("/metadata/*path", (req, res) => {
    res.status(of(req).removeMetadata(metadataPath(req.params)) ? 204 : 404).end();
  });

  router.put("/user-data", readBody(MAX_USER_DATA_BODY), (req, res) => {
    of(req).setUserData(req.body);
    res.status(204).end();
  });
  router.delete("/user-data", (req, res) => {
    of(req).setUserData(undefined);
    res.status(204).end();
  });

  router.post("/credentials/rotate", async (req, res) => {
    const health = await of(req).rotateCredentials();
    res.status(health.status === "healthy" ? 200 : 503).json(healthDocument(health, now()));
  });

  credentialEdgeRoutes(router, of);

  router.get("/identity-certificate", (req, res) => {
    res.type("application/x-pem-file").send(of(req).identityCertificate());
  });
}
