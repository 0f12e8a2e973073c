import { nearest } from "../config/suggest";
import type { ServedCredentials } from "../credentials/refresher";
import { ConfigError, duration, expected } from "../validation";

/**
 * Credentials on the edge, for testing a client's refresh and static-stability paths: the role's
 * set served as expiring soon or already expired, with a `Code` other than `Success`, or with a stale
 * `LastUpdated`. The cache applies it to whatever set the refresher holds, until it is cleared.
 */
export interface CredentialOverride {
  /** Epoch ms the served `Expiration` says. */
  readonly expiresAt?: number;
  readonly code?: string;
  /** Epoch ms the served `LastUpdated` says. */
  readonly lastUpdated?: number;
}

/**
 * How far in the past "already expired" puts `Expiration`: more than the second the timestamp's
 * rounding takes, so every client reads it as past.
 */
export const EXPIRED_AGO_MS = 60_000;
const KEYS = ["expiresIn", "code", "staleBy"];

/**
 * `{ expiresIn: "30s" | "expired", code: "Failure", staleBy: "2h" }` (any of them), from the admin
 * API's JSON, a scenario or the library; merged over `current` so that steps add up.
 */
export function parseCredentialOverride(fields: Record<string, unknown>, now: number, current: CredentialOverride = {}): CredentialOverride {
  const where = "credentials";
  for (const key of Object.keys(fields)) {
    if (!KEYS.includes(key)) {
      const hint = nearest(key, KEYS);
      throw new ConfigError(`${where}: unknown field "${key}"${hint === undefined ? "" : `; did you mean "${hint}"?`} (expected ${KEYS.join(", ")})`);
    }
  }
  if (Object.keys(fields).length === 0) throw new ConfigError(`${where}: give at least one of ${KEYS.join(", ")}`);
  const { expiresIn, code, staleBy } = fields;
  if (code !== undefined && (typeof code !== "string" || !/^[A-Za-z]{1,64}$/.test(code))) {
    throw expected(`${where}.code`, "a word such as Failure or AssumeRoleUnauthorizedAccess", code);
  }
  return {
    ...current,
    ...(expiresIn === undefined ? {} : { expiresAt: expiresIn === "expired" ? now - EXPIRED_AGO_MS : now + duration(`${where}.expiresIn`, expiresIn) }),
    ...(code === undefined ? {} : { code }),
    ...(staleBy === undefined ? {} : { lastUpdated: now - duration(`${where}.staleBy`, staleBy) }),
  };
}

export function applyOverride(served: ServedCredentials | undefined, override: CredentialOverride | undefined): ServedCredentials | undefined {
  if (served === undefined || override === undefined) return served;
  return {
    credentials: { ...served.credentials, expiration: override.expiresAt ?? served.credentials.expiration },
    lastUpdated: override.lastUpdated ?? served.lastUpdated,
  };
}
