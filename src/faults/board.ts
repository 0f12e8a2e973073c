import { isoTime, type Clock, type Timer } from "../clock";
import type { FaultAction, FaultRule } from "../config/fault-rule";
import type { Logger } from "../log";
import { globMatcher } from "./glob";

/** A rule as `GET /admin/faults` and `faults()` list it: what it does, how often it fired, whether it still does. */
export interface FaultListing {
  readonly id: string;
  readonly path: string;
  readonly instance?: string;
  readonly status?: number;
  readonly delayMs?: number;
  readonly hang?: true;
  readonly reset?: true;
  readonly count?: number;
  readonly durationMs?: number;
  readonly probability?: number;
  readonly fired: number;
  /** False once its count is spent or its duration over; it stays listed until cleared. */
  readonly active: boolean;
  readonly expiresAt?: string;
}

interface Entry {
  readonly id: string;
  readonly rule: FaultRule;
  readonly matches: (path: string) => boolean;
  readonly until?: number;
  readonly timer?: Timer;
  fired: number;
  active: boolean;
}

/**
 * The fault rules in force, for every instance. `active` is the metadata port's one check a request:
 * false whenever no rule can fire, so a port without faults pays nothing more.
 */
export class FaultBoard {
  active = false;
  private entries: Entry[] = [];
  private nextId = 1;

  constructor(
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly random: () => number = Math.random,
  ) {}

  add(rule: FaultRule): string {
    const id = `fault-${this.nextId++}`;
    const until = rule.durationMs === undefined ? undefined : this.clock.now() + rule.durationMs;
    const timer = rule.durationMs === undefined ? undefined : this.clock.schedule(rule.durationMs, () => this.retire(entry, "fault-expired"));
    const entry: Entry = { id, rule, matches: globMatcher(rule.path), until, timer, fired: 0, active: true };
    this.entries.push(entry);
    this.active = true;
    this.log.info("fault-set", { id, path: rule.path, instance: rule.instance, action: rule.action.kind, count: rule.count, durationMs: rule.durationMs });
    return id;
  }

  list(): FaultListing[] {
    return this.entries.map(({ id, rule, fired, active, until }) => ({
      id,
      path: rule.path,
      instance: rule.instance,
      ...actionFields(rule.action),
      count: rule.count,
      durationMs: rule.durationMs,
      probability: rule.probability,
      fired,
      active,
      expiresAt: isoTime(until),
    }));
  }

  /** Removes every rule; returns how many there were. */
  clear(): number {
    const removed = this.entries.length;
    for (const entry of this.entries) entry.timer?.cancel();
    this.entries = [];
    this.active = false;
    this.log.info("faults-cleared", { removed });
    return removed;
  }

  /** The first rule in force for this instance and path, counted as fired; undefined when none fires. */
  match(instance: string, path: string): FaultAction | undefined {
    for (const entry of this.entries) {
      const { rule } = entry;
      if (!entry.active || !entry.matches(path)) continue;
      if (rule.instance !== undefined && rule.instance !== instance && !instance.startsWith(`${rule.instance}@`)) continue;
      if (rule.probability !== undefined && this.random() >= rule.probability) continue;
      entry.fired++;
      this.log.debug("fault-fired", { id: entry.id, instance, action: rule.action.kind, fired: entry.fired });
      if (rule.count !== undefined && entry.fired >= rule.count) this.retire(entry, "fault-spent");
      return rule.action;
    }
    return undefined;
  }

  stop(): void {
    for (const entry of this.entries) entry.timer?.cancel();
  }

  private retire(entry: Entry, event: string): void {
    entry.active = false;
    entry.timer?.cancel();
    this.active = this.entries.some((other) => other.active);
    this.log.info(event, { id: entry.id, fired: entry.fired });
  }
}

function actionFields(action: FaultAction): Partial<FaultListing> {
  switch (action.kind) {
    case "status":
      return { status: action.status };
    case "delay":
      return { delayMs: action.ms };
    case "hang":
      return { hang: true };
    case "reset":
      return { reset: true };
  }
}
