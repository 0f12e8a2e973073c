/**
 * A test-only stand-in for STS, speaking its query protocol on 127.0.0.1 so that every
 * failure the real service (or the network in front of it) can produce is reproducible.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { randomUUID } from "node:crypto";
import type { AddressInfo } from "node:net";
import { awsTimestamp } from "../../src/clock";

const NS = "https://sts.amazonaws.com/doc/2011-06-15/";

export type CredentialField = "AccessKeyId" | "SecretAccessKey" | "SessionToken" | "Expiration";

export type FakeResponse =
  | {
      kind: "success";
      accessKeyId?: string;
      /** Epoch ms; defaults to now + DurationSeconds. */
      expiration?: number;
      /** Leaves fields out of <Credentials>, to produce a 200 that is still unusable. */
      omit?: CredentialField[];
    }
  | { kind: "error"; code: string; status: number; message?: string }
  /** Never answers: the request stays open until the client gives up or close() is called. */
  | { kind: "hang" }
  /** Drops the connection without answering: the client sees ECONNRESET. */
  | { kind: "reset" }
  /**
   * Sends the headers, then one byte every `intervalMs`, never a silence long enough for an idle
   * timeout; after `forMs` it ends with XML cut short (so the exchange always ends, answered or not).
   */
  | { kind: "trickle"; intervalMs: number; forMs: number }
  | { kind: "raw"; status: number; body: string };

export interface FakeStsCall {
  action: string;
  params: Record<string, string>;
  /** Whether the request carried an Authorization header, i.e. was signed. */
  signed: boolean;
}

export type Responder = (call: FakeStsCall) => FakeResponse;

export interface FakeSts {
  /** Base URL to pass as the STS endpoint. */
  readonly url: string;
  readonly calls: FakeStsCall[];
  /** Responses whose connection the client closed before they were complete. */
  readonly abandoned: number;
  /** Answers the next requests in order; once drained, the default responder answers. */
  enqueue(...responses: FakeResponse[]): void;
  /** Replaces the default responder (initially: success for every call). */
  respondWith(responder: FakeResponse | Responder): void;
  close(): Promise<void>;
}

export const success = (options: Omit<Extract<FakeResponse, { kind: "success" }>, "kind"> = {}): FakeResponse => ({
  kind: "success",
  ...options,
});
export const stsError = (code: string, status: number, message = `fake ${code}`): FakeResponse => ({
  kind: "error",
  code,
  status,
  message,
});
export const hang = (): FakeResponse => ({ kind: "hang" });
export const reset = (): FakeResponse => ({ kind: "reset" });
export const trickle = (intervalMs = 50, forMs = 3000): FakeResponse => ({ kind: "trickle", intervalMs, forMs });
export const raw = (status: number, body: string): FakeResponse => ({ kind: "raw", status, body });

export const ACCOUNT_ID = "123456789012";

export async function startFakeSts(): Promise<FakeSts> {
  const calls: FakeStsCall[] = [];
  const queue: FakeResponse[] = [];
  let responder: Responder = () => success();
  let issued = 0;
  let abandoned = 0;

  const server = createServer((req, res) => {
    void readBody(req).then((body) => {
      const params = Object.fromEntries(new URLSearchParams(body));
      const call: FakeStsCall = {
        action: params.Action ?? "",
        params,
        signed: typeof req.headers.authorization === "string",
      };
      calls.push(call);
      const response = queue.shift() ?? responder(call);
      if (response.kind === "hang") return;
      if (response.kind === "reset") return void req.socket.destroy();
      if (response.kind === "trickle") return trickleOut(res, response, () => abandoned++);
      const [status, xml] = render(call, response, ++issued);
      reply(res, status, xml);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    get abandoned() {
      return abandoned;
    },
    enqueue: (...responses) => void queue.push(...responses),
    respondWith(next) {
      responder = typeof next === "function" ? next : () => next;
    },
    close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      return closed;
    },
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function reply(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { "content-type": "text/xml", "x-amzn-requestid": requestId() });
  res.end(body);
}

function trickleOut(res: ServerResponse, response: Extract<FakeResponse, { kind: "trickle" }>, onAbandoned: () => void): void {
  res.writeHead(200, { "content-type": "text/xml", "x-amzn-requestid": requestId() });
  res.write("<AssumeRoleResponse>");
  const drip = setInterval(() => res.write(" "), response.intervalMs);
  const stop = setTimeout(() => res.end("<AssumeRoleResult>"), response.forMs);
  res.once("close", () => {
    clearInterval(drip);
    clearTimeout(stop);
    if (!res.writableFinished) onAbandoned();
  });
}

function render(call: FakeStsCall, response: Exclude<FakeResponse, { kind: "hang" | "reset" | "trickle" }>, n: number): [number, string] {
  switch (response.kind) {
    case "raw":
      return [response.status, response.body];
    case "error":
      return [response.status, errorXml(response.code, response.message ?? response.code, response.status)];
    case "success":
      return [200, successXml(call, response, n)];
  }
}

function successXml(call: FakeStsCall, response: Extract<FakeResponse, { kind: "success" }>, n: number): string {
  if (call.action === "GetCallerIdentity") {
    return envelope(
      "GetCallerIdentity",
      `<Arn>arn:aws:iam::${ACCOUNT_ID}:user/fake</Arn><UserId>AIDAFAKE</UserId><Account>${ACCOUNT_ID}</Account>`,
    );
  }
  const roleArn = call.params.RoleArn ?? "";
  const session = call.params.RoleSessionName ?? "";
  const account = roleArn.split(":")[4] ?? ACCOUNT_ID;
  const roleName = roleArn.slice(roleArn.lastIndexOf("/") + 1);
  const durationSeconds = Number(call.params.DurationSeconds ?? 3600);
  const fields: Record<CredentialField, string> = {
    AccessKeyId: response.accessKeyId ?? `ASIAFAKE${String(n).padStart(12, "0")}`,
    SecretAccessKey: `fake-secret-${n}`,
    SessionToken: `fake-session-token-${n}`,
    Expiration: awsTimestamp(response.expiration ?? Date.now() + durationSeconds * 1000),
  };
  const credentials = Object.entries(fields)
    .filter(([name]) => !response.omit?.includes(name as CredentialField))
    .map(([name, value]) => `<${name}>${value}</${name}>`)
    .join("");
  const webIdentity =
    call.action === "AssumeRoleWithWebIdentity"
      ? "<SubjectFromWebIdentityToken>fake-subject</SubjectFromWebIdentityToken>" +
        "<Audience>sts.amazonaws.com</Audience><Provider>fake-idp</Provider>"
      : "";
  return envelope(
    call.action,
    webIdentity +
      `<AssumedRoleUser><Arn>arn:aws:sts::${account}:assumed-role/${roleName}/${session}</Arn>` +
      `<AssumedRoleId>AROAFAKE:${session}</AssumedRoleId></AssumedRoleUser>` +
      `<Credentials>${credentials}</Credentials><PackedPolicySize>6</PackedPolicySize>`,
  );
}

function envelope(action: string, result: string): string {
  return (
    `<${action}Response xmlns="${NS}"><${action}Result>${result}</${action}Result>` +
    `<ResponseMetadata><RequestId>${requestId()}</RequestId></ResponseMetadata></${action}Response>`
  );
}

function errorXml(code: string, message: string, status: number): string {
  const type = status >= 500 ? "Receiver" : "Sender";
  return (
    `<ErrorResponse xmlns="${NS}"><Error><Type>${type}</Type><Code>${code}</Code>` +
    `<Message>${message}</Message></Error><RequestId>${requestId()}</RequestId></ErrorResponse>`
  );
}

function requestId(): string {
  return randomUUID();
}
