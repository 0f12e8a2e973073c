import {
  AssumeRoleCommand,
  AssumeRoleWithWebIdentityCommand,
  STSClient,
  type AssumeRoleCommandOutput,
} from "@aws-sdk/client-sts";
import {
  createCredentialChain,
  fromEnv,
  fromHttp,
  fromIni,
  fromProcess,
  fromSSO,
  fromTokenFile,
} from "@aws-sdk/credential-providers";
import type { AwsCredentialIdentityProvider } from "@smithy/types";
import { accountIdFromArn } from "../config/arn";
import { DEFAULT_STS_CALL_TIMEOUT_MS } from "./deadline";
import { SourceError, type CredentialSource, type Credentials, type FailureClass } from "./source";
import { readBounded } from "../bounded-read";

export interface StsSourceOptions {
  roleArn: string;
  roleSessionName: string;
  durationSeconds: number;
  externalId?: string;
  region: string;
  /** Full URL, e.g. http://127.0.0.1:5000 for moto. */
  endpoint?: string;
  /** When set, the source calls AssumeRoleWithWebIdentity with this file's contents. */
  webIdentityTokenFile?: string;
  /** Bounds the connect, the wait for the answer's first byte, and each silence after it. */
  requestTimeoutMs?: number;
  /** Bounds the whole call; see DEFAULT_STS_CALL_TIMEOUT_MS. */
  callTimeoutMs?: number;
}

export interface StsSourceDeps {
  /** Credentials that sign AssumeRole; defaults to sourceCredentialChain(). */
  sourceCredentials?: AwsCredentialIdentityProvider;
  readFile?: (path: string) => Promise<string>;
}

const DEFAULT_REQUEST_TIMEOUT_MS = 5000;

/**
 * "auto" defaults mode makes SDK clients ask IMDS for the host's region; pinning a mode keeps
 * every client this module builds (and the nested ones inside credential providers) off IMDS.
 */
const DEFAULTS_MODE = "standard";
/** STS takes a WebIdentityToken of at most 20,000 characters (AssumeRoleWithWebIdentity API reference). */
const MAX_WEB_IDENTITY_TOKEN_BYTES = 20_000;

export function createStsSource(options: StsSourceOptions, deps: StsSourceDeps = {}): CredentialSource {
  const tokenFile = options.webIdentityTokenFile;
  const read = deps.readFile ?? (async (path: string) => (await readBounded(path, MAX_WEB_IDENTITY_TOKEN_BYTES)).toString("utf8"));
  const timeout = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const callTimeout = options.callTimeoutMs ?? DEFAULT_STS_CALL_TIMEOUT_MS;
  const client = new STSClient({
    region: options.region,
    endpoint: options.endpoint,
    defaultsMode: DEFAULTS_MODE,
    // The refresher owns retries and backoff.
    maxAttempts: 1,
    // requestTimeout bounds the wait for response headers (it only warns unless told to throw);
    // socketTimeout bounds a body that stalls after them.
    requestHandler: {
      connectionTimeout: timeout,
      requestTimeout: timeout,
      throwOnRequestTimeout: true,
      socketTimeout: timeout,
    },
    // AssumeRoleWithWebIdentity is unsigned; an explicit provider makes sure that, should the SDK
    // ever want credentials for it, it fails instead of falling back to its default chain (and IMDS).
    credentials: tokenFile ? refuseCredentials : (deps.sourceCredentials ?? sourceCredentialChain()),
  });

  const label = `${tokenFile ? "AssumeRoleWithWebIdentity" : "AssumeRole"} ${options.roleArn}`;
  const request = {
    RoleArn: options.roleArn,
    RoleSessionName: options.roleSessionName,
    DurationSeconds: options.durationSeconds,
  };

  return {
    kind: tokenFile ? "web-identity" : "sts",
    async fetch() {
      let token: string | undefined;
      // The SDK honours the signal while the answer's body is still arriving, and drops the connection.
      const deadline = AbortSignal.timeout(callTimeout);
      try {
        let output: Pick<AssumeRoleCommandOutput, "Credentials" | "AssumedRoleUser">;
        if (tokenFile) {
          // Re-read every time: projected tokens (EKS, GitHub OIDC) are rotated on disk.
          token = await readToken(read, tokenFile);
          const command = new AssumeRoleWithWebIdentityCommand({ ...request, WebIdentityToken: token });
          output = await client.send(command, { abortSignal: deadline });
        } else {
          output = await client.send(new AssumeRoleCommand({ ...request, ExternalId: options.externalId }), { abortSignal: deadline });
        }
        return toCredentials(output, options.roleArn);
      } catch (error) {
        if (deadline.aborted) throw new SourceError("timeout", `${label}: no complete answer within ${callTimeout} ms`);
        throw toSourceError(error, label, token);
      }
    },
  };
}

/**
 * The SDK's default Node chain without its instance-metadata step: the emulator must never ask
 * itself, or the host's real IMDS, for its own source credentials.
 */
export function sourceCredentialChain(): AwsCredentialIdentityProvider {
  const nested = { clientConfig: { defaultsMode: DEFAULTS_MODE } } as const;
  return createCredentialChain(
    fromEnv(),
    fromSSO(nested),
    fromIni(nested),
    fromProcess(),
    fromTokenFile(nested),
    // The container endpoint (ECS, EKS Pod Identity); fromHttp supersedes fromContainerMetadata.
    fromHttp(),
    async () => {
      throw new SourceError(
        "invalid-config",
        "no source credentials found (environment, shared config and credentials files, " +
          "credential_process, web identity token file, container endpoint; instance metadata is never used)",
      );
    },
  );
}

const refuseCredentials: AwsCredentialIdentityProvider = async () => {
  throw new SourceError("invalid-config", "AssumeRoleWithWebIdentity must not be signed with source credentials");
};

async function readToken(read: (path: string) => Promise<string>, path: string): Promise<string> {
  let token: string;
  try {
    token = (await read(path)).trim();
  } catch (error) {
    throw new SourceError("invalid-config", `cannot read web identity token file ${path}: ${errorMessage(error)}`);
  }
  if (!token) throw new SourceError("invalid-config", `web identity token file ${path} is empty`);
  return token;
}

const CREDENTIAL_FIELDS = ["AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration"] as const;

function toCredentials(
  output: Pick<AssumeRoleCommandOutput, "Credentials" | "AssumedRoleUser">,
  roleArn: string,
): Credentials {
  const c = output.Credentials;
  if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken || !c.Expiration) {
    const missing = CREDENTIAL_FIELDS.filter((field) => !c?.[field]);
    throw new SourceError("malformed-response", `STS response lacks ${missing.join(", ")}`);
  }
  const accountId = accountIdFromArn(output.AssumedRoleUser?.Arn ?? "") ?? accountIdFromArn(roleArn);
  return {
    accessKeyId: c.AccessKeyId,
    secretAccessKey: c.SecretAccessKey,
    sessionToken: c.SessionToken,
    expiration: c.Expiration.getTime(),
    ...(accountId && { accountId }),
  };
}

function toSourceError(error: unknown, label: string, token: string | undefined): SourceError {
  if (error instanceof SourceError) return new SourceError(error.failureClass, `${label}: ${error.message}`);
  // A response the SDK could not parse may be quoted in its error, and would carry the credentials.
  let detail = isUnparsedResponse(error)
    ? `STS returned an unparseable HTTP ${error.$metadata?.httpStatusCode ?? "?"} response`
    : errorMessage(error);
  if (token) detail = detail.split(token).join("[web identity token]");
  return new SourceError(classifyStsError(error), `${label}: ${detail}`);
}

/**
 * The SDK tags errors raised while parsing a response with the raw $response; errors that STS
 * itself reported carry a $fault instead.
 */
function isUnparsedResponse(error: unknown): error is { $metadata?: { httpStatusCode?: number } } {
  return typeof error === "object" && error !== null && "$response" in error && !("$fault" in error);
}

function errorMessage(error: unknown): string {
  const e = error as { name?: unknown; message?: unknown } | null | undefined;
  const message = String(e?.message ?? error).replace(/\s+/g, " ").trim();
  const name = typeof e?.name === "string" && e.name !== "Error" ? e.name : undefined;
  return name && !message.startsWith(name) ? `${name}: ${message}` : message;
}

const THROTTLING = new Set(["Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequestsException"]);
const SERVER_ERRORS = new Set(["ServiceUnavailable", "ServiceUnavailableException", "InternalFailure", "InternalError"]);
const EXPIRED = new Set(["ExpiredToken", "ExpiredTokenException"]);
const NO_SOURCE_CREDENTIALS = new Set(["CredentialsProviderError", "TokenProviderError", "ProviderError"]);
/** STS refuses the request itself (a role ARN it cannot parse, a policy, a region not enabled): retrying sends the same. */
const INVALID_REQUEST = new Set(["ValidationError", "InvalidParameterValue", "MalformedPolicyDocument", "PackedPolicyTooLarge", "RegionDisabledException"]);
/** STS refuses who is asking: an unknown key, a wrong secret, a web identity token it does not trust. */
const REFUSED_IDENTITY = new Set([
  "AccessDenied",
  "AccessDeniedException",
  "InvalidClientTokenId",
  "SignatureDoesNotMatch",
  "UnrecognizedClientException",
  "InvalidIdentityToken",
  "IDPRejectedClaim",
]);
const CONNECTION_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ENOTFOUND",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EAI_AGAIN",
  "EPIPE",
]);

/** Names the failure class of anything the STS client or a credential provider throws. */
export function classifyStsError(error: unknown): FailureClass {
  if (error instanceof SourceError) return error.failureClass;
  if (typeof error !== "object" || error === null) return "unknown";
  const e = error as { name?: unknown; code?: unknown; $fault?: unknown; $metadata?: { httpStatusCode?: unknown } };
  const name = String(e.name ?? "");
  const code = String(e.code ?? "");
  const status = Number(e.$metadata?.httpStatusCode ?? 0);

  if (THROTTLING.has(name) || status === 429) return "throttling";
  if (REFUSED_IDENTITY.has(name)) return "access-denied";
  if (EXPIRED.has(name)) return "expired-token";
  if (NO_SOURCE_CREDENTIALS.has(name) || INVALID_REQUEST.has(name)) return "invalid-config";
  // The SDK names a dropped connection a TimeoutError too; its code tells the two apart.
  if (CONNECTION_CODES.has(code)) return "connection";
  if (name === "TimeoutError" || code === "ETIMEDOUT") return "timeout";
  if (SERVER_ERRORS.has(name) || status >= 500) return "server-error";
  if (isUnparsedResponse(error)) return "malformed-response";
  return "unknown";
}
