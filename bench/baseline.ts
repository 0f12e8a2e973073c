/**
 * The bare `node:http` baseline of `npm run bench`: the least a server can do for the same routes
 * with the same work. It reimplements (rather than imports) the daemon's token format, so that no
 * optimisation of src/ ever reaches it: every GET verifies its token with one HMAC-SHA256, as
 * src/imds/tokens.ts does on a cache miss. Bodies and headers are the daemon's own (the runner passes
 * the credential JSON and instance id it read from the daemon); header lists are built once, the
 * fastest form writeHead takes, plus the token's remaining seconds that every read with a token carries.
 * Run: node build/bench/baseline.js <port|0> <credential-path> <credentials-file> <instance-id>
 * (prints `listening <port>` on stderr when ready).
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

const [port, credentialPath, credentialsFile, instanceId] = process.argv.slice(2);
const key = randomBytes(32);
const mac = (payload: Buffer) => createHmac("sha256", key).update(payload).digest();
const headers = (body: Buffer) => ["Server", "EC2ws", "Content-Type", "text/plain", "Content-Length", String(body.length)];
const reply = (body: Buffer) => ({ body, headers: headers(body) });
const routes = new Map([
  [credentialPath!, reply(readFileSync(credentialsFile!))],
  ["/latest/meta-data/instance-id", reply(Buffer.from(instanceId!))],
]);
const empty = reply(Buffer.alloc(0));

/**
 * Version 1, expiry (ms, 8 bytes), nonce (7 bytes), then HMAC-SHA256 over those 16 bytes; base64.
 * The token's expiry when it is valid now, undefined otherwise.
 */
function expiryOf(token: string | string[] | undefined): number | undefined {
  if (typeof token !== "string") return undefined;
  const raw = Buffer.from(token, "base64");
  if (raw.length !== 48 || raw[0] !== 1) return undefined;
  const expiry = Number(raw.readBigUInt64BE(1));
  return timingSafeEqual(mac(raw.subarray(0, 16)), raw.subarray(16)) && expiry > Date.now() ? expiry : undefined;
}

const server = createServer((req, res) => {
  if (req.method === "PUT" && req.url === "/latest/api/token") {
    const ttl = req.headers["x-aws-ec2-metadata-token-ttl-seconds"] as string;
    const raw = Buffer.alloc(48);
    raw[0] = 1;
    raw.writeBigUInt64BE(BigInt(Date.now() + Number(ttl) * 1000), 1);
    randomBytes(7).copy(raw, 9);
    mac(raw.subarray(0, 16)).copy(raw, 16);
    const body = Buffer.from(raw.toString("base64"));
    return res.writeHead(200, [...headers(body), "x-aws-ec2-metadata-token-ttl-seconds", ttl]).end(body);
  }
  const route = routes.get(req.url!);
  if (route === undefined) return res.writeHead(404, empty.headers).end();
  const expiry = expiryOf(req.headers["x-aws-ec2-metadata-token"]);
  if (expiry === undefined) return res.writeHead(401, empty.headers).end();
  const remaining = String(Math.floor((expiry - Date.now()) / 1000));
  return res.writeHead(200, [...route.headers, "x-aws-ec2-metadata-token-ttl-seconds", remaining]).end(route.body);
});
server.listen(Number(port), "127.0.0.1", () => process.stderr.write(`listening ${(server.address() as AddressInfo).port}\n`));
