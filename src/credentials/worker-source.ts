import { join } from "node:path";
import type { Worker } from "node:worker_threads";
import { systemClock, type Clock, type Timer } from "../clock";
import { SourceError, type CredentialSource, type Credentials, type FailureClass } from "./source";
import { DEFAULT_STS_CALL_TIMEOUT_MS, WORKER_WATCHDOG_GRACE_MS } from "./deadline";
import type { StsSourceOptions } from "./sts";
import { logRuntimeWarning, type Logger } from "../log";

export type WorkerMessage =
  | { readonly id: number; readonly credentials: Credentials }
  | { readonly id: number; readonly failureClass: FailureClass; readonly message: string }
  | { readonly warning: { readonly name: string; readonly message: string } };

interface Waiter {
  readonly resolve: (credentials: Credentials) => void;
  readonly reject: (error: Error) => void;
  readonly watchdog: Timer;
}

/** One worker thread and the calls waiting on it; a restart replaces the whole of it. */
interface Thread {
  readonly worker: Worker;
  readonly pending: Map<number, Waiter>;
}

/**
 * The STS source, run in a worker thread (see sts-worker.ts); same behaviour, same failure classes.
 * The worker aborts a call at its deadline. Should it not answer even then (the SDK stuck in a
 * credential provider, a wedged event loop), a watchdog here fails the call as a timeout and
 * replaces the thread, so a refresh, and POST /admin/credentials/rotate, always ends.
 */
export function createWorkerStsSource(options: StsSourceOptions, log: Logger, clock: Clock = systemClock): CredentialSource {
  const watchdogMs = (options.callTimeoutMs ?? DEFAULT_STS_CALL_TIMEOUT_MS) + WORKER_WATCHDOG_GRACE_MS;
  let next = 0;
  let stopped: SourceError | undefined;
  // Started now, so the SDK is loaded before the first fetch; after a loss, at the next fetch, which
  // the refresher's backoff paces, so a worker that cannot start does not restart in a loop.
  let thread: Thread | undefined = startThread();

  function startThread(): Thread {
    // Loaded here, with the first STS source: the mock source never needs it (1.6 MB of idle memory).
    const { Worker } = require("node:worker_threads") as typeof import("node:worker_threads");
    const worker = new Worker(join(__dirname, "sts-worker.js"), { workerData: options });
    worker.unref();
    const started: Thread = { worker, pending: new Map() };
    worker.on("message", (reply: WorkerMessage) => {
      if ("warning" in reply) return logRuntimeWarning(log, reply.warning.name, reply.warning.message);
      const waiter = started.pending.get(reply.id);
      if (waiter === undefined) return;
      started.pending.delete(reply.id);
      waiter.watchdog.cancel();
      if ("credentials" in reply) waiter.resolve(reply.credentials);
      else waiter.reject(new SourceError(reply.failureClass, reply.message));
    });
    const lost = (message: string) => {
      failAll(started, new SourceError("unknown", message));
      if (thread === started) thread = undefined;
    };
    worker.on("error", (error) => lost(`the STS worker failed: ${error.message}`));
    worker.on("exit", () => lost("the STS worker stopped"));
    return started;
  }

  function failAll(failed: Thread, error: SourceError): void {
    for (const waiter of failed.pending.values()) {
      waiter.watchdog.cancel();
      waiter.reject(error);
    }
    failed.pending.clear();
  }

  function overrun(stuck: Thread): void {
    const seconds = watchdogMs / 1000;
    log.warn("sts-worker-replaced", { calls: stuck.pending.size, detail: `an STS call had no answer after ${seconds} s; the next call starts a new worker thread` });
    failAll(stuck, new SourceError("timeout", `the STS call had no answer after ${seconds} s; its worker thread was replaced`));
    if (thread === stuck) thread = undefined;
    void stuck.worker.terminate();
  }

  return {
    kind: options.webIdentityTokenFile === undefined ? "sts" : "web-identity",
    fetch() {
      if (stopped !== undefined) return Promise.reject(stopped);
      const id = next++;
      thread ??= startThread();
      const current = thread;
      return new Promise<Credentials>((resolve, reject) => {
        const watchdog = clock.schedule(watchdogMs, () => overrun(current));
        current.pending.set(id, { resolve, reject, watchdog });
        current.worker.postMessage(id);
      });
    },
    async close() {
      stopped = new SourceError("unknown", "the STS worker stopped");
      const last = thread;
      thread = undefined;
      if (last === undefined) return;
      await last.worker.terminate();
      failAll(last, stopped);
    },
  };
}
