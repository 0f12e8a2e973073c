import { BlockList } from "node:net";
import { canonicalIp, ipVersion } from "../addresses";
import type { Clock, Timer } from "../clock";
import type { CallerSpec } from "../config/callers";
import type { Logger } from "../log";

/** An entry's instance, or for a template (`one-per-caller`) the maker of one instance per caller address. */
export type CallerTarget<T> = { readonly kind: "one"; readonly value: T } | { readonly kind: "each"; readonly make: (address: string) => T };

export interface CallerEntry<T> {
  readonly name: string;
  readonly callers: readonly CallerSpec[];
  readonly target: CallerTarget<T>;
}

/** An instance the callers reach, as listings show it. */
export interface Listed<T> {
  readonly name: string;
  /** The callers as configured (addresses, networks, names) or as known (a pod). */
  readonly callers: readonly string[];
  readonly addresses: readonly string[];
  readonly value: T;
}

/** Caller address -> instance, as the port asks it: the configured map, or the Kubernetes pod watch. */
export interface Callers<T> {
  /** Changes whenever an address may have changed hands, so that cached answers are dropped. */
  readonly generation: number;
  /** The caller's instance now, after a short wait for fresh knowledge, or none. */
  select(address: string | undefined): T | undefined | Promise<T | undefined>;
  /** Every instance the callers reach now. */
  listed(): ReadonlyArray<Listed<T>>;
  stop(): void;
}

export interface CallerMapOptions<T> {
  /** A name's addresses now (the system resolver: /etc/hosts, Docker's DNS). */
  readonly resolve: (name: string) => Promise<string[]>;
  readonly clock: Clock;
  readonly log: Logger;
  /** What a caller that no entry names gets; undefined refuses it. */
  readonly fallback?: T;
  /** Names are resolved again this often in the background. */
  readonly refreshMs?: number;
  /** An unknown caller waits this long for a fresh resolution (its container may have just started). */
  readonly waitMs?: number;
  /** Most instances one template makes, so that a /16 of callers cannot exhaust memory. */
  readonly maxPerTemplate?: number;
}

interface Claim<T> {
  readonly entry: CallerEntry<T>;
}

const DEFAULT_REFRESH_MS = 30_000;
/** At most one resolution a second is started because an unknown address called. */
const MIN_RESOLVE_INTERVAL_MS = 1000;
/** Below the SDKs' one-second IMDS timeouts, with room for the answer. */
const DEFAULT_WAIT_MS = 500;
const DEFAULT_MAX_PER_TEMPLATE = 256;

/**
 * Caller address -> instance. Addresses and networks come from the configuration; names are
 * resolved at start, again in the background, and at most once a second when an unknown address
 * calls, never on the request path itself. An address two entries claim at once (two names that
 * resolve to it) belongs to neither: it is refused, never served someone else's role.
 */
export class CallerMap<T> implements Callers<T> {
  generation = 0;
  private byAddress = new Map<string, Claim<T> | "conflict">();
  private readonly networks: Array<{ readonly entry: CallerEntry<T>; readonly list: BlockList }> = [];
  private readonly members = new Map<string, Map<string, T>>();
  private readonly names: Array<{ readonly entry: CallerEntry<T>; readonly name: string }> = [];
  private resolved = new Map<string, string[]>();
  private resolving: Promise<void> | undefined;
  private delayed: Promise<void> | undefined;
  private lastResolveAt = -Infinity;
  private timer: Timer | undefined;
  private stopped = false;
  private readonly statics = new Map<string, Claim<T>>();

  constructor(
    private readonly entries: readonly CallerEntry<T>[],
    private readonly options: CallerMapOptions<T>,
  ) {
    for (const entry of entries) {
      for (const spec of entry.callers) {
        if (spec.kind === "name") {
          this.names.push({ entry, name: spec.name });
        } else if (spec.prefix === (spec.family === "ipv4" ? 32 : 128)) {
          this.statics.set(spec.address, { entry });
        } else {
          const list = new BlockList();
          list.addSubnet(spec.address, spec.prefix, spec.family);
          this.networks.push({ entry, list });
        }
      }
    }
    this.byAddress = this.claims();
  }

  /** Resolves every name once; a name that does not resolve is logged and the others are served. */
  async start(): Promise<void> {
    await this.resolveAll();
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
  }

  /** The caller's instance now, or undefined (unknown, or claimed twice). */
  lookup(address: string | undefined): T | undefined {
    if (address === undefined) return undefined;
    const ip = canonicalIp(address);
    const claim = this.byAddress.get(ip);
    if (claim === "conflict") return undefined;
    if (claim !== undefined) return this.targetOf(claim.entry, ip);
    const family = ipVersion(ip) === 6 ? "ipv6" : "ipv4";
    for (const { entry, list } of this.networks) {
      if (list.check(ip, family)) return this.targetOf(entry, ip);
    }
    return this.options.fallback;
  }

  /**
   * As lookup, but an address no entry knows waits (up to waitMs) for a fresh resolution of the
   * names, started at most once a second: a container that has just started is known once Docker's
   * DNS knows it.
   */
  select(address: string | undefined): T | undefined | Promise<T | undefined> {
    const found = this.lookup(address);
    if (found !== undefined && found !== this.options.fallback) return found;
    if (this.names.length === 0 || address === undefined || this.byAddress.get(canonicalIp(address)) === "conflict") return found;
    const { clock } = this.options;
    const waitMs = this.options.waitMs ?? DEFAULT_WAIT_MS;
    const resolution = this.resolving ?? this.nextResolution(waitMs);
    if (resolution === undefined) return found;
    return new Promise((done) => {
      const timer = clock.schedule(waitMs, () => done(this.lookup(address)));
      void resolution.then(() => {
        timer.cancel();
        done(this.lookup(address));
      });
    });
  }

  /** A resolution now, or the next one a second after the last if that comes within `waitMs`; else none. */
  private nextResolution(waitMs: number): Promise<void> | undefined {
    const delay = this.lastResolveAt + MIN_RESOLVE_INTERVAL_MS - this.options.clock.now();
    if (delay <= 0) return this.resolveAll();
    if (delay > waitMs) return undefined;
    this.delayed ??= new Promise((done) => {
      this.options.clock.schedule(delay, () => {
        this.delayed = undefined;
        void this.resolveAll().then(done);
      });
    });
    return this.delayed;
  }

  listed(): ReadonlyArray<Listed<T>> {
    return this.entries.flatMap((entry) => {
      const callers = entry.callers.map((spec) => spec.text);
      if (entry.target.kind === "one") return [{ name: entry.name, callers, addresses: this.addressesOf(entry.name), value: entry.target.value }];
      return [...this.membersOf(entry.name)].map(([address, value]) => ({ name: `${entry.name}@${address}`, callers, addresses: [address], value }));
    });
  }

  /** The addresses that reach an entry now: its single addresses, its names' addresses, its template members. */
  addressesOf(entryName: string): string[] {
    const addresses = new Set<string>();
    for (const [address, claim] of this.byAddress) if (claim !== "conflict" && claim.entry.name === entryName) addresses.add(address);
    for (const address of this.members.get(entryName)?.keys() ?? []) addresses.add(address);
    return [...addresses];
  }

  /** The instances a template has made so far. */
  membersOf(entryName: string): ReadonlyMap<string, T> {
    return this.members.get(entryName) ?? new Map();
  }

  private targetOf(entry: CallerEntry<T>, address: string): T | undefined {
    if (entry.target.kind === "one") return entry.target.value;
    let members = this.members.get(entry.name);
    if (members === undefined) {
      members = new Map();
      this.members.set(entry.name, members);
    }
    let member = members.get(address);
    if (member === undefined) {
      if (members.size >= (this.options.maxPerTemplate ?? DEFAULT_MAX_PER_TEMPLATE)) {
        this.options.log.warn("template-full", { instance: entry.name, address, detail: "this template has made as many instances as it may; the caller is refused" });
        return undefined;
      }
      member = entry.target.make(address);
      members.set(address, member);
      this.options.log.info("instance-created", { instance: entry.name, address });
    }
    return member;
  }

  private resolveAll(): Promise<void> {
    this.lastResolveAt = this.options.clock.now();
    const resolution = (async () => {
      const next = new Map<string, string[]>();
      await Promise.all(
        [...new Set(this.names.map(({ name }) => name))].map(async (name) => {
          try {
            next.set(name, (await this.options.resolve(name)).map(canonicalIp));
          } catch (error) {
            if (!this.resolved.has(name) || (this.resolved.get(name) ?? []).length > 0) {
              this.options.log.warn("caller-name-unresolved", { name, code: (error as NodeJS.ErrnoException).code ?? String(error) });
            }
            next.set(name, []);
          }
        }),
      );
      this.resolved = next;
      this.byAddress = this.claims();
      this.generation += 1;
    })();
    this.resolving = resolution;
    void resolution.finally(() => {
      if (this.resolving === resolution) this.resolving = undefined;
    });
    return resolution;
  }

  /** Every address claimed by exactly one entry; an address claimed by two is a conflict, logged. */
  private claims(): Map<string, Claim<T> | "conflict"> {
    const byAddress = new Map<string, Claim<T> | "conflict">(this.statics);
    for (const { entry, name } of this.names) {
      for (const address of this.resolved.get(name) ?? []) {
        const claim = byAddress.get(address);
        if (claim === undefined) byAddress.set(address, { entry });
        else if (claim !== "conflict" && claim.entry !== entry) {
          byAddress.set(address, "conflict");
          this.options.log.warn("caller-conflict", {
            address,
            instances: `${claim.entry.name}, ${entry.name}`,
            detail: "two entries claim this address; it is refused until only one does",
          });
        }
      }
    }
    return byAddress;
  }

  private schedule(): void {
    if (this.stopped || this.names.length === 0) return;
    this.timer = this.options.clock.schedule(this.options.refreshMs ?? DEFAULT_REFRESH_MS, () => {
      void this.resolveAll().then(() => this.schedule());
    });
  }
}
