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
export function closeSignalledInspector(deps: InspectorDeps = SYSTEM): boolean {
  if (!inspectorOpen(deps)) return false;
  deps.module().close();
  return true;
}

/** Where the inspector's state is read; replaced in tests. */
export interface InspectorDeps {
  /** process.binding("inspector"), which may be missing from a later Node. */
  readonly binding: () => { url(): string | undefined };
  /** Whether Node would print DEP0111's warning for process.binding (--pending-deprecation). */
  readonly pendingDeprecation: boolean;
  readonly module: () => typeof import("node:inspector");
}

const SYSTEM: InspectorDeps = {
  // Not in @types/node: Node documents process.binding only as deprecated (DEP0111).
  binding: () => (process as unknown as { binding(name: string): { url(): string | undefined } }).binding("inspector"),
  pendingDeprecation:
    !process.execArgv.includes("--no-deprecation") &&
    (process.execArgv.includes("--pending-deprecation") ||
      /(^|\s)--pending-deprecation(\s|$)/.test(process.env.NODE_OPTIONS ?? "") ||
      (process.env.NODE_PENDING_DEPRECATION ?? "").startsWith("1")),
  module: () => require("node:inspector") as typeof import("node:inspector"),
};

/**
 * Whether the inspector listens, asked of the `url()` that node:inspector itself exports from
 * Node's binding: loading node:inspector (and the worker_threads it requires) was half a millisecond
 * of every start, for an answer that is nearly always no. process.binding("inspector") is on Node's
 * allow-list (lib/internal/bootstrap/realm.js) and warns only under --pending-deprecation; there, or
 * where a Node no longer has it, node:inspector answers.
 */
export function inspectorOpen(deps: InspectorDeps = SYSTEM): boolean {
  if (!deps.pendingDeprecation) {
    try {
      return deps.binding().url() !== undefined;
    } catch {
      // No such binding in this Node: node:inspector below.
    }
  }
  return deps.module().url() !== undefined;
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
