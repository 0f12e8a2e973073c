import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { createIdentitySigner, generateSigningKeys, type IdentitySigner, type SigningKeys } from "../../src/instance/signing";

// Every check goes through the system openssl with the commands of the AWS EC2 User Guide
// ("Verify the instance identity document"), so the outputs are proven against a real verifier.

const COMMON_NAME = "imds-emulator instance identity";
const DOCUMENT = `{
  "accountId" : "123456789012",
  "architecture" : "x86_64",
  "availabilityZone" : "us-east-1a",
  "imageId" : "ami-0123456789abcdef0",
  "instanceId" : "i-0123456789abcdef0",
  "instanceType" : "t3.micro",
  "pendingTime" : "2024-01-01T00:00:00Z",
  "privateIp" : "10.0.0.10",
  "region" : "us-east-1",
  "version" : "2017-09-30"
}`;

let dir: string;
let keys: SigningKeys;
let signer: IdentitySigner;
let startedAt: number;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "imds-signing-"));
  startedAt = Date.now();
  keys = await generateSigningKeys();
  signer = createIdentitySigner({ commonName: COMMON_NAME, now: startedAt, keys });
  await write("document", DOCUMENT);
  await write("certificate", signer.certificatePem);
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function write(name: string, content: string | Buffer): Promise<string> {
  await writeFile(join(dir, name), content);
  return name;
}

async function openssl(...args: string[]): Promise<{ stdout: string; stderr: string }> {
  return promisify(execFile)("openssl", args, { cwd: dir, encoding: "utf8" });
}

/** openssl exits non-zero and says so: `dgst` on stdout, `smime` on stderr. */
async function assertVerificationFails(run: Promise<unknown>): Promise<void> {
  await assert.rejects(run, (error: { stdout?: string; stderr?: string }) => {
    assert.match(`${error.stdout}${error.stderr}`, /Verification failure/);
    return true;
  });
}

/** As the guide does: the served body between BEGIN/END PKCS7 lines, a newline added before END. */
function pkcs7File(body: string): string {
  return `-----BEGIN PKCS7-----\n${body}\n-----END PKCS7-----\n`;
}

async function smimeVerify(body: string, certificate = "certificate"): Promise<{ stdout: string; stderr: string }> {
  const file = await write("signed.pem", pkcs7File(body));
  return openssl("smime", "-verify", "-in", file, "-inform", "PEM", "-certfile", certificate, "-noverify");
}

test("the certificate is a self-signed X.509 v3 sha256WithRSA certificate for the common name, valid 10 years", async () => {
  const { stdout } = await openssl("x509", "-noout", "-text", "-in", "certificate");
  assert.match(stdout, /Version: 3 \(0x2\)/);
  assert.match(stdout, /Signature Algorithm: sha256WithRSAEncryption/);
  assert.match(stdout, new RegExp(`Issuer: CN = ${COMMON_NAME}\\n`));
  assert.match(stdout, new RegExp(`Subject: CN = ${COMMON_NAME}\\n`));
  assert.match(stdout, /Public-Key: \(2048 bit\)/);
  assert.equal((await openssl("verify", "-CAfile", "certificate", "certificate")).stdout.trim(), "certificate: OK");

  const certificate = new X509Certificate(signer.certificatePem);
  const notBefore = Date.parse(certificate.validFrom);
  assert.equal(notBefore, Math.floor(startedAt / 1000) * 1000);
  const tenYearsLater = new Date(notBefore);
  tenYearsLater.setUTCFullYear(tenYearsLater.getUTCFullYear() + 10);
  assert.equal(Date.parse(certificate.validTo), tenYearsLater.getTime());
});

test("validity reaching 2050 or later is written as GeneralizedTime, which X.509 requires from then on", async () => {
  const late = createIdentitySigner({ commonName: COMMON_NAME, now: Date.UTC(2045, 5, 1, 12, 30, 45), keys });
  await write("late", late.certificatePem);
  const { stdout } = await openssl("asn1parse", "-in", "late");
  assert.match(stdout, /UTCTIME\s+:450601123045Z/);
  assert.match(stdout, /GENERALIZEDTIME\s+:20550601123045Z/);
  assert.equal(Date.parse(new X509Certificate(late.certificatePem).validTo), Date.UTC(2055, 5, 1, 12, 30, 45));
});

test("signature verifies with openssl dgst -sha256 and the certificate's public key", async () => {
  const { stdout: key } = await openssl("x509", "-pubkey", "-noout", "-in", "certificate");
  await write("key", key);
  await write("signature", Buffer.from(signer.signature(DOCUMENT), "base64"));
  const { stdout } = await openssl("dgst", "-sha256", "-verify", "key", "-signature", "signature", "document");
  assert.equal(stdout.trim(), "Verified OK");
});

test("signature does not verify a modified document", async () => {
  const { stdout: key } = await openssl("x509", "-pubkey", "-noout", "-in", "certificate");
  await write("key", key);
  await write("signature", Buffer.from(signer.signature(DOCUMENT), "base64"));
  await write("modified", DOCUMENT.replace("123456789012", "210987654321"));
  await assertVerificationFails(openssl("dgst", "-sha256", "-verify", "key", "-signature", "signature", "modified"));
});

for (const [form, digest] of [["pkcs7", "sha1"], ["rsa2048", "sha256"]] as const) {
  test(`${form} verifies with openssl smime -noverify and carries the exact document`, async () => {
    const { stdout, stderr } = await smimeVerify(signer[form](DOCUMENT));
    assert.match(stderr, /Verification successful/);
    assert.equal(stdout, DOCUMENT);
  });

  test(`${form} is SignedData with ${digest}, signed attributes as EC2's, and no embedded certificate`, async () => {
    const file = await write("signed.pem", pkcs7File(signer[form](DOCUMENT)));
    const { stdout } = await openssl("asn1parse", "-in", file);
    assert.match(stdout, /OBJECT\s+:pkcs7-signedData/);
    assert.match(stdout, new RegExp(`OBJECT\\s+:${digest}\\n`));
    for (const name of ["contentType", "signingTime", "messageDigest", "rsaEncryption"]) {
      assert.match(stdout, new RegExp(`OBJECT\\s+:${name}\\n`));
    }
    const printed = (await openssl("pkcs7", "-in", file, "-print_certs")).stdout;
    assert.doesNotMatch(printed, /BEGIN CERTIFICATE/);
  });

  test(`${form} fails verification when the embedded document is modified`, async () => {
    const message = Buffer.from(signer[form](DOCUMENT), "base64");
    const at = message.indexOf("us-east-1");
    assert.ok(at > 0);
    message.write("us-west-2", at);
    const tampered = message.toString("base64").replace(/.{76}/g, "$&\n");
    await assertVerificationFails(smimeVerify(tampered));
  });

  test(`${form} also verifies against the certificate as trust anchor, without -noverify`, async () => {
    const file = await write("signed.pem", pkcs7File(signer[form](DOCUMENT)));
    const { stdout } = await openssl("smime", "-verify", "-in", file, "-inform", "PEM", "-certfile", "certificate", "-CAfile", "certificate");
    assert.equal(stdout, DOCUMENT);
  });
}

test("all three are served as EC2 serves them: base64 in 76-character lines, no armour, no final newline", () => {
  for (const body of [signer.signature(DOCUMENT), signer.pkcs7(DOCUMENT), signer.rsa2048(DOCUMENT)]) {
    const lines = body.split("\n");
    assert.ok(lines.every((line) => /^[A-Za-z0-9+/=]+$/.test(line)), body);
    assert.ok(lines.slice(0, -1).every((line) => line.length === 76), body);
    assert.ok((lines.at(-1) ?? "").length <= 76, body);
  }
  assert.equal(Buffer.from(signer.signature(DOCUMENT), "base64").length, 256);
});

test("each form answers the same for the same document and follows a changed one", async () => {
  const changed = DOCUMENT.replace("t3.micro", "m5.large");
  for (const form of ["signature", "pkcs7", "rsa2048"] as const) {
    const first = signer[form](DOCUMENT);
    assert.equal(signer[form](DOCUMENT), first);
    assert.notEqual(signer[form](changed), first);
    assert.equal(signer[form](DOCUMENT), first);
  }
  assert.equal((await smimeVerify(signer.rsa2048(changed))).stdout, changed);
});

test("a signer made without keys generates its own, and its certificate does not verify another signer's output", async () => {
  const other = createIdentitySigner({ commonName: COMMON_NAME, now: Date.now() });
  await write("other", other.certificatePem);
  assert.equal((await smimeVerify(other.rsa2048(DOCUMENT), "other")).stdout, DOCUMENT);
  await assertVerificationFails(smimeVerify(signer.rsa2048(DOCUMENT), "other"));

  const { stdout: key } = await openssl("x509", "-pubkey", "-noout", "-in", "other");
  await write("other-key", key);
  await write("signature", Buffer.from(signer.signature(DOCUMENT), "base64"));
  await assertVerificationFails(openssl("dgst", "-sha256", "-verify", "other-key", "-signature", "signature", "document"));
});
