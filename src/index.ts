/**
 * The library API, for other projects' test suites:
 *
 *   const imds = await startEmulator({ roleName: "app", httpTokens: "required" });
 *   Object.assign(process.env, imds.env);   // unmodified SDKs now find it
 *   ...
 *   await imds.stop();
 */
import { resolveLibraryOptions } from "./config/config";
import { checkUserData, stringMap, tagMap } from "./config/description";
import type { TypedOptions } from "./config/schema";
import type { Controls } from "./controls";
import type { CredentialSource } from "./credentials/source";
import { createEmulator } from "./emulator";
import { createLogger, silentLogger } from "./log";

/** Every option of the CLI but `--config`, camel-cased and typed, plus what only a library can pass. */
export type EmulatorOptions = TypedOptions & {
  readonly tags?: Readonly<Record<string, string>>;
  /** Paths below `meta-data/`, set or added verbatim. */
  readonly metadata?: Readonly<Record<string, string>>;
  readonly userData?: string | Buffer;
  /** Log lines (one JSON object each) go here; silent by default. */
  readonly log?: (line: string) => void;
  /** Replaces the credential source the options select (a stub, a counter). */
  readonly source?: CredentialSource;
  /**
   * Several instances, written as the config file's `instances:` entries (kebab-case option names):
   * `[{ name: "web", callers: ["127.0.0.2"], "role-name": "web-role" }]`. Reach one with `named("web")`.
   */
  readonly instances?: ReadonlyArray<Readonly<Record<string, unknown>>>;
};

/** A running emulator: its addresses, and the same controls the admin listener serves. */
export interface RunningEmulator extends Controls {
  /** The metadata endpoint, e.g. http://127.0.0.1:40123. */
  readonly url: string;
  /** The admin listener, when `adminPort` was given. */
  readonly adminUrl?: string;
  /** What to put in a client's environment so that an unmodified SDK finds this emulator. */
  readonly env: Readonly<Record<string, string>>;
  stop(): Promise<void>;
}

/** Starts an in-process emulator on a free loopback port, on the mock source unless told otherwise. */
export async function startEmulator(options: EmulatorOptions = {}): Promise<RunningEmulator> {
  const where = (key: string) => `startEmulator: ${key}`;
  const sections = {
    tags: tagMap(where("tags"), options.tags ?? {}),
    metadata: stringMap(where("metadata"), options.metadata ?? {}),
    userData: options.userData === undefined ? undefined : checkUserData(where("userData"), Buffer.from(options.userData)),
  };
  const config = resolveLibraryOptions(options, sections, options.instances);
  const log = options.log === undefined ? silentLogger : createLogger(config.logLevel, options.log);
  const emulator = await createEmulator(config, { log, source: options.source });
  const { metadata, admin } = await emulator.listen();
  const url = metadata[0]!.url;
  return Object.assign(emulator, {
    url,
    adminUrl: admin?.url,
    env: {
      AWS_EC2_METADATA_SERVICE_ENDPOINT: url,
      AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE: url.includes("[") ? "IPv6" : "IPv4",
      AWS_EC2_METADATA_DISABLED: "false",
    },
  });
}

export type { Controls } from "./controls";
export type { Credentials, CredentialSource } from "./credentials/source";
export type { Health } from "./credentials/refresher";
export type { EventKind } from "./config/events";
export type { InstanceEvents } from "./instance/events";
export type { Instance } from "./instance/instance";
export { ConfigError } from "./validation";
