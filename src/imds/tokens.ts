import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { BoundedMap } from "../bounded-map";
import type { Clock } from "../clock";

export const MIN_TOKEN_TTL_SECONDS = 1;
export const MAX_TOKEN_TTL_SECONDS = 21600;

const VERSION = 1;
const EXPIRY_BYTES = 8;
const NONCE_BYTES = 7;
const MAC_BYTES = 32;
const TOKEN_BYTES = 1 + EXPIRY_BYTES + NONCE_BYTES + MAC_BYTES;

/**
 * Tokens verified recently, with their expiry. An SDK reuses its token for every read until it
 * expires, and the HMAC is the largest part of the port's own work on a credential GET (3.9 µs of the
 * 16.8 µs of CPU a request takes without this cache, in `npm run bench`). A hit costs one map lookup
 * and still compares the expiry with the clock, so a cached token dies exactly when its TTL ends.
 * Only tokens that passed the full check are stored, keyed by their exact text: a changed token
 * misses and gets the HMAC and its constant-time comparison (the lookup's own timing tells nothing
 * worth having: any caller that can reach the port can PUT a token of its own). The oldest entry is
 * dropped at the cap, so a flood of fresh tokens costs at most VERIFIED_TOKEN_CACHE_SIZE entries
 * (about 100 KB) and only cycles the cache.
 */
export const VERIFIED_TOKEN_CACHE_SIZE = 1024;

/**
 * IMDSv2 session tokens that need no store: a token is its own expiry plus an HMAC over it, keyed by a
 * secret that lives only in this process. Any number can exist at once at no memory cost, and a token
 * from another daemon, a modified one or an expired one fails verification.
 */
export interface TokenAuthority {
  issue(ttlSeconds: number): string;
  /**
   * The token's expiry (epoch ms) when it is valid now, undefined otherwise: the port echoes the
   * remaining lifetime on every read made with it, as EC2 does.
   */
  verify(token: string): number | undefined;
}

/**
 * Bytes of the CSPRNG drawn `size` at a time and each handed out once: a token's nonce without an
 * OpenSSL call per token, which was a tenth of a token PUT's CPU in `npm run bench`. A request larger
 * than `size` is drawn on its own.
 */
export function randomPool(size: number, draw: (count: number) => Uint8Array = randomBytes): (count: number) => Uint8Array {
  let pool: Uint8Array = new Uint8Array(0);
  let used = 0;
  return (count) => {
    if (count > size) return draw(count);
    if (used + count > pool.length) {
      pool = draw(size);
      used = 0;
    }
    used += count;
    return bytesOf(pool, used - count, count);
  };
}

/**
 * A view of `length` bytes of `bytes` from `start`. Tokens are read and written through views and a
 * DataView, V8's own code, rather than Buffer's read/write/copy methods: Node compiles each of those
 * from source at its first call, a few hundredths of a millisecond apiece in every start.
 */
function bytesOf(bytes: Uint8Array, start: number, length: number): Uint8Array {
  return new Uint8Array(bytes.buffer, bytes.byteOffset + start, length);
}

/** Shared by every instance's authority: one pool, however many instances an emulator serves. */
const NONCES = randomPool(4096);

export function createTokenAuthority(
  clock: Clock,
  secret: Buffer = randomBytes(32),
  nonce: (size: number) => Uint8Array = NONCES,
  cacheSize: number = VERIFIED_TOKEN_CACHE_SIZE,
): TokenAuthority {
  const mac = (payload: Uint8Array) => createHmac("sha256", secret).update(payload).digest();
  const payloadEnd = TOKEN_BYTES - MAC_BYTES;
  const verified = new BoundedMap<string, number>(cacheSize);
  return {
    issue(ttlSeconds) {
      const token = Buffer.allocUnsafe(TOKEN_BYTES);
      const fields = new DataView(token.buffer, token.byteOffset, TOKEN_BYTES);
      fields.setUint8(0, VERSION);
      fields.setBigUint64(1, BigInt(clock.now() + ttlSeconds * 1000));
      token.set(nonce(NONCE_BYTES), 1 + EXPIRY_BYTES);
      token.set(mac(bytesOf(token, 0, payloadEnd)), payloadEnd);
      return token.toString("base64");
    },
    verify(text) {
      const cached = verified.get(text);
      if (cached !== undefined) {
        if (cached > clock.now()) return cached;
        verified.delete(text);
        return undefined;
      }
      const token = Buffer.from(text, "base64");
      if (token.length !== TOKEN_BYTES || token.toString("base64") !== text) return undefined;
      const fields = new DataView(token.buffer, token.byteOffset, TOKEN_BYTES);
      if (fields.getUint8(0) !== VERSION) return undefined;
      if (!timingSafeEqual(mac(bytesOf(token, 0, payloadEnd)), bytesOf(token, payloadEnd, MAC_BYTES))) return undefined;
      const expiry = Number(fields.getBigUint64(1));
      if (expiry <= clock.now()) return undefined;
      verified.set(text, expiry);
      return expiry;
    },
  };
}

/** The TTL header's value as EC2 accepts it: an integer 1..21600, digits only; anything else is undefined. */
export function parseTokenTtl(value: string | string[] | undefined): number | undefined {
  if (typeof value !== "string" || !/^[0-9]{1,6}$/.test(value)) return undefined;
  const ttl = Number(value);
  return ttl >= MIN_TOKEN_TTL_SECONDS && ttl <= MAX_TOKEN_TTL_SECONDS ? ttl : undefined;
}
