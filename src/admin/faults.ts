import type { Express, Request, Router } from "express";
import type { CredentialOverride } from "../cache/credential-override";
import { isoTime } from "../clock";
import type { Controls, InstanceControls } from "../controls";
import { ConfigError } from "../validation";
import { jsonObject, readBody } from "./body";

const RULE_BODY = 4 * 1024;

/** `GET/POST/DELETE /admin/faults`: the fault rules of every instance (docs/faults.md). */
export function faultRoutes(app: Express, controls: Controls): void {
  app.get("/admin/faults", (_req, res) => {
    res.json(controls.faults());
  });
  app.post("/admin/faults", readBody(RULE_BODY), (req, res) => {
    const id = controls.addFault(jsonObject(req.body));
    res.status(201).json(controls.faults().find((rule) => rule.id === id));
  });
  app.delete("/admin/faults", (_req, res) => {
    res.json({ removed: controls.clearFaults() });
  });
}


function overrideDocument(override: CredentialOverride) {
  return { expiration: isoTime(override.expiresAt), code: override.code, lastUpdated: isoTime(override.lastUpdated) };
}

/** Credentials on the edge, at /admin/credentials/... and /admin/instances/<name>/credentials/... */
export function credentialEdgeRoutes(router: Router, of: (req: Request) => InstanceControls): void {
  router.post("/credentials/expire", readBody(RULE_BODY), (req, res) => {
    const { in: within, ...others } = jsonObject(req.body);
    if (Object.keys(others).length > 0) throw new ConfigError(`body: unknown field "${Object.keys(others)[0]}"; expected only in (such as {"in":"30s"}), or {} for already expired`);
    res.json(overrideDocument(of(req).overrideCredentials({ expiresIn: within ?? "expired" })));
  });
  router.post("/credentials/override", readBody(RULE_BODY), (req, res) => {
    res.json(overrideDocument(of(req).overrideCredentials(jsonObject(req.body))));
  });
  router.delete("/credentials/override", (req, res) => {
    res.status(of(req).clearCredentialOverride() ? 204 : 404).end();
  });
}
