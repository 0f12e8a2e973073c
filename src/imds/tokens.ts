import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { Clock } from "../clock";

export const MIN_TOKEN_TTL_SECONDS = 1;
export const MAX_TOKEN_TTL_SECONDS = 21600;

const VERSION = 1;
const EXPIRY_BYTES = 8;
const NONCE_BYTES = 7;
const MAC_BYTES = 32;
const TOKEN_BYTES = 1 + EXPIRY_BYTES + NONCE_BYTES + MAC_BYTES;

/**
 * IMDSv2 session tokens that need no store: a token is its own expiry plus an HMAC over it, keyed by a
 * secret that lives only in this process. Any number can exist at once at no memory cost, and a token
 * from another daemon, a modified one or an expired one fails verification.
 */
export interface TokenAuthority {
  issue(ttlSeconds: number): string;
  verify(token: string): boolean;
}

export function createTokenAuthority(
  clock: Clock,
  secret: Buffer = randomBytes(32),
  nonce: (size: number) => Buffer = randomBytes,
): TokenAuthority {
  const mac = (payload: Buffer) => createHmac("sha256", secret).update(payload).digest();
  return {
    issue(ttlSeconds) {
      const token = Buffer.alloc(TOKEN_BYTES);
      token.writeUInt8(VERSION, 0);
      token.writeBigUInt64BE(BigInt(clock.now() + ttlSeconds * 1000), 1);
      nonce(NONCE_BYTES).copy(token, 1 + EXPIRY_BYTES);
      const payloadEnd = TOKEN_BYTES - MAC_BYTES;
      mac(token.subarray(0, payloadEnd)).copy(token, payloadEnd);
      return token.toString("base64");
    },
    verify(text) {
      const token = Buffer.from(text, "base64");
      if (token.length !== TOKEN_BYTES || token.toString("base64") !== text) return false;
      if (token.readUInt8(0) !== VERSION) return false;
      const payloadEnd = TOKEN_BYTES - MAC_BYTES;
      if (!timingSafeEqual(mac(token.subarray(0, payloadEnd)), token.subarray(payloadEnd))) return false;
      return Number(token.readBigUInt64BE(1)) > clock.now();
    },
  };
}

/** The TTL header's value as EC2 accepts it: an integer 1..21600, digits only; anything else is undefined. */
export function parseTokenTtl(value: string | string[] | undefined): number | undefined {
  if (typeof value !== "string" || !/^[0-9]{1,6}$/.test(value)) return undefined;
  const ttl = Number(value);
  return ttl >= MIN_TOKEN_TTL_SECONDS && ttl <= MAX_TOKEN_TTL_SECONDS ? ttl : undefined;
}
