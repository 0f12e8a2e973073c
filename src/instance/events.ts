import type { Clock, Timer } from "../clock";
import { ConfigError, oneOf, timestamp } from "../validation";

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

const MAINTENANCE_DESCRIPTIONS: Record<MaintenanceCode, string> = {
  "instance-reboot": "scheduled reboot",
  "system-reboot": "scheduled reboot",
  "system-maintenance": "scheduled maintenance",
  "instance-retirement": "scheduled retirement",
  "instance-stop": "scheduled stop",
};

/** EC2 gives two minutes' notice of a spot interruption. */
const SPOT_NOTICE_MS = 120_000;
const DEFAULT_MAINTENANCE_LEAD_MS = 86_400_000;
const MAINTENANCE_WINDOW_MS = 7_200_000;

export interface MaintenanceEvent {
  readonly code: MaintenanceCode;
  readonly description: string;
  readonly eventId: string;
  readonly notBefore: number;
  readonly notAfter: number;
  readonly state: "active";
}

export interface InstanceEvents {
  readonly spot?: { readonly action: SpotAction; readonly time: number };
  readonly rebalanceNoticeTime?: number;
  readonly scheduledMaintenance: readonly MaintenanceEvent[];
  readonly targetLifecycleState?: LifecycleState;
}

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

/**
 * The instance's EC2 events: what is in effect now, and timers for what is due later. Every change
 * is reported so the metadata tree can be rebuilt.
 */
export class EventBoard {
  private state: InstanceEvents = { scheduledMaintenance: [] };
  private readonly pending = new Map<Timer, EventKind>();

  constructor(
    private readonly clock: Clock,
    private readonly eventId: () => string,
    private readonly onChange: (events: InstanceEvents) => void,
  ) {}

  current(): InstanceEvents {
    return this.state;
  }

  /** Applies the event now, or after `afterMs`; returns when it takes effect. */
  schedule({ request, afterMs }: ScheduledEvent): number {
    const at = this.clock.now() + afterMs;
    if (afterMs <= 0) {
      this.apply(request, at);
      return at;
    }
    const timer = this.clock.schedule(afterMs, () => {
      this.pending.delete(timer);
      this.apply(request, this.clock.now());
    });
    this.pending.set(timer, request.kind);
    return at;
  }

  /** Ends an event of this kind, in effect or still pending. */
  clear(kind: EventKind): void {
    for (const [timer, pendingKind] of this.pending) {
      if (pendingKind === kind) {
        timer.cancel();
        this.pending.delete(timer);
      }
    }
    const { spot, rebalanceNoticeTime, targetLifecycleState, scheduledMaintenance } = this.state;
    this.update({
      spot: kind === "spot-interruption" ? undefined : spot,
      rebalanceNoticeTime: kind === "rebalance-recommendation" ? undefined : rebalanceNoticeTime,
      targetLifecycleState: kind === "target-lifecycle-state" ? undefined : targetLifecycleState,
      scheduledMaintenance: kind === "maintenance" ? [] : scheduledMaintenance,
    });
  }

  stop(): void {
    for (const timer of this.pending.keys()) timer.cancel();
    this.pending.clear();
  }

  private apply(request: EventRequest, at: number): void {
    const second = (ms: number) => Math.floor(ms / 1000) * 1000;
    switch (request.kind) {
      case "spot-interruption":
        return this.update({ ...this.state, spot: { action: request.action, time: second(at + SPOT_NOTICE_MS) } });
      case "rebalance-recommendation":
        return this.update({ ...this.state, rebalanceNoticeTime: second(at) });
      case "target-lifecycle-state":
        return this.update({ ...this.state, targetLifecycleState: request.state });
      case "maintenance": {
        const notBefore = second(request.notBefore ?? at + DEFAULT_MAINTENANCE_LEAD_MS);
        const event: MaintenanceEvent = {
          code: request.code,
          description: MAINTENANCE_DESCRIPTIONS[request.code],
          eventId: this.eventId(),
          notBefore,
          notAfter: notBefore + MAINTENANCE_WINDOW_MS,
          state: "active",
        };
        return this.update({ ...this.state, scheduledMaintenance: [...this.state.scheduledMaintenance, event] });
      }
    }
  }

  private update(next: InstanceEvents): void {
    this.state = next;
    this.onChange(next);
  }
}
