/**
 * The library API, for other projects' test suites:
 *
 *   const imds = await startEmulator({ roleName: "app", httpTokens: "required" });
 *   Object.assign(process.env, imds.env);   // unmodified SDKs now find it
 *   ...
 *   await imds.stop();
 */
import { resolveConfig } from "./config/config";
import type { OptionName } from "./config/options";
import type { Credentials, CredentialSource } from "./credentials/source";
import type { Health } from "./credentials/refresher";
import { Emulator } from "./emulator";
import { parseEventRequest, type EventKind, type InstanceEvents } from "./instance/events";
import type { Instance } from "./instance/instance";
import { createLogger, silentLogger, type LogLevel } from "./log";
import { duration } from "./validation";

type Camel<S extends string> = S extends `${infer Head}-${infer Tail}` ? `${Head}${Capitalize<Camel<Tail>>}` : S;

/** Every command-line option, camel-cased (`roleArn`, `httpTokens`, `durationSeconds`, ...). */
export type EmulatorOptions = {
  readonly [K in Exclude<OptionName, "config" | "log-level"> as Camel<K>]?: string | number | readonly string[];
} & {
  readonly tags?: Readonly<Record<string, string>>;
  /** Paths below `meta-data/`, set or added verbatim. */
  readonly metadata?: Readonly<Record<string, string>>;
  readonly userData?: string | Buffer;
  /** Log lines (one JSON object each) go here; silent by default. */
  readonly log?: (line: string) => void;
  readonly logLevel?: LogLevel;
  /** Replaces the credential source the options select (a stub, a counter). */
  readonly source?: CredentialSource;
};

export interface RunningEmulator {
  /** The metadata endpoint, e.g. http://127.0.0.1:40123. */
  readonly url: string;
  /** The admin listener, when `adminPort` was given. */
  readonly adminUrl?: string;
  /** What to put in a client's environment so that an unmodified SDK finds this emulator. */
  readonly env: Readonly<Record<string, string>>;
  readonly instance: Instance;
  /** The credentials being served now. */
  credentials(): Credentials | undefined;
  health(): Health;
  rotateCredentials(): Promise<Health>;
  setMetadata(path: string, value: string): void;
  removeMetadata(path: string): boolean;
  setTag(key: string, value: string): void;
  removeTag(key: string): boolean;
  setUserData(data: string | Buffer | undefined): void;
  /** Fires an EC2 event now, or after `after` (`30s`, `2m`); see README "Simulating EC2 events". */
  triggerEvent(kind: EventKind, fields?: Record<string, unknown> & { after?: string | number }): Date;
  clearEvent(kind: EventKind): void;
  events(): InstanceEvents;
  stop(): Promise<void>;
}

const kebab = (name: string) => name.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);
const LIBRARY_KEYS = new Set(["tags", "metadata", "userData", "log", "logLevel", "source"]);

/** Starts an in-process emulator on a free loopback port, on the mock source unless told otherwise. */
export async function startEmulator(options: EmulatorOptions = {}): Promise<RunningEmulator> {
  const cli: Record<string, unknown> = { host: ["127.0.0.1"], port: 0 };
  for (const [key, value] of Object.entries(options)) {
    if (value !== undefined && !LIBRARY_KEYS.has(key)) cli[kebab(key)] = Array.isArray(value) ? value.map(String) : String(value);
  }
  const file = { path: "startEmulator() options", data: { tags: options.tags ?? {}, metadata: options.metadata ?? {} } };
  const config = resolveConfig(cli, {}, file);
  const log = options.log === undefined ? silentLogger : createLogger(options.logLevel ?? "info", options.log);
  const emulator = new Emulator(config, { log, source: options.source });
  if (options.userData !== undefined) emulator.setUserData(Buffer.from(options.userData));
  await emulator.prepare();
  const { metadata, admin } = await emulator.listen();
  const url = metadata[0]!.url;
  return {
    url,
    adminUrl: admin?.url,
    env: {
      AWS_EC2_METADATA_SERVICE_ENDPOINT: url,
      AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE: url.includes("[") ? "IPv6" : "IPv4",
      AWS_EC2_METADATA_DISABLED: "false",
    },
    instance: emulator.instance,
    credentials: () => emulator.refresher.current()?.credentials,
    health: () => emulator.refresher.health(),
    rotateCredentials: () => emulator.rotateCredentials(),
    setMetadata: (path, value) => emulator.setMetadata(path, value),
    removeMetadata: (path) => emulator.removeMetadata(path),
    setTag: (key, value) => emulator.setTag(key, value),
    removeTag: (key) => emulator.removeTag(key),
    setUserData: (data) => emulator.setUserData(data === undefined ? undefined : Buffer.from(data)),
    triggerEvent: (kind, fields = {}) => {
      const request = parseEventRequest(kind, fields);
      const afterMs = fields.after === undefined ? 0 : duration("after", fields.after);
      return new Date(emulator.scheduleEvent({ request, afterMs }));
    },
    clearEvent: (kind) => emulator.clearEvent(kind),
    events: () => emulator.events.current(),
    stop: () => emulator.stop(),
  };
}

export type { Credentials, CredentialSource } from "./credentials/source";
export type { Health } from "./credentials/refresher";
export type { EventKind, InstanceEvents } from "./instance/events";
export type { Instance } from "./instance/instance";
export { ConfigError } from "./validation";
