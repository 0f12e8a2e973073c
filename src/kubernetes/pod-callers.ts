import { canonicalIp } from "../addresses";
import type { Clock } from "../clock";
import type { Callers, Listed } from "../callers/caller-map";
import type { Logger } from "../log";
import { podName, type PodEvent, type PodInfo, type PodSource } from "./pods";

export interface PodCallersOptions<T> {
  readonly source: PodSource;
  /** Makes a pod's instance (its annotations read as an instance entry); throws on a bad annotation. */
  readonly make: (pod: PodInfo & { readonly ip: string }) => T;
  /** Ends a deleted pod's instance (its timers). */
  readonly drop: (value: T) => void;
  readonly clock: Clock;
  readonly log: Logger;
  /** A caller whose pod is not known yet waits this long for the watch to report it. */
  readonly waitMs?: number;
}

/** Within the SDKs' one-second IMDS timeouts, with room for the answer. */
const DEFAULT_WAIT_MS = 500;

interface Known<T> {
  readonly pod: PodInfo;
  /** Undefined: the pod's annotations were refused; the pod gets 403, never a default role. */
  readonly value: T | undefined;
}

/**
 * Caller address -> the instance of the pod that has that address on this node, from a watch of the
 * node's pods. Each pod (by UID) is an instance of its own: an address a new pod reuses maps to the new
 * pod's instance, whose tokens are its own, so the old pod's tokens stop working (kube2iam#17, #46).
 * A caller whose pod is not known yet waits briefly, then gets 403, never another pod's role.
 */
export class PodCallers<T> implements Callers<T> {
  generation = 0;
  private readonly byAddress = new Map<string, Known<T>>();
  private readonly made = new Map<string, T>();
  private waiters: Array<{ readonly ip: string; readonly done: (value: T | undefined) => void }> = [];

  constructor(private readonly options: PodCallersOptions<T>) {}

  start(): Promise<void> {
    return this.options.source.start((event, pod) => this.onPod(event, pod));
  }

  stop(): void {
    this.options.source.stop();
    for (const waiter of this.waiters) waiter.done(undefined);
    this.waiters = [];
  }

  select(address: string | undefined): T | undefined | Promise<T | undefined> {
    if (address === undefined) return undefined;
    const ip = canonicalIp(address);
    const known = this.byAddress.get(ip);
    if (known !== undefined) return known.value;
    return new Promise((resolve) => {
      const timer = this.options.clock.schedule(this.options.waitMs ?? DEFAULT_WAIT_MS, () => waiter.done(this.byAddress.get(ip)?.value));
      const waiter = {
        ip,
        done: (value: T | undefined) => {
          timer.cancel();
          this.waiters = this.waiters.filter((other) => other !== waiter);
          resolve(value);
        },
      };
      this.waiters.push(waiter);
    });
  }

  listed(): ReadonlyArray<Listed<T>> {
    return [...this.byAddress].flatMap(([address, { pod, value }]) =>
      value === undefined ? [] : [{ name: podName(pod), callers: [`pod ${podName(pod)}`], addresses: [address], value }],
    );
  }

  private onPod(event: PodEvent, pod: PodInfo): void {
    for (const [address, known] of this.byAddress) {
      // A pod that ended, lost its address or changed it: its old address maps to nothing now.
      if (known.pod.uid === pod.uid && (event === "delete" || pod.ip === undefined || canonicalIp(pod.ip) !== address)) {
        this.byAddress.delete(address);
        this.generation += 1;
      }
    }
    if (event === "delete") {
      const value = this.made.get(pod.uid);
      this.made.delete(pod.uid);
      if (value !== undefined) this.options.drop(value);
      return;
    }
    if (pod.ip === undefined) return;
    const ip = canonicalIp(pod.ip);
    const current = this.byAddress.get(ip);
    if (current?.pod.uid === pod.uid) return;
    if (current !== undefined) this.options.log.info("pod-address-reused", { address: ip, from: podName(current.pod), to: podName(pod) });
    this.byAddress.set(ip, { pod, value: this.instanceOf({ ...pod, ip }) });
    this.generation += 1;
    for (const waiter of this.waiters.filter((other) => other.ip === ip)) waiter.done(this.byAddress.get(ip)?.value);
  }

  private instanceOf(pod: PodInfo & { readonly ip: string }): T | undefined {
    let value = this.made.get(pod.uid);
    if (value !== undefined) return value;
    try {
      value = this.options.make(pod);
    } catch (error) {
      this.options.log.warn("pod-refused", { pod: podName(pod), address: pod.ip, message: error instanceof Error ? error.message : String(error) });
      return undefined;
    }
    this.made.set(pod.uid, value);
    this.options.log.info("pod-instance", { pod: podName(pod), address: pod.ip });
    return value;
  }
}
