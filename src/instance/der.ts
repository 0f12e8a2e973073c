/**
 * The few ASN.1 encodings that an X.509 certificate and a PKCS#7 SignedData need (X.690).
 * Every function returns one complete encoded element, so structures nest as plain calls.
 */

function lengthOctets(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  const octets: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) octets.unshift(rest % 256);
  return Buffer.from([0x80 | octets.length, ...octets]);
}

/** One element with a definite length; `tag` is the whole identifier octet (class, constructed bit, number). */
export function tlv(tag: number, ...contents: Buffer[]): Buffer {
  const body = Buffer.concat(contents);
  return Buffer.concat([Buffer.from([tag]), lengthOctets(body.length), body]);
}

/**
 * A constructed element with BER's indefinite length (closed by two zero octets). Not DER: it is
 * here only because EC2 lays out its PKCS#7 signatures this way and the emulator copies that layout.
 */
export function indefinite(tag: number, ...contents: Buffer[]): Buffer {
  return Buffer.concat([Buffer.from([tag | 0x20, 0x80]), ...contents, Buffer.from([0, 0])]);
}

export const sequence = (...items: Buffer[]): Buffer => tlv(0x30, ...items);

/** SET OF: DER orders the members by their encodings, and signatures over it depend on that order. */
export const setOf = (...items: Buffer[]): Buffer => tlv(0x31, ...[...items].sort(Buffer.compare));

/** `[n] EXPLICIT`: context-specific and constructed, wrapping whole elements. */
export const contextual = (n: number, ...items: Buffer[]): Buffer => tlv(0xa0 | n, ...items);

/** `[n] IMPLICIT` of a constructed element: only its identifier octet changes. */
export const implicit = (n: number, element: Buffer): Buffer => Buffer.concat([Buffer.from([0xa0 | n]), element.subarray(1)]);

export const boolean = (value: boolean): Buffer => tlv(0x01, Buffer.from([value ? 0xff : 0x00]));

/** A non-negative INTEGER from a small number or from big-endian magnitude bytes. */
export function integer(value: number | Buffer): Buffer {
  const hex = typeof value === "number" ? value.toString(16) : "";
  let magnitude = typeof value === "number" ? Buffer.from(hex.length % 2 ? `0${hex}` : hex, "hex") : value;
  while (magnitude.length > 1 && magnitude[0] === 0) magnitude = magnitude.subarray(1);
  // A set top bit would read as negative (two's complement), so such magnitudes get a leading zero.
  return tlv(0x02, (magnitude[0] ?? 0) & 0x80 ? Buffer.concat([Buffer.from([0]), magnitude]) : magnitude);
}

export const bitString = (bytes: Buffer, unusedBits = 0): Buffer => tlv(0x03, Buffer.from([unusedBits]), bytes);

export const octetString = (bytes: Buffer): Buffer => tlv(0x04, bytes);

export const nullValue = (): Buffer => tlv(0x05);

export function oid(dotted: string): Buffer {
  const [first = 0, second = 0, ...rest] = dotted.split(".").map(Number);
  const octets: number[] = [];
  for (const arc of [first * 40 + second, ...rest]) {
    const base128: number[] = [];
    for (let value = arc; ; value = Math.floor(value / 128)) {
      base128.unshift((value % 128) | (base128.length ? 0x80 : 0));
      if (value < 128) break;
    }
    octets.push(...base128);
  }
  return tlv(0x06, Buffer.from(octets));
}

export const utf8String = (text: string): Buffer => tlv(0x0c, Buffer.from(text, "utf8"));

/** X.509 and PKCS#9 time: UTCTime through 2049, GeneralizedTime from 2050 on (RFC 5280 §4.1.2.5). */
export function time(ms: number): Buffer {
  const digits = new Date(ms).toISOString().replace(/\.\d+Z$/, "Z").replace(/[-:T]/g, "");
  const year = new Date(ms).getUTCFullYear();
  if (year >= 1950 && year < 2050) return tlv(0x17, Buffer.from(digits.slice(2), "ascii"));
  return tlv(0x18, Buffer.from(digits, "ascii"));
}
