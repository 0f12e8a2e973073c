import { randomBytes } from "node:crypto";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { hostname as osHostname } from "node:os";
import { systemClock, type Clock } from "./clock";
import { checkTag, ConfigError, MAX_USER_DATA_BYTES, type Config } from "./config/config";
import { readContainerToken, readUserData } from "./config/file";
import { containerCredentialsReply, createContainerHandler } from "./container/handler";
import { createMockSource } from "./credentials/mock";
import { Refresher, type Health } from "./credentials/refresher";
import type { CredentialSource } from "./credentials/source";
import { defaultRoleSessionName } from "./credentials/arn";
import { createWorkerStsSource } from "./credentials/worker-source";
import { createAdminApp, type AdminControls } from "./admin/app";
import { Metrics } from "./admin/metrics";
import { createRequestGuard, defaultAllowedCidrs, type RequestGuard } from "./imds/guards";
import { createImdsHandler } from "./imds/handler";
import { Refusals } from "./imds/refusals";
import { compileReplies, type Reply, type ReplyTable } from "./imds/replies";
import { createTokenAuthority } from "./imds/tokens";
import { EventBoard, type EventKind, type ScheduledEvent } from "./instance/events";
import { describeInstance, seededHex, type Instance } from "./instance/instance";
import { openSshPublicKey } from "./instance/public-key";
import { createIdentitySigner, generateSigningKeys, type IdentitySigner } from "./instance/signing";
import { buildTree, type IdentitySignatures, type Role } from "./instance/tree";
import { adminConnectionLimits, metadataConnectionLimits } from "./limits";
import { close, hardenedServer, listen, type Listening } from "./listeners";
import { silentLogger, type Logger } from "./log";
import { metadataPath } from "./validation";

export interface EmulatorDeps {
  readonly clock?: Clock;
  readonly log?: Logger;
  /** Seeds the generated instance identity; the host name by default. */
  readonly seed?: string;
  /** Replaces the source the config selects (tests). */
  readonly source?: CredentialSource;
  readonly backoffRandom?: () => number;
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

function identitySignatures(signer: IdentitySigner): (document: string) => IdentitySignatures {
  return (document) => ({
    signature: signer.signature(document),
    pkcs7: signer.pkcs7(document),
    rsa2048: signer.rsa2048(document),
  });
}

/**
 * One emulated instance: its description, credentials and metadata port. Data flows one way:
 * config -> source -> refresher -> ready replies -> HTTP; a request never waits on the source.
 */
export class Emulator {
  readonly instance: Instance;
  readonly role: Role;
  readonly refresher: Refresher;
  readonly metrics: Metrics;
  readonly handler: (req: IncomingMessage, res: ServerResponse) => void;
  private replies: ReplyTable;
  private readonly guard: RequestGuard;
  private readonly refusals: Refusals;
  private container: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  private containerReply: Reply = containerCredentialsReply(undefined, "", "starting");
  readonly events: EventBoard;
  private userData: Buffer | undefined;
  private readonly tags: Map<string, string>;
  private readonly overrides: Map<string, string>;
  private signer: IdentitySigner | undefined;
  private readonly publicKey: string;
  private readonly servers: Server[] = [];
  private readonly source: CredentialSource;
  private readonly clock: Clock;
  private readonly log: Logger;

  constructor(
    readonly config: Config,
    deps: EmulatorDeps = {},
  ) {
    this.clock = deps.clock ?? systemClock;
    this.log = deps.log ?? silentLogger;
    const seed = deps.seed ?? osHostname();
    this.instance = describeInstance(config.instance, seed, this.clock.now());
    this.role = {
      name: config.roleName,
      instanceProfileArn: `arn:${this.instance.partition}:iam::${this.instance.accountId}:instance-profile/${config.roleName}`,
      instanceProfileId: `AIPA${seededHex(seed, "instance-profile", 17).toUpperCase()}`,
    };
    this.publicKey = openSshPublicKey(seed, this.instance.keyName);
    const source = deps.source ?? selectSource(config, this.instance, this.clock, this.log);
    this.source = source;
    this.refresher = new Refresher({
      source,
      clock: this.clock,
      log: this.log,
      rotateBeforeSeconds: config.rotateBeforeSeconds,
      random: deps.backoffRandom,
      onAttempt: (report) => this.metrics.onAttempt(report),
    });
    this.refusals = new Refusals(this.log, this.clock);
    this.metrics = new Metrics(source.kind, this.refresher, this.clock, this.refusals);
    this.tags = new Map(Object.entries(config.tags));
    this.overrides = new Map(Object.entries(config.metadata));
    this.userData = config.userData;
    this.events = new EventBoard(this.clock, () => `instance-event-0${randomBytes(8).toString("hex")}`, () => this.rebuild());
    this.replies = this.compile();
    this.refresher.onChange(() => this.rebuild());
    this.guard = createRequestGuard({
      listenAddresses: config.hosts,
      allowHosts: config.allowHosts,
      allowCidrs: config.allowCidrs ?? defaultAllowedCidrs(config.hosts),
      refusals: this.refusals,
    });
    const imds = createImdsHandler({
      guard: this.guard,
      refusals: this.refusals,
      httpTokens: config.httpTokens,
      httpEndpoint: config.httpEndpoint,
      tokens: createTokenAuthority(this.clock),
      replies: () => this.replies,
      onOutcome: this.metrics.onOutcome,
    });
    const containerPath = config.containerCredentials?.path;
    this.handler =
      containerPath === undefined
        ? imds
        : (req, res) => (req.url === containerPath && this.container !== undefined ? this.container(req, res) : imds(req, res));
  }

  /** Reads the user data and fetches the first credentials, so the port never answers without them. */
  async prepare(): Promise<void> {
    this.userData ??= await readUserData(this.config.userDataFile);
    const container = this.config.containerCredentials;
    if (container !== undefined) {
      this.container = createContainerHandler({
        token: await readContainerToken(container),
        guard: this.guard,
        reply: () => this.containerReply,
      });
    }
    const [keys] = await Promise.all([generateSigningKeys(), this.refresher.start()]);
    this.signer = createIdentitySigner({ commonName: "imds-emulator instance identity", now: this.clock.now(), keys });
    for (const event of this.config.events) this.scheduleEvent(event);
    this.rebuild();
  }

  scheduleEvent(event: ScheduledEvent): number {
    const at = this.events.schedule(event);
    this.log.info("event-scheduled", { kind: event.request.kind, at: new Date(at).toISOString() });
    return at;
  }

  clearEvent(kind: EventKind): void {
    this.events.clear(kind);
    this.log.info("event-cleared", { kind });
  }

  setTag(key: string, value: string): void {
    checkTag("tag", key, value);
    this.tags.set(key, value);
    this.rebuild();
  }

  /** False when there was no such tag. */
  removeTag(key: string): boolean {
    const removed = this.tags.delete(key);
    this.rebuild();
    return removed;
  }

  /** Sets or adds any path below `meta-data/`, as the config file's `metadata` does. */
  setMetadata(path: string, value: string): void {
    this.overrides.set(metadataPath("metadata", path), value);
    this.rebuild();
  }

  /** Takes back a path set with setMetadata or the config file; false when there was none. */
  removeMetadata(path: string): boolean {
    const removed = this.overrides.delete(metadataPath("metadata", path));
    this.rebuild();
    return removed;
  }

  setUserData(data: Buffer | undefined): void {
    if (data !== undefined && data.length > MAX_USER_DATA_BYTES) {
      throw new ConfigError(`user-data: expected at most ${MAX_USER_DATA_BYTES} bytes, got ${data.length} bytes`);
    }
    this.userData = data;
    this.rebuild();
  }

  /** Rotates the credentials now (or joins a rotation under way) and reports the health after it. */
  async rotateCredentials(): Promise<Health> {
    await this.refresher.refresh();
    return this.refresher.health();
  }

  /** The certificate that verifies the identity document's signature, pkcs7 and rsa2048. */
  identityCertificate(): string | undefined {
    return this.signer?.certificatePem;
  }

  /** Opens the metadata port on every host, then the admin listener when configured. */
  async listen(): Promise<{ metadata: Listening[]; admin?: Listening }> {
    const metadata: Listening[] = [];
    const limits = metadataConnectionLimits(this.config.maxConnections, this.config.hosts.length, this.guard.callerAllowed, this.refusals);
    for (const host of this.config.hosts) {
      metadata.push(await this.open(hardenedServer(this.handler, this.log, limits), host, this.config.port, "listening"));
    }
    const { admin } = this.config;
    if (admin === undefined) return { metadata };
    const guard = createRequestGuard({
      listenAddresses: [admin.host],
      allowHosts: this.config.allowHosts,
      allowCidrs: admin.token === undefined ? defaultAllowedCidrs([admin.host]) : ["0.0.0.0/0", "::/0"],
      refusals: this.refusals,
    });
    const app = createAdminApp(this.adminControls(), { guard, token: admin.token });
    const server = hardenedServer(app, this.log, adminConnectionLimits(guard.callerAllowed, this.refusals));
    return { metadata, admin: await this.open(server, admin.host, admin.port, "admin-listening") };
  }

  adminControls(): AdminControls {
    return {
      metrics: this.metrics,
      health: () => this.refresher.health(),
      now: () => this.clock.now(),
      events: () => this.events.current(),
      scheduleEvent: (event) => this.scheduleEvent(event),
      clearEvent: (kind) => this.clearEvent(kind),
      setTag: (key, value) => this.setTag(key, value),
      removeTag: (key) => this.removeTag(key),
      setUserData: (data) => this.setUserData(data),
      setMetadata: (path, value) => this.setMetadata(path, value),
      removeMetadata: (path) => this.removeMetadata(path),
      rotateCredentials: () => this.rotateCredentials(),
      identityCertificate: () => this.identityCertificate(),
    };
  }

  private async open(server: Server, host: string, port: number, event: string): Promise<Listening> {
    const listening = await listen(server, host, port);
    this.servers.push(server);
    this.log.info(event, { ...listening });
    return listening;
  }

  async stop(): Promise<void> {
    this.refresher.stop();
    this.events.stop();
    await this.source.close?.();
    await Promise.all(this.servers.map(close));
    this.servers.length = 0;
  }

  private compile(): ReplyTable {
    return compileReplies(
      buildTree({
        instance: this.instance,
        role: this.role,
        credentials: this.refresher.current(),
        credentialsUnavailableReason: this.refresher.health().reason ?? "the credential source has not answered yet",
        publicKey: this.publicKey,
        events: this.events.current(),
        userData: this.userData,
        tags: this.config.instanceMetadataTags ? Object.fromEntries(this.tags) : undefined,
        overrides: Object.fromEntries(this.overrides),
        sign: this.signer && identitySignatures(this.signer),
      }),
    );
  }

  private rebuild(): void {
    this.replies = this.compile();
    this.containerReply = containerCredentialsReply(
      this.refresher.current(),
      this.instance.accountId,
      this.refresher.health().reason ?? "the credential source has not answered yet",
    );
  }
}
