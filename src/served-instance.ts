import { randomBytes } from "node:crypto";
import { isoTime, type Clock } from "./clock";
import type { InstanceConfig } from "./config/config";
import { checkMetadataSize, checkTag, checkTagCount, checkUserData } from "./config/description";
import { checkMetadataOverride } from "./config/description-keys";
import { parseEventTrigger, type EventKind, type ScheduledEvent } from "./config/events";
import type { Health, Refresher } from "./credentials/refresher";
import { EventBoard, type InstanceEvents } from "./instance/events";
import { seededHex, type Instance } from "./instance/instance";
import { openSshPublicKey } from "./instance/public-key";
import type { LazySigner } from "./instance/lazy-signer";
import { Deferred, type Role } from "./instance/tree";
import { ReplyCache } from "./cache/reply-cache";
import { parseCredentialOverride, type CredentialOverride } from "./cache/credential-override";
import { instanceEdge, type InstanceEdge } from "./faults/edge";
import type { Reply, ReplyTable } from "./cache/replies";
import type { ServedInstanceView } from "./imds/handler";
import { createTokenAuthority, type TokenAuthority } from "./imds/tokens";
import type { InstanceControls } from "./controls";
import type { Logger } from "./log";
import { metadataPath, StateConflict } from "./validation";

export interface ServedInstanceParts {
  readonly name: string;
  readonly config: InstanceConfig;
  readonly instance: Instance;
  /** Seeds what is generated for this instance beyond its description (instance profile id, key pair). */
  readonly seed: string;
  readonly clock: Clock;
  readonly log: Logger;
  /** The role's refresher, shared by every instance of the same role. */
  readonly refresher: Refresher;
  readonly identityCredentials: Refresher;
  /** The emulator's one signing key (as AWS signs every instance's document with its own), made on first use. */
  readonly signer: LazySigner;
  readonly userData: Buffer | undefined;
}

const TAGS_DISABLED =
  "tags are not served: start with --instance-metadata-tags enabled (IMDS_EMULATOR_INSTANCE_METADATA_TAGS=enabled, or instanceMetadataTags in the library) to set them";

/**
 * One emulated instance as the port serves it: its description and runtime state (tags, metadata,
 * user data, events), its own compiled replies and its own token key, so that a token it issued is
 * refused by every other instance, as a token from another EC2 instance is.
 */
export class ServedInstance implements InstanceControls, ServedInstanceView {
  readonly name: string;
  readonly config: InstanceConfig;
  readonly instance: Instance;
  readonly role: Role;
  readonly refresher: Refresher;
  readonly identityCredentials: Refresher;
  readonly tokens: TokenAuthority;
  readonly tokenRequired: boolean;
  readonly disabled: boolean;
  readonly edge: InstanceEdge | undefined;
  private readonly clock: Clock;
  private readonly cache: ReplyCache;
  private readonly board: EventBoard;
  private readonly tags: Map<string, string>;
  private readonly overrides: Map<string, string>;
  private userData: Buffer | undefined;
  private readonly signer: LazySigner;
  private readonly log: Logger;

  constructor(parts: ServedInstanceParts) {
    const { config, instance, seed } = parts;
    this.name = parts.name;
    this.config = config;
    this.instance = instance;
    this.refresher = parts.refresher;
    this.identityCredentials = parts.identityCredentials;
    this.signer = parts.signer;
    this.userData = parts.userData;
    this.log = parts.log;
    this.tokens = createTokenAuthority(parts.clock);
    this.tokenRequired = config.httpTokens === "required";
    this.disabled = config.httpEndpoint === "disabled";
    this.edge = instanceEdge(config, parts.clock);
    this.clock = parts.clock;
    this.role = {
      name: config.roleName,
      instanceProfileArn: `arn:${instance.partition}:iam::${instance.accountId}:instance-profile/${config.roleName}`,
      instanceProfileId: `AIPA${seededHex(seed, "instance-profile", 17).toUpperCase()}`,
    };
    const publicKey = new Deferred(() => openSshPublicKey(seed, instance.keyName));
    this.tags = new Map(Object.entries(config.tags));
    this.overrides = new Map(Object.entries(config.metadata));
    this.board = new EventBoard(
      parts.clock,
      () => `instance-event-0${randomBytes(8).toString("hex")}`,
      (request) => this.log.info("event-fired", { instance: this.name, kind: request.kind }),
    );
    this.cache = new ReplyCache(this.refresher, () => ({
      instance,
      role: this.role,
      identityCredentials: this.identityCredentials.current(),
      publicKey,
      events: this.board.current(),
      userData: this.userData,
      tags: config.instanceMetadataTags ? Object.fromEntries(this.tags) : undefined,
      overrides: Object.fromEntries(this.overrides),
      sign: (document) => this.signer.signatures(document),
      captured: config.captured,
    }));
    this.signer.onReady(() => this.cache.rebuild());
    this.board.onChange(() => this.cache.rebuild());
    this.identityCredentials.onChange(() => this.cache.swapCredentials());
    for (const event of config.events) this.scheduleEvent(event);
  }

  replies(): ReplyTable {
    return this.cache.replies();
  }

  containerReply(): Reply {
    return this.cache.containerReply();
  }

  credentials() {
    return this.refresher.current()?.credentials;
  }

  health(): Health {
    return this.refresher.health();
  }

  overrideCredentials(fields: Record<string, unknown>): CredentialOverride {
    const override = parseCredentialOverride(fields, this.clock.now(), this.cache.overridden());
    this.cache.setOverride(override);
    this.log.info("credentials-overridden", { instance: this.name, expiresAt: isoTime(override.expiresAt), code: override.code, lastUpdated: isoTime(override.lastUpdated) });
    return override;
  }

  clearCredentialOverride(): boolean {
    const had = this.cache.overridden() !== undefined;
    if (had) {
      this.cache.setOverride(undefined);
      this.log.info("credentials-override-cleared", { instance: this.name });
    }
    return had;
  }

  async rotateCredentials(): Promise<Health> {
    this.clearCredentialOverride();
    await this.refresher.refresh();
    return this.refresher.health();
  }

  events(): InstanceEvents {
    return this.board.current();
  }

  scheduleEvent(event: ScheduledEvent): number {
    const at = this.board.schedule(event);
    this.log.info("event-scheduled", { instance: this.name, kind: event.request.kind, at: isoTime(at) });
    return at;
  }

  triggerEvent(kind: string, fields: Record<string, unknown> = {}): Date {
    return new Date(this.scheduleEvent(parseEventTrigger(kind, fields)));
  }

  clearEvent(kind: EventKind): void {
    this.board.clear(kind);
    this.log.info("event-cleared", { instance: this.name, kind });
  }

  setTag(key: string, value: string): void {
    if (!this.config.instanceMetadataTags) throw new StateConflict(TAGS_DISABLED);
    checkTag("tag", key, value);
    if (!this.tags.has(key)) checkTagCount("tags", this.tags.size + 1);
    this.tags.set(key, value);
    this.cache.rebuild();
  }

  removeTag(key: string): boolean {
    const removed = this.tags.delete(key);
    this.cache.rebuild();
    return removed;
  }

  setMetadata(path: string, value: string): void {
    const key = metadataPath("metadata", path);
    checkMetadataOverride("metadata", key);
    checkMetadataSize("metadata", new Map(this.overrides).set(key, value));
    this.overrides.set(key, value);
    this.cache.rebuild();
  }

  removeMetadata(path: string): boolean {
    const removed = this.overrides.delete(metadataPath("metadata", path));
    this.cache.rebuild();
    return removed;
  }

  setUserData(data: string | Buffer | undefined): void {
    this.userData = data === undefined ? undefined : checkUserData("user-data", Buffer.from(data));
    this.cache.rebuild();
  }

  identityCertificate(): string {
    return this.signer.now().certificatePem;
  }

  /** Ends its timers; the role's refresher belongs to the pool, which stops it. */
  stop(): void {
    this.board.stop();
  }
}
