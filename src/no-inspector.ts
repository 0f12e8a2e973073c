import { close as closeInspector, url as inspectorUrl } from "node:inspector";

/**
 * Node opens its inspector on 127.0.0.1:9229 when the process gets SIGUSR1, unless JavaScript listens
 * for that signal: any local user who may signal the daemon could then run code inside it, next to the
 * source keys and the admin token. The CLI imports this module first, so the listener is in place before
 * anything else loads; later, the CLI logs each SIGUSR1 it ignores.
 */
process.on("SIGUSR1", () => undefined);

/**
 * A SIGUSR1 that arrives while Node itself is still starting, before any JavaScript runs, still opens
 * the inspector (Node 20 has no flag against it), and Node may open it only at a later turn of the
 * event loop. Closing it whenever it is found open, from the first line of JavaScript until the start
 * has settled, leaves no debugger port behind; `onClosed` is told each time.
 */
export function closeSignalledInspector(): boolean {
  if (inspectorUrl() === undefined) return false;
  closeInspector();
  return true;
}

/** How long after the process starts a signal from its bootstrap can still open the inspector. */
const WATCH_MS = 3000;
const EVERY_MS = 10;

let onClosed: () => void = () => undefined;

/** Where the closings are reported, once the log exists. */
export function reportInspectorClosings(report: () => void): void {
  onClosed = report;
}

closeSignalledInspector();
const watch = setInterval(() => {
  if (closeSignalledInspector()) onClosed();
}, EVERY_MS);
watch.unref();
setTimeout(() => clearInterval(watch), WATCH_MS).unref();
