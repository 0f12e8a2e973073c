import type { Clock, Timer } from "../clock";
import type { EventKind, EventRequest, LifecycleState, MaintenanceCode, ScheduledEvent, SpotAction } from "../config/events";

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

/** An event asked for with a delay, not in effect yet. */
export interface PendingEvent {
  readonly request: EventRequest;
  /** When it takes effect (epoch ms). */
  readonly at: number;
}

export interface InstanceEvents {
  readonly spot?: { readonly action: SpotAction; readonly time: number };
  readonly rebalanceNoticeTime?: number;
  readonly scheduledMaintenance: readonly MaintenanceEvent[];
  readonly targetLifecycleState?: LifecycleState;
  /** Events still to come, soonest first: shown by the admin listener, never in the metadata tree. */
  readonly pending: readonly PendingEvent[];
}

/**
 * The instance's EC2 events: what is in effect now, and timers for what is due later. Every change
 * is reported to the listeners, so the metadata tree can be rebuilt.
 */
export class EventBoard {
  private state: InstanceEvents = { scheduledMaintenance: [], pending: [] };
  private readonly pending = new Map<Timer, PendingEvent>();

  private readonly listeners: Array<(events: InstanceEvents) => void> = [];

  constructor(
    private readonly clock: Clock,
    private readonly eventId: () => string,
    /** Told when a delayed event takes effect, for the log. */
    private readonly onFire: (request: EventRequest) => void = () => undefined,
  ) {}

  onChange(listener: (events: InstanceEvents) => void): void {
    this.listeners.push(listener);
  }

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
      this.onFire(request);
      this.apply(request, this.clock.now());
    });
    this.pending.set(timer, { request, at });
    this.update({ ...this.state });
    return at;
  }

  /** Ends an event of this kind, in effect or still pending. */
  clear(kind: EventKind): void {
    for (const [timer, pending] of this.pending) {
      if (pending.request.kind === kind) {
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
      pending: [],
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
        this.update({ ...this.state, spot: { action: request.action, time: second(at + SPOT_NOTICE_MS) } });
        return;
      case "rebalance-recommendation":
        this.update({ ...this.state, rebalanceNoticeTime: second(at) });
        return;
      case "target-lifecycle-state":
        this.update({ ...this.state, targetLifecycleState: request.state });
        return;
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
        this.update({ ...this.state, scheduledMaintenance: [...this.state.scheduledMaintenance, event] });
        return;
      }
    }
  }

  private update(next: InstanceEvents): void {
    this.state = { ...next, pending: [...this.pending.values()].sort((a, b) => a.at - b.at) };
    for (const listener of this.listeners) listener(next);
  }
}
