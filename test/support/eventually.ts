/**
 * Resolves once `condition` holds, letting I/O run between checks (a socket closing on the other
 * side, a worker's message). Waiting on the event, not on time: the bound only turns a condition
 * that never comes into a failure instead of a hang.
 */
export async function eventually(condition: () => boolean, what: string, boundMs = 5000): Promise<void> {
  const giveUpAt = Date.now() + boundMs;
  while (!condition()) {
    if (Date.now() > giveUpAt) throw new Error(`never happened: ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}
