import type { Missing, Walked } from "./walk";

/** The value a redacted leaf is written with: visibly not the instance's. */
export const REDACTED = "REDACTED";

export interface DescribeOptions {
  /** Paths below `/latest/` or below `meta-data/`; a directory redacts every leaf under it. */
  readonly redact: readonly string[];
  readonly roleArn?: string;
}

export interface Description {
  readonly yaml: string;
  /** `--redact` paths that named nothing captured: most likely a typo. */
  readonly unmatched: readonly string[];
}

function redacts(path: string, redact: string): boolean {
  const want = redact.replace(/^\/+|\/+$/g, "");
  return [want, `meta-data/${want}`].some((prefix) => path === prefix || path.startsWith(`${prefix}/`));
}

/** Text that reads back as the same bytes, else base64: user data is often gzip. */
function bodyValue(body: Buffer): string | { base64: string } {
  const text = body.toString("utf8");
  return Buffer.from(text, "utf8").equals(body) ? text : { base64: body.toString("base64") };
}

/** The options the emulator cannot learn from the captured paths: whose credentials, which account and region. */
function options(walked: Walked, roleArn: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (walked.roleName !== undefined) out["role-name"] = walked.roleName;
  if (roleArn !== undefined) out["role-arn"] = roleArn;
  const document = walked.bodies.get("dynamic/instance-identity/document");
  try {
    const parsed = document === undefined ? {} : (JSON.parse(document.toString("utf8")) as Record<string, unknown>);
    if (typeof parsed.accountId === "string" && /^\d{12}$/.test(parsed.accountId)) out["account-id"] = parsed.accountId;
    if (typeof parsed.region === "string" && /^[a-z]{2}(-[a-z]+)+-\d$/.test(parsed.region)) out.region = parsed.region;
  } catch {
    // A document that is not JSON is still captured as it is; only the options are left out.
  }
  return out;
}

function header(missing: readonly Missing[]): string {
  const lines = [
    "An instance description captured by imds-emulator capture: serve it with imds-emulator --config FILE.",
    "Credentials, tokens and signatures are never captured: the emulator serves them live (docs/replay.md).",
  ];
  if (missing.length > 0) lines.push("Not captured:", ...missing.map((entry) => `  ${entry.path}: ${entry.reason}`));
  return lines.map((line) => ` ${line}`).join("\n");
}

/** The walk as a config file the emulator loads as it is. */
export function describe(walked: Walked, opts: DescribeOptions): Description {
  // Loaded only here, as config/file.ts loads it: the parser is large.
  const { Document } = require("yaml") as typeof import("yaml");
  const captured: Record<string, string | { base64: string }> = {};
  const used = new Set<string>();
  for (const [path, body] of walked.bodies) {
    const redact = path.endsWith("/") ? undefined : opts.redact.find((want) => redacts(path, want));
    if (redact !== undefined) used.add(redact);
    captured[path] = redact === undefined ? bodyValue(body) : REDACTED;
  }
  const document = new Document({ ...options(walked, opts.roleArn), captured });
  document.commentBefore = header(walked.missing);
  return { yaml: document.toString({ lineWidth: 0 }), unmatched: opts.redact.filter((want) => !used.has(want)) };
}
