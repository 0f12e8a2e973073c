/**
 * Signatures of the instance identity document, in the three forms EC2 serves under
 * `/latest/dynamic/instance-identity/` (AWS EC2 User Guide, "Verify the instance identity document"):
 *
 * - `signature`: base64 of an RSA PKCS#1 v1.5 signature over the document with SHA-256, checked with
 *   `openssl dgst -sha256 -verify key -signature signature document`.
 * - `pkcs7`: base64 (no PEM armour) of a PKCS#7 SignedData that embeds the document, digest SHA-1.
 * - `rsa2048`: the same SignedData with SHA-256 and an RSA-2048 key.
 *
 * Both PKCS#7 forms are checked with `openssl smime -verify -in file -inform PEM -certfile certificate
 * -noverify`, after the user wraps them in BEGIN/END PKCS7 lines; the command prints the embedded document.
 * The layout copies EC2's own output: BER indefinite lengths, the document as a constructed OCTET STRING,
 * signed attributes contentType, signingTime and messageDigest, no certificates in the message, and base64
 * broken into 76-character lines with no final newline (the docs add the newline before END PKCS7).
 *
 * EC2 uses three keys and certificates per Region (RSA-1024 for `signature`, DSA for `pkcs7`, RSA-2048 for
 * `rsa2048`). The emulator signs all three with one RSA-2048 key so that one certificate verifies them all;
 * what differs from EC2 is the signer's name, the length of the signature values, and RSA rather than DSA
 * as the `pkcs7` signature algorithm.
 */
import { generateKeyPair, generateKeyPairSync, randomBytes, sign, createHash, type KeyObject } from "node:crypto";
import { promisify } from "node:util";
import * as der from "./der";

export interface IdentitySigner {
  /** PEM of the self-signed certificate that verifies all three signatures. */
  readonly certificatePem: string;
  /** As EC2's `signature`. */
  signature(document: string): string;
  /** As EC2's `pkcs7`: the PEM body only, as EC2 serves it. */
  pkcs7(document: string): string;
  /** As EC2's `rsa2048`: the PEM body only, as EC2 serves it. */
  rsa2048(document: string): string;
}

export interface SigningKeys {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

export interface IdentitySignerOptions {
  /** Subject and issuer common name of the certificate. */
  commonName: string;
  /** Start of the certificate's validity and the signing time stamped into the PKCS#7 forms. */
  now: number;
  /** From `generateSigningKeys`; without them a key pair is generated here, blocking for a moment. */
  keys?: SigningKeys;
}

const RSA_OPTIONS = { modulusLength: 2048, publicExponent: 0x10001 } as const;
const CERTIFICATE_YEARS = 10;
const EC2_LINE_LENGTH = 76;
const PEM_LINE_LENGTH = 64;

const OID = {
  commonName: "2.5.4.3",
  keyUsage: "2.5.29.15",
  basicConstraints: "2.5.29.19",
  rsaEncryption: "1.2.840.113549.1.1.1",
  sha256WithRSAEncryption: "1.2.840.113549.1.1.11",
  data: "1.2.840.113549.1.7.1",
  signedData: "1.2.840.113549.1.7.2",
  contentType: "1.2.840.113549.1.9.3",
  messageDigest: "1.2.840.113549.1.9.4",
  signingTime: "1.2.840.113549.1.9.5",
  sha1: "1.3.14.3.2.26",
  sha256: "2.16.840.1.101.3.4.2.1",
} as const;

type Digest = "sha1" | "sha256";

/** RSA-2048 generation takes tens to hundreds of milliseconds, so start-up can overlap it with other work. */
export async function generateSigningKeys(): Promise<SigningKeys> {
  return promisify(generateKeyPair)("rsa", RSA_OPTIONS);
}

export function createIdentitySigner(options: IdentitySignerOptions): IdentitySigner {
  const { privateKey, publicKey } = options.keys ?? generateKeyPairSync("rsa", RSA_OPTIONS);
  // The algorithm identifiers written below say RSA; any other key would produce unverifiable output.
  if (privateKey.asymmetricKeyType !== "rsa") throw new Error("identity signing keys must be RSA");

  const name = der.sequence(der.setOf(der.sequence(der.oid(OID.commonName), der.utf8String(options.commonName))));
  const serial = randomBytes(16);
  const signedAt = Math.floor(options.now / 1000) * 1000;
  const certificate = selfSignedCertificate(name, serial, signedAt, privateKey, publicKey);

  const signedData = (document: string, digest: Digest): string => {
    const content = Buffer.from(document, "utf8");
    const digestAlgorithm = der.sequence(der.oid(OID[digest]), der.nullValue());
    const attributes = [
      attribute(OID.contentType, der.oid(OID.data)),
      attribute(OID.signingTime, der.time(signedAt)),
      attribute(OID.messageDigest, der.octetString(createHash(digest).update(content).digest())),
    ];
    // The signature covers the attributes encoded as a DER SET OF; the message carries the same octets as [0].
    const signedAttributes = der.setOf(...attributes);
    const signerInfo = der.sequence(
      der.integer(1),
      der.sequence(name, der.integer(serial)),
      digestAlgorithm,
      der.implicit(0, signedAttributes),
      der.sequence(der.oid(OID.rsaEncryption), der.nullValue()),
      der.octetString(sign(digest, signedAttributes, privateKey)),
    );
    const message = der.indefinite(0x30,
      der.oid(OID.signedData),
      der.indefinite(0xa0,
        der.indefinite(0x30,
          der.integer(1),
          der.setOf(digestAlgorithm),
          der.indefinite(0x30, der.oid(OID.data), der.indefinite(0xa0, der.indefinite(0x04, der.octetString(content)))),
          der.setOf(signerInfo),
        ),
      ),
    );
    return wrap(message.toString("base64"), EC2_LINE_LENGTH);
  };

  return {
    certificatePem: `-----BEGIN CERTIFICATE-----\n${wrap(certificate.toString("base64"), PEM_LINE_LENGTH)}\n-----END CERTIFICATE-----\n`,
    signature: lastAnswer((document) => wrap(sign("sha256", Buffer.from(document, "utf8"), privateKey).toString("base64"), EC2_LINE_LENGTH)),
    pkcs7: lastAnswer((document) => signedData(document, "sha1")),
    rsa2048: lastAnswer((document) => signedData(document, "sha256")),
  };
}

/**
 * The metadata tree asks for the signatures whenever it is built, while the document rarely changes.
 * An answer depends only on the document (fixed signing time; PKCS#1 v1.5 is deterministic), so
 * repeating the last one is indistinguishable from signing again.
 */
function lastAnswer(signDocument: (document: string) => string): (document: string) => string {
  let last: { document: string; answer: string } | undefined;
  return (document) => {
    if (last?.document !== document) last = { document, answer: signDocument(document) };
    return last.answer;
  };
}

function selfSignedCertificate(name: Buffer, serial: Buffer, notBefore: number, privateKey: KeyObject, publicKey: KeyObject): Buffer {
  const notAfter = new Date(notBefore);
  notAfter.setUTCFullYear(notAfter.getUTCFullYear() + CERTIFICATE_YEARS);
  const algorithm = der.sequence(der.oid(OID.sha256WithRSAEncryption), der.nullValue());
  const tbs = der.sequence(
    der.contextual(0, der.integer(2)),
    der.integer(serial),
    algorithm,
    name,
    der.sequence(der.time(notBefore), der.time(notAfter.getTime())),
    name,
    publicKey.export({ type: "spki", format: "der" }),
    der.contextual(3, der.sequence(
      // Not a CA and good for signatures only: whoever trusts it (say with `openssl smime -CAfile`)
      // trusts these documents and nothing else.
      extension(OID.basicConstraints, der.sequence()),
      extension(OID.keyUsage, der.bitString(Buffer.from([0x80]), 7)),
    )),
  );
  return der.sequence(tbs, algorithm, der.bitString(sign("sha256", tbs, privateKey)));
}

function extension(id: string, value: Buffer): Buffer {
  return der.sequence(der.oid(id), der.boolean(true), der.octetString(value));
}

function attribute(id: string, value: Buffer): Buffer {
  return der.sequence(der.oid(id), der.setOf(value));
}

function wrap(base64: string, width: number): string {
  return base64.match(new RegExp(`.{1,${width}}`, "g"))?.join("\n") ?? "";
}
