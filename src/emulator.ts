import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { hostname as osHostname } from "node:os";
import { isoTime, systemClock, type Clock } from "./clock";
import { defaultRoleSessionName } from "./config/arn";
import type { Config, InstanceConfig } from "./config/config";
import type { EventKind, ScheduledEvent } from "./config/events";
import { readContainerToken, readUserData } from "./config/file";
import { ConfigError } from "./validation";
import { createMockSource } from "./credentials/mock";
import { RefresherPool } from "./credentials/pool";
import type { Health, Refresher } from "./credentials/refresher";
import type { CredentialSource } from "./credentials/source";
import { createWorkerStsSource } from "./credentials/worker-source";
import type { InstanceEvents } from "./instance/events";
import { createIdentityCredentials } from "./instance/identity-credentials";
import { describeInstance, type Instance } from "./instance/instance";
import { LazySigner } from "./instance/lazy-signer";
import type { Role } from "./instance/tree";
import { CallerMap, type CallerEntry, type Callers } from "./callers/caller-map";
import type { Redirect } from "./kubernetes/dnat";
import { openNode, podEntry } from "./kubernetes/node-mode";
import { PodCallers } from "./kubernetes/pod-callers";
import { informerPods, podName, type PodSource } from "./kubernetes/pods";
import { createContainerHandler } from "./container/handler";
import { createRequestGuard, metadataPortPolicy, type RequestGuard } from "./imds/guards";
import { createImdsHandler, type InstanceSelection } from "./imds/handler";
import { holdUntilSigned } from "./imds/signing-hold";
import { Metrics } from "./admin/metrics";
import type { Controls, InstanceControls, InstanceSummary } from "./controls";
import { bindListeners, type BoundListeners } from "./bind";
import { close, type Listening } from "./listeners";
import { Refusals } from "./refusals";
import { ServedInstance } from "./served-instance";
import { silentLogger, type Logger } from "./log";
import type { CredentialOverride } from "./cache/credential-override";
import { parseFaultRule, type FaultRule } from "./config/fault-rule";
import { FaultBoard, type FaultListing } from "./faults/board";
import { readScenario, type ScenarioStep } from "./faults/scenario";
import { playScenario } from "./faults/scenario-player";

export interface EmulatorDeps {
  readonly clock?: Clock;
  readonly log?: Logger;
  /** Seeds the generated instance identity; the host name by default. */
  readonly seed?: string;
  /** Replaces the source the config selects, for every role (tests). */
  readonly source?: CredentialSource;
  readonly backoffRandom?: () => number;
  /** Resolves caller names (tests); the system resolver by default. */
  readonly resolve?: (name: string) => Promise<string[]>;
  /** Node mode's pods (tests); the Kubernetes informer by default. */
  readonly pods?: PodSource;
  /** The iptables command node mode runs (tests). */
  readonly iptables?: string;
  /** Draws for fault rules with a probability (tests); Math.random by default. */
  readonly random?: () => number;
  /** The refusal log and counts, when the caller made them first (the CLI binds its ports before the emulator exists). */
  readonly refusals?: Refusals;
}

/** The name of the top-level instance among the `instances:` entries. */
export const DEFAULT_INSTANCE = "default";

function selectSource(config: InstanceConfig, instance: Instance, clock: Clock, log: Logger): CredentialSource {
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

/** What makes two instances' credentials the same role: its source and lifetime (the mock source's account and name too). */
function roleKey(config: InstanceConfig, instance: Instance): string {
  const { sts, durationSeconds, rotateBeforeSeconds, roleName } = config;
  return JSON.stringify(sts === undefined ? { roleName, accountId: instance.accountId, durationSeconds, rotateBeforeSeconds } : { sts, durationSeconds, rotateBeforeSeconds });
}

// Loaded with the first caller given by name (instances: entries): a start with one instance never resolves a name.
const systemResolve = async (name: string) => {
  const { lookup } = require("node:dns/promises") as typeof import("node:dns/promises");
  return (await lookup(name, { all: true })).map((entry) => entry.address);
};

/**
 * Builds an emulator: every fallible step (files, the first credentials of every role, the signing
 * key, the callers' names) is done before it returns, so the emulator it gives is complete and its
 * port never answers without them.
 */
export async function createEmulator(config: Config, deps: EmulatorDeps = {}): Promise<Emulator> {
  const clock = deps.clock ?? systemClock;
  const log = deps.log ?? silentLogger;
  const seed = deps.seed ?? osHostname();
  const pool = new RefresherPool(clock, log, deps.backoffRandom, !config.waitForCredentials);
  const identities: Refresher[] = [];
  const refusals = deps.refusals ?? new Refusals(log, clock);
  const [containerToken, scenario, ...userData] = await Promise.all([
    config.containerCredentials === undefined ? undefined : readContainerToken(config.containerCredentials),
    config.scenario === undefined ? undefined : readScenario(config.scenario),
    config.userData ?? readUserData(config.userDataFile),
    ...config.instances.map((entry) => entry.userData ?? readUserData(entry.userDataFile)),
  ]);
  // Made on the first request that needs a signature (a fresh daemon's start does no RSA work).
  const signer = new LazySigner({ commonName: "imds-emulator instance identity", now: () => clock.now() });

  /** One instance: its role's refresher from the pool, identity credentials of its own. */
  const serve = (name: string, settings: InstanceConfig, instanceSeed: string, data: Buffer | undefined, identity?: Refresher) => {
    const instance = describeInstance(settings.instance, instanceSeed, clock.now());
    const refresher = pool.get(roleKey(settings, instance), settings.roleName, settings.rotateBeforeSeconds, () => deps.source ?? selectSource(settings, instance, clock, log));
    const identityCredentials = identity ?? identityFor(settings, instance);
    return new ServedInstance({ name, config: settings, instance, seed: instanceSeed, clock, log, refresher, identityCredentials, signer, userData: data });
  };
  const identityFor = (settings: InstanceConfig, instance: Instance) => {
    const { durationSeconds, rotateBeforeSeconds } = settings;
    const refresher = createIdentityCredentials({ accountId: instance.accountId, durationSeconds, rotateBeforeSeconds, clock, log });
    identities.push(refresher);
    return refresher;
  };

  try {
    const top = serve(DEFAULT_INSTANCE, config, seed, userData[0]);
    // One emulator is one account, unless an entry says otherwise.
    const inAccount = (settings: InstanceConfig): InstanceConfig => ({ ...settings, instance: { ...settings.instance, accountId: settings.instance.accountId ?? top.instance.accountId } });
    const entries = config.instances.map((configured, index): CallerEntry<ServedInstance> => {
      const entry = { ...configured, ...inAccount(configured) };
      const entrySeed = `${seed}/${entry.name}`;
      const data = userData[index + 1];
      if (!entry.onePerCaller) return { name: entry.name, callers: entry.callers, target: { kind: "one", value: serve(entry.name, entry, entrySeed, data) } };
      // Members share the template's account, identity credentials and role; each has its own id, MAC, address and tokens.
      const template = describeInstance(entry.instance, entrySeed, clock.now());
      const identity = identityFor(entry, template);
      return {
        name: entry.name,
        callers: entry.callers,
        target: {
          kind: "each",
          make: (address) => {
            const localIpv4 = entry.instance.localIpv4 ?? (address.includes(".") ? address : undefined);
            const instance = { ...entry.instance, localIpv4, accountId: template.accountId };
            return serve(`${entry.name}@${address}`, { ...entry, instance }, `${entrySeed}/${address}`, data, identity);
          },
        },
      };
    });
    const metrics = new Metrics(top.refresher.health().source, top.refresher, clock, refusals);
    for (const { refresher } of pool.roles()) if (refresher !== top.refresher) metrics.countAttempts(refresher);
    if (config.instances.length > 0 || config.kubernetes !== undefined) metrics.watchRoles(() => pool.roles());
    await Promise.all([pool.start(), ...identities.map((identity) => identity.start())]);
    const { kubernetes } = config;
    const callers =
      kubernetes !== undefined
        ? new PodCallers<ServedInstance>({
            source: deps.pods ?? informerPods(kubernetes.nodeName, (message) => log.warn("pod-watch-error", { message })),
            make: (pod) => {
              const entry = inAccount(config.entry(podEntry(pod, config.sts?.roleArn), `pod ${podName(pod)} annotations`));
              return serve(podName(pod), entry, `${seed}/${pod.uid}`, undefined);
            },
            drop: (instance) => instance.stop(),
            clock,
            log,
          })
        : config.instances.length === 0
          ? undefined
          : new CallerMap(entries, {
              resolve: deps.resolve ?? systemResolve,
              clock,
              log,
              fallback: config.unknownCallers === "default" ? top : undefined,
            });
    await callers?.start();
    const faults = new FaultBoard(clock, log, deps.random);
    return new Emulator({ config, clock, log, top, callers, pool, identities, metrics, refusals, containerToken, iptables: deps.iptables, faults, scenario, signer });
  } catch (error) {
    for (const identity of identities) identity.stop();
    await pool.stop();
    throw error;
  }
}

interface Parts {
  readonly config: Config;
  readonly clock: Clock;
  readonly log: Logger;
  readonly top: ServedInstance;
  readonly callers: Callers<ServedInstance> | undefined;
  readonly pool: RefresherPool;
  readonly identities: readonly Refresher[];
  readonly metrics: Metrics;
  /** Every refusal counted and logged within a budget, shared by the guards and the connection caps. */
  readonly refusals: Refusals;
  readonly containerToken: string | undefined;
  readonly iptables: string | undefined;
  readonly signer: LazySigner;
  readonly faults: FaultBoard;
  /** Played from the moment the metadata port opens. */
  readonly scenario: readonly ScenarioStep[] | undefined;
}

/**
 * The emulator: its instances (the top level's, and one per `instances:` entry or caller), the
 * metadata port that finds each request's instance by its caller's address, and the admin listener.
 * Data flows one way: config -> sources -> refreshers -> cache -> HTTP; a request never waits on a
 * source. It is also the one implementation of the runtime controls, whose instance operations act
 * on the top-level instance.
 */
export class Emulator implements Controls {
  readonly config: Config;
  readonly metricsRegistry: Metrics;
  readonly handler: (req: IncomingMessage, res: ServerResponse) => void;
  /** The top-level instance: every caller's without `instances:`, and `default`'s with it. */
  private readonly top: ServedInstance;
  private readonly callers: Callers<ServedInstance> | undefined;
  private readonly pool: RefresherPool;
  private readonly identities: readonly Refresher[];
  private readonly guard: RequestGuard;
  private readonly refusals: Refusals;
  private readonly servers: Server[] = [];
  private redirect: Redirect | undefined;
  private readonly iptables: string | undefined;
  private readonly bySocket = new WeakMap<Socket, { readonly generation: number; readonly instance: ServedInstance }>();
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly faultBoard: FaultBoard;
  private readonly scenario: readonly ScenarioStep[] | undefined;
  private scenarioPlayer: { stop(): void } | undefined;

  constructor(parts: Parts) {
    const { config } = parts;
    this.config = config;
    this.clock = parts.clock;
    this.log = parts.log;
    this.top = parts.top;
    this.callers = parts.callers;
    this.pool = parts.pool;
    this.identities = parts.identities;
    this.metricsRegistry = parts.metrics;
    this.refusals = parts.refusals;
    this.iptables = parts.iptables;
    this.faultBoard = parts.faults;
    this.scenario = parts.scenario;
    for (const rule of config.faults) this.addRule(rule);
    this.guard = createRequestGuard({ ...metadataPortPolicy(config), allowHosts: config.allowHosts, refusals: this.refusals });
    const select = (req: IncomingMessage) => this.select(req);
    const answer = createImdsHandler({ guard: this.guard, refusals: this.refusals, select, clock: this.clock, onOutcome: this.metricsRegistry.onOutcome, faults: this.faultBoard });
    const imds = holdUntilSigned(answer, parts.signer);
    const containerPath = config.containerCredentials?.path;
    const token = parts.containerToken;
    // HttpEndpoint=disabled turns the whole port off: the container path serves the same role's credentials.
    if (containerPath === undefined || token === undefined || config.httpEndpoint === "disabled") {
      this.handler = imds;
    } else {
      const reply = () => this.top.containerReply();
      const container = createContainerHandler({ token, guard: this.guard, reply });
      this.handler = (req, res) => (req.url === containerPath ? container(req, res) : imds(req, res));
    }
  }

  /**
   * The caller's instance: the top level's without `instances:`, else the entry that names the
   * caller. A keep-alive connection asks once, until the callers' addresses next change hands.
   */
  private select(req: IncomingMessage): InstanceSelection {
    const { callers } = this;
    if (callers === undefined) return this.top;
    const socket = req.socket;
    const cached = this.bySocket.get(socket);
    if (cached !== undefined && cached.generation === callers.generation) return cached.instance;
    const found = callers.select(socket.remoteAddress);
    return found instanceof Promise ? found.then((instance) => this.remember(socket, instance)) : this.remember(socket, found);
  }

  private remember(socket: Socket, instance: ServedInstance | undefined): ServedInstance | undefined {
    if (instance === undefined) this.refusals.record("unknown-caller", socket.remoteAddress ?? "unknown");
    else this.bySocket.set(socket, { generation: this.callers!.generation, instance });
    return instance;
  }

  get name(): string {
    return this.top.name;
  }

  get instance(): Instance {
    return this.top.instance;
  }

  get role(): Role {
    return this.top.role;
  }

  /** The top-level instance's role credentials. */
  get refresher(): Refresher {
    return this.top.refresher;
  }

  get identityCredentials(): Refresher {
    return this.top.identityCredentials;
  }

  now(): number {
    return this.clock.now();
  }

  async metrics() {
    const { registry } = this.metricsRegistry;
    return { contentType: registry.contentType, text: await registry.metrics() };
  }

  named(name: string): InstanceControls {
    if (name === DEFAULT_INSTANCE) return this.top;
    const found = this.callers?.listed().find((listed) => listed.name === name);
    if (found !== undefined) return found.value;
    const known = this.instances().map((summary) => summary.name);
    throw new ConfigError(`instance: no instance is named ${JSON.stringify(name)}; there are ${known.join(", ")}`);
  }

  instances(): readonly InstanceSummary[] {
    const summary = (served: ServedInstance, callers: readonly string[], addresses: readonly string[]): InstanceSummary => {
      const health = served.health();
      return {
        name: served.name,
        instanceId: served.instance.instanceId,
        callers,
        addresses,
        role: served.role.name,
        credentialsExpiration: isoTime(health.expiration),
        health: health.status,
      };
    };
    const everyone = this.callers === undefined || this.config.unknownCallers === "default";
    const listed = this.callers?.listed() ?? [];
    return [summary(this.top, everyone ? ["*"] : [], []), ...listed.map(({ value, callers, addresses }) => summary(value, callers, addresses))];
  }

  addFault(rule: string | Readonly<Record<string, unknown>>): string {
    return this.addRule(parseFaultRule(rule, "fault"));
  }

  private addRule(rule: FaultRule): string {
    if (rule.instance !== undefined) this.checkInstanceName(rule.instance);
    return this.faultBoard.add(rule);
  }

  faults(): readonly FaultListing[] {
    return this.faultBoard.list();
  }

  clearFaults(): number {
    return this.faultBoard.clear();
  }

  /** A rule may name an instance that exists or may appear: an entry, its template's members, the top level, a pod. */
  private checkInstanceName(name: string): void {
    if (this.config.kubernetes !== undefined && /^[a-z0-9-]+\/[a-z0-9.-]+$/.test(name)) return;
    const entry = name.includes("@") ? name.slice(0, name.indexOf("@")) : name;
    const names = [DEFAULT_INSTANCE, ...this.config.instances.map((candidate) => candidate.name)];
    if (!names.includes(entry)) throw new ConfigError(`fault.instance: no instance is named ${JSON.stringify(name)}; there are ${names.join(", ")}`);
  }

  credentials() {
    return this.top.credentials();
  }

  overrideCredentials(fields: Record<string, unknown>): CredentialOverride {
    return this.top.overrideCredentials(fields);
  }

  clearCredentialOverride(): boolean {
    return this.top.clearCredentialOverride();
  }

  health(): Health {
    return this.top.health();
  }

  rotateCredentials(): Promise<Health> {
    return this.top.rotateCredentials();
  }

  events(): InstanceEvents {
    return this.top.events();
  }

  scheduleEvent(event: ScheduledEvent): number {
    return this.top.scheduleEvent(event);
  }

  triggerEvent(kind: string, fields: Record<string, unknown> = {}): Date {
    return this.top.triggerEvent(kind, fields);
  }

  clearEvent(kind: EventKind): void {
    this.top.clearEvent(kind);
  }

  setTag(key: string, value: string): void {
    this.top.setTag(key, value);
  }

  removeTag(key: string): boolean {
    return this.top.removeTag(key);
  }

  setMetadata(path: string, value: string): void {
    this.top.setMetadata(path, value);
  }

  removeMetadata(path: string): boolean {
    return this.top.removeMetadata(path);
  }

  setUserData(data: string | Buffer | undefined): void {
    this.top.setUserData(data);
  }

  identityCertificate(): string {
    return this.top.identityCertificate();
  }

  /** Opens the metadata port on every host, then the admin listener when configured. */
  /**
   * Starts answering on the metadata port of every host, then on the admin listener when configured:
   * on ports bound beforehand (the CLI binds them before the first STS call, see bind.ts), or bound now.
   */
  async listen(bound?: BoundListeners): Promise<{ metadata: Listening[]; admin?: Listening }> {
    const listeners = bound ?? (await bindListeners(this.config, this.log, this.refusals));
    this.servers.push(...listeners.servers);
    // The replies are built at their first read, or at the first idle turn after the first answer
    // (usually a token's), while that client reads it and sends its next request. Built at the first
    // idle turn after the ports open, they delayed that answer: the client's token request is often
    // waiting by then, as the ports are bound early and hold what arrives during the start.
    let answered = false;
    const first = (req: IncomingMessage, res: ServerResponse) => {
      this.handler(req, res);
      if (answered) return;
      answered = true;
      for (const listener of listeners.metadata) listener.open(this.handler);
      setImmediate(() => this.top.replies());
    };
    for (const listener of listeners.metadata) listener.open(first);
    const metadata = listeners.metadata.map((listener) => listener.listening);
    const { kubernetes } = this.config;
    if (kubernetes !== undefined) this.redirect = await openNode(kubernetes, metadata[0]!, this.log, this.iptables);
    if (this.scenario !== undefined && this.scenarioPlayer === undefined) this.scenarioPlayer = playScenario(this.scenario, this, this.clock, this.log);
    const { admin } = listeners;
    if (admin === undefined) return { metadata };
    // Loaded only here: express and its middleware are most of the start-up's module loading.
    const { createAdminApp } = require("./admin/app") as typeof import("./admin/app");
    admin.open(createAdminApp(this, { guard: admin.guard, token: this.config.admin?.token }));
    return { metadata, admin: admin.listening };
  }

  async stop(): Promise<void> {
    this.scenarioPlayer?.stop();
    this.faultBoard.stop();
    this.callers?.stop();
    this.top.stop();
    for (const { value } of this.callers?.listed() ?? []) value.stop();
    for (const identity of this.identities) identity.stop();
    this.refusals.stop();
    await this.redirect?.remove();
    await this.pool.stop();
    await Promise.all(this.servers.map(close));
    this.servers.length = 0;
  }
}
