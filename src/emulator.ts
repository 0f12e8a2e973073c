import { randomBytes } from "node:crypto";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { hostname as osHostname } from "node:os";
import { systemClock, type Clock } from "./clock";
import { defaultRoleSessionName } from "./config/arn";
import type { Config } from "./config/config";
import { checkMetadataSize, checkTag, checkTagCount, checkUserData } from "./config/description";
import { checkMetadataOverride } from "./config/description-keys";
import { parseEventTrigger, type EventKind, type ScheduledEvent } from "./config/events";
import { readContainerToken, readUserData } from "./config/file";
import { metadataPath, StateConflict } from "./validation";
import { createMockSource } from "./credentials/mock";
import { Refresher, type Health } from "./credentials/refresher";
import type { CredentialSource } from "./credentials/source";
import { createWorkerStsSource } from "./credentials/worker-source";
import { EventBoard, type InstanceEvents } from "./instance/events";
import { createIdentityCredentials } from "./instance/identity-credentials";
import { describeInstance, seededHex, type Instance } from "./instance/instance";
import { openSshPublicKey } from "./instance/public-key";
import { LazySigner } from "./instance/lazy-signer";
import type { Role } from "./instance/tree";
import { ReplyCache } from "./cache/reply-cache";
import { createContainerHandler } from "./container/handler";
import { createRequestGuard, defaultAllowedCidrs } from "./imds/guards";
import { createImdsHandler } from "./imds/handler";
import { holdUntilSigned } from "./imds/signing-hold";
import { createTokenAuthority } from "./imds/tokens";
import { Metrics } from "./admin/metrics";
import type { Controls } from "./controls";
import { bindListeners, type BoundListeners } from "./bind";
import { close, type Listening } from "./listeners";
import { Refusals } from "./refusals";
import { silentLogger, type Logger } from "./log";

const TAGS_DISABLED =
  "tags are not served: start with --instance-metadata-tags enabled (IMDS_EMULATOR_INSTANCE_METADATA_TAGS=enabled, or instanceMetadataTags in the library) to set them";

export interface EmulatorDeps {
  readonly clock?: Clock;
  readonly log?: Logger;
  /** Seeds the generated instance identity; the host name by default. */
  readonly seed?: string;
  /** Replaces the source the config selects (tests). */
  readonly source?: CredentialSource;
  readonly backoffRandom?: () => number;
  /** The refusal log and counts, when the caller made them first (the CLI binds its ports before the emulator exists). */
  readonly refusals?: Refusals;
}

function selectSource(config: Config, instance: Instance, clock: Clock, log: Logger): CredentialSource {
  if (config.sts === undefined) {
    return createMockSource({ durationSeconds: config.durationSeconds, accountId: instance.accountId, clock });
  }
  return createWorkerStsSource({
    roleArn: config.sts.roleArn,
    roleSessionName: config.sts.roleSessionName ?? defaultRoleSessionName(osHostname()),
    durationSeconds: config.durationSeconds,
    externalId: config.sts.externalId,
    region: config.sts.region,
    endpoint: config.sts.endpoint,
    webIdentityTokenFile: config.sts.webIdentityTokenFile,
  }, log, clock);
}

/** The parts `createEmulator` makes before anything is served; each is ready when the emulator exists. */
interface Parts {
  readonly config: Config;
  readonly clock: Clock;
  readonly log: Logger;
  readonly seed: string;
  readonly instance: Instance;
  readonly source: CredentialSource;
  readonly refresher: Refresher;
  /** The instance identity role's credentials: minted locally, rotated by the same rule. */
  readonly identityCredentials: Refresher;
  readonly metrics: Metrics;
  /** Every refusal counted and logged within a budget, shared by the guards and the connection caps. */
  readonly refusals: Refusals;
  readonly userData: Buffer | undefined;
  readonly containerToken: string | undefined;
}

/**
 * Builds an emulator: every fallible step (files, the first credentials) is done before it returns,
 * so the emulator it gives is complete and its port never answers without them. The identity
 * signing key is made on first use (instance/lazy-signer.ts).
 */
export async function createEmulator(config: Config, deps: EmulatorDeps = {}): Promise<Emulator> {
  const clock = deps.clock ?? systemClock;
  const log = deps.log ?? silentLogger;
  const seed = deps.seed ?? osHostname();
  const instance = describeInstance(config.instance, seed, clock.now());
  const [userData, containerToken] = await Promise.all([
    config.userData ?? readUserData(config.userDataFile),
    config.containerCredentials === undefined ? undefined : readContainerToken(config.containerCredentials),
  ]);
  const source = deps.source ?? selectSource(config, instance, clock, log);
  const refresher = new Refresher({
    source,
    clock,
    log,
    rotateBeforeSeconds: config.rotateBeforeSeconds,
    random: deps.backoffRandom,
    stopOnConfigFailure: !config.waitForCredentials,
  });
  const refusals = deps.refusals ?? new Refusals(log, clock);
  const metrics = new Metrics(source.kind, refresher, clock, refusals);
  const { accountId } = instance;
  const { durationSeconds, rotateBeforeSeconds } = config;
  const identityCredentials = createIdentityCredentials({ accountId, durationSeconds, rotateBeforeSeconds, clock, log });
  try {
    await Promise.all([refresher.start(), identityCredentials.start()]);
    return new Emulator({ config, clock, log, seed, instance, source, refresher, identityCredentials, metrics, refusals, userData, containerToken });
  } catch (error) {
    refresher.stop();
    identityCredentials.stop();
    await source.close?.();
    throw error;
  }
}

/**
 * One emulated instance: its description, credentials and metadata port. Data flows one way:
 * config -> source -> refresher -> cache -> HTTP; a request never waits on the source. The
 * emulator is also the one implementation of the runtime controls.
 */
export class Emulator implements Controls {
  readonly config: Config;
  readonly instance: Instance;
  readonly role: Role;
  readonly refresher: Refresher;
  readonly identityCredentials: Refresher;
  readonly metricsRegistry: Metrics;
  readonly handler: (req: IncomingMessage, res: ServerResponse) => void;
  private readonly cache: ReplyCache;
  private readonly refusals: Refusals;
  private readonly board: EventBoard;
  private userData: Buffer | undefined;
  private readonly tags: Map<string, string>;
  private readonly overrides: Map<string, string>;
  private readonly signer: LazySigner;
  private readonly publicKey: string;
  private readonly servers: Server[] = [];
  private readonly source: CredentialSource;
  private readonly clock: Clock;
  private readonly log: Logger;

  constructor(parts: Parts) {
    const { config, instance, seed } = parts;
    this.config = config;
    this.clock = parts.clock;
    this.log = parts.log;
    this.instance = instance;
    this.source = parts.source;
    this.refresher = parts.refresher;
    this.identityCredentials = parts.identityCredentials;
    this.metricsRegistry = parts.metrics;
    this.refusals = parts.refusals;
    this.signer = new LazySigner({ commonName: "imds-emulator instance identity", now: () => this.clock.now() });
    this.userData = parts.userData;
    this.role = {
      name: config.roleName,
      instanceProfileArn: `arn:${instance.partition}:iam::${instance.accountId}:instance-profile/${config.roleName}`,
      instanceProfileId: `AIPA${seededHex(seed, "instance-profile", 17).toUpperCase()}`,
    };
    this.publicKey = openSshPublicKey(seed, instance.keyName);
    this.tags = new Map(Object.entries(config.tags));
    this.overrides = new Map(Object.entries(config.metadata));
    this.board = new EventBoard(
      this.clock,
      () => `instance-event-0${randomBytes(8).toString("hex")}`,
      (request) => this.log.info("event-fired", { kind: request.kind }),
    );
    this.cache = new ReplyCache(this.refresher, () => ({
      instance,
      role: this.role,
      identityCredentials: this.identityCredentials.current(),
      publicKey: this.publicKey,
      events: this.board.current(),
      userData: this.userData,
      tags: config.instanceMetadataTags ? Object.fromEntries(this.tags) : undefined,
      overrides: Object.fromEntries(this.overrides),
      sign: (document) => this.signer.signatures(document),
    }));
    this.signer.onReady(() => this.cache.rebuild());
    this.board.onChange(() => this.cache.rebuild());
    this.identityCredentials.onChange(() => this.cache.swapCredentials());
    const guard = createRequestGuard({
      listenAddresses: config.hosts,
      allowHosts: config.allowHosts,
      allowCidrs: config.allowCidrs ?? defaultAllowedCidrs(config.hosts),
      refusals: this.refusals,
    });
    const imds = holdUntilSigned(createImdsHandler({
      guard,
      refusals: this.refusals,
      httpTokens: config.httpTokens,
      httpEndpoint: config.httpEndpoint,
      tokens: createTokenAuthority(this.clock),
      clock: this.clock,
      replies: () => this.cache.replies(),
      onOutcome: this.metricsRegistry.onOutcome,
    }), this.signer);
    const containerPath = config.containerCredentials?.path;
    // HttpEndpoint=disabled turns the whole port off: the container path serves the same role's credentials.
    if (containerPath === undefined || parts.containerToken === undefined || config.httpEndpoint === "disabled") {
      this.handler = imds;
    } else {
      const container = createContainerHandler({ token: parts.containerToken, guard, reply: () => this.cache.containerReply() });
      this.handler = (req, res) => (req.url === containerPath ? container(req, res) : imds(req, res));
    }
    for (const event of config.events) this.scheduleEvent(event);
  }

  credentials() {
    return this.refresher.current()?.credentials;
  }

  health(): Health {
    return this.refresher.health();
  }

  now(): number {
    return this.clock.now();
  }

  async metrics() {
    const { registry } = this.metricsRegistry;
    return { contentType: registry.contentType, text: await registry.metrics() };
  }

  async rotateCredentials(): Promise<Health> {
    await this.refresher.refresh();
    return this.refresher.health();
  }

  events(): InstanceEvents {
    return this.board.current();
  }

  scheduleEvent(event: ScheduledEvent): number {
    const at = this.board.schedule(event);
    this.log.info("event-scheduled", { kind: event.request.kind, at: new Date(at).toISOString() });
    return at;
  }

  triggerEvent(kind: string, fields: Record<string, unknown> = {}): Date {
    return new Date(this.scheduleEvent(parseEventTrigger(kind, fields)));
  }

  clearEvent(kind: EventKind): void {
    this.board.clear(kind);
    this.log.info("event-cleared", { kind });
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

  /**
   * Starts answering on the metadata port of every host, then on the admin listener when configured:
   * on ports bound beforehand (the CLI binds them before the first STS call, see bind.ts), or bound now.
   */
  async listen(bound?: BoundListeners): Promise<{ metadata: Listening[]; admin?: Listening }> {
    const listeners = bound ?? (await bindListeners(this.config, this.log, this.refusals));
    this.servers.push(...listeners.servers);
    for (const listener of listeners.metadata) listener.open(this.handler);
    const metadata = listeners.metadata.map((listener) => listener.listening);
    const { admin } = listeners;
    if (admin === undefined) return { metadata };
    // Loaded only here: express and its middleware are most of the start-up's module loading.
    const { createAdminApp } = require("./admin/app") as typeof import("./admin/app");
    admin.open(createAdminApp(this, { guard: admin.guard, token: this.config.admin?.token }));
    return { metadata, admin: admin.listening };
  }

  async stop(): Promise<void> {
    this.refresher.stop();
    this.identityCredentials.stop();
    this.board.stop();
    this.refusals.stop();
    await this.source.close?.();
    await Promise.all(this.servers.map(close));
    this.servers.length = 0;
  }
}
