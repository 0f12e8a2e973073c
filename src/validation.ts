/**
 * Checks shared by the command line, the config file and the admin API, so that each says the same
 * thing about the same mistake: `<where>: expected <what>, got "<value>"`.
 */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

export function expected(where: string, what: string, value: unknown): ConfigError {
  return new ConfigError(`${where}: expected ${what}, got ${JSON.stringify(value)}`);
}

export function oneOf<T extends string>(where: string, value: unknown, choices: readonly T[]): T {
  if (typeof value === "string" && (choices as readonly string[]).includes(value)) return value as T;
  throw expected(where, `one of ${choices.join(", ")}`, value);
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** `500ms`, `30s`, `2m`, `1h`, or a bare number of seconds; at most a day. */
export function duration(where: string, value: unknown): number {
  const text = typeof value === "number" ? String(value) : value;
  const match = typeof text === "string" ? /^([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)?$/.exec(text) : null;
  const ms = match === null ? NaN : Number(match[1]) * UNITS[match[2] ?? "s"]!;
  if (!Number.isFinite(ms) || ms > 86_400_000) {
    throw expected(where, "a duration such as 30s, 2m or 1h (at most 24h)", value);
  }
  return Math.round(ms);
}

/** An RFC 3339 / ISO 8601 time with a zone, as epoch ms. */
export function timestamp(where: string, value: unknown): number {
  const ms = typeof value === "string" && /(Z|[+-]\d{2}:\d{2})$/.test(value) ? Date.parse(value) : NaN;
  if (Number.isNaN(ms)) throw expected(where, "a time such as 2026-01-21T09:00:00Z", value);
  return ms;
}
