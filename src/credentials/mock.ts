import { randomBytes } from "node:crypto";
import type { Clock } from "../clock";
import type { CredentialSource, Credentials } from "./source";

const UPPER_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const BASE64_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
/** Real STS session tokens start with these bytes (`!\n\torigin_ec`, base64 encoded). */
const SESSION_TOKEN_PREFIX = "IQoJb3JpZ2luX2Vj";
const SESSION_TOKEN_BYTES = 720;

function pick(alphabet: string, length: number, random: (size: number) => Buffer): string {
  // 256 is not a multiple of every alphabet size; rejecting the top bytes keeps the choice uniform.
  const limit = 256 - (256 % alphabet.length);
  let out = "";
  while (out.length < length) {
    for (const byte of random(length * 2)) {
      if (byte < limit && out.length < length) out += alphabet[byte % alphabet.length];
    }
  }
  return out;
}

/** Credentials minted in AWS's formats, for running with no AWS account. They sign nothing real. */
export function mintCredentials(
  expiration: number,
  accountId: string,
  random: (size: number) => Buffer = randomBytes,
): Credentials {
  return {
    accessKeyId: `ASIA${pick(UPPER_ALNUM, 16, random)}`,
    secretAccessKey: pick(BASE64_CHARS, 40, random),
    sessionToken: SESSION_TOKEN_PREFIX + random(SESSION_TOKEN_BYTES).toString("base64"),
    expiration,
    accountId,
  };
}

export function createMockSource(options: {
  readonly durationSeconds: number;
  readonly accountId: string;
  readonly clock: Clock;
  readonly random?: (size: number) => Buffer;
}): CredentialSource {
  return {
    kind: "mock",
    fetch: async () =>
      mintCredentials(options.clock.now() + options.durationSeconds * 1000, options.accountId, options.random),
  };
}
