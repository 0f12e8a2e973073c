import { join } from "node:path";
import { Worker } from "node:worker_threads";
import { SourceError, type CredentialSource, type Credentials, type FailureClass } from "./source";
import type { StsSourceOptions } from "./sts";
import { logRuntimeWarning, type Logger } from "../log";

export type WorkerMessage =
  | { readonly id: number; readonly credentials: Credentials }
  | { readonly id: number; readonly failureClass: FailureClass; readonly message: string }
  | { readonly warning: { readonly name: string; readonly message: string } };

/** The STS source, run in a worker thread (see sts-worker.ts); same behaviour, same failure classes. */
export function createWorkerStsSource(options: StsSourceOptions, log: Logger): CredentialSource {
  const worker = new Worker(join(__dirname, "sts-worker.js"), { workerData: options });
  worker.unref();
  const pending = new Map<number, { resolve: (credentials: Credentials) => void; reject: (error: Error) => void }>();
  let next = 0;
  let gone: SourceError | undefined;
  const failAll = (error: SourceError) => {
    gone ??= error;
    for (const waiter of pending.values()) waiter.reject(error);
    pending.clear();
  };
  worker.on("message", (reply: WorkerMessage) => {
    if ("warning" in reply) {
      return logRuntimeWarning(log, reply.warning.name, reply.warning.message);
    }
    const waiter = pending.get(reply.id);
    pending.delete(reply.id);
    if ("credentials" in reply) waiter?.resolve(reply.credentials);
    else waiter?.reject(new SourceError(reply.failureClass, reply.message));
  });
  worker.on("error", (error) => failAll(new SourceError("unknown", `the STS worker failed: ${error.message}`)));
  worker.on("exit", () => failAll(new SourceError("unknown", "the STS worker stopped")));
  return {
    kind: options.webIdentityTokenFile === undefined ? "sts" : "web-identity",
    fetch() {
      if (gone !== undefined) return Promise.reject(gone);
      const id = next++;
      return new Promise<Credentials>((resolve, reject) => {
        pending.set(id, { resolve, reject });
        worker.postMessage(id);
      });
    },
    async close() {
      await worker.terminate();
      failAll(new SourceError("unknown", "the STS worker stopped"));
    },
  };
}
