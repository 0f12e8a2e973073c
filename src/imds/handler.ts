import type { IncomingMessage, OutgoingHttpHeader, ServerResponse } from "node:http";
import { BoundedMap } from "../bounded-map";
import type { Clock } from "../clock";
import { eras } from "../instance/versions";
import { proxyHeaderOf } from "./guards";
import type { Refusals } from "../refusals";
import { MAX_TOKEN_TTL_SECONDS, MIN_TOKEN_TTL_SECONDS, parseTokenTtl, type TokenAuthority } from "./tokens";
import { NOT_FOUND, resolvePath, textReply, type Reply, type ReplyTable } from "../cache/replies";
import type { FaultBoard } from "../faults/board";
import type { InstanceEdge } from "../faults/edge";
import { misbehaviour, perform } from "../faults/misbehave";


export const TOKEN_HEADER = "x-aws-ec2-metadata-token";
export const TOKEN_TTL_HEADER = "x-aws-ec2-metadata-token-ttl-seconds";

/** Coarse path groups for metrics: a path's own text would make unbounded label sets. */
export type PathClass = "token" | "credentials" | "metadata" | "dynamic" | "user-data" | "other";

export interface RequestOutcome {
  readonly pathClass: PathClass;
  readonly status: number;
  /** A metadata read without a session token: what EC2 counts as `MetadataNoToken`. */
  readonly tokenless: boolean;
}

/** What the port needs of the instance a request is for. */
export interface ServedInstanceView {
  /** What fault rules name it by: `default`, an entry's name, `<entry>@<address>`. */
  readonly name: string;
  /** Its hop limit and rate limit; undefined when it has neither problem (the fast path). */
  readonly edge: InstanceEdge | undefined;
  /** Issues and checks this instance's tokens: another instance's are refused. */
  readonly tokens: TokenAuthority;
  /** HttpTokens=required. */
  readonly tokenRequired: boolean;
  /** HttpEndpoint=disabled. */
  readonly disabled: boolean;
  /** Read at every request, so a rotation swaps the whole table at once. */
  replies(): ReplyTable;
}

/** The caller's instance: now, after a short wait (a name being resolved), or none (403). */
export type InstanceSelection = ServedInstanceView | undefined | Promise<ServedInstanceView | undefined>;

export interface ImdsHandlerOptions {
  /** Finds the instance a request is for, by its caller's address: one map lookup for a known caller. */
  readonly select: (req: IncomingMessage) => InstanceSelection;
  /** Tells a token's remaining lifetime, echoed on every read made with it. */
  readonly clock: Clock;
  /**
   * Called once a request. The handler passes the same frozen object for the same outcome every
   * time, so a consumer may key a cache on its identity (Metrics does).
   */
  readonly onOutcome?: (outcome: RequestOutcome) => void;
  /** Refusals that come before anything else (see guards.ts). */
  readonly guard?: (req: IncomingMessage) => Reply | undefined;
  /** Counts and logs the token PUTs refused for a proxy header, as the guard does its refusals. */
  readonly refusals?: Refusals;
  /** The fault rules, consulted before answering whenever one is in force (src/faults/). */
  readonly faults?: FaultBoard;
}

const ERRORS = {
  badTtl: textReply(
    400,
    `400 - Bad Request: ${TOKEN_TTL_HEADER} must be an integer from ${MIN_TOKEN_TTL_SECONDS} to ${MAX_TOKEN_TTL_SECONDS}`,
  ),
  badToken: textReply(401, "401 - Unauthorized: the session token is invalid or expired"),
  tokenRequired: textReply(401, "401 - Unauthorized: a session token is required (HttpTokens=required)"),
  disabled: textReply(403, "403 - Forbidden: the metadata endpoint is disabled (HttpEndpoint=disabled)"),
  unknownCaller: textReply(403, "403 - Forbidden: this address is no instance's caller (see instances: in the config file)"),
  forwarded: textReply(403, "403 - Forbidden: token requests must not carry proxy headers (X-Forwarded-For, Forwarded, Via, X-Real-IP, ...)"),
  otherTokenPath: textReply(403, "403 - Forbidden: session tokens are issued only at /latest/api/token"),
  tokenMethod: textReply(405, "405 - Method Not Allowed: use PUT for /latest/api/token"),
  readMethod: textReply(405, "405 - Method Not Allowed: metadata is read with GET or HEAD"),
  body: textReply(413, "413 - Payload Too Large: the metadata service accepts no request body"),
};

/** No metadata request has a body; refusing one also keeps a client from streaming into the port. */
export function hasBody(req: IncomingMessage): boolean {
  const length = req.headers["content-length"];
  return req.headers["transfer-encoding"] !== undefined || (length !== undefined && length !== "0");
}

/** Keys start with `latest` or the era a dated version answers from (see replies.ts). */
export function pathClassOf(key: string): PathClass {
  const second = key.indexOf("/", 1);
  const version = second === -1 ? key.slice(1) : key.slice(1, second);
  if (version !== "latest" && !eras().includes(version)) return "other";
  const rest = second === -1 ? "" : key.slice(second);
  if (rest.startsWith("/meta-data/iam/security-credentials")) return "credentials";
  if (rest.startsWith("/meta-data")) return "metadata";
  if (rest.startsWith("/dynamic")) return "dynamic";
  if (rest.startsWith("/user-data")) return "user-data";
  return "other";
}

/** A request target resolved once: its table key (or the token path) and its metrics class. */
type Route =
  | { readonly kind: "token"; readonly exact: boolean; readonly pathClass: PathClass }
  | { readonly kind: "metadata"; readonly key: string; readonly pathClass: PathClass };

function routeOf(target: string): Route {
  const resolved = resolvePath(target);
  return resolved.kind === "token"
    ? { kind: "token", exact: resolved.exact, pathClass: "token" }
    : { kind: "metadata", key: resolved.key, pathClass: pathClassOf(resolved.key) };
}

/**
 * SDKs ask for the same few targets over and over: resolving each once (query, `//` folding, dated
 * versions, path class) saves that work on every later request. Request targets are the client's
 * text, so the cache holds only short ones and drops its oldest when full: it never grows past
 * ROUTE_CACHE_SIZE entries of ROUTE_CACHE_MAX_TARGET characters, whatever a client sends.
 */
const ROUTE_CACHE_SIZE = 256;
const ROUTE_CACHE_MAX_TARGET = 256;

function createRouteCache(): (target: string) => Route {
  const routes = new BoundedMap<string, Route>(ROUTE_CACHE_SIZE);
  return (target) => {
    let route = routes.get(target);
    if (route !== undefined) return route;
    route = routeOf(target);
    if (target.length <= ROUTE_CACHE_MAX_TARGET) routes.set(target, route);
    return route;
  };
}

type HeaderList = readonly OutgoingHttpHeader[];

/**
 * The header list of a reply, built once per reply object: writeHead takes a flat [name, value, …]
 * list as is, where an object literal (and the spread of extra headers) would be built per request.
 * Replies are immutable and shared (a table lives until the tree changes), so a WeakMap keyed on
 * them is both safe and bounded by the replies alive.
 */
const headerLists = new WeakMap<Reply, HeaderList>();

function headersOf(reply: Reply): HeaderList {
  let headers = headerLists.get(reply);
  if (headers === undefined) {
    headers = ["Server", "EC2ws", "Content-Type", reply.contentType, "Content-Length", String(reply.body.length)];
    headerLists.set(reply, headers);
  }
  return headers;
}

const ALLOW_PUT: HeaderList = [...headersOf(ERRORS.tokenMethod), "Allow", "PUT"];
const ALLOW_READ: HeaderList = [...headersOf(ERRORS.readMethod), "Allow", "GET, HEAD"];

function send(req: IncomingMessage, res: ServerResponse, reply: Reply, headers: HeaderList = headersOf(reply)): void {
  // A refused request's body is never read, and would be parsed as the next request: close instead.
  if (hasBody(req)) res.shouldKeepAlive = false;
  res.writeHead(reply.status, headers as OutgoingHttpHeader[]);
  res.end(req.method === "HEAD" ? undefined : reply.body);
}

/**
 * A read made with a valid token carries the token's remaining seconds, as EC2's answers do:
 * node-termination-handler (pkg/ec2metadata) parses it with strconv.Atoi after every request and
 * fetches a new token once it reads 15 or less. Rounded down, so it never promises time the token
 * does not have.
 */
function withTokenTtl(reply: Reply, remainingMs: number): HeaderList {
  return [...headersOf(reply), TOKEN_TTL_HEADER, String(Math.floor(remainingMs / 1000))];
}

const PATH_CLASSES: readonly PathClass[] = ["token", "credentials", "metadata", "dynamic", "user-data", "other"];

/**
 * One frozen RequestOutcome per (path class, status, tokenless), made on first use: reporting an
 * outcome allocates nothing, and the consumer can count by object identity. Statuses are the
 * handler's own (a few dozen at most), so the table stays small.
 */
function createOutcomes(): (pathClass: PathClass, status: number, tokenless: boolean) => RequestOutcome {
  const outcomes = new Map<number, RequestOutcome>();
  return (pathClass, status, tokenless) => {
    const key = (status * PATH_CLASSES.length + PATH_CLASSES.indexOf(pathClass)) * 2 + (tokenless ? 1 : 0);
    let outcome = outcomes.get(key);
    if (outcome === undefined) {
      outcome = Object.freeze({ pathClass, status, tokenless });
      outcomes.set(key, outcome);
    }
    return outcome;
  };
}

/** The metadata port: guards in EC2's order, then one lookup in the caller's instance's ready replies. */
export function createImdsHandler(options: ImdsHandlerOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const { clock, onOutcome, guard, refusals, select, faults } = options;
  const routeFor = createRouteCache();
  const outcome = createOutcomes();
  const report: (pathClass: PathClass, status: number, tokenless: boolean) => void =
    onOutcome === undefined
      ? () => {}
      : (pathClass: PathClass, status: number, tokenless: boolean) => onOutcome(outcome(pathClass, status, tokenless));

  return (req, res) => {
    const route = routeFor(req.url ?? "/");
    const refusal = guard?.(req);
    if (refusal !== undefined) {
      send(req, res, refusal);
      return report(route.pathClass, refusal.status, false);
    }
    const selected = select(req);
    if (selected instanceof Promise) {
      selected.then((instance) => answer(req, res, route, instance)).catch(() => res.destroy());
      return;
    }
    answer(req, res, route, selected);
  };

  function answer(req: IncomingMessage, res: ServerResponse, route: Route, instance: ServedInstanceView | undefined) {
    if (instance === undefined) {
      send(req, res, ERRORS.unknownCaller);
      return report(route.pathClass, 403, false);
    }
    if (instance.disabled) {
      send(req, res, ERRORS.disabled);
      return report(route.pathClass, 403, false);
    }
    // One check for a healthy instance with no rule in force; faults/ decides the rest.
    if (instance.edge !== undefined || faults?.active === true) {
      const fault = misbehaviour(faults, instance.edge, instance.name, req, route.kind === "token" && req.method === "PUT");
      if (fault !== undefined) {
        return perform(fault, req, res, { clock, send, answer: () => respond(req, res, route, instance), report: (status) => report(route.pathClass, status, false) });
      }
    }
    respond(req, res, route, instance);
  }

  function respond(req: IncomingMessage, res: ServerResponse, route: Route, instance: ServedInstanceView) {
    if (route.kind === "token") {
      const status = issueToken(req, res, route.exact, instance.tokens);
      return report("token", status, false);
    }

    // The method before the body: EC2 answers any other method with 405, with or without a body.
    if (req.method !== "GET" && req.method !== "HEAD") {
      send(req, res, ERRORS.readMethod, ALLOW_READ);
      return report(route.pathClass, 405, false);
    }
    if (hasBody(req)) {
      send(req, res, ERRORS.body);
      return report(route.pathClass, 413, false);
    }
    const token = req.headers[TOKEN_HEADER];
    if (token === undefined) {
      const reply = instance.tokenRequired ? ERRORS.tokenRequired : (instance.replies().get(route.key) ?? NOT_FOUND);
      send(req, res, reply);
      return report(route.pathClass, reply.status, true);
    }
    const expiry = typeof token === "string" ? instance.tokens.verify(token) : undefined;
    if (expiry === undefined) {
      send(req, res, ERRORS.badToken);
      return report(route.pathClass, 401, false);
    }
    const reply = instance.replies().get(route.key) ?? NOT_FOUND;
    send(req, res, reply, withTokenTtl(reply, expiry - clock.now()));
    report(route.pathClass, reply.status, false);
  }

  /** Answers a request on the token path; returns its status. */
  function issueToken(req: IncomingMessage, res: ServerResponse, exact: boolean, tokens: TokenAuthority): number {
    let refusal: Reply | undefined;
    let ttl: number | undefined;
    if (req.method !== "PUT") {
      send(req, res, ERRORS.tokenMethod, ALLOW_PUT);
      return 405;
    }
    const proxyHeader = proxyHeaderOf(req.rawHeaders);
    if (!exact) refusal = ERRORS.otherTokenPath;
    else if (hasBody(req)) refusal = ERRORS.body;
    else if (proxyHeader !== undefined) {
      refusal = ERRORS.forwarded;
      refusals?.record("proxy-header", `${proxyHeader} from ${req.socket.remoteAddress}`);
    } else {
      ttl = parseTokenTtl(req.headers[TOKEN_TTL_HEADER]);
      if (ttl === undefined) refusal = ERRORS.badTtl;
    }
    if (refusal !== undefined) {
      send(req, res, refusal);
      return refusal.status;
    }
    // Each token is new: its reply is written directly rather than cached in headerLists.
    const body = Buffer.from(tokens.issue(ttl!));
    const ttlText = String(ttl);
    res.writeHead(200, ["Server", "EC2ws", "Content-Type", "text/plain", "Content-Length", String(body.length), TOKEN_TTL_HEADER, ttlText]);
    res.end(body);
    return 200;
  }
}
