import { ConfigError, duration, oneOf, timestamp } from "../validation";

/** The EC2 events a user may ask for, and how a request for one is read (options, admin API, library). */
export const SPOT_ACTIONS = ["stop", "terminate", "hibernate"] as const;
export type SpotAction = (typeof SPOT_ACTIONS)[number];

export const MAINTENANCE_CODES = [
  "instance-reboot",
  "system-reboot",
  "system-maintenance",
  "instance-retirement",
  "instance-stop",
] as const;
export type MaintenanceCode = (typeof MAINTENANCE_CODES)[number];

export const LIFECYCLE_STATES = [
  "InService",
  "Terminated",
  "Warmed:Stopped",
  "Warmed:Running",
  "Warmed:Hibernated",
  "Warmed:Terminated",
] as const;
export type LifecycleState = (typeof LIFECYCLE_STATES)[number];

export const EVENT_KINDS = ["spot-interruption", "rebalance-recommendation", "maintenance", "target-lifecycle-state"] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

export type EventRequest =
  | { readonly kind: "spot-interruption"; readonly action: SpotAction }
  | { readonly kind: "rebalance-recommendation" }
  | { readonly kind: "maintenance"; readonly code: MaintenanceCode; readonly notBefore?: number }
  | { readonly kind: "target-lifecycle-state"; readonly state: LifecycleState };

/** Reads one event's fields (from the admin API's JSON), naming each field as the caller wrote it. */
export function parseEventRequest(kind: string, fields: Record<string, unknown>): EventRequest {
  switch (oneOf("event", kind, EVENT_KINDS)) {
    case "spot-interruption":
      return { kind: "spot-interruption", action: oneOf("action", fields.action ?? "terminate", SPOT_ACTIONS) };
    case "rebalance-recommendation":
      return { kind: "rebalance-recommendation" };
    case "maintenance":
      return {
        kind: "maintenance",
        code: oneOf("code", fields.code ?? "system-reboot", MAINTENANCE_CODES),
        notBefore: fields.notBefore === undefined ? undefined : timestamp("notBefore", fields.notBefore),
      };
    case "target-lifecycle-state":
      if (fields.state === undefined) throw new ConfigError(`state: required, one of ${LIFECYCLE_STATES.join(", ")}`);
      return { kind: "target-lifecycle-state", state: oneOf("state", fields.state, LIFECYCLE_STATES) };
  }
}

export interface ScheduledEvent {
  readonly request: EventRequest;
  readonly afterMs: number;
}


/** An event request with its optional `after` (`30s`, `2m`, or seconds), as the admin API and the library take it. */
export function parseEventTrigger(kind: string, fields: Record<string, unknown>): ScheduledEvent {
  const request = parseEventRequest(kind, fields);
  return { request, afterMs: fields.after === undefined ? 0 : duration("after", fields.after) };
}
