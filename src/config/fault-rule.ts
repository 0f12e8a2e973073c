import { ConfigError, duration, expected } from "../validation";
import { nearest } from "./suggest";

/**
 * How a fault rule is written: `--fault status=500,path=/latest/meta-data/iam/*,count=3`, a config
 * file's `faults:` entry, the admin API's JSON or the library's object. One reader for all of them, so
 * each says the same thing about the same mistake. The rules act in src/faults/.
 */

/** What a matching request gets instead of its answer. */
export type FaultAction =
  | { readonly kind: "status"; readonly status: number }
  | { readonly kind: "delay"; readonly ms: number }
  | { readonly kind: "hang" }
  | { readonly kind: "reset" };

export interface FaultRule {
  /** A glob over the request path (`*` matches anything, `/` included); `/latest/api/token` is the token PUT. */
  readonly path: string;
  /** An instance name (`default`, an entry, a template member `<entry>@<address>`); all when unset. */
  readonly instance?: string;
  readonly action: FaultAction;
  /** Fires this many times, then is spent. */
  readonly count?: number;
  /** Stays in force this long after it is set. */
  readonly durationMs?: number;
  /** Fires on this share of matching requests, 0 < p <= 1. */
  readonly probability?: number;
}

const ACTIONS = ["status", "delay", "hang", "reset"] as const;
const KEYS = ["path", "instance", ...ACTIONS, "count", "duration", "probability"];
const INSTANCE = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(@[0-9a-f.:]+)?$/;

/** `status=500,path=/x/*,count=3`, `hang,path=/latest/api/token`: a bare key means true. */
function compact(where: string, text: string): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  for (const part of text.split(",")) {
    const equals = part.indexOf("=");
    const key = (equals === -1 ? part : part.slice(0, equals)).trim();
    if (key === "") throw expected(where, "key=value pairs separated by commas, such as status=500,path=/latest/meta-data/iam/*", text);
    fields[key] = equals === -1 ? true : part.slice(equals + 1).trim();
  }
  return fields;
}

function integer(where: string, value: unknown, min: number, max: number): number {
  const ok = typeof value === "number" ? Number.isInteger(value) : typeof value === "string" && /^[0-9]+$/.test(value);
  if (!ok || Number(value) < min || Number(value) > max) throw expected(where, `an integer from ${min} to ${max}`, value);
  return Number(value);
}

function flag(where: string, value: unknown): void {
  if (value !== true && value !== "true") throw expected(where, "true (or the bare key in the compact form)", value);
}

function actionOf(where: string, fields: Record<string, unknown>): FaultAction {
  const given = ACTIONS.filter((key) => fields[key] !== undefined);
  if (given.length !== 1) {
    throw new ConfigError(`${where}: give exactly one of ${ACTIONS.join(", ")}${given.length === 0 ? "" : `, not ${given.join(" and ")}`}`);
  }
  const kind = given[0]!;
  const value = fields[kind];
  switch (kind) {
    case "status":
      // Only errors: a 200 would have to invent a body, and 1xx-3xx are no failure a client handles.
      return { kind, status: integer(`${where}.status`, value, 400, 599) };
    case "delay":
      return { kind, ms: duration(`${where}.delay`, value) };
    default:
      flag(`${where}.${kind}`, value);
      return { kind };
  }
}

function probabilityOf(where: string, value: unknown): number {
  const share = typeof value === "number" ? value : typeof value === "string" && /^[0-9]*\.?[0-9]+$/.test(value) ? Number(value) : Number.NaN;
  if (!(share > 0 && share <= 1)) throw expected(where, "a number above 0 and at most 1", value);
  return share;
}

export function parseFaultRule(value: unknown, where: string): FaultRule {
  const fields =
    typeof value === "string"
      ? compact(where, value)
      : typeof value === "object" && value !== null && !Array.isArray(value)
        ? (value as Record<string, unknown>)
        : undefined;
  if (fields === undefined) throw expected(where, "a fault rule such as status=500,path=/latest/meta-data/iam/*,count=3", value);
  for (const key of Object.keys(fields)) {
    if (!KEYS.includes(key)) {
      const hint = nearest(key, KEYS);
      throw new ConfigError(`${where}: unknown key "${key}"${hint === undefined ? "" : `; did you mean "${hint}"?`} (expected ${KEYS.join(", ")})`);
    }
  }
  const path = fields.path ?? "*";
  if (typeof path !== "string" || !/^[*/][\x21-\x7e]*$/.test(path)) throw expected(`${where}.path`, "a path glob starting with / or *, such as /latest/meta-data/iam/*", path);
  const instance = fields.instance;
  if (instance !== undefined && (typeof instance !== "string" || !INSTANCE.test(instance))) {
    throw expected(`${where}.instance`, "an instance name such as default, web or web@10.0.0.5", instance);
  }
  const probability = fields.probability === undefined ? undefined : probabilityOf(`${where}.probability`, fields.probability);
  return {
    path,
    ...(instance === undefined ? {} : { instance }),
    action: actionOf(where, fields),
    ...(fields.count === undefined ? {} : { count: integer(`${where}.count`, fields.count, 1, 1_000_000) }),
    ...(fields.duration === undefined ? {} : { durationMs: duration(`${where}.duration`, fields.duration) }),
    ...(probability === undefined ? {} : { probability }),
  };
}
