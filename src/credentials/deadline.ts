/**
 * Deadlines of an STS call, in a module of their own: the main thread needs them for its watchdog
 * and must not load the AWS SDK (sts.ts) to get them.
 */

/**
 * The whole exchange (credentials for signing, connect, request, every byte of the answer) must
 * finish within this. The SDK's own timeouts bound the connect, the wait for the first byte and
 * each silence between bytes, so an STS that trickles one byte a second would otherwise never time out.
 */
export const DEFAULT_STS_CALL_TIMEOUT_MS = 10_000;

/** The worker thread aborts its call at the deadline; the main thread restarts it this much later. */
export const WORKER_WATCHDOG_GRACE_MS = 2000;
