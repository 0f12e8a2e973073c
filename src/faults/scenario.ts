import { parseYamlLinear } from "../config/file";
import { readBounded } from "../bounded-read";
import { EVENT_KINDS, parseEventTrigger } from "../config/events";
import { parseFaultRule } from "../config/fault-rule";
import { ConfigError, duration, expected, oneOf } from "../validation";

/**
 * A scenario: a timeline of steps played from the emulator's start, so a CI job says what goes wrong
 * and when in one file:
 *
 *   - { at: 10s, do: fault, status: 500, path: /latest/meta-data/iam/*, count: 3 }
 *   - { at: 40s, do: event, kind: spot-interruption, action: stop }
 *   - { at: 50s, do: expire-credentials, in: 30s }
 *   - { at: 60s, do: clear }
 */
export type ScenarioStep = { readonly atMs: number; readonly instance?: string } & (
  | { readonly do: "fault"; readonly fields: Readonly<Record<string, unknown>> }
  | { readonly do: "event"; readonly kind: string; readonly fields: Record<string, unknown> }
  | { readonly do: "expire-credentials"; readonly in?: string | number }
  | { readonly do: "clear" }
);

const STEPS = ["fault", "event", "expire-credentials", "clear"] as const;
/** A scenario is a short list; this bounds a misnamed path such as a log file. */
const MAX_SCENARIO_BYTES = 256 * 1024;

function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function stepOf(where: string, entry: unknown): ScenarioStep {
  if (!isMapping(entry)) throw expected(where, "a mapping such as { at: 10s, do: fault, status: 500 }", entry);
  const { at, do: what, instance, ...rest } = entry;
  if (at === undefined) throw new ConfigError(`${where}: at is required (a duration from the start, such as 10s)`);
  const atMs = duration(`${where}.at`, at);
  if (instance !== undefined && typeof instance !== "string") throw expected(`${where}.instance`, "an instance name", instance);
  const common = { atMs, ...(instance === undefined ? {} : { instance }) };
  switch (oneOf(`${where}.do`, what, STEPS)) {
    case "fault": {
      const fields = instance === undefined ? rest : { ...rest, instance };
      // Checked now, so a mistake stops the start rather than the middle of a CI run; set as the admin API's JSON is.
      parseFaultRule(fields, where);
      return { ...common, do: "fault", fields };
    }
    case "event": {
      const { kind, ...fields } = rest;
      parseEventTrigger(oneOf(`${where}.kind`, kind, EVENT_KINDS), fields);
      return { ...common, do: "event", kind: kind as string, fields };
    }
    case "expire-credentials": {
      const { in: within, ...others } = rest;
      if (Object.keys(others).length > 0) throw new ConfigError(`${where}: expire-credentials takes only in (and at, instance)`);
      if (within !== undefined) duration(`${where}.in`, within);
      return { ...common, do: "expire-credentials", ...(within === undefined ? {} : { in: within as string | number }) };
    }
    case "clear":
      if (Object.keys(rest).length > 0) throw new ConfigError(`${where}: clear takes no fields (but at, instance)`);
      return { ...common, do: "clear" };
  }
}

/** The steps of a scenario, in time order; `where` names it in messages. */
export function parseScenario(where: string, data: unknown): ScenarioStep[] {
  if (!Array.isArray(data) || data.length === 0) throw expected(where, "a list of steps such as - { at: 10s, do: fault, status: 500 }", data);
  return data.map((entry, index) => stepOf(`${where}[${index}]`, entry)).sort((a, b) => a.atMs - b.atMs);
}

export async function readScenario(path: string): Promise<ScenarioStep[]> {
  let data: unknown;
  try {
    data = parseYamlLinear((await readBounded(path, MAX_SCENARIO_BYTES)).toString("utf8"));
  } catch (error) {
    throw new ConfigError(`--scenario: ${(error as Error).message.split("\n")[0]}`);
  }
  return parseScenario(`--scenario ${path}`, data);
}
