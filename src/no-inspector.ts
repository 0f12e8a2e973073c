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
 * the inspector (Node 20 has no flag against it). Closing it as soon as JavaScript runs, and again once
 * the daemon is up, leaves no debugger port behind. Returns whether one was open.
 */
export function closeSignalledInspector(): boolean {
  if (inspectorUrl() === undefined) return false;
  closeInspector();
  return true;
}

closeSignalledInspector();
