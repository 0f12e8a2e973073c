import { isoTime } from "./clock";
import type { LogFields } from "./log";

/** What the ready banner tells: where to point clients, whose credentials, until when. */
export interface ReadyFacts {
  /** The metadata port's URLs, one a listen address. */
  readonly urls: readonly string[];
  readonly adminUrl?: string;
  readonly roleName: string;
  /** `mock`, `sts` or `web-identity`. */
  readonly source: string;
  readonly roleArn?: string;
  /** Epoch ms of the served set's expiry; undefined while none is served. */
  readonly expiration?: number;
  /** Why none is served, when none is. */
  readonly unavailableReason?: string;
}

const WILDCARD_LOOPBACK: Record<string, string> = { "0.0.0.0": "127.0.0.1", "[::]": "[::1]" };

/**
 * A URL a client on this machine can use, from a listener's `http://host:port` (bind.ts): a wildcard
 * listener is reached through loopback, and port 80 goes without saying.
 */
export function endpointOf(url: string): string {
  const [, host = "", port] = /^http:\/\/(.+?)(?::(\d+))?$/.exec(url) ?? [];
  return `http://${WILDCARD_LOOPBACK[host] ?? host}${port === undefined || port === "80" ? "" : `:${port}`}`;
}

export function exportLine(facts: ReadyFacts): string {
  return `export AWS_EC2_METADATA_SERVICE_ENDPOINT=${endpointOf(facts.urls[0]!)}`;
}

function credentialsText(facts: ReadyFacts): string {
  if (facts.source === "mock") return `role ${facts.roleName}, mock credentials minted here (they cannot call AWS)`;
  const call = facts.source === "web-identity" ? "AssumeRoleWithWebIdentity" : "AssumeRole";
  return `role ${facts.roleName}, ${call} ${facts.roleArn ?? ""}`.trimEnd();
}

function expiryText(facts: ReadyFacts, now: number): string {
  if (facts.expiration === undefined) return `none served yet: ${facts.unavailableReason ?? "the source has not answered"}`;
  const minutes = Math.round((facts.expiration - now) / 60_000);
  return `${new Date(facts.expiration).toISOString().replace(/\.\d{3}Z$/, "Z")} (in ${minutes} min; rotated well before)`;
}

/** The banner for a terminal: a few aligned lines, then the line to paste. */
export function bannerLines(facts: ReadyFacts, now: number, colour: boolean): string[] {
  const bold = (text: string) => (colour ? `\x1b[1m${text}\x1b[0m` : text);
  const rows: Array<[string, string]> = [
    ["metadata", facts.urls.join(", ")],
    ["credentials", credentialsText(facts)],
    ["expires", expiryText(facts, now)],
  ];
  if (facts.adminUrl !== undefined) rows.push(["admin", `${facts.adminUrl} (/healthz, /metrics, /admin/...)`]);
  return [
    "",
    bold("imds-emulator is ready"),
    ...rows.map(([label, text]) => `  ${label.padEnd(12)}${text}`),
    "",
    "  Point an AWS SDK or the CLI at it (unset AWS_ACCESS_KEY_ID and AWS_PROFILE first):",
    `    ${bold(exportLine(facts))}`,
    "",
  ];
}

/** The same facts for the JSON `started` line. */
export function startedFields(facts: ReadyFacts): LogFields {
  return {
    endpoint: endpointOf(facts.urls[0]!),
    expiration: isoTime(facts.expiration),
  };
}
