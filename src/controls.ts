import type { EventKind, ScheduledEvent } from "./config/events";
import type { CredentialOverride } from "./cache/credential-override";
import type { FaultListing } from "./faults/board";
import type { Credentials } from "./credentials/source";
import type { Health } from "./credentials/refresher";
import type { Instance } from "./instance/instance";
import type { InstanceEvents } from "./instance/events";

/** What may be read or changed of one emulated instance while the emulator runs. */
export interface InstanceControls {
  /** The instance's name: its `instances:` entry, `default` for the top level. */
  readonly name: string;
  readonly instance: Instance;
  /** The credentials being served now. */
  credentials(): Credentials | undefined;
  /** The health of this instance's role credentials. */
  health(): Health;
  /**
   * Serves this instance's credentials on the edge (docs/faults.md): `{ expiresIn: "30s" | "expired",
   * code: "Failure", staleBy: "2h" }`, merged over an earlier override; bad fields are a ConfigError.
   */
  overrideCredentials(fields: Record<string, unknown>): CredentialOverride;
  /** Serves the credentials as they are again (a rotation does too); false when none was overridden. */
  clearCredentialOverride(): boolean;
  /** Rotates the credentials now (or joins a rotation under way), ending any override, and reports the health after it. */
  rotateCredentials(): Promise<Health>;
  events(): InstanceEvents;
  /** Applies an event now or after its delay; returns when it takes effect (epoch ms). */
  scheduleEvent(event: ScheduledEvent): number;
  /**
   * Fires an EC2 event from untyped fields (the admin API's JSON, a script): now, or after `after`
   * (`30s`, `2m`); see README "Simulating EC2 events". Bad fields are a ConfigError naming them.
   */
  triggerEvent(kind: string, fields?: Record<string, unknown>): Date;
  clearEvent(kind: EventKind): void;
  setTag(key: string, value: string): void;
  /** False when there was no such tag. */
  removeTag(key: string): boolean;
  setUserData(data: string | Buffer | undefined): void;
  /** Sets or adds any path below `meta-data/`, as the config file's `metadata` does. */
  setMetadata(path: string, value: string): void;
  /** Takes back a path set with setMetadata or the config file; false when there was none. */
  removeMetadata(path: string): boolean;
  /** The certificate that verifies the identity document's signature, pkcs7 and rsa2048. */
  identityCertificate(): string;
}

/** One instance as `GET /admin/instances` and the library list it. */
export interface InstanceSummary {
  readonly name: string;
  readonly instanceId: string;
  /** The callers as configured: addresses, networks, DNS names. */
  readonly callers: readonly string[];
  /** The addresses its callers have now (names resolved, template members). */
  readonly addresses: readonly string[];
  readonly role: string;
  readonly credentialsExpiration?: string;
  readonly health: Health["status"];
}

/**
 * Everything that may be read or changed while the emulator runs: one interface, implemented once by
 * the emulator, served over HTTP by the admin listener and handed to library users as is. Its
 * instance operations act on the top-level instance; `named(name)` reaches the others.
 */
export interface Controls extends InstanceControls {
  now(): number;
  /** Prometheus text exposition of the emulator's metrics. */
  metrics(): Promise<{ readonly contentType: string; readonly text: string }>;
  /** An instance by name (`default` is the top level); a ConfigError naming those there are when there is none. */
  named(name: string): InstanceControls;
  instances(): readonly InstanceSummary[];
  /**
   * Sets a fault rule (docs/faults.md): the compact form `status=500,path=/latest/meta-data/iam/*,count=3`
   * or its fields as an object; returns its id. Bad rules are a ConfigError.
   */
  addFault(rule: string | Readonly<Record<string, unknown>>): string;
  /** The rules set, with how often each fired. */
  faults(): readonly FaultListing[];
  /** Removes every rule; returns how many there were. */
  clearFaults(): number;
}
