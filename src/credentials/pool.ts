import type { Clock } from "../clock";
import type { Logger } from "../log";
import { Refresher } from "./refresher";
import type { CredentialSource } from "./source";

/**
 * One refresher per distinct role configuration, however many instances or callers use it: one STS
 * call per role per rotation. Keys are the configuration as text (role ARN, session name, external
 * id, lifetime, ...), so two entries that say the same thing share.
 */
export class RefresherPool {
  private readonly refreshers = new Map<string, { readonly name: string; readonly refresher: Refresher; readonly source: CredentialSource }>();
  private started = false;

  constructor(
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly random?: () => number,
    /** A first failure only the user can fix stops the start (see Refresher), unless told to wait. */
    private readonly stopOnConfigFailure = false,
  ) {}

  /** The refresher for this configuration, made (with its source) the first time it is asked for. */
  get(key: string, name: string, rotateBeforeSeconds: number | undefined, source: () => CredentialSource): Refresher {
    let entry = this.refreshers.get(key);
    if (entry === undefined) {
      const made = source();
      const { clock, log, random } = this;
      const refresher = new Refresher({ source: made, clock, log, rotateBeforeSeconds, random, stopOnConfigFailure: this.stopOnConfigFailure && !this.started });
      entry = { name, refresher, source: made };
      this.refreshers.set(key, entry);
      // A role first met after the start (a template's new caller): its first fetch runs in the background.
      if (this.started) void refresher.start();
    }
    return entry.refresher;
  }

  /** Each role once: its name (the first instance's role name for it) and refresher, for health and metrics. */
  roles(): ReadonlyArray<{ readonly name: string; readonly refresher: Refresher }> {
    return [...this.refreshers.values()];
  }

  start(): Promise<void> {
    this.started = true;
    return Promise.all([...this.refreshers.values()].map(({ refresher }) => refresher.start())).then(() => undefined);
  }

  async stop(): Promise<void> {
    for (const { refresher } of this.refreshers.values()) refresher.stop();
    await Promise.all([...this.refreshers.values()].map(({ source }) => source.close?.()));
  }
}
