import { parentPort, workerData } from "node:worker_threads";
import { SourceError } from "./source";
import { createStsSource, type StsSourceOptions } from "./sts";
import type { WorkerMessage } from "./worker-source";

/**
 * Runs the STS source in a worker thread: the SDK's HTTP client, signing and XML parsing never run
 * on the thread that answers the metadata port, so a rotation cannot slow it.
 */
// Warnings (the SDK's Node version notice) go to the main thread's log, which stays one JSON line an event.
process.removeAllListeners("warning");
process.on("warning", (warning) => {
  parentPort!.postMessage({ warning: { name: warning.name, message: warning.message } } satisfies WorkerMessage);
});

const source = createStsSource(workerData as StsSourceOptions);

parentPort!.on("message", (id: number) => {
  source.fetch().then(
    (credentials) => parentPort!.postMessage({ id, credentials } satisfies WorkerMessage),
    (error: unknown) => {
      const failure = error instanceof SourceError ? error : new SourceError("unknown", String(error));
      parentPort!.postMessage({ id, failureClass: failure.failureClass, message: failure.message } satisfies WorkerMessage);
    },
  );
});
