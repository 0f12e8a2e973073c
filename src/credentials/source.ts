/** What every credential source hands the refresher. */
export interface Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
  /** Epoch milliseconds. */
  readonly expiration: number;
  readonly accountId?: string;
}

export interface CredentialSource {
  /** Short name for logs and health: "mock", "sts", "web-identity". */
  readonly kind: string;
  fetch(): Promise<Credentials>;
  /** Releases what the source holds (a worker thread); the emulator calls it on stop. */
  close?(): Promise<void>;
}

/**
 * Why a fetch failed, as the refresher, its logs and its metrics name it.
 * Sources throw SourceError so the refresher never has to guess from SDK internals.
 */
export type FailureClass =
  | "throttling"
  | "server-error"
  | "timeout"
  | "connection"
  | "malformed-response"
  | "access-denied"
  | "expired-token"
  | "invalid-config"
  | "unknown";

export class SourceError extends Error {
  constructor(
    readonly failureClass: FailureClass,
    message: string,
  ) {
    super(message);
    this.name = "SourceError";
  }
}
