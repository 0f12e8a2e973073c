import { createPrivateKey, createPublicKey } from "node:crypto";
import { seededHex } from "./instance";

/** DER prefix of a PKCS#8 Ed25519 private key; the 32-byte seed follows it. */
const ED25519_PKCS8_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");

function sshString(data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  return Buffer.concat([length, data]);
}

/** The instance's key pair's public half in OpenSSH format, stable for a seed as on a real instance. */
export function openSshPublicKey(seed: string, keyName: string): string {
  const privateKey = createPrivateKey({
    key: Buffer.concat([ED25519_PKCS8_PREFIX, Buffer.from(seededHex(seed, "ssh-key", 64), "hex")]),
    format: "der",
    type: "pkcs8",
  });
  const jwk = createPublicKey(privateKey).export({ format: "jwk" });
  const blob = Buffer.concat([
    sshString(Buffer.from("ssh-ed25519")),
    sshString(Buffer.from(jwk.x!, "base64url")),
  ]);
  return `ssh-ed25519 ${blob.toString("base64")} ${keyName}`;
}
