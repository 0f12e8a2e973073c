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

/** A valid request that the emulator's current state refuses; the admin listener answers it with 409. */
export class StateConflict extends Error {
  readonly status = 409;
  constructor(message: string) {
    super(message);
    this.name = "StateConflict";
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

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d{1,9})?(?:Z|[+-](\d{2}):(\d{2}))$/i;

/**
 * The instants EC2's formats can print: `21 Jan 2019 09:00:43 GMT` has a four-digit year, and a
 * time past JavaScript's last Date (year 275760) prints "Invalid Date".
 */
const FIRST_YEAR = 1970;
const LAST_YEAR = 9999;

/**
 * An RFC 3339 time with a zone, as epoch ms, and a real one: Date.parse takes 2026-02-30 for
 * 2 March and 24:00 for the next midnight, so every field is checked against its range too.
 */
export function timestamp(where: string, value: unknown): number {
  const match = typeof value === "string" ? RFC3339.exec(value) : null;
  const [year, month, day, hour, minute, second, zoneHours, zoneMinutes] = (match?.slice(1) ?? []).map(Number);
  const real =
    match !== null &&
    year! >= FIRST_YEAR &&
    year! <= LAST_YEAR &&
    month! >= 1 &&
    month! <= 12 &&
    day! >= 1 &&
    day! <= new Date(Date.UTC(year!, month!, 0)).getUTCDate() &&
    hour! <= 23 &&
    minute! <= 59 &&
    second! <= 59 &&
    (match[7] === undefined || (zoneHours! <= 23 && zoneMinutes! <= 59));
  if (!real) throw expected(where, `a time such as 2026-01-21T09:00:00Z, in the years ${FIRST_YEAR} to ${LAST_YEAR}`, value);
  return Date.parse(value as string);
}

const PATH_SEGMENT = /^[\w\-.:@=+,]+$/;

/**
 * A path below `meta-data/` (one leading or trailing `/` allowed), without them. Every segment is a
 * name: an empty one (`a//b`), `.` or `..` would be served as a directory of that name and listed
 * in `meta-data/`, where no client resolves it as the path it looks like.
 */
export function metadataPath(where: string, path: unknown): string {
  const key = typeof path === "string" ? path.replace(/^\/|\/$/g, "") : "";
  const segments = key.split("/");
  if (key === "" || segments.some((segment) => segment === "." || segment === ".." || !PATH_SEGMENT.test(segment))) {
    throw expected(where, "a path below meta-data/ such as placement/group-name (names of letters, digits and - _ . : @ = + , with no empty, . or .. segment)", path);
  }
  return key;
}
